/**
 * SRTP for one direction of one session (RFC 3711 §3.3): protect() on the
 * sending side, unprotect() on the receiving side, any number of SSRCs. The
 * per-packet crypto is the transform's (srtp-transform.ts: reused cipher and
 * hash states, TypeScript or native); packets are processed in place, and
 * what is kept per source is a few numbers.
 */
import { rtpPayloadOffset, readUint32 } from '../rtp/rtp-header.ts';
import { ReplayWindow } from './replay-window.ts';
import { deriveSrtpSessionKeys } from './srtp-key-derivation.ts';
import { createSrtpTransform, type SrtpImplementation, type SrtpTransform } from './srtp-transform.ts';
import { srtpProfile, type SrtpMasterKey, type SrtpProfile, type SrtpProfileName } from './srtp-profile.ts';

class SourceState {
  roc = 0;
  started = false;
  /** Highest sequence number authenticated (s_l of RFC 3711). */
  highestSeq = 0;
  readonly replay: ReplayWindow;
  constructor(replayWindowSize: number) {
    this.replay = new ReplayWindow(replayWindowSize);
  }
}

/** Most calls have one source per direction: at most this many are tracked before the oldest is forgotten. */
const MAX_SOURCES = 64;

export class SrtpContext {
  readonly profile: SrtpProfile;
  readonly tagLength: number;
  /** Packets refused by unprotect(), by reason, for the leg's counters. */
  authFailures = 0;
  replayed = 0;
  malformed = 0;
  /** AES-CM and HMAC-SHA1 in place: TypeScript or the native addon (srtp-transform.ts). */
  readonly transform: SrtpTransform;
  private readonly sources = new Map<number, SourceState>();
  private readonly replayWindowSize: number;
  private lastSsrc = -1;
  private lastState: SourceState | null = null;

  constructor(master: SrtpMasterKey, profile: SrtpProfileName | SrtpProfile, options: { replayWindowSize?: number; implementation?: SrtpImplementation } = {}) {
    this.profile = typeof profile === 'string' ? srtpProfile(profile) : profile;
    this.tagLength = this.profile.srtpTagLength;
    const keys = deriveSrtpSessionKeys(master, false);
    this.transform = createSrtpTransform(keys, options.implementation);
    this.replayWindowSize = options.replayWindowSize ?? 128;
  }

  /**
   * Protects the RTP packet in `packet[0, length)` into `out` (which may be
   * `packet` itself when it has `tagLength` bytes of room after `length`).
   * Returns the SRTP length, or -1 when the input is not an RTP packet.
   */
  protect(packet: Buffer, length: number, out: Buffer): number {
    const payloadOffset = rtpPayloadOffset(packet, length);
    if (payloadOffset < 0 || out.length < length + this.tagLength) return -1;
    if (out !== packet) packet.copy(out, 0, 0, length);
    const seq = (out[2]! << 8) | out[3]!;
    const ssrc = readUint32(out, 8);
    const state = this.stateFor(ssrc, true)!;
    if (!state.started) {
      state.started = true;
      state.highestSeq = seq;
    }
    const roc = estimateRoc(state, seq);
    if (roc < 0) return -1;
    advance(state, roc, seq);
    this.transform.xor(out, payloadOffset, length - payloadOffset, ssrc, roc, seq);
    this.transform.sign(out, length, roc, this.tagLength);
    return length + this.tagLength;
  }

  /**
   * Authenticates and decrypts `packet[0, length)` in place. Returns the RTP
   * length, or -1 for a packet that is malformed, replayed or not authentic
   * (counted in the matching field).
   */
  unprotect(packet: Buffer, length: number): number {
    const authLength = length - this.tagLength;
    const payloadOffset = authLength >= 12 ? rtpPayloadOffset(packet, authLength) : -1;
    if (payloadOffset < 0) {
      this.malformed++;
      return -1;
    }
    const seq = (packet[2]! << 8) | packet[3]!;
    const ssrc = readUint32(packet, 8);
    // A source is only remembered once one of its packets authenticates, so forged SSRCs cost nothing.
    const known = this.stateFor(ssrc, false);
    const state = known ?? this.scratchState();
    const roc = known ? estimateRoc(state, seq) : 0;
    const index = roc * 0x10000 + seq;
    if (roc < 0 || (known && !state.replay.check(index))) {
      this.replayed++;
      return -1;
    }
    if (!this.transform.verify(packet, authLength, roc, this.tagLength)) {
      this.authFailures++;
      return -1;
    }
    this.transform.xor(packet, payloadOffset, authLength - payloadOffset, ssrc, roc, seq);
    const kept = known ?? this.stateFor(ssrc, true)!;
    if (!known) kept.highestSeq = seq;
    advance(kept, roc, seq);
    kept.replay.accept(index);
    return authLength;
  }

  private scratch: SourceState | null = null;
  private scratchState(): SourceState {
    this.scratch ??= new SourceState(this.replayWindowSize);
    return this.scratch;
  }

  private stateFor(ssrc: number, create: boolean): SourceState | null {
    if (ssrc === this.lastSsrc) return this.lastState;
    let state = this.sources.get(ssrc) ?? null;
    if (!state) {
      if (!create) return null;
      if (this.sources.size >= MAX_SOURCES) this.sources.delete(this.sources.keys().next().value!);
      state = new SourceState(this.replayWindowSize);
      this.sources.set(ssrc, state);
    }
    this.lastSsrc = ssrc;
    this.lastState = state;
    return state;
  }
}

/** RFC 3711 §3.3.1: the ROC this sequence number most likely belongs to; -1 before the first cycle. */
function estimateRoc(state: SourceState, seq: number): number {
  const sl = state.highestSeq;
  if (sl < 0x8000) {
    return seq - sl > 0x8000 ? state.roc - 1 : state.roc;
  }
  return sl - 0x8000 > seq ? (state.roc + 1) >>> 0 : state.roc;
}

function advance(state: SourceState, roc: number, seq: number): void {
  if (roc === state.roc + 1 || (roc === 0 && state.roc === 0xffffffff)) {
    state.roc = roc;
    state.highestSeq = seq;
  } else if (roc === state.roc && seq > state.highestSeq) {
    state.highestSeq = seq;
  }
}
