/**
 * The last packets of a producer's streams, for answering NACKs (RFC 4585
 * §6.2.1) without asking the publisher. Slots are allocated once and reused
 * round-robin by sequence number, so the packet path allocates nothing; a
 * slot remembers which SSRC and sequence it holds, so a stale slot is never
 * taken for the packet asked for.
 */
const SLOT_BYTES = 1500;

export class RtpPacketCache {
  readonly capacity: number;
  private readonly slots: (Buffer | null)[];
  private readonly lengths: Uint16Array;
  private readonly ssrcs: Float64Array;
  private readonly seqs: Int32Array;

  constructor(capacity = 512) {
    this.capacity = capacity;
    this.slots = new Array<Buffer | null>(capacity).fill(null);
    this.lengths = new Uint16Array(capacity);
    this.ssrcs = new Float64Array(capacity).fill(-1);
    this.seqs = new Int32Array(capacity).fill(-1);
  }

  /** Keeps a copy of the plain RTP packet `packet[0, length)`. */
  store(ssrc: number, seq: number, packet: Buffer, length: number): void {
    if (length > SLOT_BYTES) return;
    const at = seq % this.capacity;
    const slot = (this.slots[at] ??= Buffer.allocUnsafe(SLOT_BYTES));
    packet.copy(slot, 0, 0, length);
    this.lengths[at] = length;
    this.ssrcs[at] = ssrc;
    this.seqs[at] = seq;
  }

  /** The cached packet (a view valid until the slot is reused), or null. */
  get(ssrc: number, seq: number): Buffer | null {
    const at = seq % this.capacity;
    if (this.ssrcs[at] !== ssrc || this.seqs[at] !== seq) return null;
    return this.slots[at]!.subarray(0, this.lengths[at]);
  }
}
