import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IVR_SETTINGS, DEFAULT_SINGLE_LEVEL, type IvrSettings, type SingleLevelSettings } from '@carillon/domain';
import { liveCounts } from '../../src/health.ts';
import { RING_BACK } from '../../src/apps/user-answering/user-answering.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, type SippRun } from '../support/sipp.ts';
import { toneWav } from '../support/wav.ts';

/**
 * Single-level company call handling (AR-01), end to end on the live edge with the unreleased area 'ivr'
 * and a test clock. The account has no IVR menu at all: in single-level mode its main number still reaches
 * the auto-receptionist, whose company greeting answers (the seed's text by TTS, or a library prompt: a
 * 697 Hz burst then silence). A SIPp caller (101, its media the test's RtpPhone) calls the main number;
 * 102 and the operator 103 are SIPp phones that answer with recorded speech, then hang up. Weekdays
 * 09:00–17:00 in New York (the account's zone); after hours may send calls straight to an extension.
 */
const DATA_DIR = '/tmp/carillon-tests';
const GREETING_HZ = 697;
/** Wednesday 10:00 and Saturday noon in New York. */
const WEDNESDAY_10 = new Date('2026-01-14T15:00:00Z');
const SATURDAY_NOON = new Date('2026-01-17T17:00:00Z');
let h: EdgeHarness;
let caller: TestPhone;
let ext102: TestPhone;
let operator: TestPhone;
let clockAt: Date | null = null;
let toneGreeting = '';
const running: SippRun[] = [];

const day = () => [{ from: '09:00', to: '17:00' }];
const BASE: IvrSettings = {
  ...DEFAULT_IVR_SETTINGS,
  mode: 'single',
  hours: { mode: 'custom', days: { mon: day(), tue: day(), wed: day(), thu: day(), fri: day(), sat: [], sun: [] } },
};

