import type { Logger } from '@carillon/config';
import type { SipRequest } from '../message/index.ts';
import type { TimerDurations, TimerName, TimerSettings } from './timers.ts';
import { timerDurations } from './timers.ts';
import type { TransactionState } from './transaction-state.ts';
import type { TransactionTransport } from './transaction-transport.ts';

/** What the `TransactionLayer` hands every transaction it creates. */
export interface TransactionContext {
  transport: TransactionTransport;
  timers: TimerSettings;
  log: Logger;
  /** Lets the layer drop the transaction from its tables. */
  onTerminated(transaction: Transaction): void;
  /**
   * Hands a completed unreliable non-INVITE server transaction's serialized
   * last response to the layer, which absorbs retransmissions with it for
   * `ms` (Timer J) instead of the whole transaction. False: keep the transaction.
   */
  retireCompleted?(key: string, resend: () => Promise<void>, ms: number): boolean;
}

/**
 * A request and the responses to it
 * (https://www.rfc-editor.org/rfc/rfc3261#section-17): a state machine with
 * named timers. Subclasses own their `stateTransition`; this base enforces that
 * `Terminated` stops every timer and is reported to the layer exactly once.
 * @internal Created by `TransactionLayer` only.
 */
export abstract class Transaction {
  /** The key the layer matches messages with (§17.1.3, §17.2.3). */
  readonly key: string;
  readonly request: SipRequest;
  /** No retransmissions, zero D/I/J/K (Table 4). */
  readonly reliable: boolean;
  protected readonly durations: TimerDurations;
  protected readonly context: TransactionContext;
  #state: TransactionState;
  readonly #timers = new Map<TimerName, ReturnType<typeof setTimeout>>();

  constructor(
    key: string,
    request: SipRequest,
    reliable: boolean,
    initial: TransactionState,
    context: TransactionContext,
  ) {
    this.key = key;
    this.request = request;
    this.reliable = reliable;
    this.context = context;
    this.durations = timerDurations(context.timers, reliable);
    this.#state = initial;
  }

  get state(): TransactionState {
    return this.#state;
  }

  get branch(): string {
    return this.request.topVia()?.params.get('branch') ?? '';
  }

  /** Ends the transaction without telling anyone: the layer is closing. */
  dispose(): void {
    this.#stopAllTimers();
    this.#state = 'Terminated';
  }

  /** Applies a move the subclass has already checked. */
  protected enterState(to: TransactionState): void {
    this.#state = to;
    if (to === 'Terminated') {
      this.#stopAllTimers();
      this.context.onTerminated(this);
    }
  }

  protected startTimer(name: TimerName, ms: number, fire: () => void): void {
    this.stopTimer(name);
    this.#timers.set(
      name,
      setTimeout(() => {
        this.#timers.delete(name);
        if (this.#state !== 'Terminated') fire();
      }, ms),
    );
  }

  /**
   * Starts a retransmission timer due at a fixed point on the monotonic clock.
   * Chaining from the planned time rather than from when the previous timer
   * actually fired means a busy event loop delays a retransmission but never
   * drops one: the RFC's count within Timer B, F or H holds (7 INVITEs, 11
   * non-INVITE requests or INVITE responses with the default values).
   */
  protected startTimerAt(name: TimerName, dueAt: number, fire: () => void): void {
    this.startTimer(name, Math.max(0, dueAt - performance.now()), fire);
  }

  protected stopTimer(...names: TimerName[]): void {
    for (const name of names) {
      const timer = this.#timers.get(name);
      if (timer) clearTimeout(timer);
      this.#timers.delete(name);
    }
  }

  protected isRunning(name: TimerName): boolean {
    return this.#timers.has(name);
  }

  /** Runs TU code so that a throwing TU cannot break the state machine. */
  protected callUser(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.context.log.error('transaction user threw', { callback: what, key: this.key, error: err });
    }
  }

  #stopAllTimers(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
