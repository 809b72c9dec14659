import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { saveUserAnswering } from '@carillon/core';
import { DEFAULT_CALL_SETTINGS, defaultRuleHandling, userAnsweringSchema, type UserCallSettings } from '@carillon/domain';
import { liveCounts } from '../../src/health.ts';
import { wavHeader } from '../../src/media/media-player/wav-file.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, startSipp, tellToHangUp, type SippRun } from '../support/sipp.ts';
import { analyseWav } from '../support/wav.ts';

/**
 * Call screening and call blocking of a user's answering (issue 13, §7.5),
 * end to end on the live edge with the unreleased area 'answering_rules':
 * the settings are saved with core's `saveUserAnswering` (what the API
 * calls); the edge reads them on the next call (the harness announces the
 * change). The phones' media are the test's RTP sockets (RtpPhone), so the
 * test hears what each side hears and keys the callee's digits (RFC 4733).
 */
const DATA_DIR = '/tmp/carillon-tests';
const CARRIER_IP = '127.0.0.2';
const OUTSIDE_CALLER = '+12125550123';
/** The caller's tone: what it "says" as its name and as its message (none of our tones: ring-back 440 Hz, beep 1 kHz). */
const CALLER_HZ = 1300;
const BEEP_HZ = 1000;
let h: EdgeHarness;
let caller: TestPhone;
let desk: TestPhone;
let userId = '';
let did = '';
const running: SippRun[] = [];
const sockets: RtpPhone[] = [];

