/**
 * Wakes this node's waiting queue callers when something they wait for may have changed here: the
 * caller ahead of them went on to be offered or left (the next may be offered now), or a member was
 * given back (it may be offered now). Without it each waiting caller finds out at its next look, a
 * poll interval later, and a queue hands out at most one caller per interval or so: 50 agents talking
 * 6 s serve 8 callers a second, yet the queue gave them 4 while 25 callers waited (bench/queue-agents.ts).
 * Per account: a member freed may serve any queue of its account. The node's callback service
 * (queue-callback.ts) shares it both ways: it looks for a callback whose turn has come at every
 * wake-up, and wakes the callers when a callback frees its member or leaves. Callers on other nodes still find
 * out at their next look (the shared state is in Redis; this is only the local shortcut).
 *
 * A generation per account rather than bare events: a caller notes the generation before it looks,
 * and its pause ends at once when a wake-up came meanwhile, so none is lost between a look and a pause.
 */
export class QueueWakeups {
  private readonly generations = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Told of every wake-up, whatever the account: the node's callback service (queue-callback.ts). */
  private readonly everyWake = new Set<(accountId: string) => void>();

  generation(accountId: string): number {
    return this.generations.get(accountId) ?? 0;
  }

  wake(accountId: string): void {
    this.generations.set(accountId, this.generation(accountId) + 1);
    for (const listener of this.everyWake) listener(accountId);
    const waiters = this.waiters.get(accountId);
    if (!waiters) return;
    this.waiters.delete(accountId);
    for (const w of waiters) w();
  }

  /** Calls `listener` at every wake-up of any account, until the returned function is called. */
  onEveryWake(listener: (accountId: string) => void): () => void {
    this.everyWake.add(listener);
    return () => this.everyWake.delete(listener);
  }

  /** Calls `woken` once at the next wake-up of the account (at once if one came since `seen`); returns what cancels it. */
  onWake(accountId: string, seen: number, woken: () => void): () => void {
    if (this.generation(accountId) !== seen) {
      woken();
      return () => undefined;
    }
    let waiters = this.waiters.get(accountId);
    if (!waiters) this.waiters.set(accountId, (waiters = new Set()));
    waiters.add(woken);
    return () => {
      const set = this.waiters.get(accountId);
      set?.delete(woken);
      if (set?.size === 0) this.waiters.delete(accountId);
    };
  }
}
