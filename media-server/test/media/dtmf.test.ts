import { describe, expect, it } from 'vitest';
import { ToneGenerator, generateTone } from '../../src/media/audio/tone-generator.ts';
import { pcmuDecode, pcmuEncode } from '../../src/media/codecs/g711.ts';
import { dtmfDigitOf, dtmfEventCode, dtmfFrequencies, type DtmfDigit } from '../../src/media/dtmf/dtmf-digits.ts';
import { buildDtmfPackets, DtmfSender } from '../../src/media/dtmf/dtmf-sender.ts';
import { InbandDtmfDetector } from '../../src/media/dtmf/inband-dtmf-detector.ts';
import { parseTelephoneEvent, writeTelephoneEvent } from '../../src/media/dtmf/telephone-event.ts';
import { TelephoneEventReceiver } from '../../src/media/dtmf/telephone-event-receiver.ts';
import { parseRtpHeader } from '../../src/media/rtp/rtp-header.ts';

describe('RFC 4733 telephone-event payload', () => {
  it('parses and builds event, end bit, volume and duration', () => {
    const buf = Buffer.alloc(4);
    writeTelephoneEvent(buf, { event: 11, end: true, volume: 10, duration: 1280 });
    expect([...buf]).toEqual([11, 0x80 | 10, 0x05, 0x00]);
    expect(parseTelephoneEvent(buf)).toEqual({ event: 11, end: true, volume: 10, duration: 1280 });
    expect(parseTelephoneEvent(Buffer.from([1, 2, 3]))).toBeNull();
    expect(parseTelephoneEvent(buf, 2)).toBeNull();
  });

  it('maps digits to event codes', () => {
    expect([...'0123456789*#ABCD'].map(dtmfEventCode)).toEqual([...Array(16).keys()]);
    expect(dtmfEventCode('x')).toBe(-1);
    expect(dtmfDigitOf(16)).toBeNull();
    expect(dtmfDigitOf(10)).toBe('*');
  });
});

describe('DtmfSender', () => {
  it('produces marker start, 20 ms updates and three end packets with one timestamp', () => {
    const packets = buildDtmfPackets({ digit: '5', durationMs: 100, payloadType: 101, ssrc: 42, sequenceNumber: 65534, timestamp: 8000 });
    // 100 ms = 800 units: updates at 160, 320, 480, 640, then the end (800) three times.
    expect(packets).toHaveLength(7);
    const headers = packets.map((p) => ({ ...parseRtpHeader(p)! }));
    const events = packets.map((p) => ({ ...parseTelephoneEvent(p, 12)! }));
    expect(headers.map((h) => h.marker)).toEqual([true, false, false, false, false, false, false]);
    expect(headers.map((h) => h.sequenceNumber)).toEqual([65534, 65535, 0, 1, 2, 3, 4]);
    expect(new Set(headers.map((h) => h.timestamp))).toEqual(new Set([8000]));
    expect(headers.every((h) => h.payloadType === 101 && h.ssrc === 42)).toBe(true);
    expect(events.map((e) => e.duration)).toEqual([160, 320, 480, 640, 800, 800, 800]);
    expect(events.map((e) => e.end)).toEqual([false, false, false, false, true, true, true]);
    expect(events.every((e) => e.event === 5)).toBe(true);
  });

  it('reports where the next packet continues and refuses non-digits', () => {
    const s = new DtmfSender({ digit: '#', durationMs: 40, payloadType: 101, ssrc: 1, sequenceNumber: 10, timestamp: 0 });
    const buf = Buffer.alloc(16);
    let n = 0;
    while (s.nextPacket(buf) > 0) n++;
    expect(n).toBe(2 + 2); // 160, 320(end) ×3
    expect(s.done).toBe(true);
    expect(s.nextSequenceNumber).toBe(14);
    expect(() => new DtmfSender({ digit: 'Z', payloadType: 101, ssrc: 1, sequenceNumber: 0, timestamp: 0 })).toThrow(/not a DTMF digit/);
  });
});

