import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { goertzelAmplitude } from '../../src/media/audio/goertzel.ts';
import { generateTone } from '../../src/media/audio/tone-generator.ts';
import { PCMA, PCMU } from '../../src/media/codecs/g711-codec.ts';
import { encodePrompt } from '../../src/media/media-player/encoded-prompt.ts';
import { RtpPacketizer } from '../../src/media/media-player/rtp-packetizer.ts';
import { PROMPT_LANGUAGES, PROMPT_NAMES, promptPath, staticAudioPath } from '../../src/media/media-player/static-audio.ts';
import { parseWav, readWav8kMono, WavFormatError } from '../../src/media/media-player/wav-file.ts';
import { parseRtpHeader } from '../../src/media/rtp/rtp-header.ts';

function wav(samples: Int16Array, sampleRate = 8000, channels = 1, extra: Buffer = Buffer.alloc(0)): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => data.writeInt16LE(s, i * 2));
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(sampleRate, 12);
  fmt.writeUInt32LE(sampleRate * channels * 2, 16);
  fmt.writeUInt16LE(channels * 2, 20);
  fmt.writeUInt16LE(16, 22);
  const dataHeader = Buffer.alloc(8);
  dataHeader.write('data', 0, 'latin1');
  dataHeader.writeUInt32LE(data.length, 4);
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), fmt, extra, dataHeader, data]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

describe('WAV reading', () => {
  it('reads 16-bit PCM and skips unknown chunks, odd-sized ones included', () => {
    const list = Buffer.concat([Buffer.from('LIST', 'latin1'), Buffer.from([3, 0, 0, 0]), Buffer.from([1, 2, 3, 0])]);
    const parsed = parseWav(wav(Int16Array.from([1, -2, 32767, -32768]), 8000, 1, list));
    expect(parsed.sampleRate).toBe(8000);
    expect(parsed.channels).toBe(1);
    expect([...parsed.samples]).toEqual([1, -2, 32767, -32768]);
  });

  it('refuses what it cannot play, saying why', () => {
    expect(() => parseWav(Buffer.from('not a wav file at all'))).toThrow(WavFormatError);
    const eightBit = wav(new Int16Array(4));
    eightBit.writeUInt16LE(8, 34);
    expect(() => parseWav(eightBit)).toThrow(/16-bit linear PCM/);
    expect(() => parseWav(wav(new Int16Array(4)).subarray(0, 40))).toThrow(/no data chunk/);
  });

  it('ships hold music and ringback as 8 kHz mono, small enough to commit', async () => {
    for (const name of ['hold-music.wav', 'ringback-us.wav'] as const) {
      expect(statSync(staticAudioPath(name)).size).toBeLessThan(300 * 1024);
      const pcm = await readWav8kMono(staticAudioPath(name));
      expect(pcm.length).toBeGreaterThan(8000 * 4);
    }
    const ringback = await readWav8kMono(staticAudioPath('ringback-us.wav'));
    expect(ringback.length).toBe(8000 * 6);
    // 2 s of 440 + 480 Hz, then 4 s of silence.
    const on = ringback.subarray(4000, 12000);
    expect(goertzelAmplitude(on, 440, 8000)).toBeGreaterThan(1000);
    expect(goertzelAmplitude(on, 480, 8000)).toBeGreaterThan(1000);
    expect(goertzelAmplitude(on, 1000, 8000)).toBeLessThan(50);
    expect(ringback.subarray(16000).every((s) => s === 0)).toBe(true);
  });

  it('ships the recording announcements in English and French as small 8 kHz mono speech', async () => {
    const seconds: Record<string, number> = {};
    for (const lang of PROMPT_LANGUAGES) {
      for (const name of PROMPT_NAMES) {
        const path = promptPath(lang, name);
        expect(path).toMatch(new RegExp(`/static/audio/prompts/${lang}/${name}\\.wav$`));
        expect(statSync(path).size).toBeLessThan(128 * 1024);
        const pcm = await readWav8kMono(path);
        seconds[`${lang}/${name}`] = pcm.length / 8000;
        // Speech: most 20 ms frames well above silence, none clipped.
        let voiced = 0;
        for (let at = 0; at + 160 <= pcm.length; at += 160) {
          let e = 0;
          for (let i = at; i < at + 160; i++) e += pcm[i]! * pcm[i]!;
          if (Math.sqrt(e / 160) > 300) voiced++;
        }
        expect(voiced / Math.floor(pcm.length / 160)).toBeGreaterThan(0.5);
        expect(pcm.every((s) => s > -32768 && s < 32767)).toBe(true);
      }
    }
    // "This call is now being recorded." says more than "Recording stopped.", in either language.
    for (const lang of PROMPT_LANGUAGES) {
      expect(seconds[`${lang}/recording-started`]).toBeGreaterThan(seconds[`${lang}/recording-stopped`]! + 0.3);
      expect(seconds[`${lang}/recording-started`]).toBeLessThan(8);
      expect(seconds[`${lang}/recording-stopped`]).toBeGreaterThan(0.8);
    }
  });

  it('says which prompt is missing, and where it was looked for', async () => {
    expect(() => promptPath('de' as 'en', 'recording-started')).toThrow('no prompts in language "de" (available: en, fr)');
    expect(() => promptPath('en', 'goodbye' as 'recording-started')).toThrow(
      'no prompt named "goodbye" (available: recording-started, recording-stopped)',
    );
    const { mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { pathToFileURL } = await import('node:url');
    const empty = mkdtempSync(join(tmpdir(), 'carillon-prompts-'));
    expect(() => promptPath('fr', 'recording-stopped', pathToFileURL(empty))).toThrow(
      `prompt fr/recording-stopped is missing: ${join(empty, 'prompts/fr/recording-stopped.wav')}`,
    );
  });

  it('refuses a file that is not 8 kHz mono, with the conversion command', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'carillon-wav-'));
    const path = join(dir, 'wideband.wav');
    writeFileSync(path, wav(new Int16Array(100), 16000));
    await expect(readWav8kMono(path)).rejects.toThrow(/16000 Hz.*\(sox in\.wav -r 8000 -c 1 -b 16 out\.wav\)/);
  });
});

