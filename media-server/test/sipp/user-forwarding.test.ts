import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createLogger } from '@carillon/config';
import { announceConfigChange, installConfigChangeSink, saveUserAnswering } from '@carillon/core';
import { CONFIG_CHANGES_CHANNEL } from '@carillon/contracts/config-changes';
import { DEFAULT_CALL_SETTINGS, userAnsweringSchema, type RingRow } from '@carillon/domain';
import { liveCounts } from '../../src/health.ts';
import { CallControlChannel } from '../../src/control/call-control-channel.ts';
import { pcmaDecodeSample, pcmaEncodeSample } from '../../src/media/codecs/g711.ts';
import { wavHeader } from '../../src/media/media-player/wav-file.ts';
import { ACCEPT_SECONDS } from '../../src/calls/app-call-bridge.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, startSipp, type SippRun } from '../support/sipp.ts';

/**
 * Forwarding numbers in a user's answering rules (issue 13), end to end on
 * the live edge with the unreleased area 'answering_rules': SIPp plays the
 * carrier behind the account's trunk (127.0.0.2) and the user's desk phone.
 *
 * The rules are saved with core's `saveUserAnswering` (what the API calls),
 * whose announcement goes over Redis to the edge's control channel as in the
 * product; so every call below also checks that the change of the test
 * before it was taken at once (issue 19: the very next call uses it).
 */
const CARRIER_IP = '127.0.0.2';
const MOBILE = '+12125550101';
const HOME = '+12125550102';
const DATA_DIR = '/tmp/carillon-tests';
const TONE_HZ = 1300;
let h: EdgeHarness;
let caller: TestPhone;
let desk: TestPhone;
let userId = '';
let did = '';
let carrierPort = 0;
let subscriber: Redis;
let control: CallControlChannel;
const running: SippRun[] = [];

