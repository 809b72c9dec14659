/**
 * The parts of call recording that need no network: placing packets on a
 * side's timeline, and the WAV header a recording streams and then patches.
 */
import { describe, expect, it } from 'vitest';
import { parseWav, WAV_HEADER_BYTES, wavHeader } from '../../src/media/media-player/wav-file.ts';
import { RECORDING_DELAY_FRAMES as DELAY, RecordingChannel } from '../../src/media/recording/recording-channel.ts';

const FRAME = 160;
const silence = (frames: number) => new Array<number>(frames).fill(0);

/** A 20 ms packet whose samples all equal `value`, so frames can be told apart. */
function packet(value: number, samples = FRAME): Int16Array {
  return new Int16Array(samples).fill(value);
}

/** Takes `count` frames and returns the value each holds (its first sample), checking every sample agrees. */
function take(channel: RecordingChannel, count: number): number[] {
  const out = new Int16Array(FRAME);
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    channel.readFrame(out, 0, 1);
    expect(out.every((s) => s === out[0])).toBe(true);
    values.push(out[0]!);
  }
  return values;
}

describe('RecordingChannel', () => {
  it('leaves silence where a lost packet belonged, keeping what follows in place', () => {
    const channel = new RecordingChannel();
    const values: number[] = [];
    for (let k = 0; k < 8; k++) {
      if (k !== 2 && k !== 3) channel.write(0x1234, 1000 + k * FRAME, packet(k + 1), FRAME);
      values.push(...take(channel, 1));
    }
    values.push(...take(channel, DELAY));
    expect(values).toEqual([...silence(DELAY), 1, 2, 0, 0, 5, 6, 7, 8]);
    expect(channel.position).toBe((8 + DELAY) * FRAME);
  });

  it('puts a reordered packet in its place, and drops one that comes after its turn', () => {
    const channel = new RecordingChannel();
    channel.write(7, 0, packet(1), FRAME);
    channel.write(7, 2 * FRAME, packet(3), FRAME);
    channel.write(7, FRAME, packet(2), FRAME);
    expect(take(channel, DELAY + 3)).toEqual([...silence(DELAY), 1, 2, 3]);
    // Too late: its frame is already written. It must not restart the stream either.
    channel.write(7, FRAME, packet(9), FRAME);
    channel.write(7, 3 * FRAME, packet(4), FRAME);
    expect(take(channel, 1)).toEqual([4]);
  });

  it('starts over, a few frames ahead, for a new source, a sender that fell behind, or a jump', () => {
    const channel = new RecordingChannel();
    channel.write(1, 0, packet(1), FRAME);
    channel.write(1, FRAME, packet(2), FRAME);
    // A new SSRC (a transfer, a re-INVITE) replaces what the old one had queued.
    channel.write(2, 999_999, packet(3), FRAME);
    expect(take(channel, DELAY + 2)).toEqual([...silence(DELAY), 3, 0]);
    // A phone back from a pause whose timestamps did not move on: its next packet is late.
    channel.write(2, 999_999 + FRAME, packet(4), FRAME);
    expect(take(channel, DELAY + 1)).toEqual([...silence(DELAY), 4]);
    // A jump far ahead in the same stream.
    channel.write(2, 999_999 + FRAME * 1000, packet(5), FRAME);
    expect(take(channel, DELAY + 1)).toEqual([...silence(DELAY), 5]);
  });

  it('keeps packets that land early, up to 320 ms ahead, then treats the stream as running fast', () => {
    const channel = new RecordingChannel();
    // The first packet was held up: the next ones land further ahead than the playout delay.
    channel.write(3, 0, packet(1), FRAME);
    channel.write(3, (16 - DELAY) * FRAME, packet(2), FRAME);
    expect(take(channel, 17)).toEqual([...silence(DELAY), 1, ...silence(16 - DELAY - 1), 2]);
    const fresh = new RecordingChannel();
    fresh.write(3, 0, packet(1), FRAME);
    fresh.write(3, (17 - DELAY) * FRAME, packet(2), FRAME);
    expect(take(fresh, DELAY + 1)).toEqual([...silence(DELAY), 2]);
  });

  it('keeps a stream whose packets piled up while the recorder stalled, as long as the ring holds them', () => {
    // 25 packets in a row arrive before the recorder takes a frame (the process stalled 500 ms): none is lost.
    const channel = new RecordingChannel();
    for (let k = 0; k < 25; k++) channel.write(4, 5000 + k * FRAME, packet(k + 1), FRAME);
    expect(take(channel, DELAY + 25)).toEqual([...silence(DELAY), ...Array.from({ length: 25 }, (_, k) => k + 1)]);
    // Beyond the ring (640 ms), the stream starts over a few frames ahead of the recorder.
    const overrun = new RecordingChannel();
    for (let k = 0; k < 28; k++) overrun.write(4, k * FRAME, packet(k + 1), FRAME);
    expect(take(overrun, DELAY + 1)).toEqual([...silence(DELAY), 28]);
  });

  it('takes packets longer than a frame and interleaves its frames with a stride', () => {
    const channel = new RecordingChannel();
    const long = new Int16Array(3 * FRAME);
    for (let i = 0; i < long.length; i++) long[i] = i;
    channel.write(5, 0, long, long.length);
    take(channel, DELAY);
    const stereo = new Int16Array(2 * FRAME);
    for (let frame = 0; frame < 3; frame++) {
      stereo.fill(-1);
      channel.readFrame(stereo, 1, 2);
      for (let i = 0; i < FRAME; i++) {
        expect(stereo[2 * i]).toBe(-1);
        expect(stereo[2 * i + 1]).toBe(frame * FRAME + i);
      }
    }
    expect(take(channel, 1)).toEqual([0]);
  });
});

describe('WAV header for recordings', () => {
  it('describes 8 kHz stereo 16-bit PCM, readable while streaming and once patched', () => {
    const data = Buffer.alloc(8);
    [1, -1, 2, -2].forEach((s, i) => data.writeInt16LE(s, i * 2));
    const streaming = Buffer.concat([wavHeader(8000, 2, 0xffff_ffff), data]);
    expect(streaming.readUInt32LE(4)).toBe(0xffff_ffff);
    const whileStreaming = parseWav(streaming);
    expect(whileStreaming).toMatchObject({ sampleRate: 8000, channels: 2 });
    expect([...whileStreaming.samples]).toEqual([1, -1, 2, -2]);

    const done = Buffer.concat([wavHeader(8000, 2, data.length), data]);
    expect(done.length).toBe(WAV_HEADER_BYTES + 8);
    expect(done.readUInt32LE(4)).toBe(done.length - 8);
    expect(done.readUInt32LE(28)).toBe(8000 * 2 * 2);
    expect(done.readUInt16LE(32)).toBe(4);
    expect(done.readUInt32LE(40)).toBe(8);
    expect([...parseWav(done).samples]).toEqual([1, -1, 2, -2]);
  });
});
