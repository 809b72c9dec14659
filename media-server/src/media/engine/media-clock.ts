/**
 * One 20 ms clock per worker for everything the relay generates (prompts,
 * hold music, DTMF): a timer per stream would not scale to a thousand
 * listeners, and one shared tick keeps them aligned. Timers drift and run
 * late; each tick catches up on the frames that were due by the monotonic
 * clock, so the packet rate stays right on average. It only runs while
 * someone listens.
 */
export const FRAME_MS = 20;
/** After a long stall, send at most this many frames at once rather than a burst of everything missed. */
const MAX_CATCH_UP = 5;

export type FrameListener = (nowMs: number) => void;

export class MediaClock {
  private readonly listeners = new Set<FrameListener>();
  private timer: NodeJS.Timeout | null = null;
  private nextFrameMs = 0;

  add(listener: FrameListener): void {
    this.listeners.add(listener);
    if (!this.timer) {
      this.nextFrameMs = performance.now();
      this.schedule();
    }
  }

  delete(listener: FrameListener): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  stop(): void {
    this.listeners.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    this.timer = setTimeout(this.tick, Math.max(0, this.nextFrameMs - performance.now()));
  }

  private readonly tick = (): void => {
    const now = performance.now();
    let frames = 0;
    while (this.nextFrameMs <= now && frames < MAX_CATCH_UP) {
      for (const listener of this.listeners) listener(this.nextFrameMs);
      this.nextFrameMs += FRAME_MS;
      frames++;
    }
    if (this.nextFrameMs <= now) this.nextFrameMs = now + FRAME_MS;
    if (this.listeners.size > 0) this.schedule();
    else this.timer = null;
  };
}
