/**
 * G.711 μ-law (PCMU) and A-law (PCMA) with precomputed tables. The tables are
 * built once from the bit-level rules of ITU-T G.711 as its reference software
 * (G.191) states them: μ-law quantizes the top 14 bits of a 16-bit sample,
 * A-law the top 13, negative values by their one's complement. Indexing the
 * tables by those top bits makes encoding one shift and one load per sample.
 */

const ULAW_DECODE = new Int16Array(256);
const ALAW_DECODE = new Int16Array(256);
/** Indexed by the 14-bit two's complement code `(sample >> 2) & 0x3fff`. */
const ULAW_ENCODE = new Uint8Array(1 << 14);
/** Indexed by the 12-bit two's complement code `(sample >> 4) & 0xfff`. */
const ALAW_ENCODE = new Uint8Array(1 << 12);

function ulawCompress14(code: number): number {
  // `code` is a sign-extended 14-bit value; negatives quantize by one's complement.
  const negative = code < 0;
  let magnitude = (negative ? ~code : code) + 33;
  if (magnitude > 0x1fff) magnitude = 0x1fff;
  let segment = 1;
  for (let i = magnitude >> 6; i !== 0; i >>= 1) segment++;
  const high = 8 - segment;
  const low = 0x0f - ((magnitude >> segment) & 0x0f);
  return (high << 4) | low | (negative ? 0 : 0x80);
}

function ulawExpand(byte: number): number {
  const inverted = ~byte & 0xff;
  const exponent = (inverted >> 4) & 0x07;
  const mantissa = inverted & 0x0f;
  const step = 4 << (exponent + 1);
  const magnitude = (0x80 << exponent) + step * mantissa + step / 2 - 4 * 33;
  return byte < 0x80 ? -magnitude : magnitude;
}

function alawCompress12(code: number): number {
  const negative = code < 0;
  let ix = negative ? ~code : code;
  if (ix > 15) {
    let exponent = 1;
    while (ix > 16 + 15) {
      ix >>= 1;
      exponent++;
    }
    ix = ix - 16 + (exponent << 4);
  }
  if (!negative) ix |= 0x80;
  return ix ^ 0x55;
}

function alawExpand(byte: number): number {
  const ix = (byte ^ 0x55) & 0x7f;
  const exponent = ix >> 4;
  let mantissa = ix & 0x0f;
  if (exponent > 0) mantissa += 16;
  mantissa = (mantissa << 4) + 8;
  if (exponent > 1) mantissa <<= exponent - 1;
  return byte > 0x7f ? mantissa : -mantissa;
}

for (let b = 0; b < 256; b++) {
  ULAW_DECODE[b] = ulawExpand(b);
  ALAW_DECODE[b] = alawExpand(b);
}
for (let i = 0; i < ULAW_ENCODE.length; i++) ULAW_ENCODE[i] = ulawCompress14((i << 18) >> 18);
for (let i = 0; i < ALAW_ENCODE.length; i++) ALAW_ENCODE[i] = alawCompress12((i << 20) >> 20);

export function pcmuEncodeSample(sample: number): number {
  return ULAW_ENCODE[(sample >> 2) & 0x3fff]!;
}
export function pcmuDecodeSample(byte: number): number {
  return ULAW_DECODE[byte & 0xff]!;
}
export function pcmaEncodeSample(sample: number): number {
  return ALAW_ENCODE[(sample >> 4) & 0xfff]!;
}
export function pcmaDecodeSample(byte: number): number {
  return ALAW_DECODE[byte & 0xff]!;
}

/** Encodes `count` samples of `pcm` into `out` at `outOffset`. */
export function pcmuEncode(pcm: Int16Array, out: Uint8Array, count = pcm.length, outOffset = 0): void {
  for (let i = 0; i < count; i++) out[outOffset + i] = ULAW_ENCODE[(pcm[i]! >> 2) & 0x3fff]!;
}
export function pcmaEncode(pcm: Int16Array, out: Uint8Array, count = pcm.length, outOffset = 0): void {
  for (let i = 0; i < count; i++) out[outOffset + i] = ALAW_ENCODE[(pcm[i]! >> 4) & 0xfff]!;
}
/** Decodes `count` bytes of `data` from `offset` into `pcm`. */
export function pcmuDecode(data: Uint8Array, pcm: Int16Array, count = data.length, offset = 0): void {
  for (let i = 0; i < count; i++) pcm[i] = ULAW_DECODE[data[offset + i]!]!;
}
export function pcmaDecode(data: Uint8Array, pcm: Int16Array, count = data.length, offset = 0): void {
  for (let i = 0; i < count; i++) pcm[i] = ALAW_DECODE[data[offset + i]!]!;
}

/**
 * Byte-to-byte tables between the two laws, computed through linear PCM: the
 * relay converts a PCMU payload to PCMA in place with one load per byte.
 */
export const ULAW_TO_ALAW = new Uint8Array(256);
export const ALAW_TO_ULAW = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  ULAW_TO_ALAW[b] = pcmaEncodeSample(ULAW_DECODE[b]!);
  ALAW_TO_ULAW[b] = pcmuEncodeSample(ALAW_DECODE[b]!);
}

/** Code for digital silence: what a jitter-free "nothing" looks like on the wire. */
export const PCMU_SILENCE = 0xff;
export const PCMA_SILENCE = 0xd5;
