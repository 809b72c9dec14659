import fs from 'node:fs';
import path from 'node:path';
import { runProgram } from './run-program.ts';

/**
 * The containers an upload may be, recognised by their first bytes (not by the
 * name or the Content-Type, which the client chooses). A file with a good
 * header and bad data still fails at decoding, with ffmpeg's reason.
 */
export function sniffAudio(head: Uint8Array): 'wav' | 'mp3' | 'ogg' | null {
  const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  if (head.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return 'wav';
  if (head.length >= 4 && ascii(0, 4) === 'OggS') return 'ogg';
  if (head.length >= 3 && ascii(0, 3) === 'ID3') return 'mp3';
  // An MPEG audio frame header: 11 sync bits, then a layer other than "reserved".
  if (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0 && (head[1]! & 0x06) !== 0) return 'mp3';
  return null;
}

/** The format media-server plays (static/audio/README.md): 8 kHz, mono, 16-bit linear PCM WAV. */
export const MEDIA_SAMPLE_RATE = 8000;

/** Audio that cannot become a prompt: not audio, empty, silent, or too long. The message says which, for the admin. */
export class MediaAudioError extends Error {
  readonly code: 'not_audio' | 'no_audio' | 'silent' | 'too_long' | 'too_large';
  constructor(code: MediaAudioError['code'], message: string) {
    super(message);
    this.name = 'MediaAudioError';
    this.code = code;
  }
}

/**
 * Converts any audio ffmpeg decodes (WAV, MP3, …) to the media format, once, so that playing it
 * is a table lookup per sample. The duration is counted from the decoded samples, not read from a
 * header an upload could fake; decoding stops a second past `maxSeconds`, so an hour-long file costs
 * no more than a short one before it is refused.
 */
export async function convertToMediaWav(input: string, output: string, options: { ffmpeg: string; maxSeconds: number; timeoutMs?: number }): Promise<{ durationMs: number }> {
  const args = [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
    '-i', input,
    '-vn', '-map', '0:a:0',
    '-t', String(options.maxSeconds + 1),
    '-ac', '1', '-ar', String(MEDIA_SAMPLE_RATE), '-acodec', 'pcm_s16le', '-f', 'wav',
    output,
  ];
  const { code, stderr } = await runProgram(options.ffmpeg, args, options.timeoutMs ?? 60_000);
  if (code !== 0) {
    fs.rmSync(output, { force: true });
    // ffmpeg's first line says what it found ("Invalid data found when processing input").
    const reason = stderr.split('\n').map((l) => l.replace(input, 'input').trim()).find(Boolean) ?? `exit code ${code}`;
    throw new MediaAudioError('not_audio', `not an audio file that can be decoded: ${reason}`);
  }
  const durationMs = wavDurationMs(output);
  if (durationMs <= 0) {
    fs.rmSync(output, { force: true });
    throw new MediaAudioError('no_audio', 'the file holds no audio samples');
  }
  if (durationMs > options.maxSeconds * 1000) {
    fs.rmSync(output, { force: true });
    throw new MediaAudioError('too_long', `longer than ${options.maxSeconds} seconds`);
  }
  return { durationMs };
}

/**
 * An uploaded file (already on disk, streamed there with its size bounded) becomes a media file at
 * `output`: at most `maxBytes`, its first bytes WAV or MP3 whatever its name says, decoding to sound
 * of at most `maxSeconds`. The one check of uploaded audio (IVR prompts, voicemail greetings); the
 * upload itself is left to the caller, and `output` exists only when this returns.
 */
export async function importUploadedAudio(upload: string, output: string, options: { ffmpeg: string; maxBytes: number; maxSeconds: number }): Promise<{ durationMs: number }> {
  const size = fs.statSync(upload).size;
  if (size > options.maxBytes) throw new MediaAudioError('too_large', `larger than ${options.maxBytes / 1024 / 1024} MB`);
  const head = Buffer.alloc(16);
  const fd = fs.openSync(upload, 'r');
  try {
    fs.readSync(fd, head, 0, 16, 0);
  } finally {
    fs.closeSync(fd);
  }
  const format = sniffAudio(head);
  if (format !== 'wav' && format !== 'mp3') throw new MediaAudioError('not_audio', 'not a WAV or MP3 file (its content is checked, not its name)');
  fs.mkdirSync(path.dirname(output), { recursive: true, mode: 0o700 });
  const converted = await convertToMediaWav(upload, output, { ffmpeg: options.ffmpeg, maxSeconds: options.maxSeconds });
  // A muted or unplugged microphone records digital silence: callers would hear nothing where a greeting
  // or a prompt should be, and the one who recorded it would not know.
  if (loudestFrameRms(output) < SILENCE_RMS) {
    fs.rmSync(output, { force: true });
    throw new MediaAudioError('silent', 'the recording is silent (is the microphone muted?)');
  }
  fs.chmodSync(output, 0o600);
  return converted;
}

/**
 * Below this RMS over every 20 ms of 16-bit audio (−60 dBFS), a file is taken as silence: quiet room noise
 * from a live microphone is well above it, a muted one's zeros and dither well below.
 */
export const SILENCE_RMS = 33;

/** The data chunk of a 16-bit mono WAV and its sample rate; an empty chunk when there is none. */
function wavData(buf: Buffer): { rate: number; data: Buffer } {
  let rate = MEDIA_SAMPLE_RATE;
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF') return { rate, data: Buffer.alloc(0) };
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('latin1', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    if (id === 'fmt ' && offset + 16 <= buf.length) rate = buf.readUInt32LE(offset + 12);
    if (id === 'data') return { rate, data: buf.subarray(offset + 8, offset + 8 + Math.min(size, buf.length - offset - 8)) };
    offset += 8 + size + (size % 2);
  }
  return { rate, data: Buffer.alloc(0) };
}

/** The RMS of the loudest 20 ms of a 16-bit mono WAV (0 for none). */
export function loudestFrameRms(file: string): number {
  const { rate, data } = wavData(fs.readFileSync(file));
  const frame = Math.max(1, Math.round(rate / 50));
  const samples = Math.floor(data.length / 2);
  let loudest = 0;
  for (let start = 0; start < samples; start += frame) {
    const end = Math.min(samples, start + frame);
    let sum = 0;
    for (let i = start; i < end; i++) {
      const v = data.readInt16LE(i * 2);
      sum += v * v;
    }
    loudest = Math.max(loudest, Math.sqrt(sum / (end - start)));
  }
  return loudest;
}

/** Length of a 16-bit mono WAV's data chunk, in milliseconds at its own sample rate. */
export function wavDurationMs(file: string): number {
  const { rate, data } = wavData(fs.readFileSync(file));
  return Math.round((data.length / 2 / rate) * 1000);
}

/**
 * Converts audio to MP3 (a download of a voicemail, an e-mail attachment).
 * Telephone audio is 8 kHz mono: 32 kbit/s keeps it intelligible at about
 * 240 kB a minute. Throws a MediaAudioError with ffmpeg's reason when it cannot.
 */
export async function convertToMp3(input: string, output: string, options: { ffmpeg: string; timeoutMs?: number }): Promise<void> {
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-i', input, '-vn', '-codec:a', 'libmp3lame', '-b:a', '32k', '-f', 'mp3', output];
  const { code, stderr } = await runProgram(options.ffmpeg, args, options.timeoutMs ?? 60_000);
  if (code !== 0) {
    fs.rmSync(output, { force: true });
    const reason = stderr.split('\n').map((l) => l.replaceAll(input, 'input').replaceAll(output, 'output').trim()).find(Boolean) ?? `exit code ${code}`;
    throw new MediaAudioError('not_audio', `could not convert to MP3: ${reason}`);
  }
}
