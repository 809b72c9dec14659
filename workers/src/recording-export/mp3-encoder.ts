import { spawn } from 'node:child_process';

/**
 * Telephony recordings are 8 kHz: 32 kbit/s keeps both sides of the call
 * intelligible (stereo, one side per channel) at about 240 kB a minute.
 */
const MP3_BITRATE = '32k';
/** A recording that takes longer than this to convert is treated as broken rather than left to hang the export. */
const ENCODE_TIMEOUT_MS = 10 * 60_000;

export class RecordingConversionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordingConversionError';
  }
}

/**
 * Converts one WAV recording to an MP3 file. Rejects with a
 * RecordingConversionError carrying ffmpeg's own words when the input is not
 * audio it can read; any other rejection (no ffmpeg) concerns the whole export.
 */
export function encodeMp3(ffmpegPath: string, input: string, output: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      ffmpegPath,
      ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-i', input, '-vn', '-codec:a', 'libmp3lame', '-b:a', MP3_BITRATE, '-f', 'mp3', output],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      // Only the start matters for the error message; never let a chatty ffmpeg grow this.
      if (stderr.length < 4000) stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), ENCODE_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ffmpeg (${ffmpegPath}): ${err.message}`, { cause: err }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const why = signal ? `killed by ${signal}` : `exit code ${code}`;
      const detail = stderr.trim().split('\n').slice(-2).join(' ').replaceAll(input, '<recording>').replaceAll(output, '<mp3>');
      reject(new RecordingConversionError(`ffmpeg could not convert the recording (${why})${detail ? `: ${detail}` : ''}`));
    });
  });
}
