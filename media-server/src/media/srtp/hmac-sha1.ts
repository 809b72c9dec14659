/**
 * HMAC-SHA1 (RFC 2104): H(K ^ opad || H(K ^ ipad || message)), as two
 * one-shot SHA-1 digests (`crypto.hash`) over scratch buffers that already
 * hold K ^ ipad and K ^ opad: the message (and the SRTP ROC) is copied in
 * after the pad. Per message that is two native calls and two 20-byte
 * results, where createHmac() repeats the key setup and cloning pre-keyed
 * Hash objects (`hash.copy()`) allocates two hash contexts and their JS
 * wrappers: the profile of an SRTP relay showed those allocations and their
 * frees among its largest costs.
 */
import { createHash, hash } from 'node:crypto';

const BLOCK = 64;
const SHA1_LENGTH = 20;
/** Room for a full-size datagram plus the ROC; a longer message grows the scratch once. */
const INITIAL_MESSAGE_ROOM = 1500 + 4;

export class PrekeyedHmacSha1 {
  /** K ^ ipad, then room for the message. */
  private inner: Buffer;
  /** K ^ opad, then the inner digest. */
  private readonly outer = Buffer.alloc(BLOCK + SHA1_LENGTH);

  constructor(key: Uint8Array) {
    const k = Buffer.alloc(BLOCK);
    if (key.length > BLOCK) createHash('sha1').update(key).digest().copy(k);
    else k.set(key);
    this.inner = Buffer.alloc(BLOCK + INITIAL_MESSAGE_ROOM);
    for (let i = 0; i < BLOCK; i++) {
      this.inner[i] = k[i]! ^ 0x36;
      this.outer[i] = k[i]! ^ 0x5c;
    }
  }

  /** MAC of `data[offset, offset+length)`, followed by `trailer` as 4 big-endian bytes when given (the SRTP ROC). */
  digest(data: Uint8Array, offset: number, length: number, trailer?: number): Buffer {
    const end = BLOCK + length + (trailer === undefined ? 0 : 4);
    if (end > this.inner.length) {
      const grown = Buffer.alloc(end);
      this.inner.copy(grown, 0, 0, BLOCK);
      this.inner = grown;
    }
    const inner = this.inner;
    if (offset === 0 && length === data.length) inner.set(data, BLOCK);
    else inner.set(data.subarray(offset, offset + length), BLOCK);
    if (trailer !== undefined) inner.writeUInt32BE(trailer >>> 0, BLOCK + length);
    this.outer.set(hash('sha1', inner.subarray(0, end), 'buffer'), BLOCK);
    return hash('sha1', this.outer, 'buffer');
  }
}

/** Constant-time comparison of the first `length` bytes of a computed tag with the packet's. */
export function tagMatches(expected: Uint8Array, packet: Uint8Array, at: number, length: number): boolean {
  let diff = 0;
  for (let i = 0; i < length; i++) diff |= expected[i]! ^ packet[at + i]!;
  return diff === 0;
}
