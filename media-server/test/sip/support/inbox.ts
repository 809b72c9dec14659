import type { SipMessage } from '../../../src/sip/message/index.ts';

export interface Received {
  message: SipMessage;
  at: number;
}

/** Collects what a test peer receives and lets a test wait for one message. */
export class Inbox {
  readonly items: Received[] = [];
  readonly #consumed = new Set<Received>();
  #waiters: (() => void)[] = [];

  push(message: SipMessage): void {
    this.items.push({ message, at: Date.now() });
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Messages seen so far that match, consumed or not. */
  all(match: (m: SipMessage) => boolean = () => true): SipMessage[] {
    return this.items.filter((r) => match(r.message)).map((r) => r.message);
  }

  /** The first not yet consumed message that matches; rejects after `timeoutMs`. */
  async next(match: (m: SipMessage) => boolean = () => true, timeoutMs = 3_000): Promise<SipMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.items.find((r) => !this.#consumed.has(r) && match(r.message));
      if (found) {
        this.#consumed.add(found);
        return found.message;
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no matching message within ${timeoutMs} ms (received ${this.items.length})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds; for state that changes on timers. */
export async function eventually(check: () => boolean, timeoutMs = 3_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await sleep(10);
  }
}
