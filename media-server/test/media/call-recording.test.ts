/**
 * Recording a bridged call, and the prompts that announce it: real UDP on
 * 127.0.0.1, two test phones bridged through a MediaEngine worker, the WAV
 * read back from disk.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { goertzelAmplitude } from '../../src/media/audio/goertzel.ts';
import { PCMA, PCMU } from '../../src/media/codecs/g711-codec.ts';
import { promptPath } from '../../src/media/media-player/static-audio.ts';
import { parseWav, readWav8kMono } from '../../src/media/media-player/wav-file.ts';
import type { BridgeHandle } from '../../src/media/bridge/bridge-handle.ts';
import type { MediaEvent } from '../../src/media/engine/control-messages.ts';
import { MediaEngine } from '../../src/media/engine/media-engine.ts';
import { eventually, sleep, TestPhone, type TestPhoneOptions } from './support/test-phone.ts';

type RecordingStopped = Extract<MediaEvent, { type: 'recording-stopped' }>;
type PlaybackEnded = Extract<MediaEvent, { type: 'playback-ended' }>;

let engine: MediaEngine;
let dir: string;
const phones: TestPhone[] = [];
const bridges: BridgeHandle[] = [];
const stopped: RecordingStopped[] = [];
const ended: PlaybackEnded[] = [];

beforeAll(async () => {
  engine = await MediaEngine.start({ workers: 2, portRange: { min: 38000, max: 38999 }, bindAddress: '127.0.0.1' });
  engine.on('recording-stopped', (e) => stopped.push(e));
  engine.on('playback-ended', (e) => ended.push(e));
  dir = mkdtempSync(join(tmpdir(), 'carillon-recording-'));
});

afterEach(async () => {
  for (const p of phones.splice(0)) p.close();
  for (const b of bridges.splice(0)) await b.close();
  stopped.length = 0;
  ended.length = 0;
});

afterAll(async () => {
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Two phones joined by a bridge, both already sending; leg "a" is added first. */
async function call(a: TestPhoneOptions, b: TestPhoneOptions) {
  const phoneA = await TestPhone.open(a);
  const phoneB = await TestPhone.open(b);
  phones.push(phoneA, phoneB);
  const bridge = await engine.createBridge();
  bridges.push(bridge);
  const legA = await bridge.addLeg({ legId: 'a', codec: { name: a.codec, payloadType: phoneA.payloadType }, remote: phoneA.address });
  const legB = await bridge.addLeg({ legId: 'b', codec: { name: b.codec, payloadType: phoneB.payloadType }, remote: phoneB.address });
  phoneA.start(legA);
  phoneB.start(legB);
  expect(await eventually(() => phoneA.received.length >= 5 && phoneB.received.length >= 5)).toBe(true);
  return { phoneA, phoneB, bridge };
}

let fileCount = 0;
const newPath = () => join(dir, `call-${++fileCount}.wav`);

/** The recording as written, with its header checked against the file's size. */
function readRecording(path: string) {
  const file = readFileSync(path);
  expect(file.readUInt32LE(4)).toBe(file.length - 8);
  expect(file.readUInt32LE(40)).toBe(file.length - 44);
  const wav = parseWav(file, path);
  const frames = wav.samples.length / wav.channels;
  const left = new Int16Array(frames);
  const right = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    left[i] = wav.samples[2 * i]!;
    right[i] = wav.samples[2 * i + 1]!;
  }
  return { ...wav, bytes: file.length, durationMs: (frames / wav.sampleRate) * 1000, left, right };
}

/** RMS of each 20 ms frame. */
function frameLevels(pcm: Int16Array): number[] {
  const levels: number[] = [];
  for (let at = 0; at + 160 <= pcm.length; at += 160) {
    let e = 0;
    for (let i = at; i < at + 160; i++) e += pcm[i]! * pcm[i]!;
    levels.push(Math.sqrt(e / 160));
  }
  return levels;
}

/** Runs of silent frames (the phones' tones are near 5600 RMS), after the silence a recording starts with. */
function silentRuns(pcm: Int16Array): { start: number; length: number }[] {
  const levels = frameLevels(pcm);
  const runs: { start: number; length: number }[] = [];
  let i = levels.findIndex((l) => l >= 1000);
  while (i >= 0 && i < levels.length) {
    if (levels[i]! < 1000) {
      const start = i;
      while (i < levels.length && levels[i]! < 1000) i++;
      runs.push({ start, length: i - start });
    } else {
      i++;
    }
  }
  // The newest audio may not have arrived when the recording stopped: a frame or two, not a gap.
  const last = runs.at(-1);
  if (last && last.start + last.length === levels.length && last.length <= 2) runs.pop();
  return runs;
}

