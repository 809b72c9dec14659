/**
 * HMAC-SHA1 (RFC 2104) from two hash states keyed once: the inner hash has
 * already absorbed key XOR ipad and the outer key XOR opad, and each message
 * starts from copies of them. That skips the key setup createHmac() repeats
 * for every packet, the larger part of its cost under OpenSSL 3.
 */
import { createHash, type Hash } from 'node:crypto';

const BLOCK = 64;

export class PrekeyedHmacSha1 {
  private readonly inner: Hash;
  private readonly outer: Hash;
  private readonly trailer = Buffer.alloc(4);

  constructor(key: Uint8Array) {
    const k = Buffer.alloc(BLOCK);
    if (key.length > BLOCK) createHash('sha1').update(key).digest().copy(k);
    else k.set(key);
    const ipad = Buffer.alloc(BLOCK);
    const opad = Buffer.alloc(BLOCK);
    for (let i = 0; i < BLOCK; i++) {
      ipad[i] = k[i]! ^ 0x36;
      opad[i] = k[i]! ^ 0x5c;
    }
    this.inner = createHash('sha1').update(ipad);
    this.outer = createHash('sha1').update(opad);
  }

  /** MAC of `data[offset, offset+length)`, followed by `trailer` as 4 big-endian bytes when given (the SRTP ROC). */
  digest(data: Uint8Array, offset: number, length: number, trailer?: number): Buffer {
    const inner = this.inner.copy();
    inner.update(offset === 0 && length === data.length ? data : data.subarray(offset, offset + length));
    if (trailer !== undefined) {
      this.trailer.writeUInt32BE(trailer >>> 0, 0);
      inner.update(this.trailer);
    }
    return this.outer.copy().update(inner.digest()).digest();
  }
}

/** Constant-time comparison of the first `length` bytes of a computed tag with the packet's. */
export function tagMatches(expected: Uint8Array, packet: Uint8Array, at: number, length: number): boolean {
  let diff = 0;
  for (let i = 0; i < length; i++) diff |= expected[i]! ^ packet[at + i]!;
  return diff === 0;
}
