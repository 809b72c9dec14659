import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IVR_SETTINGS, type IvrSettings } from '@carillon/domain';
import { liveCounts } from '../../src/health.ts';
import { wavHeader } from '../../src/media/media-player/wav-file.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, type SippRun } from '../support/sipp.ts';

/**
 * The company number answered by the auto-receptionist (issue 14), end to end on the live edge with the
 * unreleased area 'ivr' and a test clock: a SIPp caller (101, its media the test's RtpPhone) calls the
 * account's main number. Weekdays 09:00–17:00 in New York (the account's zone), the business-hours menu
 * (500, its prompt a 697 Hz burst then a second of silence) answers, else the after-hours one (501,
 * 770 Hz). Keys go as RFC 4733 events, or as SIP INFO; the extension they reach (102) is a SIPp phone.
 */
const DATA_DIR = '/tmp/carillon-tests';
const BUSINESS_HZ = 697;
const AFTER_HOURS_HZ = 770;
/** Wednesday 10:00 and Saturday 12:00 in New York. */
const WEDNESDAY_10 = new Date('2026-01-14T15:00:00Z');
const SATURDAY_NOON = new Date('2026-01-17T17:00:00Z');
let h: EdgeHarness;
let caller: TestPhone;
let callee: TestPhone;
let clockAt: Date | null = null;
const running: SippRun[] = [];

const day = () => [{ from: '09:00', to: '17:00' }];
const BASE: IvrSettings = {
  ...DEFAULT_IVR_SETTINGS,
  mode: 'multi',
  businessHoursMenu: '500',
  afterHoursMenu: '501',
  hours: { mode: 'custom', days: { mon: day(), tue: day(), wed: day(), thu: day(), fri: day(), sat: [], sun: [] } },
};

