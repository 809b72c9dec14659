import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createLogger } from '@carillon/config';
import { installConfigChangeSink, type AuditActor } from '@carillon/core';
import { createCompanyRule, updateCompanyRule } from '@carillon/core/ivr';
import { CONFIG_CHANGES_CHANNEL } from '@carillon/contracts/config-changes';
import { companyRuleInput, DEFAULT_IVR_SETTINGS, type IvrSettings } from '@carillon/domain';
import { liveCounts } from '../../src/health.ts';
import { CallControlChannel } from '../../src/control/call-control-channel.ts';
import { RING_BACK } from '../../src/apps/user-answering/user-answering.ts';
import { wavHeader } from '../../src/media/media-player/wav-file.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, type SippRun } from '../support/sipp.ts';

/**
 * The company's custom answering rules (issue 14, RULE-01…RULE-06) on the live edge with the unreleased
 * area 'ivr': a SIPp caller calls the account's main number, answered by the auto-receptionist whose
 * business-hours menu (500) plays a 697 Hz burst then a second of silence, its 1 ringing 102. A rule
 * "VIP" (caller ID 101) sends 101 straight to extension 102, a SIPp phone that answers and plays speech:
 * 101 never hears the menu, hears 102. Another caller (103) gets the menu. The rule is saved and changed
 * with core's functions (what the API calls), whose announcement goes over the real Redis to the edge's
 * control channel as in the product: the very next call uses the change, with no wait.
 */
const DATA_DIR = '/tmp/carillon-tests';
const MENU_HZ = 697;
let h: EdgeHarness;
let vip: TestPhone;
let other: TestPhone;
let callee: TestPhone;
let admin: AuditActor;
let subscriber: Redis;
let control: CallControlChannel;
const running: SippRun[] = [];

const SETTINGS: IvrSettings = { ...DEFAULT_IVR_SETTINGS, mode: 'multi', businessHoursMenu: '500' };

