import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExtensionType } from '@carillon/db';
import { VOICEMAIL_EVENTS_CHANNEL, parseVoicemailEvent, type VoicemailEvent } from '@carillon/contracts/voicemail-events';
import { liveCounts } from '../../src/health.ts';
import { pcmaDecodeSample } from '../../src/media/codecs/g711.ts';
import { wavHeader } from '../../src/media/media-player/wav-file.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { freeMediaPort, freeSipPort, runSipp, startSipp } from '../support/sipp.ts';
import { presenceField, presenceKey } from '@carillon/contracts/presence';
import { CALL_EVENTS_CHANNEL, callCommandChannel, parseCallEvent, type CallEvent } from '@carillon/contracts/call-control';
import { createLogger } from '@carillon/config';
import { CallControlChannel } from '../../src/control/call-control-channel.ts';
import { analyseWav } from '../support/wav.ts';

/**
 * Calls answered by an application (apps/), end to end from a SIPp caller
 * against the live edge: an announcement-only extension plays its
 * announcement and hangs up; a message-only extension records a message and
 * stores it (file, row, event, transcription queued); a caller that hangs up
 * mid-greeting or cancels leaves nothing live and a record that says so.
 */
const DATA_DIR = '/tmp/carillon-tests';
let h: EdgeHarness;
let caller: TestPhone;
const ext: Record<string, string> = {};
const events: VoicemailEvent[] = [];
let subscriber: ReturnType<EdgeHarness['redis']['duplicate']>;

beforeAll(async () => {
  h = await startEdge();
  caller = await h.addPhone('101');
  const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  const special: [string, ExtensionType, string | null][] = [
    ['301', 'message_only', 'Sales Desk'],
    ['302', 'announcement_only', null],
    ['303', 'message_only', null],
    // A name of its own: its default greeting would be synthesised on the call (not cached), were it answered.
    ['304', 'message_only', `Desk ${randomBytes(4).toString('hex')}`],
  ];
  const rows = await h.db
    .insertInto('extensions')
    .values(special.map(([number, type, name]) => ({ account_id: h.accountId, site_id: site.id, number, type, name, status: 'activated' as const })))
    .returning(['id', 'number'])
    .execute();
  for (const r of rows) ext[r.number] = r.id;
  // Mailbox 301 has a custom greeting: one second of a 440 Hz tone, relative to DATA_DIR.
  const greeting = path.posix.join('greetings', h.accountId, 'sales.wav');
  fs.mkdirSync(path.join(DATA_DIR, path.dirname(greeting)), { recursive: true });
  fs.writeFileSync(path.join(DATA_DIR, greeting), toneWav(440, 1000));
  await h.db.insertInto('voicemail_settings').values({ extension_id: ext['301']!, account_id: h.accountId, greeting_path: greeting, language: 'en', transcribe: true }).execute();
  h.configChanged('extensions');
  subscriber = h.redis.duplicate();
  await subscriber.subscribe(VOICEMAIL_EVENTS_CHANNEL);
  subscriber.on('message', (_channel, message) => {
    const e = parseVoicemailEvent(message);
    if (e && e.accountId === h.accountId) events.push(e);
  });
}, 60_000);

afterAll(async () => {
  subscriber?.disconnect();
  await h?.stop();
});

/** Nothing of any call left: no call, leg, endpoint, bridge, room or pipe. */
async function expectNothingLive(): Promise<void> {
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
}

async function messagesOf(mailbox: string) {
  return h.db.selectFrom('voicemail_messages').selectAll().where('account_id', '=', h.accountId).where('mailbox_extension_id', '=', ext[mailbox]!).execute();
}

describe('an announcement-only extension', () => {
  it('answers, plays its default announcement (TTS) to the caller, and hangs up with BYE', async () => {
    const rtp = dgram.createSocket('udp4');
    const payload: number[] = [];
    rtp.on('message', (packet) => {
      // RTP header (12 bytes, no CSRC or extension from our endpoint); PCMA, the caller's only codec besides events.
      if ((packet[1]! & 0x7f) === 8) for (let i = 12; i < packet.length; i++) payload.push(pcmaDecodeSample(packet[i]!));
    });
    const rtpPort = await freeMediaPort();
    await new Promise<void>((resolve) => rtp.bind(rtpPort, '127.0.0.1', resolve));
    try {
      const uac = await runSipp({
        scenario: 'uac-listen-until-bye.xml',
        target: h.target,
        localPort: await freeSipPort(),
        service: '302',
        auth: caller,
        timeoutSeconds: 60,
        vars: { rtpport: String(rtpPort) },
        extra: ['-mp', String(await freeMediaPort())],
      });
      expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    } finally {
      rtp.close();
    }
    // The announcement is several seconds of speech: packets, with energy.
    expect(payload.length).toBeGreaterThan(8000);
    const rms = Math.sqrt(payload.reduce((s, v) => s + v * v, 0) / payload.length);
    expect(rms).toBeGreaterThan(100);
    const record = await h.lastCall();
    expect(record).toMatchObject({ to_number: '302', result: 'answered', hangup_by: 'callee', callee_extension_id: ext['302'] });
    expect(record.answered_at).not.toBeNull();
    const legs = await h.db.selectFrom('call_legs').selectAll().where('call_id', '=', record.id).execute();
    expect(legs).toHaveLength(1);
    expect(legs[0]).toMatchObject({ role: 'caller', result: 'answered', codec: 'PCMA' });
    await expectNothingLive();
  }, 90_000);
});

