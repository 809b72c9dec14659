/**
 * Feature codes typed during a call, read from the DTMF of each side. Only
 * `*9` (on-demand recording, seed 000) for now: a star, then a 9 within a
 * few seconds, on the same side.
 */
export type StarCode = 'record';

export class StarCodeDetector {
  private readonly windowMs: number;
  private readonly lastStar = new Map<string, number>();

  constructor(windowMs = 3000) {
    this.windowMs = windowMs;
  }

  feed(side: string, digit: string, now = Date.now()): StarCode | null {
    if (digit === '*') {
      this.lastStar.set(side, now);
      return null;
    }
    const star = this.lastStar.get(side);
    this.lastStar.delete(side);
    if (digit === '9' && star !== undefined && now - star <= this.windowMs) return 'record';
    return null;
  }
}
