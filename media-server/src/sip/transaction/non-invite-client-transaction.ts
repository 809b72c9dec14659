import type { SipRequest, SipResponse } from '../message/index.ts';
import type { SipTarget } from '../transport/index.ts';
import { ClientTransaction } from './client-transaction.ts';
import type { TransactionContext } from './transaction.ts';
import type { TransactionState } from './transaction-state.ts';
import type { ClientTransactionUser } from './transaction-user.ts';

/** Non-INVITE client transaction, https://www.rfc-editor.org/rfc/rfc3261#section-17.1.2. */
export class NonInviteClientTransaction extends ClientTransaction {
  constructor(
    key: string,
    request: SipRequest,
    target: SipTarget,
    user: ClientTransactionUser,
    context: TransactionContext,
  ) {
    super(key, request, target, user, 'Trying', context);
  }

  start(): void {
    this.send(this.request);
    if (!this.reliable) this.#scheduleE(performance.now(), this.durations.E);
    this.startTimer('F', this.durations.F, () => {
      this.stateTransition('Terminated');
      this.deliverTimeout();
    });
  }

  receiveResponse(response: SipResponse): void {
    if (this.state !== 'Trying' && this.state !== 'Proceeding') return; // Completed absorbs retransmissions (§17.1.2.2).
    if (response.status < 200) {
      if (this.state === 'Trying') this.stateTransition('Proceeding');
    } else {
      this.stateTransition('Completed');
    }
    this.deliverResponse(response);
  }

  protected onTransportFailure(error: Error): void {
    if (this.state !== 'Trying' && this.state !== 'Proceeding') return;
    this.stateTransition('Terminated');
    this.deliverTransportError(error);
  }

  /** §17.1.2.2: E doubles up to T2 while Trying, and stays at T2 once Proceeding. */
  #scheduleE(previous: number, interval: number): void {
    const due = previous + interval;
    this.startTimerAt('E', due, () => {
      this.send(this.request);
      const T2 = this.context.timers.T2;
      this.#scheduleE(due, this.state === 'Trying' ? Math.min(2 * interval, T2) : T2);
    });
  }

  private stateTransition(to: TransactionState): void {
    const from = this.state;
    const allowed: Partial<Record<TransactionState, TransactionState[]>> = {
      Proceeding: ['Trying'],
      Completed: ['Trying', 'Proceeding'],
      Terminated: ['Trying', 'Proceeding', 'Completed'],
    };
    if (!allowed[to]?.includes(from)) throw new Error(`Invalid state transition from ${from} to ${to}`);
    // E and F keep running into Proceeding; any final outcome ends them.
    if (to !== 'Proceeding') this.stopTimer('E', 'F');
    this.enterState(to);
    if (to === 'Completed') this.startTimer('K', this.durations.K, () => this.stateTransition('Terminated'));
  }
}
