import type { SipRequest, SipResponse } from '../message/index.ts';
import type { SipSource } from '../transport/index.ts';
import { ServerTransaction } from './server-transaction.ts';
import type { TransactionContext } from './transaction.ts';
import type { TransactionState } from './transaction-state.ts';
import { TransactionStateError } from './transaction-state-error.ts';

/** Non-INVITE server transaction, https://www.rfc-editor.org/rfc/rfc3261#section-17.2.2. */
export class NonInviteServerTransaction extends ServerTransaction {
  constructor(key: string, request: SipRequest, source: SipSource, context: TransactionContext) {
    super(key, request, source, 'Trying', context);
  }

  respond(response: SipResponse): void {
    ServerTransaction.checkStatus(response);
    if (this.state !== 'Trying' && this.state !== 'Proceeding')
      throw new TransactionStateError(`cannot send ${response.status}`, this.state);
    if (response.status < 200) {
      if (this.state === 'Trying') this.stateTransition('Proceeding');
      this.send(response);
    } else {
      // Over UDP the response is serialized once, sent, and kept in that form for Timer J.
      const resend = this.reliable ? null : (this.context.transport.prepareResend?.(response, this.source) ?? null);
      if (resend && this.context.retireCompleted) {
        this.last = response;
        resend().catch((err: unknown) => this.sendFailed(err));
        this.enterState('Completed');
        if (this.context.retireCompleted(this.key, resend, this.durations.J)) {
          this.stateTransition('Terminated');
          return;
        }
        this.startTimer('J', this.durations.J, () => this.stateTransition('Terminated'));
        return;
      }
      this.send(response);
      this.stateTransition('Completed');
    }
  }

  receiveRequest(_retransmission: SipRequest): void {
    // §17.2.2: discarded while Trying (nothing to resend yet), else the last response goes again.
    if (this.state === 'Proceeding' || this.state === 'Completed') this.resend();
  }

  protected onTransportFailure(): void {
    this.stateTransition('Terminated');
  }

  private stateTransition(to: TransactionState): void {
    const from = this.state;
    const allowed: Partial<Record<TransactionState, TransactionState[]>> = {
      Proceeding: ['Trying'],
      Completed: ['Trying', 'Proceeding'],
      Terminated: ['Trying', 'Proceeding', 'Completed'],
    };
    if (!allowed[to]?.includes(from)) throw new Error(`Invalid state transition from ${from} to ${to}`);
    this.enterState(to);
    // Timer J keeps the transaction to absorb retransmitted requests.
    if (to === 'Completed') this.startTimer('J', this.durations.J, () => this.stateTransition('Terminated'));
  }
}
