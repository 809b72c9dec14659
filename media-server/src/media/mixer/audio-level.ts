/**
 * How loud a member's packet is, without decoding it: from the RFC 6464
 * client-to-mixer audio level the sender puts in an RTP header extension
 * (browsers do), or from the energy of a G.711 payload through a 256-entry
 * table of squared sample values (one load and one add per byte). Levels
 * are in RFC 6464's unit: 0 to 127, the attenuation in dB below the
 * codec's overload point (dBov), 127 meaning silence.
 */
import { pcmaDecodeSample, pcmuDecodeSample } from '../codecs/g711.ts';

/** RFC 6464 §3: the quietest level, digital silence included. */
export const SILENT_LEVEL = 127;

/** RFC 8285 §4.2: the one-byte header form's "defined by profile" value. */
const ONE_BYTE_PROFILE = 0xbede;
/** RFC 8285 §4.3: 0x100 in the top 12 bits, 4 application bits below. */
const TWO_BYTE_PROFILE_MASK = 0xfff0;
const TWO_BYTE_PROFILE = 0x1000;

/**
 * The RFC 6464 level in the header extension element `id` of the RTP packet
 * in `packet` (whose payload starts at `payloadOffset`), or -1 when the
 * packet carries no such element or the extension is malformed. Both
 * RFC 8285 forms are read: one-byte (§4.2: 4-bit id, 4-bit length − 1; id 0
 * is a padding byte, id 15 stops the parse) and two-byte (§4.3: 8-bit id,
 * 8-bit length; id 0 with no length byte is padding). RFC 6464 §3: the first
 * data byte is V (voice activity, 1 bit) and the level (7 bits).
 */
export function readAudioLevel(packet: Uint8Array, payloadOffset: number, id: number): number {
  const b0 = packet[0]!;
  if ((b0 & 0x10) === 0 || id <= 0) return -1;
  const at = 12 + (b0 & 0x0f) * 4;
  if (at + 4 > payloadOffset) return -1;
  const profile = (packet[at]! << 8) | packet[at + 1]!;
  const end = at + 4 + ((packet[at + 2]! << 8) | packet[at + 3]!) * 4;
  if (end > payloadOffset) return -1;
  let i = at + 4;
  if (profile === ONE_BYTE_PROFILE) {
    if (id > 14) return -1;
    while (i < end) {
      const b = packet[i]!;
      if (b === 0) {
        i++;
        continue;
      }
      const elementId = b >> 4;
      if (elementId === 15) return -1;
      const length = (b & 0x0f) + 1;
      if (i + 1 + length > end) return -1;
      if (elementId === id) return packet[i + 1]! & 0x7f;
      i += 1 + length;
    }
    return -1;
  }
  if ((profile & TWO_BYTE_PROFILE_MASK) === TWO_BYTE_PROFILE) {
    while (i < end) {
      const elementId = packet[i]!;
      if (elementId === 0) {
        i++;
        continue;
      }
      if (i + 2 > end) return -1;
      const length = packet[i + 1]!;
      if (i + 2 + length > end) return -1;
      if (elementId === id) return length === 0 ? -1 : packet[i + 2]! & 0x7f;
      i += 2 + length;
    }
  }
  return -1;
}

/** Squared linear value of each G.711 code: the energy of a sample, looked up. */
const PCMU_SQUARES = new Float64Array(256);
const PCMA_SQUARES = new Float64Array(256);
for (let b = 0; b < 256; b++) {
  PCMU_SQUARES[b] = pcmuDecodeSample(b) ** 2;
  PCMA_SQUARES[b] = pcmaDecodeSample(b) ** 2;
}

/** The table for a codec's payload energy, or null when it cannot be read without decoding (Opus). */
export function energyTableOf(codecName: string): Float64Array | null {
  const upper = codecName.toUpperCase();
  return upper === 'PCMU' ? PCMU_SQUARES : upper === 'PCMA' ? PCMA_SQUARES : null;
}

/** Mean square of a full-scale 16-bit signal: the 0 dBov reference. */
const OVERLOAD_POWER = 32768 * 32768;

/**
 * The level of a G.711 payload as RFC 6464 §4 defines it for the sender:
 * the RMS of the packet's samples in −dBov, rounded, clamped to 0–127.
 */
export function g711Level(squares: Float64Array, packet: Uint8Array, offset: number, length: number): number {
  if (length <= 0) return SILENT_LEVEL;
  let sum = 0;
  for (let i = offset, end = offset + length; i < end; i++) sum += squares[packet[i]!]!;
  if (sum === 0) return SILENT_LEVEL;
  const level = Math.round(-10 * Math.log10(sum / length / OVERLOAD_POWER));
  return level < 0 ? 0 : level > SILENT_LEVEL ? SILENT_LEVEL : level;
}
