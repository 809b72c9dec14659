import { describe, expect, it } from 'vitest';
import { goertzelAmplitude, blockEnergy } from '../../src/media/audio/goertzel.ts';
import { ToneGenerator } from '../../src/media/audio/tone-generator.ts';
import { PCMA, PCMU } from '../../src/media/codecs/g711-codec.ts';
import { pcmuDecode } from '../../src/media/codecs/g711.ts';
import { OpusCodec } from '../../src/media/codecs/opus-codec.ts';
import { Resampler } from '../../src/media/codecs/resampler.ts';
import { Transcoder } from '../../src/media/codecs/transcoder.ts';

const db = (ratio: number) => 20 * Math.log10(ratio);

/** 20 ms frames of a tone, encoded with `codec`. */
function toneFrames(frequency: number, amplitude: number, frames: number, rate = 8000): Int16Array[] {
  const gen = new ToneGenerator([frequency], amplitude, rate);
  return Array.from({ length: frames }, () => {
    const f = new Int16Array(rate / 50);
    gen.fill(f);
    return f;
  });
}

describe('Resampler', () => {
  it('takes a 1 kHz tone from 8 to 48 kHz and back with its level', () => {
    const up = new Resampler(8000, 48000);
    const down = new Resampler(48000, 8000);
    const wide = new Int16Array(960);
    const back = new Int16Array(160);
    const collected: number[] = [];
    const collectedWide: number[] = [];
    for (const frame of toneFrames(1000, 10000, 20)) {
      expect(up.process(frame, 160, wide)).toBe(960);
      collectedWide.push(...wide);
      expect(down.process(wide, 960, back)).toBe(160);
      collected.push(...back);
    }
    // Skip the filters' start; 400 samples at 8 kHz is a whole number of 1 kHz periods.
    const tail = collected.slice(-400);
    expect(db(goertzelAmplitude(tail, 1000, 8000) / 10000)).toBeGreaterThan(-0.5);
    expect(db(goertzelAmplitude(tail, 1000, 8000) / 10000)).toBeLessThan(0.5);
    const wideTail = collectedWide.slice(-2400);
    expect(db(goertzelAmplitude(wideTail, 1000, 48000) / 10000)).toBeCloseTo(0, 0);
    // Upsampling must not leave images of the tone at 8k ± 1 kHz.
    expect(goertzelAmplitude(wideTail, 7000, 48000)).toBeLessThan(10000 * 0.003);
    expect(goertzelAmplitude(wideTail, 9000, 48000)).toBeLessThan(10000 * 0.003);
  });

  it('filters out what 8 kHz cannot carry before decimating (anti-aliasing)', () => {
    // 6 kHz at 48 kHz would alias to 2 kHz at 8 kHz.
    const down = new Resampler(48000, 8000);
    const gen = new ToneGenerator([6000], 10000, 48000);
    const wide = new Int16Array(960);
    const out = new Int16Array(160);
    const collected: number[] = [];
    for (let i = 0; i < 10; i++) {
      gen.fill(wide);
      down.process(wide, 960, out);
      collected.push(...out);
    }
    const tail = collected.slice(-800);
    expect(goertzelAmplitude(tail, 2000, 8000)).toBeLessThan(10000 * 0.001); // below −60 dB
  });

  it('joins frames of uneven length without losing samples', () => {
    const down = new Resampler(48000, 8000);
    const out = new Int16Array(200);
    let total = 0;
    for (const n of [100, 7, 853, 960]) total += down.process(new Int16Array(n), n, out);
    expect(total).toBe(Math.floor((100 + 7 + 853 + 960) / 6));
    expect(() => new Resampler(8000, 44100)).toThrow(/integer ratio/);
  });
});