beforeAll(async () => {
  // The no-input wait is 2 s rather than the product's 5 s: the no-input tests sit through three of them; a key
  // the other tests press follows the prompt's burst at once, in its second of silence.
  h = await startEdge({ unreleased: 'ivr', now: () => clockAt ?? new Date(), ivrNoInputMs: 2000 });
  caller = await h.addPhone('101');
  callee = await h.addPhone('102');
  const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  const addMenu = async (number: string, hz: number, keys: object) => {
    const menu = await h.db.insertInto('extensions').values({ account_id: h.accountId, site_id: site.id, number, type: 'ivr_menu', name: `Menu ${number}`, status: 'activated' }).returning('id').executeTakeFirstOrThrow();
    const name = `menu ${number} ${randomBytes(3).toString('hex')}`;
    const file = path.posix.join('prompts', h.accountId, `${randomBytes(6).toString('hex')}.wav`);
    fs.mkdirSync(path.join(DATA_DIR, path.dirname(file)), { recursive: true });
    fs.writeFileSync(path.join(DATA_DIR, file), toneWav(hz, 400, 1000));
    await h.db.insertInto('ivr_prompts').values({ account_id: h.accountId, name, kind: 'audio', text: null, language: null, file, duration_ms: 1400, original_name: null, created_by: null }).execute();
    await h.db
      .insertInto('ivr_menus')
      .values({ extension_id: menu.id, account_id: h.accountId, language: 'en', prompt: JSON.stringify({ mode: 'audio', prompt: name }), keys: JSON.stringify(keys), generic_keys: null })
      .execute();
  };
  // 2 enters the after-hours menu as a submenu (zero dialing's "top menu" is heard leaving it).
  await addMenu('500', BUSINESS_HZ, { '1': { type: 'connect', extension: '102' }, '2': { type: 'connect', extension: '501' } });
  await addMenu('501', AFTER_HOURS_HZ, {});
  await configure({});
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

afterEach(() => {
  clockAt = null;
  for (const r of running.splice(0)) r.stop();
});

/** Saves the account's IVR settings (BASE with `changes`), as the admin page does, and lets the edge know. */
async function configure(changes: Partial<IvrSettings>): Promise<void> {
  const settings = JSON.stringify({ ...BASE, ...changes });
  await h.db.insertInto('ivr_settings').values({ account_id: h.accountId, settings }).onConflict((c) => c.column('account_id').doUpdateSet({ settings })).execute();
  h.configChanged('ivr');
}

/** Waits until the caller has heard a burst of `hz` begin after `since` and end (the prompt is in its silence): returns then. */
async function heardPrompt(phone: RtpPhone, since: number, hz: number): Promise<number> {
  await expect
    .poll(() => phone.pureToneFramesSince(since, hz) >= 10 && phone.peakFrameLevelSince(Date.now() - 100, hz) < 300, { timeout: 15_000, interval: 20 })
    .toBe(true);
  return Date.now();
}

/** 102's SIPp phone: answers, then hangs up. */
async function calleeAnswers(): Promise<SippRun> {
  await h.edge.bindings.removeAll(callee.extensionId);
  const run = await startRegisteredSipp({ target: h.target, credentials: callee, scenario: 'uas-bye.xml' });
  running.push(run);
  return run;
}

/** 101 calls the company number and listens on `phone` until our BYE (`scenario` may key by SIP INFO). */
async function callCompany(phone: RtpPhone, scenario = 'uac-listen-until-bye.xml', vars: Record<string, string> = {}): Promise<void> {
  const uac = await runSipp({
    scenario,
    target: h.target,
    localPort: await freeSipPort(),
    service: h.mainNumber,
    auth: caller,
    timeoutSeconds: 60,
    vars: { rtpport: String(phone.port), ...vars },
    extra: ['-mp', String(await freeMediaPort())],
  });
  expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
}

const legsOf = (callId: string) => h.db.selectFrom('call_legs').selectAll().where('call_id', '=', callId).orderBy('started_at').execute();

async function expectNothingLive(): Promise<void> {
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
}

async function expectBridgedTo102(): Promise<void> {
  const record = await h.lastCall();
  expect(record).toMatchObject({ to_number: h.mainNumber, result: 'answered', hangup_by: 'callee' });
  const legs = await legsOf(record.id);
  expect(legs.map((l) => [l.role, l.result, l.device_id])).toEqual([
    ['caller', 'answered', caller.deviceId],
    ['callee', 'answered', callee.deviceId],
  ]);
  await expectNothingLive();
}

describe('the company number answered by the IVR', () => {
  it('within business hours (Wednesday 10:00 in New York): the business-hours menu’s prompt with energy, then 1 (RFC 4733) rings 102, which answers', async () => {
    clockAt = WEDNESDAY_10;
    const phone2 = await calleeAnswers();
    const phone = await RtpPhone.open();
    let keyedAt = 0;
    const walk = (async () => {
      keyedAt = await heardPrompt(phone, 0, BUSINESS_HZ);
      phone.press('1');
    })();
    try {
      await callCompany(phone);
      await walk;
    } finally {
      phone.close();
    }
    expect(phone.rmsSince(0), 'the greeting has energy').toBeGreaterThan(1000);
    expect(phone.pureToneFramesSince(0, AFTER_HOURS_HZ)).toBe(0);
    // 102's speech (and ring-back) after the key.
    expect(phone.heardSince(keyedAt).length / 160).toBeGreaterThan(50);
    expect((await phone2.done).code, '102 got the INVITE, answered and hung up').toBe(0);
    await expectBridgedTo102();
  }, 90_000);

  it('after hours (Saturday noon in New York): the after-hours menu answers instead', async () => {
    clockAt = SATURDAY_NOON;
    // The caller hangs up once the after-hours prompt has played (no input: then the no-input rule would apply).
    await configure({ noInput: { type: 'disconnect' } });
    const phone = await RtpPhone.open();
    try {
      await callCompany(phone);
    } finally {
      phone.close();
      await configure({});
    }
    // No input three times, then the call is released: three plays of the after-hours prompt, none of the business one.
    expect(phone.pureToneFramesSince(0, AFTER_HOURS_HZ)).toBeGreaterThanOrEqual(3 * 15);
    expect(phone.pureToneFramesSince(0, BUSINESS_HZ)).toBe(0);
    const record = await h.lastCall();
    expect(record).toMatchObject({ to_number: h.mainNumber, result: 'answered', hangup_by: 'callee' });
    await expectNothingLive();
  }, 90_000);

  it('with no input, plays the prompt three times, then rings the no-input extension (102)', async () => {
    clockAt = WEDNESDAY_10;
    await configure({ noInput: { type: 'extension', extension: '102' } });
    const phone2 = await calleeAnswers();
    const phone = await RtpPhone.open();
    try {
      await callCompany(phone);
    } finally {
      phone.close();
      await configure({});
    }
    expect(phone.pureToneFramesSince(0, BUSINESS_HZ)).toBeGreaterThanOrEqual(3 * 15);
    expect((await phone2.done).code, '102 got the INVITE, answered and hung up').toBe(0);
    await expectBridgedTo102();
  }, 90_000);

  it('takes a key sent by SIP INFO (application/dtmf-relay): 1 during the greeting rings 102', async () => {
    clockAt = WEDNESDAY_10;
    const phone2 = await calleeAnswers();
    const phone = await RtpPhone.open();
    try {
      // The key 200 ms after the answer: during the greeting's prompt (a barge-in).
      await callCompany(phone, 'uac-listen-info-until-bye.xml', { digit: '1', keyms: '200' });
    } finally {
      phone.close();
    }
    expect((await phone2.done).code, '102 got the INVITE, answered and hung up').toBe(0);
    await expectBridgedTo102();
  }, 90_000);

  it('0 with zero dialing "operator" rings the operator (102); with "connect to extension" that extension', async () => {
    clockAt = WEDNESDAY_10;
    // The operator is the account's (AR-05), as the settings page saves it.
    await h.db.updateTable('accounts').set({ operator_extension_id: callee.extensionId }).where('id', '=', h.accountId).execute();
    for (const zeroDialing of [{ type: 'operator' }, { type: 'extension', extension: '102' }] as const) {
      await configure({ zeroDialing });
      const phone2 = await calleeAnswers();
      const phone = await RtpPhone.open();
      const walk = (async () => {
        await heardPrompt(phone, 0, BUSINESS_HZ);
        phone.press('0');
      })();
      try {
        await callCompany(phone);
        await walk;
      } finally {
        phone.close();
        await configure({});
      }
      expect((await phone2.done).code, `${zeroDialing.type}: 102 got the INVITE, answered and hung up`).toBe(0);
      await expectBridgedTo102();
    }
  }, 120_000);

  it('0 with zero dialing "top menu" goes back to the top menu from a submenu; with "do nothing" 0 is passed over', async () => {
    clockAt = WEDNESDAY_10;
    await configure({ zeroDialing: { type: 'top_menu' } });
    let phone2 = await calleeAnswers();
    let phone = await RtpPhone.open();
    let zeroAt = 0;
    let walk = (async () => {
      const top = await heardPrompt(phone, 0, BUSINESS_HZ);
      phone.press('2');
      zeroAt = await heardPrompt(phone, top, AFTER_HOURS_HZ);
      phone.press('0');
      await heardPrompt(phone, zeroAt, BUSINESS_HZ);
      phone.press('1');
    })();
    try {
      await callCompany(phone);
      await walk;
    } finally {
      phone.close();
      await configure({});
    }
    expect(zeroAt).toBeGreaterThan(0);
    expect((await phone2.done).code, 'top menu: 102 got the INVITE, answered and hung up').toBe(0);
    await expectBridgedTo102();

    // "Do nothing": 0 then 1 at once; had 0 done anything (the menu again), its prompt would be heard before the 1 cut it.
    await configure({ zeroDialing: { type: 'nothing' } });
    phone2 = await calleeAnswers();
    phone = await RtpPhone.open();
    walk = (async () => {
      zeroAt = await heardPrompt(phone, 0, BUSINESS_HZ);
      phone.press('01');
    })();
    try {
      await callCompany(phone);
      await walk;
    } finally {
      phone.close();
      await configure({});
    }
    expect(phone.pureToneFramesSince(zeroAt, BUSINESS_HZ)).toBe(0);
    expect((await phone2.done).code, 'do nothing: 102 got the INVITE, answered and hung up').toBe(0);
    await expectBridgedTo102();
  }, 120_000);
});

describe('the dial-by-name directory from the company number', () => {
  it('9 → the directory; the letters of “Smi” and # find two people; 1 picks Sam Smith (102), who rings and answers', async () => {
    clockAt = WEDNESDAY_10;
    const other = await h.addPhone('103');
    await h.db.updateTable('users').set({ first_name: 'Sam', last_name: 'Smith' }).where('extension_id', '=', callee.extensionId).execute();
    await h.db.updateTable('users').set({ first_name: 'Sally', last_name: 'Smithers' }).where('extension_id', '=', other.extensionId).execute();
    await h.db
      .updateTable('ivr_menus')
      .set({ keys: JSON.stringify({ '1': { type: 'connect', extension: '102' }, '9': { type: 'directory' } }) })
      .where('account_id', '=', h.accountId)
      .where('extension_id', '=', (await h.db.selectFrom('extensions').select('id').where('account_id', '=', h.accountId).where('number', '=', '500').executeTakeFirstOrThrow()).id)
      .execute();
    h.configChanged('users', 'extensions', 'ivr');
    const phone2 = await calleeAnswers();
    const phone = await RtpPhone.open();
    /**
     * Waits until half a second of speech (a TTS prompt: sound that is no menu tone) has reached the caller
     * since `since`, whatever the menu's tone did meanwhile; the TTS is synthesised on the call, slow on a busy machine.
     */
    const spoken = async (since: number) => {
      await expect.poll(() => phone.soundFramesSince(since, 500, BUSINESS_HZ) >= 25, { timeout: 30_000, interval: 20 }).toBe(true);
      return Date.now();
    };
    let choicesAt = 0;
    const walk = (async () => {
      const greeted = await heardPrompt(phone, 0, BUSINESS_HZ);
      phone.press('9');
      // The directory's "enter the first letters…" (barge-in: the letters may cut it short).
      const spell = await spoken(greeted);
      phone.press('764#');
      // "For Sam Smith, press 1. For Sally Smithers, press 2."
      choicesAt = await spoken(spell + 800);
      phone.press('1');
    })();
    try {
      await callCompany(phone);
      await walk;
    } finally {
      phone.close();
    }
    expect(choicesAt).toBeGreaterThan(0);
    expect((await phone2.done).code, '102 got the INVITE, answered and hung up').toBe(0);
    await expectBridgedTo102();
  }, 90_000);
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
