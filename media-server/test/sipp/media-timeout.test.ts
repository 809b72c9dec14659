import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { presenceField, presenceKey } from '@carillon/contracts/presence';
import { liveCounts } from '../../src/health.ts';
import { pcmaDecodeSample } from '../../src/media/codecs/g711.ts';
import { wavHeader } from '../../src/media/media-player/wav-file.ts';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, startSipp, type SippRun } from '../support/sipp.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';

/**
 * The RTP inactivity timeout (media/engine/media-timeout.ts), set to 2 s
 * for this edge: a call whose SIPp phones stop sending RTP (or never start)
 * is ended with a BYE to both and a record that says why, and leaves nothing
 * live; a call whose RTP flows both ways longer than that, or one on hold,
 * stays up; an application call playing to a caller who sends nothing ends too.
 */
const DATA_DIR = '/tmp/carillon-tests';
const TIMEOUT_MS = 2000;
let h: EdgeHarness;
let caller: TestPhone;
let announcementId: string;

beforeAll(async () => {
  h = await startEdge({ noAnswerSeconds: 10, mediaTimeoutMs: TIMEOUT_MS });
  caller = await h.addPhone('101');
  // An announcement-only extension whose announcement is 20 s of a 440 Hz tone: far longer than the timeout.
  const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  const row = await h.db
    .insertInto('extensions')
    .values({ account_id: h.accountId, site_id: site.id, number: '302', type: 'announcement_only', name: null, status: 'activated' })
    .returning('id')
    .executeTakeFirstOrThrow();
  announcementId = row.id;
  const greeting = path.posix.join('greetings', h.accountId, 'long-tone.wav');
  fs.mkdirSync(path.join(DATA_DIR, path.dirname(greeting)), { recursive: true });
  fs.writeFileSync(path.join(DATA_DIR, greeting), toneWav(440, 20_000));
  await h.db.insertInto('voicemail_settings').values({ extension_id: announcementId, account_id: h.accountId, greeting_path: greeting, language: 'en', transcribe: false }).execute();
  h.configChanged('extensions');
}, 60_000);
afterAll(() => h?.stop());
const callees: SippRun[] = [];
afterEach(() => {
  for (const c of callees.splice(0)) c.stop();
});

async function callee(extension: string, scenario: string) {
  const phone = h.phones.get(extension) ?? (await h.addPhone(extension));
  await h.edge.bindings.removeAll(phone.extensionId);
  const run = await startRegisteredSipp({ target: h.target, credentials: phone, scenario });
  callees.push(run);
  return run;
}

const dialOptions = async (scenario: string, number: string) => ({
  scenario,
  target: h.target,
  localPort: await freeSipPort(),
  service: number,
  auth: caller,
  timeoutSeconds: 40,
  extra: ['-mp', String(await freeMediaPort())],
});

/** Whether the caller's extension shows on a call in presence. */
async function callerOnCall(): Promise<number> {
  await h.edge.presence.flush();
  const raw = await h.redis.hget(presenceKey('test'), presenceField(h.accountId, caller.extensionId));
  return raw ? (JSON.parse(raw) as { onCall: number }).onCall : 0;
}

async function expectNothingLive(): Promise<void> {
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
}