beforeAll(async () => {
  h = await startEdge({ unreleased: 'answering_rules' });
  caller = await h.addPhone('101');
  desk = await h.addPhone('102');
  userId = (await h.db.selectFrom('users').select('id').where('account_id', '=', h.accountId).where('extension_id', '=', desk.extensionId).executeTakeFirstOrThrow()).id;
  // Outside callers come through the account's trunk (SIPp as the carrier, trusted by address) to the user's direct number.
  await h.addCarrierTrunk(CARRIER_IP);
  did = h.mainNumber.slice(0, -4) + '0178';
  await h.db.insertInto('phone_numbers').values({ account_id: h.accountId, e164: did, type: 'direct', extension_id: desk.extensionId }).execute();
  // The mailbox's greeting: one second of 440 Hz, so that the message starts soon.
  const greeting = path.posix.join('greetings', h.accountId, 'user-102-screen.wav');
  fs.mkdirSync(path.join(DATA_DIR, path.dirname(greeting)), { recursive: true });
  fs.writeFileSync(path.join(DATA_DIR, greeting), toneWav(440, 1000));
  await h.db.insertInto('voicemail_settings').values({ extension_id: desk.extensionId, account_id: h.accountId, greeting_path: greeting, language: 'en', transcribe: false }).execute();
  h.configChanged('numbers', 'extensions');
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

afterEach(() => {
  for (const r of running.splice(0)) r.stop();
  for (const s of sockets.splice(0)) s.close();
});

/** Saves the user's answering: ring the desk phone 20 s, then voicemail, with these call settings. */
async function saveSettings(settings: Partial<UserCallSettings>): Promise<void> {
  const handling = defaultRuleHandling([desk.deviceId], 'simultaneous');
  const doc = userAnsweringSchema.parse({ hours: { mode: '24h' }, inHours: handling, afterHours: handling, custom: [], settings: { ...DEFAULT_CALL_SETTINGS, ...settings } });
  const saved = await saveUserAnswering(h.db, { userId, ip: null }, h.accountId, userId, doc);
  expect(saved.ok, JSON.stringify(saved)).toBe(true);
  h.configChanged('answering_rules');
}

/** 101 calls 102, its media `callerMedia`; it talks until the test tells it to hang up (tellToHangUp). */
async function callDesk(callerMedia: RtpPhone): Promise<SippRun> {
  const run = startSipp({ scenario: 'uac-talk-until-told.xml', target: h.target, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 60, vars: { rtpport: String(callerMedia.port) }, extra: ['-mp', String(await freeMediaPort())] });
  running.push(run);
  return run;
}

async function socket(tone: number | null): Promise<RtpPhone> {
  const s = await RtpPhone.open(tone);
  sockets.push(s);
  return s;
}

/** Polls `ok` every 20 ms until it holds or `ms` pass; whether it held. */
async function until(ok: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return ok();
}

const legsOf = (callId: string) => h.db.selectFrom('call_legs').selectAll().where('call_id', '=', callId).orderBy('started_at').execute();
const messages = () => h.db.selectFrom('voicemail_messages').selectAll().where('account_id', '=', h.accountId).where('mailbox_extension_id', '=', desk.extensionId).orderBy('created_at').execute();

async function expectNothingLive(): Promise<void> {
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
}

describe('call screening', () => {
  it('records the caller’s name; the callee hears it and presses 2: the caller goes to voicemail and leaves a message', async () => {
    await saveSettings({ screening: 'always' });
    const before = (await messages()).length;
    const callerMedia = await socket(CALLER_HZ);
    const deskMedia = await socket(null);
    const phone = await startRegisteredSipp({ target: h.target, credentials: desk, scenario: 'uas-socket-until-bye.xml', vars: { rtpport: String(deskMedia.port) }, timeoutSeconds: 90 });
    running.push(phone);
    // The callee waits to hear the caller's name (its tone, recorded and played back in the prompt), then presses 2.
    let keyedAt = 0;
    // The caller stays for the name prompt and recording, the ringing and the callee's choice, the greeting and the
    // beep, then says its message for 4.5 s and hangs up (on the test's word).
    const run = await callDesk(callerMedia);
    const keying = (async () => {
      if (!(await until(() => deskMedia.peakFrameLevelSince(0, CALLER_HZ) > 1000, 60_000))) return;
      keyedAt = Date.now();
      deskMedia.press('2');
      if (!(await until(() => callerMedia.pureToneFramesSince(keyedAt, BEEP_HZ) >= 5, 30_000))) return;
      await new Promise((resolve) => setTimeout(resolve, 4500));
      await tellToHangUp(run);
    })();
    const uac = await run.done;
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    await keying;
    expect(keyedAt, 'the callee heard the caller’s recorded name').toBeGreaterThan(0);
    expect((await phone.done).code, 'the callee had our BYE after its 2').toBe(0);
    // The callee heard the spoken prompt around the name, not only a tone.
    expect(deskMedia.rmsSince(0)).toBeGreaterThan(500);
    await expect.poll(async () => (await messages()).length, { timeout: 20_000, interval: 100 }).toBe(before + 1);
    const record = await h.lastCall();
    const message = (await messages()).at(-1)!;
    expect(message).toMatchObject({ reason: 'no_answer', from_number: '101', to_number: '102', call_id: record.id });
    // The message is the caller's tone, for the seconds left after the greeting.
    const wav = analyseWav(path.join(DATA_DIR, message.audio_path), CALLER_HZ);
    expect(wav.seconds).toBeGreaterThan(3);
    expect(wav.rms).toBeGreaterThan(100);
    expect((await legsOf(record.id)).map((l) => [l.role, l.result])).toEqual([
      ['caller', 'answered'],
      ['callee', 'declined'],
    ]);
    await expectNothingLive();
  }, 120_000);

  it('connects the caller once the screened callee presses 1: the callee hears the caller live, no message', async () => {
    await saveSettings({ screening: 'always' });
    const before = (await messages()).length;
    const callerMedia = await socket(CALLER_HZ);
    const deskMedia = await socket(null);
    const phone = await startRegisteredSipp({ target: h.target, credentials: desk, scenario: 'uas-socket-until-bye.xml', vars: { rtpport: String(deskMedia.port) }, timeoutSeconds: 90 });
    running.push(phone);
    let keyedAt = 0;
    // The caller stays for the name (a few seconds), the ringing and the choice, then talks 4 s after the 1 and hangs up (on the test's word).
    const run = await callDesk(callerMedia);
    const keying = (async () => {
      if (!(await until(() => deskMedia.peakFrameLevelSince(0, CALLER_HZ) > 1000, 60_000))) return;
      keyedAt = Date.now();
      deskMedia.press('1');
      await new Promise((resolve) => setTimeout(resolve, 4000));
      await tellToHangUp(run);
    })();
    const uac = await run.done;
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    await keying;
    expect(keyedAt, 'the callee heard the caller’s recorded name').toBeGreaterThan(0);
    expect((await phone.done).code, 'the callee had our BYE after the caller’s').toBe(0);
    // Once connected, the caller's tone reaches the callee steadily (a second after the 1: the prompt has stopped).
    expect(deskMedia.levelSince(keyedAt + 1000, CALLER_HZ)).toBeGreaterThan(1000);
    const record = await h.lastCall();
    expect(record).toMatchObject({ result: 'answered', hangup_by: 'caller', callee_extension_id: desk.extensionId });
    expect((await legsOf(record.id)).map((l) => [l.role, l.result])).toEqual([
      ['caller', 'answered'],
      ['callee', 'answered'],
    ]);
    expect((await messages()).length).toBe(before);
    await expectNothingLive();
  }, 120_000);
});

describe('call blocking', () => {
  it('tells a blocked outside number so and hangs up: the phone never rings, the call log says rejected by blocking', async () => {
    await saveSettings({ blocking: { anonymous: false, numbers: [OUTSIDE_CALLER] } });
    const before = (await messages()).length;
    const inbound = await runSipp({
      scenario: 'carrier-uac-until-bye.xml',
      target: h.target,
      localIp: CARRIER_IP,
      localPort: await freeSipPort(CARRIER_IP),
      service: did,
      timeoutSeconds: 30,
      extra: ['-mp', String(await freeMediaPort(CARRIER_IP))],
    });
    expect(inbound.code, inbound.errors || inbound.output.slice(-1500)).toBe(0);
    const record = await h.lastCall();
    expect(record).toMatchObject({ to_number: did, result: 'rejected', hangup_by: 'blocked' });
    const legs = await legsOf(record.id);
    // No INVITE went to the desk phone; the caller was sent the message (a second or more of speech).
    expect(legs.map((l) => [l.role, l.result])).toEqual([['caller', 'rejected']]);
    expect((legs[0]!.rtp_stats as unknown as { sent: { packets: number } }).sent.packets).toBeGreaterThan(50);
    expect((await messages()).length).toBe(before);
    await expectNothingLive();
  }, 90_000);
});

/** A WAV in the media format (8 kHz mono 16-bit) of a tone. */
function toneWav(hz: number, ms: number): Buffer {
  const n = Math.round((ms * 8000) / 1000);
  const out = Buffer.alloc(44 + n * 2);
  wavHeader(8000, 1, n * 2, out);
  for (let i = 0; i < n; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000)), 44 + i * 2);
  return out;
}
