import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IVR_SETTINGS, EXTENSION_INTER_DIGIT_MS } from '@carillon/domain';
import { liveCounts } from '../../src/health.ts';
import { RING_BACK } from '../../src/apps/user-answering/user-answering.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, type SippRun } from '../support/sipp.ts';
import { toneWav } from '../support/wav.ts';

/**
 * Issue 14's acceptance: "dialling a 3-digit extension during the greeting → that extension rings", end to
 * end on the live edge with the unreleased area 'ivr'. A SIPp caller (101, its media the test's RtpPhone)
 * calls the account's main number; the company greeting (menu 500, 8 s of 697 Hz) answers, and its key 1
 * connects to 103. Keys go as RFC 4733 events in the caller's RTP. 102 and 103 are SIPp phones that
 * answer with recorded speech (g711a.pcap), then hang up.
 */
const DATA_DIR = '/tmp/carillon-tests';
const GREETING_HZ = 697;
const GREETING_MS = 8000;
let h: EdgeHarness;
let caller: TestPhone;
let ext102: TestPhone;
let ext103: TestPhone;
const running: SippRun[] = [];

beforeAll(async () => {
  h = await startEdge({ unreleased: 'ivr' });
  caller = await h.addPhone('101');
  ext102 = await h.addPhone('102');
  ext103 = await h.addPhone('103');
  const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  const menu = await h.db.insertInto('extensions').values({ account_id: h.accountId, site_id: site.id, number: '500', type: 'ivr_menu', name: 'Company greeting', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  const name = `greeting ${randomBytes(3).toString('hex')}`;
  const file = path.posix.join('prompts', h.accountId, `${randomBytes(6).toString('hex')}.wav`);
  fs.mkdirSync(path.join(DATA_DIR, path.dirname(file)), { recursive: true });
  fs.writeFileSync(path.join(DATA_DIR, file), toneWav(GREETING_HZ, GREETING_MS));
  await h.db.insertInto('ivr_prompts').values({ account_id: h.accountId, name, kind: 'audio', text: null, language: null, file, duration_ms: GREETING_MS, original_name: null, created_by: null }).execute();
  await h.db
    .insertInto('ivr_menus')
    .values({ extension_id: menu.id, account_id: h.accountId, language: 'en', prompt: JSON.stringify({ mode: 'audio', prompt: name }), keys: JSON.stringify({ '1': { type: 'connect', extension: '103' } }), generic_keys: null })
    .execute();
  const settings = JSON.stringify({ ...DEFAULT_IVR_SETTINGS, mode: 'multi', businessHoursMenu: '500' });
  await h.db.insertInto('ivr_settings').values({ account_id: h.accountId, settings }).onConflict((c) => c.column('account_id').doUpdateSet({ settings })).execute();
  h.configChanged('extensions', 'ivr');
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

afterEach(() => {
  for (const r of running.splice(0)) r.stop();
});

/** `phone`'s SIPp phone: answers with speech, then hangs up. */
async function answers(phone: TestPhone): Promise<SippRun> {
  await h.edge.bindings.removeAll(phone.extensionId);
  const run = await startRegisteredSipp({ target: h.target, credentials: phone, scenario: 'uas-bye.xml' });
  running.push(run);
  return run;
}

/**
 * 101 calls the company number, listening on `phone`; `keys` are pressed once 200 ms of the greeting's
 * tone has reached it (so during the greeting, which lasts 8 s). Resolves with when they were pressed,
 * once the call has ended (our BYE after the callee's).
 */
async function callCompanyKeying(phone: RtpPhone, keys: string): Promise<number> {
  let keyedAt = 0;
  const keying = (async () => {
    await expect.poll(() => phone.pureToneFramesSince(0, GREETING_HZ) >= 10, { timeout: 15_000, interval: 20 }).toBe(true);
    keyedAt = Date.now();
    phone.press(keys);
  })();
  const uac = await runSipp({
    scenario: 'uac-listen-until-bye.xml',
    target: h.target,
    localPort: await freeSipPort(),
    service: h.mainNumber,
    auth: caller,
    timeoutSeconds: 60,
    vars: { rtpport: String(phone.port) },
    extra: ['-mp', String(await freeMediaPort())],
  });
  expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
  await keying;
  return keyedAt;
}

/** The call's record and legs: the company number answered, then `callee`'s phone rang, answered, hung up; nothing left live. */
async function expectBridgedTo(callee: TestPhone) {
  const record = await h.lastCall();
  expect(record).toMatchObject({ to_number: h.mainNumber, result: 'answered', hangup_by: 'callee' });
  const legs = await h.db.selectFrom('call_legs').selectAll().where('call_id', '=', record.id).orderBy('started_at').execute();
  expect(legs.map((l) => [l.role, l.result, l.device_id])).toEqual([
    ['caller', 'answered', caller.deviceId],
    ['callee', 'answered', callee.deviceId],
  ]);
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
  return legs[1]!;
}

/** The greeting heard (a tone with energy), cut short by the keys; then the callee's speech (not a pure tone of ring-back) after them. */
function expectGreetingThenSpeech(phone: RtpPhone, keyedAt: number): void {
  // Up to the press, inclusive: the wait before it counted the packets of that very millisecond too.
  expect(phone.pureToneFramesSince(0, GREETING_HZ, keyedAt + 1), 'the greeting reached the caller').toBeGreaterThanOrEqual(10);
  expect(phone.rmsSince(0), 'what the caller heard has energy').toBeGreaterThan(1000);
  // Barge-in: far less than the 8 s (400 frames) of the greeting played.
  expect(phone.pureToneFramesSince(0, GREETING_HZ)).toBeLessThan(GREETING_MS / 20 / 2);
  // A second or more of the callee's recorded speech after the keys: the caller was bridged, media flowing.
  expect(phone.soundFramesSince(keyedAt, 500, RING_BACK.tone)).toBeGreaterThan(50);
}

describe('dialling an extension during the company greeting', () => {
  it('1 0 2 keyed (RFC 4733) during the greeting rings 102, which answers with media flowing (key 1 alone would reach 103)', async () => {
    const phone102 = await answers(ext102);
    const phone = await RtpPhone.open();
    let keyedAt = 0;
    try {
      keyedAt = await callCompanyKeying(phone, '102');
    } finally {
      phone.close();
    }
    expectGreetingThenSpeech(phone, keyedAt);
    expect((await phone102.done).code, '102 got the INVITE, answered and hung up').toBe(0);
    await expectBridgedTo(ext102);
  }, 90_000);

  it('a single mapped key (1) still works: after the inter-digit pause it connects to its target, 103', async () => {
    const phone103 = await answers(ext103);
    const phone = await RtpPhone.open();
    let keyedAt = 0;
    try {
      keyedAt = await callCompanyKeying(phone, '1');
    } finally {
      phone.close();
    }
    expectGreetingThenSpeech(phone, keyedAt);
    expect((await phone103.done).code, '103 got the INVITE, answered and hung up').toBe(0);
    const leg = await expectBridgedTo(ext103);
    // 1 begins 101…103: it waited for a second digit the inter-digit pause (a bound that a slow machine only lengthens).
    expect(leg.started_at.getTime() - keyedAt).toBeGreaterThanOrEqual(EXTENSION_INTER_DIGIT_MS - 100);
  }, 90_000);
});