describe('Opus codec', () => {
  it('encodes 20 ms at 48 kHz and decodes it back', () => {
    const opus = new OpusCodec();
    const frames = toneFrames(440, 8000, 10, 48000);
    const payload = Buffer.alloc(1500);
    const pcm = new Int16Array(960);
    let lastLength = 0;
    for (const f of frames) {
      lastLength = opus.encode(f, 960, payload, 0);
      expect(lastLength).toBeGreaterThan(10);
      expect(opus.decode(payload, 0, lastLength, pcm)).toBe(960);
    }
    expect(db(goertzelAmplitude(pcm.slice(-480), 440, 48000) / 8000)).toBeGreaterThan(-3);
    expect(() => opus.encode(new Int16Array(100), 100, payload, 0)).toThrow(RangeError);
  });
});

describe('Transcoder', () => {
  it('keeps a 1 kHz tone through PCMU → Opus → PCMU: frequency and level', () => {
    const toOpus = new Transcoder(PCMU, new OpusCodec());
    const fromOpus = new Transcoder(new OpusCodec(), PCMU);
    expect(toOpus.timestampRatio).toBe(6);
    const amplitude = 8000;
    const pcmuFrame = Buffer.alloc(160);
    const decoded: number[] = [];
    let opusOutput: Buffer | null = null;
    const firstOutputBuffer = toOpus.transcode(Buffer.alloc(160, 0xff)).buffer;
    for (const frame of toneFrames(1000, amplitude, 50)) {
      PCMU.encode(frame, 160, pcmuFrame, 0);
      opusOutput = toOpus.transcode(pcmuFrame);
      // The same memory every time: no buffer per frame.
      expect(opusOutput.buffer).toBe(firstOutputBuffer);
      expect(opusOutput.length).toBeLessThan(160);
      const back = fromOpus.transcode(opusOutput);
      expect(back.length).toBe(160);
      const pcm = new Int16Array(160);
      pcmuDecode(back, pcm);
      decoded.push(...pcm);
    }
    const tail = decoded.slice(-1600);
    const at1k = goertzelAmplitude(tail, 1000, 8000);
    expect(Math.abs(db(at1k / amplitude))).toBeLessThan(3);
    // The tone dominates: nearly all of the energy is at 1 kHz.
    const toneEnergy = (at1k * at1k * tail.length) / 2;
    expect(toneEnergy / blockEnergy(tail)).toBeGreaterThan(0.9);
    for (const other of [500, 2000, 3000]) expect(goertzelAmplitude(tail, other, 8000)).toBeLessThan(at1k / 30);
  });

  it('turns 30 ms G.711 packets into whole Opus frames, keeping the tone and the timing', () => {
    // SIPp's pcaps, and some phones, send 30 ms; Opus has no 30 ms frame (RFC 6716 §2.1.4).
    const toOpus = new Transcoder(PCMU, new OpusCodec());
    const fromOpus = new Transcoder(new OpusCodec(), PCMU);
    const pcmu = Buffer.alloc(240);
    const tone = new ToneGenerator([1000], 8000, 8000);
    const pcm = new Int16Array(240);
    const durations: number[] = [];
    const carried: number[] = [];
    const decoded: number[] = [];
    for (let i = 0; i < 60; i++) {
      tone.fill(pcm);
      PCMU.encode(pcm, 240, pcmu, 0);
      const out = toOpus.transcode(pcmu);
      carried.push(toOpus.carriedIntoLastPacket);
      const back = fromOpus.transcode(out);
      durations.push(back.length);
      const linear = new Int16Array(back.length);
      pcmuDecode(back, linear);
      decoded.push(...linear);
    }
    // 20 ms then 40 ms, again and again: 30 ms on average, each packet's start told by what it carried over.
    expect(durations.slice(0, 6)).toEqual([160, 320, 160, 320, 160, 320]);
    expect(carried.slice(0, 6)).toEqual([0, 480, 0, 480, 0, 480]);
    expect(goertzelAmplitude(decoded.slice(-1600), 1000, 8000)).toBeGreaterThan(8000 / 2);
  });

  it('converts PCMU to PCMA through linear PCM', () => {
    const t = new Transcoder(PCMU, PCMA);
    expect([...t.transcode(Buffer.from([0xff, 0x80, 0x00]))]).toEqual([0xd5, 0xaa, 0x2a]);
  });
});