describe('RTP inactivity timeout', () => {
  it('ends a call whose phones never send RTP: BYE to both, failed by media-timeout, nothing left live', async () => {
    const before = h.ended.length;
    const uas = await callee('102', 'uas-answer-silent.xml');
    const run = startSipp(await dialOptions('uac-silent-wait-bye.xml', '102'));
    await expect.poll(callerOnCall, { timeout: 20_000, interval: 50 }).toBe(1);
    // Each SIPp phone's scenario succeeds only once it has received the BYE and answered it.
    const uac = await run.done;
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    const answered = await uas.done;
    expect(answered.code, answered.errors).toBe(0);
    await h.waitForEnded(before + 1);
    const { call, result } = h.ended.at(-1)!;
    expect(result).toBe('failed');
    expect(call.lastStats.find((s) => s.legId === 'a')!.received.packets).toBe(0);
    expect(call.lastStats.find((s) => s.legId === 'b')!.received.packets).toBe(0);
    const record = await h.lastCall();
    expect(record).toMatchObject({ result: 'failed', hangup_by: 'media-timeout', from_number: '101', to_number: '102' });
    expect(record.answered_at).not.toBeNull();
    await expect.poll(callerOnCall, { timeout: 20_000, interval: 50 }).toBe(0);
    await expectNothingLive();
  }, 60_000);

  it('ends a call once its RTP stops, not while it flows', async () => {
    const before = h.ended.length;
    const uas = await callee('102', 'uas-answer-silent.xml');
    // The caller plays the pcap (about 4.7 s of PCMA), then falls silent and waits; the callee never sends.
    const uac = await runSipp(await dialOptions('uac-wait-bye.xml', '102'));
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await uas.done).code).toBe(0);
    await h.waitForEnded(before + 1);
    const { call, result } = h.ended.at(-1)!;
    expect(result).toBe('failed');
    // The caller's RTP kept the call up for its whole length, far past the 2 s timeout.
    const a = call.lastStats.find((s) => s.legId === 'a')!;
    expect(a.received.packets).toBeGreaterThan(200);
    expect(call.lastStats.find((s) => s.legId === 'b')!.sent.packets).toBeGreaterThan(200);
    const record = await h.lastCall();
    expect(record).toMatchObject({ result: 'failed', hangup_by: 'media-timeout' });
    expect(record.duration_seconds).toBeGreaterThanOrEqual(5);
    await expectNothingLive();
  }, 60_000);

  it('keeps a call whose RTP flows both ways for longer than the timeout', async () => {
    const before = h.ended.length;
    const uas = await callee('102', 'uas-answer.xml');
    // RTP both ways (the caller's for 2.5 s, then a DTMF, the callee's for 4.7 s), and the caller's BYE after
    // 4 s: a BYE from us before it (the 2 s timeout firing) would fail the scenario.
    const uac = await runSipp(await dialOptions('uac-call.xml', '102'));
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await uas.done).code).toBe(0);
    await h.waitForEnded(before + 1);
    const { call, result } = h.ended.at(-1)!;
    expect(result).toBe('answered');
    expect(call.lastStats.find((s) => s.legId === 'a')!.received.packets).toBeGreaterThan(50);
    expect(call.lastStats.find((s) => s.legId === 'b')!.received.packets).toBeGreaterThan(50);
    const record = await h.lastCall();
    expect(record).toMatchObject({ result: 'answered', hangup_by: 'caller' });
    expect(record.duration_seconds).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('keeps a silent call on hold (re-INVITE sendonly) past the timeout', async () => {
    const before = h.ended.length;
    const uas = await callee('102', 'uas-answer-silent.xml');
    // No RTP from either phone; the caller holds at once and hangs up after 6 s on hold (an unexpected BYE fails it).
    const uac = await runSipp(await dialOptions('uac-hold-silent.xml', '102'));
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await uas.done).code).toBe(0);
    await h.waitForEnded(before + 1);
    expect(h.ended.at(-1)!.result).toBe('answered');
    expect(h.holds.at(-1)).toEqual({ side: 'a', held: true });
    const record = await h.lastCall();
    expect(record).toMatchObject({ result: 'answered', hangup_by: 'caller' });
    expect(record.duration_seconds).toBeGreaterThanOrEqual(5);
    await expectNothingLive();
  }, 60_000);

  it('ends an application call playing to a caller who sends nothing', async () => {
    const rtp = dgram.createSocket('udp4');
    const payload: number[] = [];
    rtp.on('message', (packet) => {
      if ((packet[1]! & 0x7f) === 8) for (let i = 12; i < packet.length; i++) payload.push(pcmaDecodeSample(packet[i]!));
    });
    const rtpPort = await freeMediaPort();
    await new Promise<void>((resolve) => rtp.bind(rtpPort, '127.0.0.1', resolve));
    try {
      // The caller's SDP names this socket, which only listens; the announcement lasts 20 s.
      const uac = await runSipp({ ...(await dialOptions('uac-listen-until-bye.xml', '302')), vars: { rtpport: String(rtpPort) } });
      expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    } finally {
      rtp.close();
    }
    // The tone reached the caller until the timeout (at least the 2 s), with energy, and stopped well before its end.
    expect(payload.length).toBeGreaterThan(8000 * 1.5);
    expect(payload.length).toBeLessThan(8000 * 15);
    const rms = Math.sqrt(payload.reduce((s, v) => s + v * v, 0) / payload.length);
    expect(rms).toBeGreaterThan(1000);
    const record = await h.lastCall();
    expect(record).toMatchObject({ to_number: '302', result: 'failed', hangup_by: 'media-timeout', callee_extension_id: announcementId });
    await expectNothingLive();
  }, 60_000);
});

/** 8 kHz mono 16-bit PCM WAV of a tone at half scale. */
function toneWav(hz: number, ms: number): Buffer {
  const samples = (8000 * ms) / 1000;
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) data.writeInt16LE(Math.round(16000 * Math.sin((2 * Math.PI * hz * i) / 8000)), i * 2);
  return Buffer.concat([wavHeader(8000, 1, data.length), data]);
}
