/**
 * The cryptographic transform of SRTP and SRTCP (RFC 3711 §4.1.1 AES-CM
 * keystream, §4.2.1 HMAC-SHA1 tag), in place on the packet, behind one
 * interface with two implementations: TypeScript over node:crypto (a reused
 * ECB cipher and pre-padded SHA-1 digests), and the addon of
 * media-server/native (an EVP AES-128-CTR context and SHA-1 states reused per
 * packet, no allocation). SrtpContext and SrtcpContext keep the replay
 * windows, the ROC and the indexes; only this part differs. The thread's
 * MEDIA_NATIVE choice (endpoint/udp-socket.ts selectPacketIo) picks the
 * default; the RFC 3711 vectors run on both.
 */
import { loadMediaIoAddon, nativeAddonInUse, type MediaIoAddon } from '../native-addon.ts';
import { AesCmKeystream } from './aes-cm-keystream.ts';
import { PrekeyedHmacSha1, tagMatches } from './hmac-sha1.ts';

export type SrtpImplementation = 'js' | 'native';

export interface SrtpSessionKeys {
  cipherKey: Uint8Array;
  cipherSalt: Uint8Array;
  authKey: Uint8Array;
}

export interface SrtpTransform {
  readonly implementation: SrtpImplementation;
  /** XORs the keystream for (ssrc, indexHigh·2^16 + indexLow) into buf[offset, offset+length). */
  xor(buf: Buffer, offset: number, length: number, ssrc: number, indexHigh: number, indexLow: number): void;
  /** Writes the first `tagLength` bytes of the tag of buf[0, length) (then `trailer` as 4 bytes when ≥ 0: the ROC) at buf[length]. */
  sign(buf: Buffer, length: number, trailer: number, tagLength: number): void;
  /** Whether buf[length, length+tagLength) is that tag (constant time). */
  verify(buf: Buffer, length: number, trailer: number, tagLength: number): boolean;
}

class JsSrtpTransform implements SrtpTransform {
  readonly implementation = 'js';
  private readonly keystream: AesCmKeystream;
  private readonly hmac: PrekeyedHmacSha1;

  constructor(keys: SrtpSessionKeys) {
    this.keystream = new AesCmKeystream(keys.cipherKey, keys.cipherSalt);
    this.hmac = new PrekeyedHmacSha1(keys.authKey);
  }

  xor(buf: Buffer, offset: number, length: number, ssrc: number, indexHigh: number, indexLow: number): void {
    this.keystream.xor(buf, offset, length, ssrc, indexHigh, indexLow);
  }

  sign(buf: Buffer, length: number, trailer: number, tagLength: number): void {
    this.hmac.digest(buf, 0, length, trailer < 0 ? undefined : trailer).copy(buf, length, 0, tagLength);
  }

  verify(buf: Buffer, length: number, trailer: number, tagLength: number): boolean {
    return tagMatches(this.hmac.digest(buf, 0, length, trailer < 0 ? undefined : trailer), buf, length, tagLength);
  }
}

class NativeSrtpTransform implements SrtpTransform {
  readonly implementation = 'native';
  private readonly addon: MediaIoAddon;
  private readonly handle: object;

  constructor(addon: MediaIoAddon, keys: SrtpSessionKeys) {
    if (keys.cipherKey.length !== 16) throw new RangeError('AES-CM session key must be 16 bytes');
    if (keys.cipherSalt.length !== 14) throw new RangeError('AES-CM session salt must be 14 bytes');
    this.addon = addon;
    this.handle = addon.srtpCreate(keys.cipherKey, keys.cipherSalt, keys.authKey);
  }

  xor(buf: Buffer, offset: number, length: number, ssrc: number, indexHigh: number, indexLow: number): void {
    this.addon.srtpXor(this.handle, buf, offset, length, ssrc >>> 0, indexHigh >>> 0, indexLow);
  }

  sign(buf: Buffer, length: number, trailer: number, tagLength: number): void {
    this.addon.srtpTag(this.handle, buf, length, trailer, tagLength, false);
  }

  verify(buf: Buffer, length: number, trailer: number, tagLength: number): boolean {
    return this.addon.srtpTag(this.handle, buf, length, trailer, tagLength, true);
  }
}

/** The transform for one set of session keys: `implementation`, else the thread's MEDIA_NATIVE choice. */
export function createSrtpTransform(keys: SrtpSessionKeys, implementation?: SrtpImplementation): SrtpTransform {
  const addon = nativeAddonInUse();
  if (implementation === 'native' || (implementation === undefined && addon)) {
    const native = addon ?? loadMediaIoAddon() ?? nativeAddonRequired();
    return new NativeSrtpTransform(native, keys);
  }
  return new JsSrtpTransform(keys);
}

function nativeAddonRequired(): never {
  throw new Error('the native SRTP transform needs the media addon (build it with scripts/build-native.sh)');
}