const level = (pcm: Int16Array, hz: number) => goertzelAmplitude(pcm, hz, 8000);

/**
 * Silent runs of a channel that the phone feeding it does not explain: a run is explained when the
 * phone's own sending stalled at about that time (the test process was busy; 200 ms either side).
 * The recording's frame i is about `startedAt + 20 i` ms.
 */
function unexplainedSilence(pcm: Int16Array, phone: TestPhone, startedAt: number): { start: number; length: number }[] {
  return silentRuns(pcm).filter((run) => {
    const from = startedAt + run.start * 20 - 200;
    const to = startedAt + (run.start + run.length) * 20 + 200;
    return !phone.stalls.some((s) => s.to >= from && s.from <= to);
  });
}

/**
 * The recording ran for about the time between its start and its stop: more than half of it, as a
 * sanity bound. Not a timing check: on a busy machine the worker takes the start and the stop late,
 * and the frames written are what the content checks look at.
 */
function expectRecordedFor(durationMs: number, startedAt: number, stoppedAt: number): void {
  expect(durationMs).toBeGreaterThan((stoppedAt - startedAt) / 2);
}

describe('call recording', () => {
  it('records leg a on channel 1 and leg b on channel 2, 8 kHz stereo, written as it goes', async () => {
    const { phoneA, phoneB, bridge } = await call({ codec: 'PCMU', toneHz: 440 }, { codec: 'PCMA', toneHz: 1000 });
    const onHandle: RecordingStopped[] = [];
    bridge.on('recording-stopped', (e) => onHandle.push(e));
    const path = newPath();
    await bridge.startRecording(path);
    const startedAt = performance.now();

    // On disk while the call goes on, its length still unknown in the header.
    expect(await eventually(() => statSync(path).size >= 44 + 2 * 16_000, 3000)).toBe(true);
    expect(readFileSync(path).readUInt32LE(40)).toBe(0xffff_ffff);
    await sleep(Math.max(0, 1000 - (performance.now() - startedAt)));

    const stoppedAt = performance.now();
    const result = await bridge.stopRecording();
    expect(result.path).toBe(path);
    expectRecordedFor(result.durationMs, startedAt, stoppedAt);
    expect(result.bytes).toBe(statSync(path).size);

    const wav = readRecording(path);
    expect(wav.channels).toBe(2);
    expect(wav.sampleRate).toBe(8000);
    expect(wav.durationMs).toBe(result.durationMs);
    expect(wav.bytes).toBe(result.bytes);
    expect(level(wav.left, 440)).toBeGreaterThan(3000);
    expect(level(wav.left, 1000)).toBeLessThan(300);
    expect(level(wav.right, 1000)).toBeGreaterThan(3000);
    expect(level(wav.right, 440)).toBeLessThan(300);
    // Continuous on both sides: no gaps once the audio starts (but where the phones themselves stalled).
    expect(unexplainedSilence(wav.left, phoneA, startedAt)).toEqual([]);
    expect(unexplainedSilence(wav.right, phoneB, startedAt)).toEqual([]);

    const expected = { type: 'recording-stopped', bridgeId: bridge.id, reason: 'requested', ...result };
    expect(stopped).toEqual([expected]);
    expect(onHandle).toEqual([expected]);
  });

  it('keeps both channels in step through packet loss on one side', async () => {
    // From a: ten packets lost about half a second into the recording, then two more (shorter
    // than the playout delay, so only the timestamps can tell where they belonged).
    const skip = new Set([...Array.from({ length: 10 }, (_, i) => 1030 + i), 1050, 1051]);
    const { phoneA, phoneB, bridge } = await call({ codec: 'PCMU', toneHz: 440, skip }, { codec: 'PCMU', toneHz: 1000 });
    const path = newPath();
    const startedAt = performance.now();
    await bridge.startRecording(path);
    // Later both phones go quiet for 300 ms at the same moment: a mark to line the channels up by.
    expect(await eventually(() => phoneA.packetsSent >= 60)).toBe(true);
    phoneA.sendAudio(new Int16Array(160 * 15));
    phoneB.sendAudio(new Int16Array(160 * 15));
    await sleep(700);
    const stoppedAt = performance.now();
    const result = await bridge.stopRecording();

    const wav = readRecording(path);
    expect(wav.left.length).toBe(wav.right.length);
    expect(wav.durationMs).toBe(result.durationMs);
    expectRecordedFor(result.durationMs, startedAt, stoppedAt);
    // Channel 1: each loss as silence of its own length, then the mark; channel 2: only the mark.
    // They are looked for among all the silent runs: a test phone that stalled near a loss (a busy
    // machine) must not hide it. Any other run must be one of those stalls, not the recording's.
    const leftRuns = silentRuns(wav.left);
    const rightRuns = silentRuns(wav.right);
    const firstLoss = leftRuns.find((r) => r.length >= 9 && r.length <= 12);
    expect(firstLoss, JSON.stringify(leftRuns)).toBeDefined();
    // Ten packets after the first loss ended, twenty frames after it began.
    const secondLoss = leftRuns.find((r) => r.start - firstLoss!.start >= 19 && r.start - firstLoss!.start <= 21);
    expect(secondLoss, JSON.stringify(leftRuns)).toBeDefined();
    expect(secondLoss!.length).toBeGreaterThanOrEqual(2);
    expect(secondLoss!.length).toBeLessThanOrEqual(3);
    const leftMark = leftRuns.find((r) => r.start > secondLoss!.start && r.length >= 13);
    const rightMark = rightRuns.find((r) => r.length >= 13);
    expect(leftMark, JSON.stringify(leftRuns)).toBeDefined();
    expect(rightMark, JSON.stringify(rightRuns)).toBeDefined();
    const expectedLeft = [firstLoss, secondLoss, leftMark];
    expect(unexplainedSilence(wav.left, phoneA, startedAt).filter((r) => !expectedLeft.some((e) => e!.start === r.start))).toEqual([]);
    expect(unexplainedSilence(wav.right, phoneB, startedAt).filter((r) => r.start !== rightMark!.start)).toEqual([]);
    // Had the losses pulled channel 1 earlier, its mark would come before channel 2's.
    expect(Math.abs(leftMark!.start - rightMark!.start)).toBeLessThanOrEqual(2);
  });

  it('records silence for a side that sends nothing or is muted, and picks it up again', async () => {
    const { phoneA, phoneB, bridge } = await call({ codec: 'PCMU', toneHz: 440 }, { codec: 'PCMA', toneHz: 1000 });
    const path = newPath();
    const startedAt = performance.now();
    await bridge.startRecording(path);
    await sleep(300);
    // The phone stops sending (as some do on hold) and comes back with timestamps that did not move on.
    phoneB.pause();
    await sleep(400);
    phoneB.resume();
    await sleep(300);
    // Muted in the bridge: what b sends is dropped, and so not recorded.
    await bridge.setDirection('b', 'sendonly');
    await sleep(400);
    await bridge.setDirection('b', 'sendrecv');
    await sleep(300);
    const stoppedAt = performance.now();
    const result = await bridge.stopRecording();

    const wav = readRecording(path);
    expectRecordedFor(result.durationMs, startedAt, stoppedAt);
    expect(unexplainedSilence(wav.left, phoneA, startedAt)).toEqual([]);
    const right = silentRuns(wav.right);
    expect(right).toHaveLength(2);
    for (const run of right) {
      expect(run.length).toBeGreaterThanOrEqual(16);
      expect(run.length).toBeLessThanOrEqual(26);
    }
    // b is back after each: 1 kHz again at the end.
    expect(level(wav.right.subarray(-8 * 160), 1000)).toBeGreaterThan(5000);
  });

  it('finalizes the recording when the bridge closes', async () => {
    const { bridge } = await call({ codec: 'PCMU', toneHz: 440 }, { codec: 'PCMU', toneHz: 1000 });
    const onHandle: RecordingStopped[] = [];
    bridge.on('recording-stopped', (e) => onHandle.push(e));
    const path = newPath();
    await bridge.startRecording(path);
    const startedAt = performance.now();
    await sleep(600);
    const closedAt = performance.now();
    await bridge.close();

    // Complete once close() resolves, and reported on the handle before it said 'closed'.
    const wav = readRecording(path);
    expectRecordedFor(wav.durationMs, startedAt, closedAt);
    expect(level(wav.left, 440)).toBeGreaterThan(4000);
    expect(level(wav.right, 1000)).toBeGreaterThan(4000);
    const expected = { type: 'recording-stopped', bridgeId: bridge.id, reason: 'bridge-closed', path, durationMs: wav.durationMs, bytes: wav.bytes };
    expect(onHandle).toEqual([expected]);
    expect(stopped).toEqual([expected]);
    await expect(bridge.stopRecording()).rejects.toThrow(/closed/);
  });

  it('refuses to stop when not recording, to record twice at once, or to overwrite a file', async () => {
    const { bridge } = await call({ codec: 'PCMU', toneHz: 440 }, { codec: 'PCMU', toneHz: 1000 });
    await expect(bridge.stopRecording()).rejects.toThrow(`bridge ${bridge.id} is not recording`);

    const first = newPath();
    await bridge.startRecording(first, { format: 'wav' });
    await expect(bridge.startRecording(newPath())).rejects.toThrow(`bridge ${bridge.id} is already recording to ${first}`);
    await bridge.stopRecording();
    await expect(bridge.stopRecording()).rejects.toThrow(/is not recording/);

    const existing = newPath();
    writeFileSync(existing, 'keep me');
    await expect(bridge.startRecording(existing)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(existing, 'utf8')).toBe('keep me');
    await expect(bridge.startRecording(newPath(), { format: 'mp3' as 'wav' })).rejects.toThrow(/unsupported recording format "mp3"/);

    // None of that got in the way of the next recording, into a directory that does not exist yet.
    const nested = join(dir, 'tenant', 'calls', 'second.wav');
    await bridge.startRecording(nested);
    await sleep(200);
    const result = await bridge.stopRecording();
    expect(result.path).toBe(nested);
    expect(readRecording(nested).durationMs).toBe(result.durationMs);
    expect(stopped.map((e) => e.reason)).toEqual(['requested', 'requested']);
  });
});

