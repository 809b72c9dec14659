/**
 * Replay protection (RFC 3711 §3.3.2) over packet indexes up to 2^53: a
 * packet older than the window is refused, and so is one already seen in it.
 * Each slot remembers the full index last accepted into it, so no bitmask has
 * to be shifted as the window moves, and nothing is allocated per packet.
 */
export class ReplayWindow {
  readonly size: number;
  private readonly seen: Float64Array;
  private highest = -1;

  /** RFC 3711 asks for at least 64; 128 tolerates more reordering. */
  constructor(size = 128) {
    this.size = size;
    this.seen = new Float64Array(size).fill(-1);
  }

  /** True when `index` is new and recent enough; does not record it. */
  check(index: number): boolean {
    if (index > this.highest) return true;
    if (this.highest - index >= this.size) return false;
    return this.seen[index % this.size] !== index;
  }

  /** Records an index that passed check() and authentication. */
  accept(index: number): void {
    this.seen[index % this.size] = index;
    if (index > this.highest) this.highest = index;
  }
}
