/**
 * Reads linear PCM WAV files (RIFF/WAVE, format 1 or WAVE_FORMAT_EXTENSIBLE
 * with the PCM sub-format), 16-bit, and writes their header for recordings. Prompts and hold music are stored as
 * 8 kHz mono so that playing them is a table lookup per sample; anything else
 * is refused with a message saying what the file is and how to convert it.
 */
import { readFile } from 'node:fs/promises';

export interface WavPcm {
  sampleRate: number;
  channels: number;
  /** Interleaved 16-bit samples. */
  samples: Int16Array;
}

export class WavFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WavFormatError';
  }
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

export function parseWav(data: Uint8Array, name = 'WAV data'): WavPcm {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    throw new WavFormatError(`${name} is not a RIFF/WAVE file`);
  }
  let format: { tag: number; channels: number; sampleRate: number; bits: number } | null = null;
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('latin1', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ' && size >= 16 && body + 16 <= buf.length) {
      let tag = buf.readUInt16LE(body);
      // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the sub-format GUID.
      if (tag === WAVE_FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= buf.length) tag = buf.readUInt16LE(body + 24);
      format = { tag, channels: buf.readUInt16LE(body + 2), sampleRate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!format) throw new WavFormatError(`${name}: data chunk before the fmt chunk`);
      if (format.tag !== WAVE_FORMAT_PCM || format.bits !== 16) {
        throw new WavFormatError(`${name}: only 16-bit linear PCM is supported (format ${format.tag}, ${format.bits} bits)`);
      }
      // A writer that streams sets the size to 0 or 0xFFFFFFFF: take what is there.
      const available = buf.length - body;
      const bytes = Math.min(size === 0 ? available : size, available) & ~1;
      const samples = new Int16Array(bytes / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(body + i * 2);
      return { sampleRate: format.sampleRate, channels: format.channels, samples };
    }
    // Chunks are padded to an even size.
    offset = body + size + (size & 1);
  }
  throw new WavFormatError(`${name} has no data chunk`);
}

/** Bytes of the canonical header wavHeader() writes: RIFF, a 16-byte fmt chunk, the data chunk's header. */
export const WAV_HEADER_BYTES = 44;

/**
 * The canonical 16-bit PCM header. A writer that streams starts with
 * `dataBytes` unknown (0xFFFFFFFF, which readers take as "to the end of the
 * file") and writes the header again with the real size when it finishes.
 */
export function wavHeader(sampleRate: number, channels: number, dataBytes: number, out = Buffer.alloc(WAV_HEADER_BYTES)): Buffer {
  const unknown = dataBytes === 0xffff_ffff;
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(unknown ? 0xffff_ffff : WAV_HEADER_BYTES - 8 + dataBytes, 4);
  out.write('WAVEfmt ', 8, 'latin1');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  out.writeUInt16LE(channels, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * channels * 2, 28);
  out.writeUInt16LE(channels * 2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'latin1');
  out.writeUInt32LE(dataBytes, 40);
  return out;
}

/** The file's samples when it is 8 kHz mono 16-bit, the format the players use. */
export async function readWav8kMono(path: string): Promise<Int16Array> {
  const wav = parseWav(await readFile(path), path);
  if (wav.sampleRate !== 8000 || wav.channels !== 1) {
    throw new WavFormatError(
      `${path} is ${wav.sampleRate} Hz with ${wav.channels} channel(s); prompts must be 8 kHz mono ` +
        `(sox in.wav -r 8000 -c 1 -b 16 out.wav)`,
    );
  }
  return wav.samples;
}
