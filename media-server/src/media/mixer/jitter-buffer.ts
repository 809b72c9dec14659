/**
 * A member's inbound audio as it waits for the mix: a fixed-depth reorder
 * buffer of *encoded* payloads indexed by RTP sequence number, so that a
 * member who is not a talker costs a copy of its payload and nothing more
 * (it is never decoded), and a member who becomes a talker is heard from
 * its last few packets on, with no clipped first syllable.
 *
 * Playout starts once PREBUFFER_PACKETS are waiting (the cushion against
 * jitter). A packet missing when its turn comes while later ones are already
 * here is lost (or too late to matter): the caller conceals it. A packet
 * older than the playout point is dropped as late. A burst, or a sender
 * whose clock runs fast, is bounded: beyond MAX_WAITING packets the oldest
 * are skipped, so latency and memory stay bounded whatever the peer sends;
 * the room also skips one when a talker's cushion stays larger than needed
 * (room.ts), so a burst does not add latency for good.
 */

/** Slots in the ring: the furthest ahead of the playout point a packet may be. */
const DEPTH = 16;
export const PREBUFFER_PACKETS = 2;
/** Packets a talker may have waiting before the oldest are skipped (120 ms at 20 ms packets). */
export const MAX_WAITING = 6;
/** A G.711 packet of up to 60 ms, an Opus packet of 20 ms up to 256 kb/s; a larger one is dropped as late. */
export const MAX_PAYLOAD_BYTES = 640;

export type PlayoutResult = 'packet' | 'lost' | 'empty';

export class JitterBuffer {
  private readonly payloads = new Uint8Array(DEPTH * MAX_PAYLOAD_BYTES);
  private readonly lengths = new Int32Array(DEPTH);
  /** Sequence number held in each slot, -1 when empty. */
  private readonly seqs = new Int32Array(DEPTH).fill(-1);
  /** When each slot's packet arrived (monotonic ms). */
  private readonly arrivals = new Float64Array(DEPTH);
  private started = false;
  /** Sequence number of the next packet to play. */
  private next = 0;
  /** Newest sequence number received (valid once started). */
  private newest = 0;
  private waitingCount = 0;
  /** Packets that came after their turn, or too far ahead to keep. */
  late = 0;
  /** Packets a talker skipped because too many were waiting (not those a listener's trim drops). */
  skipped = 0;
  /** The payload of the last packet `pop` returned: a view into the ring, valid until the next `put`. */
  payload: Uint8Array = this.payloads.subarray(0, 0);
  /** When the packet `pop` returned arrived (monotonic ms). */
  arrivedMs = 0;

  get waiting(): number {
    return this.waitingCount;
  }

  put(seq: number, packet: Uint8Array, offset: number, length: number, nowMs = 0): void {
    if (length > MAX_PAYLOAD_BYTES || length <= 0) {
      this.late++;
      return;
    }
    if (!this.started) {
      this.started = true;
      this.next = this.newest = seq;
    } else {
      const ahead = (seq - this.next) << 16 >> 16;
      if (ahead < 0) {
        this.late++;
        return;
      }
      if (ahead >= DEPTH) {
        // A jump (a new stream, or a long gap): start again from this packet.
        this.reset();
        this.started = true;
        this.next = this.newest = seq;
      } else if (((seq - this.newest) << 16 >> 16) > 0) {
        this.newest = seq;
      }
    }
    const slot = seq & (DEPTH - 1);
    if (this.seqs[slot] === seq) return; // a duplicate
    if (this.seqs[slot]! < 0) this.waitingCount++;
    this.seqs[slot] = seq;
    this.lengths[slot] = length;
    this.arrivals[slot] = nowMs;
    this.payloads.set(packet.subarray(offset, offset + length), slot * MAX_PAYLOAD_BYTES);
  }

  /**
   * The next packet in sequence: 'packet' (its bytes in `payload`), 'lost'
   * (its turn passed while later ones wait; conceal it), or 'empty' (nothing
   * to play; playout waits for the cushion again).
   */
  pop(): PlayoutResult {
    if (!this.started || this.waitingCount === 0) return 'empty';
    while (this.waitingCount > MAX_WAITING) {
      if (this.discardNext()) this.skipped++;
    }
    const slot = this.next & (DEPTH - 1);
    this.next = (this.next + 1) & 0xffff;
    if (this.seqs[slot] !== ((this.next - 1) & 0xffff)) return 'lost';
    this.seqs[slot] = -1;
    this.waitingCount--;
    const at = slot * MAX_PAYLOAD_BYTES;
    this.arrivedMs = this.arrivals[slot]!;
    this.payload = this.payloads.subarray(at, at + this.lengths[slot]!);
    return 'packet';
  }

  /** Whether playout may start (or start again after running dry). */
  get primed(): boolean {
    return this.waitingCount >= PREBUFFER_PACKETS;
  }

  /**
   * For a member who is not a talker: keeps only its newest `keep` packets
   * and moves the playout point to the oldest of them, so that when it
   * becomes a talker it is heard from now, not from seconds ago.
   */
  trim(keep = PREBUFFER_PACKETS): void {
    while (this.waitingCount > keep) this.discardNext();
  }

  /** Moves the playout point one packet on; whether a waiting packet was thrown away. */
  /** Skips the oldest packet waiting (a talker whose buffer grew: latency is given back). */
  skipOldest(): void {
    while (this.waitingCount > 0) {
      if (this.discardNext()) {
        this.skipped++;
        return;
      }
    }
  }

  private discardNext(): boolean {
    const slot = this.next & (DEPTH - 1);
    const held = this.seqs[slot] === this.next;
    if (held) {
      this.seqs[slot] = -1;
      this.waitingCount--;
    }
    this.next = (this.next + 1) & 0xffff;
    return held;
  }

  reset(): void {
    this.seqs.fill(-1);
    this.waitingCount = 0;
    this.started = false;
  }
}