describe('announcements to both parties', () => {
  /** What `phone` received between `from` and `to`, packet by packet. */
  const window = (phone: TestPhone, from: number, to: number) => phone.received.filter((p) => p.from >= from && p.from < to);

  it('plays a one-shot prompt to each leg at once, reports both ends, then relays again', async () => {
    const { phoneA, phoneB, bridge } = await call({ codec: 'PCMU', toneHz: 440 }, { codec: 'PCMA', toneHz: 1000 });
    const file = promptPath('en', 'recording-started');
    const prompt = await readWav8kMono(file);
    const promptFrames = Math.ceil(prompt.length / 160);
    const path = newPath();
    const since = performance.now();
    const [idA, idB] = await Promise.all([bridge.play('a', { file }), bridge.play('b', { file }), bridge.startRecording(path)]);
    expect(idA).not.toBe(idB);
    expect(
      await eventually(() => ended.some((e) => e.playbackId === idA) && ended.some((e) => e.playbackId === idB), promptFrames * 20 + 3000),
    ).toBe(true);
    const endedAt = performance.now();
    expect(ended.map((e) => [e.legId, e.playbackId]).sort()).toEqual([
      ['a', idA],
      ['b', idB],
    ]);

    // Then the relay resumes both ways, on the same stream.
    await sleep(300);
    const after = performance.now();
    expect(await eventually(() => window(phoneA, after, Infinity).length >= 15 && window(phoneB, after, Infinity).length >= 15)).toBe(true);
    expect(level(phoneA.audio(after), 1000)).toBeGreaterThan(6000);
    expect(level(phoneB.audio(after), 440)).toBeGreaterThan(6000);

    // The recording made meanwhile has the parties, not the prompt they were played.
    await bridge.stopRecording();
    const wav = readRecording(path);
    expect(level(wav.left, 440)).toBeGreaterThan(3000);
    expect(level(wav.right, 1000)).toBeGreaterThan(3000);
    expect(unexplainedSilence(wav.left, phoneA, since)).toEqual([]);
    expect(unexplainedSilence(wav.right, phoneB, since)).toEqual([]);

    // Checked last, and in plain loops: the phones send from this thread, and a busy test would hold them up.
    for (const [phone, codec] of [
      [phoneA, PCMU],
      [phoneB, PCMA],
    ] as const) {
      const rx = phone.received;
      expect(new Set(rx.map((p) => p.ssrc)).size).toBe(1);
      let gaps = 0;
      for (let i = 1; i < rx.length; i++) if (((rx[i]!.sequenceNumber - rx[i - 1]!.sequenceNumber) & 0xffff) !== 1) gaps++;
      expect(gaps).toBe(0);

      // The whole prompt, exactly as the leg's codec carries it, from the packet that marks its start.
      const during = window(phone, since, endedAt + 100);
      const start = during.findIndex((p) => p.marker);
      expect(start).toBeGreaterThanOrEqual(0);
      const heard = during.slice(start, start + promptFrames);
      expect(heard).toHaveLength(promptFrames);
      // The player pads the last frame with silence.
      const padded = new Int16Array(promptFrames * 160);
      padded.set(prompt);
      const sent = new Uint8Array(padded.length);
      codec.encode(padded, padded.length, sent, 0);
      let differing = 0;
      heard.forEach((p, i) => {
        for (let j = 0; j < 160; j++) if (p.payload[j] !== sent[i * 160 + j]) differing++;
      });
      expect(differing).toBe(0);
    }
  });
});