describe('the control channel', () => {
  it('hangs up an application call from the app: BYE to the caller mid-announcement, hung up by control', async () => {
    const nodeId = `app-control-${randomUUID().slice(0, 8)}`;
    const commands = h.redis.duplicate();
    const answers = h.redis.duplicate();
    const received: CallEvent[] = [];
    answers.on('message', (_channel: string, message: string) => {
      const e = parseCallEvent(message);
      if (e) received.push(e);
    });
    await answers.subscribe(CALL_EVENTS_CHANNEL);
    // What main.ts wires: the channel finds a call of any kind (bridged or an application's).
    const channel = await CallControlChannel.start({
      subscriber: commands,
      publisher: h.redis,
      nodeId,
      log: createLogger('app-control-test', 'error'),
      targets: { findCall: (callId) => h.edge.calls.controlledCall(callId), configChanged: () => undefined },
    });
    try {
      const rtpPort = await freeMediaPort();
      const run = startSipp({ scenario: 'uac-listen-until-bye.xml', target: h.target, localPort: await freeSipPort(), service: '302', auth: caller, timeoutSeconds: 60, vars: { rtpport: String(rtpPort) }, extra: ['-mp', String(await freeMediaPort())] });
      await expect.poll(() => h.edge.calls.applicationCalls().find((c) => c.state === 'Answered')?.sipCallId, { timeout: 30_000, interval: 20 }).toBeDefined();
      const callId = h.edge.calls.applicationCalls()[0]!.sipCallId;
      const commandId = randomUUID();
      await h.redis.publish(callCommandChannel(nodeId), JSON.stringify({ commandId, accountId: h.accountId, callId, requestedBy: { userId: randomUUID() }, type: 'hangup' }));
      await expect.poll(() => received.find((e) => e.type === 'command-result' && e.commandId === commandId), { timeout: 20_000, interval: 20 }).toMatchObject({ outcome: 'done', callId });
      // The announcement had not ended: the BYE the caller waits for is the command's.
      const uac = await run.done;
      expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
      expect(await h.lastCall()).toMatchObject({ to_number: '302', result: 'answered', hangup_by: 'control' });
      await expectNothingLive();
    } finally {
      await channel.stop();
      commands.disconnect();
      answers.disconnect();
    }
  }, 90_000);
});