beforeAll(async () => {
  // The no-input wait after the greeting is 2 s rather than the product's 5 s: three tests sit through it (a silent caller).
  h = await startEdge({ unreleased: 'ivr', now: () => clockAt ?? WEDNESDAY_10, ivrNoInputMs: 2000 });
  caller = await h.addPhone('101');
  ext102 = await h.addPhone('102');
  operator = await h.addPhone('103');
  await h.db.updateTable('accounts').set({ operator_extension_id: operator.extensionId, time_zone: 'America/New_York' }).where('id', '=', h.accountId).execute();
  toneGreeting = `greeting ${randomBytes(3).toString('hex')}`;
  const file = path.posix.join('prompts', h.accountId, `${randomBytes(6).toString('hex')}.wav`);
  fs.mkdirSync(path.join(DATA_DIR, path.dirname(file)), { recursive: true });
  fs.writeFileSync(path.join(DATA_DIR, file), toneWav(GREETING_HZ, 400, 1000));
  await h.db.insertInto('ivr_prompts').values({ account_id: h.accountId, name: toneGreeting, kind: 'audio', text: null, language: null, file, duration_ms: 1400, original_name: null, created_by: null }).execute();
  expect(await h.db.selectFrom('extensions').select('id').where('account_id', '=', h.accountId).where('type', '=', 'ivr_menu').execute()).toEqual([]);
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

afterEach(() => {
  clockAt = null;
  for (const r of running.splice(0)) r.stop();
});

/** Saves the account's single-level handling (the defaults with `changes`), as the settings page does, and lets the edge know. */
async function configure(changes: Partial<SingleLevelSettings>): Promise<void> {
  const settings = JSON.stringify({ ...BASE, singleLevel: { ...DEFAULT_SINGLE_LEVEL, ...changes } });
  await h.db.insertInto('ivr_settings').values({ account_id: h.accountId, settings }).onConflict((c) => c.column('account_id').doUpdateSet({ settings })).execute();
  h.configChanged('ivr');
}

/** `phone`'s SIPp phone: answers with speech, then hangs up. */
async function answers(phone: TestPhone): Promise<SippRun> {
  await h.edge.bindings.removeAll(phone.extensionId);
  const run = await startRegisteredSipp({ target: h.target, credentials: phone, scenario: 'uas-bye.xml' });
  running.push(run);
  return run;
}

/** 101 calls the company number and listens on `phone` until our BYE. */
async function callCompany(phone: RtpPhone): Promise<void> {
  try {
    await sippCall(phone);
  } finally {
    phone.close();
  }
}

/** A caller who keys nothing: what they heard, once the call has ended. */
async function silentCall(): Promise<RtpPhone> {
  const phone = await RtpPhone.open();
  await callCompany(phone);
  return phone;
}

/** The greeting (a library prompt of 400 ms of tone: 20 frames) played once, not IVR-04's three times. */
function expectOneGreeting(phone: RtpPhone): void {
  const greeted = phone.pureToneFramesSince(0, GREETING_HZ);
  expect(greeted).toBeGreaterThanOrEqual(10);
  expect(greeted).toBeLessThan(40);
}

async function sippCall(phone: RtpPhone): Promise<void> {
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
}

const legsOf = async () => {
  const record = await h.lastCall();
  expect(record).toMatchObject({ to_number: h.mainNumber, result: 'answered', hangup_by: 'callee' });
  const legs = await h.db.selectFrom('call_legs').selectAll().where('call_id', '=', record.id).orderBy('started_at').execute();
  return legs.map((l) => [l.role, l.result, l.device_id]);
};

async function expectNothingLive(): Promise<void> {
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
}

async function expectBridgedTo(callee: TestPhone): Promise<void> {
  expect(await legsOf()).toEqual([
    ['caller', 'answered', caller.deviceId],
    ['callee', 'answered', callee.deviceId],
  ]);
  await expectNothingLive();
}

describe('single-level company call handling, with no IVR menu', () => {
  it('the default company greeting (TTS) plays with energy; 1 0 2 keyed (RFC 4733) during it rings 102, which answers', async () => {
    await configure({});
    const phone102 = await answers(ext102);
    const phone = await RtpPhone.open();
    let keyedAt = 0;
    const walk = (async () => {
      // Half a second of speech: the greeting is being read (synthesised on the call: slow on a busy machine).
      await expect.poll(() => phone.soundFramesSince(0, 500, RING_BACK.tone) >= 25, { timeout: 30_000, interval: 20 }).toBe(true);
      keyedAt = Date.now();
      phone.press('102');
    })();
    await callCompany(phone);
    await walk;
    const greeting = phone.heardSince(0, keyedAt);
    const rms = Math.sqrt(greeting.reduce((sum, x) => sum + x * x, 0) / Math.max(1, greeting.length));
    expect(rms, 'the greeting, before the keys, has energy').toBeGreaterThan(300);
    // 102's recorded speech after the keys: the caller was bridged, media flowing.
    expect(phone.soundFramesSince(keyedAt, 500, RING_BACK.tone)).toBeGreaterThan(50);
    expect((await phone102.done).code, '102 got the INVITE, answered and hung up').toBe(0);
    await expectBridgedTo(ext102);
  }, 90_000);

  it('a caller who stays on the line after the greeting (a library prompt) reaches the operator (103)', async () => {
    await configure({ greeting: { mode: 'audio', prompt: toneGreeting } });
    const phone103 = await answers(operator);
    expectOneGreeting(await silentCall());
    expect((await phone103.done).code, 'the operator got the INVITE, answered and hung up').toBe(0);
    await expectBridgedTo(operator);
  }, 90_000);

  it('with "Disconnect", a silent caller’s call ends after the greeting, nobody rung', async () => {
    await configure({ greeting: { mode: 'audio', prompt: toneGreeting }, noAction: 'disconnect' });
    expectOneGreeting(await silentCall());
    expect(await legsOf()).toEqual([['caller', 'answered', caller.deviceId]]);
    await expectNothingLive();
  }, 90_000);

  it('after hours (Saturday noon in New York) the schedule’s extension (102) rings at once, with no greeting; in business hours the greeting answers', async () => {
    await configure({ greeting: { mode: 'audio', prompt: toneGreeting }, afterHours: { type: 'extension', extension: '102' } });
    clockAt = SATURDAY_NOON;
    const phone102 = await answers(ext102);
    const phone = await silentCall();
    expect(phone.pureToneFramesSince(0, GREETING_HZ), 'no greeting after hours').toBe(0);
    expect(phone.soundFramesSince(0, 500, RING_BACK.tone), '102’s speech').toBeGreaterThan(50);
    expect((await phone102.done).code, '102 got the INVITE, answered and hung up').toBe(0);
    await expectBridgedTo(ext102);

    // Wednesday 10:00: the business-hours target, the greeting, then (silence) the operator.
    clockAt = WEDNESDAY_10;
    const phone103 = await answers(operator);
    expectOneGreeting(await silentCall());
    expect((await phone103.done).code, 'the operator got the INVITE, answered and hung up').toBe(0);
    await expectBridgedTo(operator);
  }, 120_000);
});
