/**
 * AES-128 counter mode as SRTP defines it (RFC 3711 §4.1.1): block j of the
 * keystream for a packet is AES(k_e, IV + j) with
 * IV = (k_s << 16) XOR (SSRC << 64) XOR (index << 16).
 * OpenSSL 3 makes creating a cipher object cost far more than using one, so a
 * single long-lived ECB cipher encrypts the counter blocks of every packet;
 * ECB over counter blocks is exactly the CTR keystream.
 */
import { createCipheriv, type Cipheriv } from 'node:crypto';

const BLOCK = 16;
/** Counter blocks prepared per update(): a full-size packet in one call. */
const CHUNK_BLOCKS = 96;

export class AesCmKeystream {
  private readonly cipher: Cipheriv;
  private readonly salt: Uint8Array;
  private readonly counters = Buffer.alloc(CHUNK_BLOCKS * BLOCK);
  private readonly iv = new Uint8Array(BLOCK);

  constructor(sessionKey: Uint8Array, sessionSalt: Uint8Array) {
    if (sessionKey.length !== 16) throw new RangeError('AES-CM session key must be 16 bytes');
    if (sessionSalt.length !== 14) throw new RangeError('AES-CM session salt must be 14 bytes');
    this.cipher = createCipheriv('aes-128-ecb', sessionKey, null).setAutoPadding(false);
    this.salt = Uint8Array.from(sessionSalt);
  }

  /**
   * XORs the keystream for (ssrc, index) into `length` bytes of `buf` at
   * `offset`. The 48-bit index is split as `indexHigh` (the SRTP ROC, or the
   * SRTCP index >>> 16) and `indexLow` (the sequence number, or the SRTCP
   * index & 0xffff), which keeps it in 32-bit integer arithmetic.
   */
  xor(buf: Uint8Array, offset: number, length: number, ssrc: number, indexHigh: number, indexLow: number): void {
    const iv = this.iv;
    iv.set(this.salt);
    iv[14] = 0;
    iv[15] = 0;
    iv[4]! ^= ssrc >>> 24;
    iv[5]! ^= (ssrc >>> 16) & 0xff;
    iv[6]! ^= (ssrc >>> 8) & 0xff;
    iv[7]! ^= ssrc & 0xff;
    iv[8]! ^= indexHigh >>> 24;
    iv[9]! ^= (indexHigh >>> 16) & 0xff;
    iv[10]! ^= (indexHigh >>> 8) & 0xff;
    iv[11]! ^= indexHigh & 0xff;
    iv[12]! ^= (indexLow >>> 8) & 0xff;
    iv[13]! ^= indexLow & 0xff;

    let block = 0;
    let done = 0;
    while (done < length) {
      const blocks = Math.min(CHUNK_BLOCKS, Math.ceil((length - done) / BLOCK));
      const counters = this.counters;
      for (let b = 0; b < blocks; b++, block++) {
        const at = b * BLOCK;
        counters.set(iv, at);
        // The 16-bit block counter occupies the two bytes the IV leaves at zero.
        counters[at + 14] = (block >> 8) & 0xff;
        counters[at + 15] = block & 0xff;
      }
      const keystream = this.cipher.update(blocks === CHUNK_BLOCKS ? counters : counters.subarray(0, blocks * BLOCK));
      const n = Math.min(blocks * BLOCK, length - done);
      const start = offset + done;
      for (let i = 0; i < n; i++) buf[start + i]! ^= keystream[i]!;
      done += n;
    }
  }
}
