/**
 * SRTCP for one direction (RFC 3711 §3.4): everything after the first eight
 * bytes of the compound is encrypted, followed by the E flag with the 31-bit
 * SRTCP index, then an 80-bit tag over all of it. Same transform as
 * SrtpContext (srtp-transform.ts), with the RTCP session keys.
 */
import { readUint32, writeUint32 } from '../rtp/rtp-header.ts';
import { ReplayWindow } from './replay-window.ts';
import { deriveSrtpSessionKeys } from './srtp-key-derivation.ts';
import { createSrtpTransform, type SrtpImplementation, type SrtpTransform } from './srtp-transform.ts';
import { srtpProfile, type SrtpMasterKey, type SrtpProfile, type SrtpProfileName } from './srtp-profile.ts';

const INDEX_LENGTH = 4;
const MAX_SOURCES = 64;

export class SrtcpContext {
  readonly profile: SrtpProfile;
  readonly tagLength: number;
  /** Bytes protect() adds to a compound. */
  readonly overhead: number;
  authFailures = 0;
  replayed = 0;
  malformed = 0;
  readonly transform: SrtpTransform;
  private readonly nextIndex = new Map<number, number>();
  private readonly windows = new Map<number, ReplayWindow>();

  constructor(master: SrtpMasterKey, profile: SrtpProfileName | SrtpProfile, options: { implementation?: SrtpImplementation } = {}) {
    this.profile = typeof profile === 'string' ? srtpProfile(profile) : profile;
    this.tagLength = this.profile.srtcpTagLength;
    this.overhead = INDEX_LENGTH + this.tagLength;
    const keys = deriveSrtpSessionKeys(master, true);
    this.transform = createSrtpTransform(keys, options.implementation);
  }

  /** Protects `packet[0, length)` into `out` (may be `packet` with room); returns the SRTCP length or -1. */
  protect(packet: Buffer, length: number, out: Buffer): number {
    if (length < 8 || packet[0]! >> 6 !== 2 || out.length < length + this.overhead) return -1;
    if (out !== packet) packet.copy(out, 0, 0, length);
    const ssrc = readUint32(out, 4);
    const index = this.nextIndex.get(ssrc) ?? 0;
    if (!this.nextIndex.has(ssrc) && this.nextIndex.size >= MAX_SOURCES) this.nextIndex.clear();
    this.nextIndex.set(ssrc, (index + 1) & 0x7fffffff);
    this.transform.xor(out, 8, length - 8, ssrc, index >>> 16, index & 0xffff);
    writeUint32(out, length, (0x80000000 | index) >>> 0);
    const authLength = length + INDEX_LENGTH;
    this.transform.sign(out, authLength, -1, this.tagLength);
    return authLength + this.tagLength;
  }

  /** Authenticates and decrypts in place; returns the RTCP length or -1. */
  unprotect(packet: Buffer, length: number): number {
    const authLength = length - this.tagLength;
    const rtcpLength = authLength - INDEX_LENGTH;
    if (rtcpLength < 8 || packet[0]! >> 6 !== 2) {
      this.malformed++;
      return -1;
    }
    const ssrc = readUint32(packet, 4);
    const word = readUint32(packet, rtcpLength);
    const encrypted = word >>> 31 === 1;
    const index = word & 0x7fffffff;
    const window = this.windows.get(ssrc);
    if (window && !window.check(index)) {
      this.replayed++;
      return -1;
    }
    if (!this.transform.verify(packet, authLength, -1, this.tagLength)) {
      this.authFailures++;
      return -1;
    }
    if (encrypted) this.transform.xor(packet, 8, rtcpLength - 8, ssrc, index >>> 16, index & 0xffff);
    let kept = window;
    if (!kept) {
      if (this.windows.size >= MAX_SOURCES) this.windows.clear();
      kept = new ReplayWindow(128);
      this.windows.set(ssrc, kept);
    }
    kept.accept(index);
    return rtcpLength;
  }
}
