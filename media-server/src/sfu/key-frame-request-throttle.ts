/**
 * At most one key frame request per producer per `delayMs` (mediasoup's
 * keyFrameRequestDelay): each PLI or FIR costs the publisher a key frame,
 * many times the size of a delta frame, and N consumers asking at once must
 * not make it send N. A request inside the window is not lost: one request is
 * sent when the window ends, for all that arrived in it.
 */
export class KeyFrameRequestThrottle {
  readonly delayMs: number;
  /** Requests received, and requests passed on to the publisher. */
  requested = 0;
  sent = 0;
  private lastSentMs = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;
  private readonly send: () => void;
  private readonly now: () => number;

  constructor(delayMs: number, send: () => void, now: () => number = () => performance.now()) {
    this.delayMs = delayMs;
    this.send = send;
    this.now = now;
  }

  request(): void {
    this.requested++;
    const now = this.now();
    const wait = this.lastSentMs + this.delayMs - now;
    if (wait <= 0) {
      this.fire(now);
      return;
    }
    if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.fire(this.now());
      }, wait);
      this.timer.unref();
    }
  }

  private fire(now: number): void {
    this.lastSentMs = now;
    this.sent++;
    this.send();
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