beforeAll(async () => {
  h = await startEdge({ unreleased: 'ivr' });
  vip = await h.addPhone('101');
  callee = await h.addPhone('102');
  other = await h.addPhone('103');
  admin = { userId: (await h.db.selectFrom('users').select('id').where('account_id', '=', h.accountId).where('extension_id', '=', vip.extensionId).executeTakeFirstOrThrow()).id, ip: null };
  const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  const menu = await h.db.insertInto('extensions').values({ account_id: h.accountId, site_id: site.id, number: '500', type: 'ivr_menu', name: 'Main menu', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  const name = `menu 500 ${randomBytes(3).toString('hex')}`;
  const file = path.posix.join('prompts', h.accountId, `${randomBytes(6).toString('hex')}.wav`);
  fs.mkdirSync(path.join(DATA_DIR, path.dirname(file)), { recursive: true });
  fs.writeFileSync(path.join(DATA_DIR, file), toneWav(MENU_HZ, 400, 1000));
  await h.db.insertInto('ivr_prompts').values({ account_id: h.accountId, name, kind: 'audio', text: null, language: null, file, duration_ms: 1400, original_name: null, created_by: null }).execute();
  await h.db
    .insertInto('ivr_menus')
    .values({ extension_id: menu.id, account_id: h.accountId, language: 'en', prompt: JSON.stringify({ mode: 'audio', prompt: name }), keys: JSON.stringify({ '1': { type: 'connect', extension: '102' } }), generic_keys: null })
    .execute();
  await h.db.insertInto('ivr_settings').values({ account_id: h.accountId, settings: JSON.stringify(SETTINGS) }).execute();
  h.configChanged('ivr', 'extensions');

  // The app's side of configuration changes (app/src/lib/server/runtime.ts) and media-server's (main.ts), over the real Redis.
  subscriber = h.redis.duplicate();
  control = await CallControlChannel.start({
    subscriber,
    publisher: h.redis,
    nodeId: 'company-rules-test',
    log: createLogger('company-rules-test', 'warn'),
    targets: { findCall: () => null, configChanged: (change) => h.edge.invalidateAccountConfig(change.accountId, change.subjects) },
  });
  installConfigChangeSink((change) => h.redis.publish(CONFIG_CHANGES_CHANNEL, JSON.stringify(change)));
}, 60_000);

afterAll(async () => {
  installConfigChangeSink(null);
  await control?.stop();
  subscriber?.disconnect();
  await h?.stop();
});

afterEach(() => {
  for (const r of running.splice(0)) r.stop();
});

const rule = (callers: string[]) => companyRuleInput.parse({ name: 'VIP', conditions: [{ type: 'caller_id', numbers: callers }], target: { type: 'extension', extension: '102' } });

/** 102's SIPp phone: answers, plays speech for 3 s, then hangs up. */
async function calleeAnswers(): Promise<SippRun> {
  await h.edge.bindings.removeAll(callee.extensionId);
  const run = await startRegisteredSipp({ target: h.target, credentials: callee, scenario: 'uas-bye.xml' });
  running.push(run);
  return run;
}

/** `from` calls the company number and listens on `phone` until our BYE. */
async function callCompany(from: TestPhone, phone: RtpPhone): Promise<void> {
  const uac = await runSipp({
    scenario: 'uac-listen-until-bye.xml',
    target: h.target,
    localPort: await freeSipPort(),
    service: h.mainNumber,
    auth: from,
    timeoutSeconds: 60,
    vars: { rtpport: String(phone.port) },
    extra: ['-mp', String(await freeMediaPort())],
  });
  expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
}

async function expectNothingLive(): Promise<void> {
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
}

/** The last call went from `from` to the company number and was bridged to 102's phone, which hung up. */
async function expectBridgedTo102(from: TestPhone): Promise<void> {
  const record = await h.lastCall();
  expect(record).toMatchObject({ to_number: h.mainNumber, result: 'answered', hangup_by: 'callee' });
  const legs = await h.db.selectFrom('call_legs').selectAll().where('call_id', '=', record.id).orderBy('started_at').execute();
  expect(legs.map((l) => [l.role, l.result, l.device_id])).toEqual([
    ['caller', 'answered', from.deviceId],
    ['callee', 'answered', callee.deviceId],
  ]);
  await expectNothingLive();
}

/** A VIP's call: 102 rings at once; the caller hears no menu, but 102's speech (sound that is not ring-back). */
async function expectStraightTo102(from: TestPhone): Promise<void> {
  const phone2 = await calleeAnswers();
  const phone = await RtpPhone.open();
  try {
    await callCompany(from, phone);
  } finally {
    phone.close();
  }
  expect(phone.pureToneFramesSince(0, MENU_HZ), 'no menu prompt').toBe(0);
  expect(phone.soundFramesSince(0, 500, RING_BACK.tone), '102’s speech reached the caller').toBeGreaterThan(50);
  expect((await phone2.done).code, '102 got the INVITE, answered and hung up').toBe(0);
  await expectBridgedTo102(from);
}

/** Another caller's call: the menu's prompt with energy, then 1 rings 102. */
async function expectMenuThen102(from: TestPhone): Promise<void> {
  const phone2 = await calleeAnswers();
  const phone = await RtpPhone.open();
  let keyedAt = 0;
  const walk = (async () => {
    await expect.poll(() => phone.pureToneFramesSince(0, MENU_HZ) >= 10 && phone.peakFrameLevelSince(Date.now() - 100, MENU_HZ) < 300, { timeout: 15_000, interval: 20 }).toBe(true);
    keyedAt = Date.now();
    phone.press('1');
  })();
  try {
    await callCompany(from, phone);
    await walk;
  } finally {
    phone.close();
  }
  expect(phone.rmsSince(0), 'the menu prompt has energy').toBeGreaterThan(1000);
  expect(phone.soundFramesSince(keyedAt, 500, RING_BACK.tone), '102’s speech after the key').toBeGreaterThan(50);
  expect((await phone2.done).code, '102 got the INVITE, answered and hung up').toBe(0);
  await expectBridgedTo102(from);
}

describe('custom answering rules of the company number', () => {
  it('sends the VIP caller ID (101) straight to extension 102, whose phone rings and talks; another caller (103) gets the menu', async () => {
    await createCompanyRule(h.db, admin, h.accountId, rule(['101']));
    await expectStraightTo102(vip);
    await expectMenuThen102(other);
  }, 120_000);

  it('uses a rule changed through core on the very next call, with no wait: now 103 is the VIP; once disabled, 103 gets the menu again', async () => {
    // The rules are in the edge's cache now (the calls above read them); only the announcement of the change can replace them.
    const [saved] = await h.db.selectFrom('company_answering_rules').select('id').where('account_id', '=', h.accountId).execute();
    expect(await updateCompanyRule(h.db, admin, h.accountId, saved!.id, rule(['103']))).toMatchObject({ conditions: [{ type: 'caller_id', numbers: ['103'] }] });
    await expectStraightTo102(other);
    // Disabled: nobody is a VIP any more.
    await updateCompanyRule(h.db, admin, h.accountId, saved!.id, { ...rule(['103']), enabled: false });
    await expectMenuThen102(other);
  }, 120_000);
});

/** A WAV of `hz` for `ms`, then `silenceMs` of silence (8 kHz, as the prompts library stores uploads). */
function toneWav(hz: number, ms: number, silenceMs: number): Buffer {
  const tone = Math.round((ms * 8000) / 1000);
  const n = tone + Math.round((silenceMs * 8000) / 1000);
  const out = Buffer.alloc(44 + n * 2);
  wavHeader(8000, 1, n * 2, out);
  for (let i = 0; i < tone; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000)), 44 + i * 2);
  return out;
}
