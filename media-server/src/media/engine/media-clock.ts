/**
 * One 20 ms clock per worker for everything the relay generates (prompts,
 * hold music, DTMF): a timer per stream would not scale to a thousand
 * listeners, and one shared tick keeps them aligned. Timers drift and run
 * late; each tick catches up on the frames that were due by the monotonic
 * clock, so the packet rate stays right on average. It only runs while
 * someone listens.
 *
 * A tick that comes more than a frame late (the worker was starved of CPU)
 * waits for the next check phase of the event loop (setImmediate) before it
 * catches up: the poll phase runs in between and reads the packets that
 * arrived meanwhile and sit in the sockets. Catching up in the timers phase
 * would take those frames before their packets were read: a recording would
 * write silence where the audio was only late.
 */
export const FRAME_MS = 20;
/** After a long stall, send at most this many frames at once rather than a burst of everything missed. */
const MAX_CATCH_UP = 5;

export type FrameListener = (nowMs: number) => void;

export class MediaClock {
  private readonly listeners = new Set<FrameListener>();
  private timer: NodeJS.Timeout | null = null;
  private deferred: NodeJS.Immediate | null = null;
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
    if (this.listeners.size === 0) this.cancel();
  }

  stop(): void {
    this.listeners.clear();
    this.cancel();
  }

  private cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.deferred) clearImmediate(this.deferred);
    this.timer = null;
    this.deferred = null;
  }

  private schedule(): void {
    this.timer = setTimeout(this.tick, Math.max(0, this.nextFrameMs - performance.now()));
  }

  private readonly tick = (): void => {
    if (performance.now() - this.nextFrameMs > FRAME_MS) {
      this.deferred = setImmediate(this.catchUp);
      return;
    }
    this.catchUp();
  };

  private readonly catchUp = (): void => {
    this.deferred = null;
    const now = performance.now();
    let frames = 0;
    while (this.nextFrameMs <= now && frames < MAX_CATCH_UP) {
      for (const listener of this.listeners) listener(this.nextFrameMs);
      this.nextFrameMs += FRAME_MS;
      frames++;
    }
    if (this.nextFrameMs <= now) this.nextFrameMs = now + FRAME_MS;
    this.timer = null;
    if (this.listeners.size > 0) this.schedule();
  };
}