describe('TelephoneEventReceiver', () => {
  function feed(receiver: TelephoneEventReceiver, packets: Buffer[], startMs = 0) {
    packets.forEach((p, i) => {
      const h = parseRtpHeader(p)!;
      receiver.receive(h.timestamp, p, h.payloadOffset, h.payloadLength, startMs + i * 20, h.marker);
    });
  }

  it('reports each digit once, at its end, with its duration', () => {
    const digits: [string, number][] = [];
    const r = new TelephoneEventReceiver(8000, (d, ms) => digits.push([d, ms]));
    feed(r, buildDtmfPackets({ digit: '1', durationMs: 120, payloadType: 101, ssrc: 1, sequenceNumber: 0, timestamp: 1000 }));
    // The same key again: a new event because it has a new timestamp.
    feed(r, buildDtmfPackets({ digit: '1', durationMs: 80, payloadType: 101, ssrc: 1, sequenceNumber: 9, timestamp: 3000 }), 500);
    feed(r, buildDtmfPackets({ digit: 'D', durationMs: 200, payloadType: 101, ssrc: 1, sequenceNumber: 20, timestamp: 6000 }), 1000);
    expect(digits).toEqual([
      ['1', 120],
      ['1', 80],
      ['D', 200],
    ]);
  });

  it('survives lost end packets, reordering and duplicates', () => {
    const digits: [string, number][] = [];
    const r = new TelephoneEventReceiver(8000, (d, ms) => digits.push([d, ms]));
    const first = buildDtmfPackets({ digit: '7', durationMs: 100, payloadType: 101, ssrc: 1, sequenceNumber: 0, timestamp: 0 });
    // All three end packets lost: the next event reports the previous one.
    feed(r, first.slice(0, 4));
    expect(digits).toEqual([]);
    const second = buildDtmfPackets({ digit: '8', durationMs: 60, payloadType: 101, ssrc: 1, sequenceNumber: 10, timestamp: 4000 });
    feed(r, [second[1]!, second[0]!, second[0]!, ...second.slice(2)], 200);
    expect(digits).toEqual([
      ['7', 80],
      ['8', 60],
    ]);
    // A last event without end is reported by flush() after silence.
    feed(r, buildDtmfPackets({ digit: '9', durationMs: 100, payloadType: 101, ssrc: 1, sequenceNumber: 30, timestamp: 9000 }).slice(0, 2), 1000);
    r.flush(1100);
    expect(digits).toHaveLength(2);
    r.flush(1600);
    expect(digits[2]).toEqual(['9', 40]);
    // Late end packets of an event already reported change nothing.
    feed(r, first.slice(4), 2000);
    expect(digits).toHaveLength(3);
  });

  it('counts a new press from a sender that rewinds its timestamps, by its marker bit', () => {
    const digits: string[] = [];
    const r = new TelephoneEventReceiver(8000, (d) => digits.push(d));
    // SIPp's shipped captures replay '*' then '9' on one SSRC, the second with an older timestamp.
    feed(r, buildDtmfPackets({ digit: '*', durationMs: 100, payloadType: 101, ssrc: 7, sequenceNumber: 8397, timestamp: 85760 }));
    feed(r, buildDtmfPackets({ digit: '9', durationMs: 100, payloadType: 101, ssrc: 7, sequenceNumber: 8293, timestamp: 67840 }), 400);
    expect(digits).toEqual(['*', '9']);
  });
});

describe('InbandDtmfDetector', () => {
  /** PCM through μ-law, as it would arrive from a phone. */
  function keypresses(sequence: string, toneMs = 80, gapMs = 80, amplitude = 6000): Int16Array {
    const parts: Int16Array[] = [];
    for (const digit of sequence) {
      const pcm = generateTone(dtmfFrequencies(digit as DtmfDigit), amplitude, (toneMs * 8000) / 1000);
      parts.push(pcm, new Int16Array((gapMs * 8000) / 1000));
    }
    const all = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    const ulaw = new Uint8Array(all.length);
    pcmuEncode(all, ulaw);
    pcmuDecode(ulaw, all);
    return all;
  }

  it('detects every digit of the keypad once, fed in odd-sized chunks', () => {
    const found: [string, number][] = [];
    const detector = new InbandDtmfDetector((d, ms) => found.push([d, ms]));
    const pcm = keypresses('0123456789*#ABCD');
    for (let i = 0; i < pcm.length; i += 97) detector.process(pcm.subarray(i, Math.min(pcm.length, i + 97)));
    expect(found.map(([d]) => d).join('')).toBe('0123456789*#ABCD');
    for (const [, ms] of found) expect(ms).toBeGreaterThanOrEqual(60);
  });

  it('ignores single tones, speech-like chords, short blips and quiet tones', () => {
    const found: string[] = [];
    const detector = new InbandDtmfDetector((d) => found.push(d));
    detector.process(generateTone([1000], 8000, 8000)); // dial tone-like single frequency
    detector.process(generateTone([697, 1209, 2200], 5000, 8000)); // a third strong tone: not DTMF
    detector.process(generateTone([697, 1209], 5000, 160)); // 20 ms: too short
    detector.process(new Int16Array(800));
    detector.process(generateTone([697, 1209], 300, 1600)); // about −40 dBm0
    detector.process(new Int16Array(800));
    const noise = new ToneGenerator([220, 330, 440, 550, 660, 770, 880, 990], 2000);
    const speechish = new Int16Array(8000);
    noise.fill(speechish);
    detector.process(speechish);
    expect(found).toEqual([]);
  });

});