describe('RtpPacketizer', () => {
  it('plays a prompt as 20 ms frames with marker, sequence and timestamp, looping seamlessly', () => {
    const pcm = generateTone([440], 4000, 400); // 2.5 frames: the last is padded with silence
    const prompt = encodePrompt(pcm, PCMA);
    expect(prompt.frames).toBe(3);
    expect(prompt.data.subarray(400).every((b) => b === 0xd5)).toBe(true);
    const p = new RtpPacketizer(prompt, { payloadType: 8, ssrc: 77, sequenceNumber: 65534, timestamp: 4294967136, loop: true });
    const buf = Buffer.alloc(p.packetLength);
    const headers = [];
    const payloads = [];
    for (let i = 0; i < 7; i++) {
      expect(p.nextPacket(buf)).toBe(172);
      const h = parseRtpHeader(buf)!;
      headers.push({ ...h });
      payloads.push(Buffer.from(buf.subarray(12)));
    }
    expect(headers.map((h) => h.sequenceNumber)).toEqual([65534, 65535, 0, 1, 2, 3, 4]);
    expect(headers.map((h) => h.timestamp)).toEqual([4294967136, 0, 160, 320, 480, 640, 800]);
    expect(headers.map((h) => h.marker)).toEqual([true, false, false, false, false, false, false]);
    expect(headers.every((h) => h.ssrc === 77 && h.payloadType === 8)).toBe(true);
    expect(payloads[3]).toEqual(payloads[0]);
    expect(payloads[6]).toEqual(payloads[0]);
    expect(p.done).toBe(false);
  });

  it('stops after the last frame without loop', () => {
    const p = new RtpPacketizer(encodePrompt(new Int16Array(320), PCMU), { payloadType: 0, ssrc: 1 });
    const buf = Buffer.alloc(172);
    expect([p.nextPacket(buf), p.nextPacket(buf), p.nextPacket(buf)]).toEqual([172, 172, 0]);
    expect(p.done).toBe(true);
    expect(buf.subarray(12).every((b) => b === 0xff)).toBe(true);
  });
});