beforeAll(async () => {
  h = await startEdge({ unreleased: 'answering_rules' });
  caller = await h.addPhone('101');
  desk = await h.addPhone('102');
  userId = (await h.db.selectFrom('users').select('id').where('account_id', '=', h.accountId).where('extension_id', '=', desk.extensionId).executeTakeFirstOrThrow()).id;
  carrierPort = await h.addCarrierTrunk(CARRIER_IP);
  did = h.mainNumber.slice(0, -4) + '0177';
  await h.db.insertInto('phone_numbers').values({ account_id: h.accountId, e164: did, type: 'direct', extension_id: desk.extensionId }).execute();
  // The mailbox's greeting: one second of tone.
  const greeting = path.posix.join('greetings', h.accountId, 'user-102-fwd.wav');
  fs.mkdirSync(path.join(DATA_DIR, path.dirname(greeting)), { recursive: true });
  fs.writeFileSync(path.join(DATA_DIR, greeting), toneWav(440, 1000));
  await h.db.insertInto('voicemail_settings').values({ extension_id: desk.extensionId, account_id: h.accountId, greeting_path: greeting, language: 'en', transcribe: false }).execute();
  h.configChanged('numbers', 'extensions');

  // The app's side of configuration changes (app/src/lib/server/runtime.ts) and media-server's (main.ts), over the real Redis.
  subscriber = h.redis.duplicate();
  control = await CallControlChannel.start({
    subscriber,
    publisher: h.redis,
    nodeId: 'forwarding-test',
    log: createLogger('forwarding-test', 'warn'),
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

const deskRow = (order: number, ringForSeconds: number): RingRow => ({ target: { kind: 'device', deviceId: desk.deviceId }, order, active: true, ringForSeconds });
const mobileRow = (number: string, order: number, ringForSeconds: number): RingRow => ({ target: { kind: 'forwarding', label: 'mobile', number }, order, active: true, ringForSeconds });

/**
 * Saves the user's rule (the same in and after hours) through core, as PUT /api/me/answering-rules does.
 * A rule that does not list the desk phone lists it switched off (a device left out would ring with the first group).
 */
async function saveRule(rows: RingRow[], o: { mode?: 'in_order' | 'simultaneous'; confirm?: boolean } = {}): Promise<void> {
  if (!rows.some((r) => r.target.kind === 'device')) rows = [{ ...deskRow(1, 0), active: false }, ...rows];
  const handling = { ringPlan: { mode: o.mode ?? 'in_order', rows }, afterRinging: { type: 'voicemail' }, greeting: { source: 'default' }, audioWhileConnecting: { kind: 'ring_tone' } };
  const doc = userAnsweringSchema.parse({ hours: { mode: '24h' }, inHours: handling, afterHours: handling, custom: [], settings: { ...DEFAULT_CALL_SETTINGS, confirmForwardedCalls: o.confirm ?? false } });
  const saved = await saveUserAnswering(h.db, { userId, ip: null }, h.accountId, userId, doc);
  expect(saved.ok, JSON.stringify(saved)).toBe(true);
}

async function carrier(scenario: string, extra: string[] = []): Promise<SippRun> {
  const run = startSipp({ scenario, target: h.target, localIp: CARRIER_IP, localPort: carrierPort, timeoutSeconds: 60, extra: ['-mp', String(await freeMediaPort(CARRIER_IP)), ...extra] });
  running.push(run);
  await run.ready;
  return run;
}

async function deskPhone(scenario: string): Promise<SippRun> {
  await h.edge.bindings.removeAll(desk.extensionId);
  const run = await startRegisteredSipp({ target: h.target, credentials: desk, scenario });
  running.push(run);
  return run;
}

const legsOf = (callId: string) => h.db.selectFrom('call_legs').selectAll().where('call_id', '=', callId).orderBy('started_at').execute();
const messages = () => h.db.selectFrom('voicemail_messages').selectAll().where('account_id', '=', h.accountId).where('mailbox_extension_id', '=', desk.extensionId).orderBy('created_at').execute();

async function expectNothingLive(): Promise<void> {
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
}

interface RtpStats {
  received: { packets: number };
  sent: { packets: number };
}

/**
 * The caller's media, played by the test: a socket that sends a 1,300 Hz tone (none of our tones: ring-back is 440 Hz, the voicemail beep 1 kHz)
 * (PCMA, 20 ms packets) to where our media comes from, and keeps what it
 * hears. With a carrier that echoes (SIPp -rtp_echo), the tone comes back
 * only once the forwarded party is really connected, both ways.
 */
async function tonePhone(): Promise<{ port: number; heard: Int16Array[]; at: number[]; close: () => void }> {
  const socket = dgram.createSocket('udp4');
  const heard: Int16Array[] = [];
  /** When each frame of `heard` arrived (ms). */
  const at: number[] = [];
  let remote: { address: string; port: number } | null = null;
  let seq = 0;
  let phase = 0;
  socket.on('message', (packet, from) => {
    remote ??= { address: from.address, port: from.port };
    if ((packet[1]! & 0x7f) !== 8) return;
    const frame = new Int16Array(packet.length - 12);
    for (let i = 12; i < packet.length; i++) frame[i - 12] = pcmaDecodeSample(packet[i]!);
    heard.push(frame);
    at.push(performance.now());
  });
  const port = await freeMediaPort();
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  const timer = setInterval(() => {
    if (!remote) return;
    const packet = Buffer.alloc(12 + 160);
    packet[0] = 0x80;
    packet[1] = 8;
    packet.writeUInt16BE(seq++ & 0xffff, 2);
    packet.writeUInt32BE((seq * 160) >>> 0, 4);
    packet.writeUInt32BE(0x5eed1234, 8);
    for (let i = 0; i < 160; i++) packet[12 + i] = pcmaEncodeSample(Math.round(8000 * Math.sin(phase++ * ((2 * Math.PI * TONE_HZ) / 8000))));
    socket.send(packet, remote.port, remote.address);
  }, 20);
  return { port, heard, at, close: () => (clearInterval(timer), socket.close()) };
}

/** Power of one frequency in a frame (Goertzel), normalised by the frame's length. */
function power(frame: Int16Array, hz: number): number {
  const k = 2 * Math.cos((2 * Math.PI * hz) / 8000);
  let s1 = 0;
  let s2 = 0;
  for (const x of frame) {
    const s = x + k * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / frame.length;
}

/**
 * Frames in which the caller hears its own tone back: loud, and nearly all of the frame's energy
 * at that frequency (speech and our other tones spread it or put it elsewhere).
 */
const isEcho = (f: Int16Array) => {
  if (f.length < 160) return false;
  const energy = f.reduce((sum, x) => sum + x * x, 0);
  // 2·power/energy is 1 for a pure tone of that frequency filling the frame.
  return energy / f.length > 1e6 && (2 * power(f, TONE_HZ)) / energy > 0.7;
};
const echoedFrames = (heard: Int16Array[]) => heard.filter(isEcho).length;

describe('forwarding numbers in a user’s answering rules', () => {
  it('forwards an outside call to the mobile through the trunk, with the original caller ID; both ways of RTP', async () => {
    await saveRule([mobileRow(MOBILE, 1, 20)]);
    const mobile = await carrier('carrier-uas.xml');
    // The outside caller (the same carrier, another port) calls the user's direct number, and stays 4 s.
    const inbound = await runSipp({ scenario: 'carrier-uac-stay.xml', target: h.target, localIp: CARRIER_IP, localPort: await freeSipPort(CARRIER_IP), service: did, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort(CARRIER_IP)), '-d', '4000'] });
    expect(inbound.code, inbound.errors || inbound.output.slice(-1500)).toBe(0);
    const seen = await mobile.done;
    expect(seen.code, seen.errors).toBe(0);
    expect(seen.logs).toContain(`RURI=sip:${MOBILE}@${CARRIER_IP}:${carrierPort}|`);
    // The original caller's ID, as it came in; our number asserted and given as the one it is forwarded from (RFC 5806).
    expect(seen.logs).toMatch(/FROM=[^|]*<sip:\+12125550123@/);
    expect(seen.logs).toContain(`PAI= <sip:${did}@`);
    expect(seen.logs).toMatch(new RegExp(`DIVERSION= <sip:\\${did}@[^>]*>;reason=follow-me`));
    const record = await h.lastCall();
    expect(record).toMatchObject({ direction: 'inbound', to_number: did, result: 'answered' });
    const legs = await legsOf(record.id);
    expect(legs.map((l) => [l.role, l.endpoint, l.result])).toEqual([
      ['caller', 'trunk', 'answered'],
      ['callee', 'trunk', 'answered'],
    ]);
    // Each side played speech: both legs received it and were sent the other's.
    for (const l of legs) {
      const stats = l.rtp_stats as unknown as RtpStats;
      expect(stats.received.packets).toBeGreaterThan(50);
      expect(stats.sent.packets).toBeGreaterThan(50);
    }
    await expectNothingLive();
  }, 90_000);

  it('shows the user’s number instead where the trunk does not allow a From that is not ours', async () => {
    await saveRule([mobileRow(MOBILE, 1, 20)]);
    await h.db.updateTable('sip_trunks').set({ forward_caller_id: false }).where('account_id', '=', h.accountId).execute();
    await announceConfigChange(h.accountId, 'trunks');
    try {
      const mobile = await carrier('carrier-uas.xml');
      const inbound = await runSipp({ scenario: 'carrier-uac-stay.xml', target: h.target, localIp: CARRIER_IP, localPort: await freeSipPort(CARRIER_IP), service: did, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort(CARRIER_IP)), '-d', '2000'] });
      expect(inbound.code, inbound.errors || inbound.output.slice(-1500)).toBe(0);
      const seen = await mobile.done;
      expect(seen.code, seen.errors).toBe(0);
      expect(seen.logs).toMatch(new RegExp(`FROM=[^|]*<sip:\\${did}@`));
      expect(seen.logs).not.toContain('+12125550123');
    } finally {
      await h.db.updateTable('sip_trunks').set({ forward_caller_id: true }).where('account_id', '=', h.accountId).execute();
      await announceConfigChange(h.accountId, 'trunks');
    }
    await expectNothingLive();
  }, 90_000);

  it('rings in order: the desk phone for its Ring For, then the mobile; the mobile answers', async () => {
    await saveRule([deskRow(1, 5), mobileRow(MOBILE, 2, 20)]);
    const phone = await deskPhone('uas-ring-cancelled.xml');
    const mobile = await carrier('carrier-uas.xml');
    const media = await tonePhone();
    try {
      // The caller stays 10 s: the desk phone's 5 s, then the mobile.
      const uac = await runSipp({ scenario: 'uac-listen-then-bye.xml', target: h.target, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 60, vars: { rtpport: String(media.port) }, extra: ['-d', '10000'] });
      expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    } finally {
      media.close();
    }
    expect((await phone.done).code, 'the desk phone rang, then had its CANCEL').toBe(0);
    const seen = await mobile.done;
    expect(seen.code, seen.errors).toBe(0);
    // An internal caller is shown by a number that means something outside: the account's.
    expect(seen.logs).toMatch(new RegExp(`FROM=[^|]*<sip:\\${h.mainNumber}@`));
    const record = await h.lastCall();
    const legs = await legsOf(record.id);
    expect(legs.map((l) => [l.role, l.endpoint, l.result])).toEqual([
      ['caller', 'sip', 'answered'],
      ['callee', 'sip', 'cancelled'],
      ['callee', 'trunk', 'answered'],
    ]);
    // The mobile's INVITE went only after the desk phone's Ring For (5 s).
    expect(legs[2]!.started_at.getTime() - legs[1]!.started_at.getTime()).toBeGreaterThanOrEqual(4_500);
    await expectNothingLive();
  }, 90_000);

  it('rings the desk phone and the mobile together when the rule rings simultaneously; the mobile answers and the desk phone is CANCELled', async () => {
    await saveRule([deskRow(1, 20), mobileRow(MOBILE, 2, 20)], { mode: 'simultaneous' });
    const phone = await deskPhone('uas-ring-cancelled.xml');
    const mobile = await carrier('carrier-uas.xml');
    const uac = await runSipp({ scenario: 'uac-call.xml', target: h.target, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 60, extra: ['-mp', String(await freeMediaPort())] });
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await phone.done).code, 'the desk phone was CANCELled').toBe(0);
    expect((await mobile.done).code).toBe(0);
    const record = await h.lastCall();
    const legs = await legsOf(record.id);
    expect(legs.map((l) => [l.role, l.endpoint, l.result]).sort()).toEqual([
      ['callee', 'sip', 'cancelled'],
      ['callee', 'trunk', 'answered'],
      ['caller', 'sip', 'answered'],
    ]);
    await expectNothingLive();
  }, 90_000);

  it('with "press 1 to accept", a mobile that answers and does not press 1 (its own voicemail) is hung up; the call goes to voicemail', async () => {
    await saveRule([mobileRow(MOBILE, 1, 20)], { confirm: true });
    const before = (await messages()).length;
    // The mobile's voicemail answers at once and plays its greeting; it echoes what it hears.
    const mobile = await carrier('carrier-uas.xml', ['-rtp_echo']);
    const media = await tonePhone();
    try {
      // The caller stays long enough for the accept time, the greeting and a few seconds of message.
      const uac = await runSipp({
        scenario: 'uac-listen-then-bye.xml',
        target: h.target,
        localPort: await freeSipPort(),
        service: '102',
        auth: caller,
        timeoutSeconds: 60,
        vars: { rtpport: String(media.port) },
        extra: ['-d', String((ACCEPT_SECONDS + 7) * 1000)],
      });
      expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
      expect((await mobile.done).code, 'the mobile was hung up on (BYE)').toBe(0);
    } finally {
      media.close();
    }
    // The caller never heard itself: nothing passed between it and the mobile's voicemail.
    expect(media.heard.length).toBeGreaterThan(100);
    expect(echoedFrames(media.heard)).toBe(0);
    await expect.poll(async () => (await messages()).length, { timeout: 20_000, interval: 100 }).toBe(before + 1);
    expect((await messages()).at(-1)).toMatchObject({ reason: 'no_answer', to_number: '102' });
    const record = await h.lastCall();
    expect((await legsOf(record.id)).map((l) => [l.role, l.endpoint, l.result])).toEqual([
      ['caller', 'sip', 'answered'],
      ['callee', 'trunk', 'not_accepted'],
    ]);
    await expectNothingLive();
  }, 90_000);

  it('with "press 1 to accept", a person who presses 1 (RFC 4733) is connected: the caller’s tone goes there and comes back', async () => {
    await saveRule([mobileRow(MOBILE, 1, 20)], { confirm: true });
    const mobile = await carrier('carrier-uas-accept.xml', ['-rtp_echo']);
    const media = await tonePhone();
    try {
      // The mobile hangs up 5 s after pressing 1; the caller waits for that BYE.
      const uac = await runSipp({ scenario: 'uac-listen-until-bye.xml', target: h.target, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 60, vars: { rtpport: String(media.port) } });
      expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
      expect((await mobile.done).code).toBe(0);
    } finally {
      media.close();
    }
    // At least a second of the caller's tone came back through the mobile: caller -> mobile and mobile -> caller.
    expect(echoedFrames(media.heard)).toBeGreaterThan(50);
    // And not before the 1: the mobile presses it 1.5 s after its answer, which comes after the caller's
    // ring-back started (the first frame heard). A lower bound only: load can only make it later.
    const firstEcho = media.heard.findIndex(isEcho);
    expect(media.at[firstEcho]! - media.at[0]!).toBeGreaterThan(1_200);
    const record = await h.lastCall();
    expect(record).toMatchObject({ result: 'answered', hangup_by: 'callee' });
    expect((await legsOf(record.id)).map((l) => [l.role, l.endpoint, l.result])).toEqual([
      ['caller', 'sip', 'answered'],
      ['callee', 'trunk', 'answered'],
    ]);
    await expectNothingLive();
  }, 90_000);

  it('uses a forwarding number changed through core on the very next call, with no wait (issue 19)', async () => {
    await saveRule([mobileRow(MOBILE, 1, 20)]);
    const first = await carrier('carrier-uas.xml');
    const one = await runSipp({ scenario: 'uac-call.xml', target: h.target, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    expect(one.code, one.errors || one.output.slice(-1500)).toBe(0);
    expect((await first.done).logs).toContain(`RURI=sip:${MOBILE}@`);
    await h.lastCall();
    // The rules are in the edge's cache now; only the announcement of the change can replace them.
    await saveRule([mobileRow(HOME, 1, 20)]);
    const second = await carrier('carrier-uas.xml');
    const two = await runSipp({ scenario: 'uac-call.xml', target: h.target, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    expect(two.code, two.errors || two.output.slice(-1500)).toBe(0);
    expect((await second.done).logs).toContain(`RURI=sip:${HOME}@`);
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
