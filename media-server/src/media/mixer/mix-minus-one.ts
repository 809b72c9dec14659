/**
 * The arithmetic of a room: a talker's frame buffer and the N−1 mix of the
 * talkers, kept apart from sockets and clocks so they can be tested on
 * their own.
 */

export const MIX_SAMPLE_RATE = 8000;
/** One 20 ms frame at the mixing rate. */
export const MIX_FRAME_SAMPLES = 160;
/** Frames a member's buffer holds; past that the oldest audio is dropped (bounded latency and memory). */
export const MAX_BUFFERED_FRAMES = 6;

/** A bounded FIFO of 8 kHz samples, read a whole frame at a time. */
export class FrameBuffer {
  private readonly ring = new Int16Array(MIX_FRAME_SAMPLES * MAX_BUFFERED_FRAMES);
  private readAt = 0;
  private size = 0;
  /** Samples dropped because the buffer was full. */
  dropped = 0;

  get frames(): number {
    return Math.floor(this.size / MIX_FRAME_SAMPLES);
  }

  write(pcm: Int16Array, count: number): void {
    const capacity = this.ring.length;
    for (let i = 0; i < count; i++) {
      if (this.size === capacity) {
        this.readAt = (this.readAt + 1) % capacity;
        this.size--;
        this.dropped++;
      }
      this.ring[(this.readAt + this.size) % capacity] = pcm[i]!;
      this.size++;
    }
  }

  clear(): void {
    this.readAt = 0;
    this.size = 0;
  }

  /** Takes one whole frame into `out`; false (and nothing taken) when less than a frame is buffered. */
  read(out: Int16Array): boolean {
    if (this.size < MIX_FRAME_SAMPLES) return false;
    const capacity = this.ring.length;
    for (let i = 0; i < MIX_FRAME_SAMPLES; i++) out[i] = this.ring[(this.readAt + i) % capacity]!;
    this.readAt = (this.readAt + MIX_FRAME_SAMPLES) % capacity;
    this.size -= MIX_FRAME_SAMPLES;
    return true;
  }
}

/**
 * Gives each member the sum of every other active member's frame: one total,
 * then the member's own frame taken back out, clipped to 16 bits. `total`
 * and `out` are scratch buffers of one frame; `out` is reused for each
 * member, so `send` must consume it before returning.
 */
export function mixMinusOne<M extends { active: boolean; frame: Int16Array }>(
  members: readonly M[],
  total: Int32Array,
  out: Int16Array,
  send: (member: M, frame: Int16Array) => void,
): void {
  const n = out.length;
  total.fill(0);
  for (const m of members) {
    if (!m.active) continue;
    for (let i = 0; i < n; i++) total[i]! += m.frame[i]!;
  }
  for (const m of members) {
    for (let i = 0; i < n; i++) {
      const v = m.active ? total[i]! - m.frame[i]! : total[i]!;
      out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    send(m, out);
  }
}