describe('a message-only extension', () => {
  it('plays its custom greeting, records the caller until it hangs up, and stores the message with its file, event and transcription', async () => {
    const uac = await runSipp({ scenario: 'uac-leave-message.xml', target: h.target, localPort: await freeSipPort(), service: '301', auth: caller, timeoutSeconds: 60, extra: ['-mp', String(await freeMediaPort())] });
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    await expect.poll(async () => (await messagesOf('301')).length, { timeout: 20_000, interval: 100 }).toBe(1);
    const [message] = await messagesOf('301');
    const record = await h.lastCall();
    expect(record).toMatchObject({ to_number: '301', result: 'answered', hangup_by: 'caller' });
    expect(message).toMatchObject({ reason: 'message_only', from_number: '101', to_number: '301', call_id: record.id, status: 'new', deleted_at: null });
    // Relative to DATA_DIR, under voicemail/<account>/.
    expect(message!.audio_path).toBe(`voicemail/${h.accountId}/${message!.id}.wav`);
    const file = path.join(DATA_DIR, message!.audio_path);
    expect(fs.statSync(file).size).toBe(message!.size_bytes);
    // The caller spoke from 1.5 s after the answer and hung up at 10 s; the greeting (1 s) and the beep come first.
    const wav = analyseWav(file, 1000);
    expect(wav.seconds).toBeGreaterThan(4);
    expect(wav.seconds).toBeLessThan(11);
    expect(Math.abs(wav.seconds * 1000 - message!.duration_ms)).toBeLessThan(100);
    expect(wav.rms).toBeGreaterThan(100);
    // Mono: the caller alone.
    expect(fs.readFileSync(file).readUInt16LE(22)).toBe(1);
    await expect.poll(() => events.filter((e) => e.messageId === message!.id), { timeout: 10_000 }).toEqual([{ kind: 'deposited', accountId: h.accountId, mailboxExtensionId: ext['301'], messageId: message!.id }]);
    // Transcribed as the mailbox asks: a queued transcription of the same file, and its job.
    expect(message!.transcription_id).not.toBeNull();
    const transcription = await h.db.selectFrom('transcriptions').selectAll().where('id', '=', message!.transcription_id!).executeTakeFirstOrThrow();
    expect(transcription).toMatchObject({ account_id: h.accountId, status: 'queued', audio_path: message!.audio_path, language: 'en', extension_id: ext['301'] });
    const connection = h.redis.duplicate();
    // The edge's queue prefix: QUEUE_PREFIX's default.
    const queue = new Queue('transcription', { connection, prefix: 'carillon' });
    try {
      const job = await queue.getJob(transcription.id);
      expect(job?.data).toEqual({ accountId: h.accountId, userId: null, transcriptionId: transcription.id });
      // Not for the workers of other tests sharing this Redis.
      await job?.remove();
    } finally {
      await queue.close();
      connection.disconnect();
    }
    await expectNothingLive();
  }, 90_000);

  it('a caller who hangs up during the greeting leaves no message, nothing live, no presence, and an answered call hung up by the caller', async () => {
    const run = startSipp({ scenario: 'uac-bye-after-2s.xml', target: h.target, localPort: await freeSipPort(), service: '303', auth: caller, timeoutSeconds: 60, extra: ['-mp', String(await freeMediaPort())] });
    // The caller's extension is on a call while the application has it (presence observes the call's events).
    const field = presenceField(h.accountId, caller.extensionId);
    const onCall = async () => {
      await h.edge.presence.flush();
      const raw = await h.redis.hget(presenceKey('test'), field);
      return raw ? (JSON.parse(raw) as { onCall: number }).onCall : 0;
    };
    await expect.poll(onCall, { timeout: 20_000, interval: 50 }).toBe(1);
    const uac = await run.done;
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    await expect.poll(onCall, { timeout: 20_000, interval: 50 }).toBe(0);
    const record = await h.lastCall();
    expect(record).toMatchObject({ to_number: '303', result: 'answered', hangup_by: 'caller', callee_extension_id: ext['303'] });
    await expectNothingLive();
    expect(await messagesOf('303')).toEqual([]);
  }, 90_000);

  it('a caller who cancels before the answer gets 487, and the call is recorded as cancelled with nothing live', async () => {
    // The application answers right after it has read the mailbox; on a busy machine SIPp's CANCEL, sent
    // right after the INVITE, could come after that answer (then 200 to the INVITE, and the CANCEL has no
    // effect: RFC 3261 §9.2). The mailbox's read waits until the CANCEL has ended the call (10 s at most),
    // so the CANCEL is always before the answer, and the application meets a call that ended under it.
    // -1: the CANCEL ended the call before the application read its mailbox (the usual case on a quiet machine).
    let heldFor = -1;
    h.holdReads('voicemail_settings', async () => {
      const since = Date.now();
      const live = () => h.edge.calls.applicationCalls().some((c) => c.state !== 'Ending' && c.state !== 'Ended');
      while (live() && Date.now() - since < 10_000) await new Promise((r) => setTimeout(r, 10));
      heldFor = Date.now() - since;
    });
    const uac = await runSipp({ scenario: 'uac-cancel-at-once.xml', target: h.target, localPort: await freeSipPort(), service: '304', auth: caller, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] }).finally(() => h.holdReads('voicemail_settings', null));
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect(heldFor).toBeLessThan(10_000);
    // SIPp is done once its CANCEL is answered, which on a busy machine can be before the edge has even
    // routed the INVITE: wait for this call's own record, not the last one written.
    const ended = () => h.db.selectFrom('calls').selectAll().where('account_id', '=', h.accountId).where('to_number', '=', '304').where('result', 'is not', null).executeTakeFirst();
    await expect.poll(ended, { timeout: 20_000, interval: 50 }).toBeDefined();
    const record = (await ended())!;
    expect(record).toMatchObject({ to_number: '304', result: 'cancelled', hangup_by: 'caller', answered_at: null });
    await expectNothingLive();
    expect(await messagesOf('304')).toEqual([]);
  }, 60_000);
});

/** A WAV in the media format (8 kHz mono 16-bit) of a tone. */
function toneWav(hz: number, ms: number): Buffer {
  const n = Math.round((ms * 8000) / 1000);
  const out = Buffer.alloc(44 + n * 2);
  wavHeader(8000, 1, n * 2, out);
  for (let i = 0; i < n; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000)), 44 + i * 2);
  return out;
}
