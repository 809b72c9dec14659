import { runProgram } from '../tools/run-program.ts';
import fs from 'node:fs';

// One ffmpeg for the whole product (core/audio): the app converts uploaded prompts with it too.
export { ffmpegPath } from '@carillon/core/audio';

/** The signed 16-bit, 16 kHz, mono WAV every engine here reads. */
export const ENGINE_SAMPLE_RATE = 16_000;

/** Input the decoder could not read as audio: retrying cannot help. */
export class NotAudioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotAudioError';
  }
}

export interface DecodedAudio {
  path: string;
  durationMs: number;
}

/**
 * Decodes any container ffmpeg knows (WAV, MP3, OGG/Opus, …) to the engines'
 * WAV. The duration is read from the decoded samples, not from a header that
 * an upload could fake.
 */
export async function decodeToEngineWav(
  input: string,
  output: string,
  options: { ffmpeg: string; maxSeconds: number; timeoutMs?: number },
): Promise<DecodedAudio> {
  const args = [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
    '-i', input,
    '-vn', '-map', '0:a:0',
    '-t', String(options.maxSeconds),
    '-ac', '1', '-ar', String(ENGINE_SAMPLE_RATE), '-acodec', 'pcm_s16le', '-f', 'wav',
    output,
  ];
  const { code, stderr } = await runProgram(options.ffmpeg, args, options.timeoutMs ?? 120_000);
  if (code !== 0) {
    // ffmpeg's first line says what it found ("Invalid data found when processing input").
    const reason = stderr.split('\n').map((l) => l.replace(input, 'input').trim()).find(Boolean) ?? `exit code ${code}`;
    throw new NotAudioError(`not an audio file ffmpeg can decode: ${reason}`);
  }
  const dataBytes = wavDataBytes(output);
  if (dataBytes <= 0) throw new NotAudioError('the file holds no audio samples');
  return { path: output, durationMs: Math.round((dataBytes / 2 / ENGINE_SAMPLE_RATE) * 1000) };
}

/** Size of the `data` chunk of a WAV that ffmpeg wrote. */
function wavDataBytes(file: string): number {
  const buf = fs.readFileSync(file);
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    if (id === 'data') return Math.min(size, buf.length - offset - 8);
    offset += 8 + size + (size % 2);
  }
  return 0;
}

