import { describe, expect, it } from 'vitest';
import {
  ALAW_TO_ULAW,
  ULAW_TO_ALAW,
  pcmaDecode,
  pcmaDecodeSample,
  pcmaEncode,
  pcmaEncodeSample,
  pcmuDecode,
  pcmuDecodeSample,
  pcmuEncode,
  pcmuEncodeSample,
} from '../../src/media/codecs/g711.ts';

describe('G.711 μ-law', () => {
  it('matches the reference points', () => {
    expect(pcmuEncodeSample(0)).toBe(0xff);
    expect(pcmuEncodeSample(-1)).toBe(0x7f);
    expect(pcmuEncodeSample(32767)).toBe(0x80);
    expect(pcmuEncodeSample(-32768)).toBe(0x00);
    expect(pcmuDecodeSample(0xff)).toBe(0);
    expect(pcmuDecodeSample(0x7f)).toBe(0);
    expect(pcmuDecodeSample(0x80)).toBe(32124);
    expect(pcmuDecodeSample(0x00)).toBe(-32124);
    // Either side of the first segment boundary (16 steps of 8, then steps of 16).
    expect(pcmuDecodeSample(0xf0)).toBe(120);
    expect(pcmuDecodeSample(0xef)).toBe(132);
    expect(pcmuDecodeSample(0xee)).toBe(148);
  });

  it('decodes to values that encode back to the same code (all 256)', () => {
    for (let b = 0; b < 256; b++) {
      const code = pcmuEncodeSample(pcmuDecodeSample(b));
      // 0x7f and 0xff are both zero; zero encodes as the positive one.
      expect(code === b || (b === 0x7f && code === 0xff)).toBe(true);
    }
  });

  it('is monotonic and keeps the error within half a quantization step', () => {
    let previous = -Infinity;
    let worstRelative = 0;
    for (let x = -32768; x <= 32767; x++) {
      const y = pcmuDecodeSample(pcmuEncodeSample(x));
      expect(y).toBeGreaterThanOrEqual(previous);
      previous = y;
      if (Math.abs(x) > 2048) worstRelative = Math.max(worstRelative, Math.abs(y - x) / Math.abs(x));
      if (Math.abs(x) <= 32124) expect(Math.abs(y - x)).toBeLessThanOrEqual(Math.max(8, (Math.abs(x) + 132) / 32) + 4);
    }
    // A log law: about 3 % worst case relative error above the linear segment.
    expect(worstRelative).toBeLessThan(0.035);
  });

  it('encodes and decodes arrays at an offset', () => {
    const pcm = Int16Array.from([0, 1000, -1000, 32767]);
    const out = new Uint8Array(6);
    pcmuEncode(pcm, out, 4, 2);
    expect([...out]).toEqual([0, 0, 0xff, pcmuEncodeSample(1000), pcmuEncodeSample(-1000), 0x80]);
    const back = new Int16Array(4);
    pcmuDecode(out, back, 4, 2);
    expect([...back]).toEqual([0, pcmuDecodeSample(out[3]!), pcmuDecodeSample(out[4]!), 32124]);
  });
});

describe('G.711 A-law', () => {
  it('matches the reference points', () => {
    expect(pcmaEncodeSample(0)).toBe(0xd5);
    expect(pcmaEncodeSample(-1)).toBe(0x55);
    expect(pcmaEncodeSample(32767)).toBe(0xaa);
    expect(pcmaEncodeSample(-32768)).toBe(0x2a);
    expect(pcmaDecodeSample(0xd5)).toBe(8);
    expect(pcmaDecodeSample(0x55)).toBe(-8);
    expect(pcmaDecodeSample(0xaa)).toBe(32256);
    expect(pcmaDecodeSample(0x2a)).toBe(-32256);
  });

  it('round-trips every code and bounds the error', () => {
    for (let b = 0; b < 256; b++) expect(pcmaEncodeSample(pcmaDecodeSample(b))).toBe(b);
    let previous = -Infinity;
    for (let x = -32768; x <= 32767; x++) {
      const y = pcmaDecodeSample(pcmaEncodeSample(x));
      expect(y).toBeGreaterThanOrEqual(previous);
      previous = y;
      // Linear segment: steps of 16; above it, about 1/32 of the magnitude.
      if (Math.abs(x) <= 32256) expect(Math.abs(y - x)).toBeLessThanOrEqual(Math.max(16, Math.abs(x) / 32) + 1);
    }
  });

  it('encodes and decodes arrays', () => {
    const pcm = Int16Array.from([0, -32768, 500]);
    const out = new Uint8Array(3);
    pcmaEncode(pcm, out);
    expect([...out]).toEqual([0xd5, 0x2a, pcmaEncodeSample(500)]);
    const back = new Int16Array(3);
    pcmaDecode(out, back);
    expect([...back]).toEqual([8, -32256, pcmaDecodeSample(out[2]!)]);
  });
});

describe('μ-law ↔ A-law tables', () => {
  it('map through linear PCM', () => {
    for (let b = 0; b < 256; b++) {
      expect(ULAW_TO_ALAW[b]).toBe(pcmaEncodeSample(pcmuDecodeSample(b)));
      expect(ALAW_TO_ULAW[b]).toBe(pcmuEncodeSample(pcmaDecodeSample(b)));
    }
    expect(ULAW_TO_ALAW[0xff]).toBe(0xd5);
    // A-law has no zero: its smallest code is ±8, which μ-law represents exactly.
    expect(ALAW_TO_ULAW[0xd5]).toBe(pcmuEncodeSample(8));
    expect(pcmuDecodeSample(ALAW_TO_ULAW[0xd5]!)).toBe(8);
  });
});
