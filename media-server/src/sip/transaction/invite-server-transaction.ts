import { createResponse, type SipRequest, type SipResponse } from '../message/index.ts';
import type { SipSource } from '../transport/index.ts';
import { ServerTransaction } from './server-transaction.ts';
import type { TransactionContext } from './transaction.ts';
import type { TransactionState } from './transaction-state.ts';
import { TransactionStateError } from './transaction-state-error.ts';

/**
 * INVITE server transaction, https://www.rfc-editor.org/rfc/rfc3261#section-17.2.1
 * with the `Accepted` state of https://www.rfc-editor.org/rfc/rfc6026#section-8.5.
 *
 * Retransmitting a 2xx until its ACK arrives is the TU's job (§13.3.1.4); in
 * `Accepted` this transaction sends the TU's 2xx retransmissions, and also
 * resends the last 2xx when the INVITE itself is retransmitted (the client
 * plainly missed it; RFC 6026 only forbids passing that INVITE to the TU).
 */
export class InviteServerTransaction extends ServerTransaction {
  constructor(key: string, request: SipRequest, source: SipSource, context: TransactionContext) {
    super(key, request, source, 'Proceeding', context);
    // §17.2.1: send 100 Trying unless the TU answers within 200 ms.
    this.startTimer('Trying', this.durations.Trying, () => {
      if (!this.last) this.send(trying(request));
    });
  }

  respond(response: SipResponse): void {
    ServerTransaction.checkStatus(response);
    const status = response.status;
    if (this.state === 'Accepted' && status >= 200 && status < 300) {
      this.send(response);
      return;
    }
    if (this.state !== 'Proceeding') throw new TransactionStateError(`cannot send ${status}`, this.state);
    this.stopTimer('Trying');
    if (status < 200) {
      this.send(response);
    } else if (status < 300) {
      this.stateTransition('Accepted');
      this.send(response);
    } else {
      this.stateTransition('Completed');
      this.send(response);
    }
  }

  receiveRequest(_retransmission: SipRequest): void {
    // §17.2.1: Proceeding resends the latest provisional, Completed the final response.
    if (this.state === 'Proceeding' || this.state === 'Completed' || this.state === 'Accepted') this.resend();
  }

  /**
   * An ACK that matched this transaction. Returns true when it was absorbed: in
   * `Completed` it acknowledges our non-2xx (§17.2.1). In `Accepted` it is the TU's,
   * which is matching it to its dialog (RFC 6026 §8.5).
   */
  receiveAck(_ack: SipRequest): boolean {
    if (this.state === 'Accepted') return false;
    if (this.state === 'Completed') this.stateTransition('Confirmed');
    return true;
  }

  protected onTransportFailure(): void {
    this.stateTransition('Terminated');
  }

  private stateTransition(to: TransactionState): void {
    const from = this.state;
    const allowed: Partial<Record<TransactionState, TransactionState[]>> = {
      Accepted: ['Proceeding'],
      Completed: ['Proceeding'],
      Confirmed: ['Completed'],
      Terminated: ['Proceeding', 'Accepted', 'Completed', 'Confirmed'],
    };
    if (!allowed[to]?.includes(from)) throw new Error(`Invalid state transition from ${from} to ${to}`);
    this.stopTimer('Trying', 'G', 'H');
    this.enterState(to);
    switch (to) {
      case 'Accepted':
        this.startTimer('L', this.durations.L, () => this.stateTransition('Terminated'));
        break;
      case 'Completed':
        if (!this.reliable) this.#scheduleG(performance.now(), this.durations.G);
        this.startTimer('H', this.durations.H, () => {
          this.stateTransition('Terminated');
          this.callUser('onTimeout', () => this.user.onTimeout?.());
        });
        break;
      case 'Confirmed':
        // Timer I absorbs the ACK retransmissions still in flight.
        this.startTimer('I', this.durations.I, () => this.stateTransition('Terminated'));
        break;
      default:
        break;
    }
  }

  /** §17.2.1: G doubles up to T2 until the ACK arrives. */
  #scheduleG(previous: number, interval: number): void {
    const due = previous + interval;
    this.startTimerAt('G', due, () => {
      this.resend();
      this.#scheduleG(due, Math.min(2 * interval, this.context.timers.T2));
    });
  }
}

/** 100 Trying, with the request's Timestamp copied (https://www.rfc-editor.org/rfc/rfc3261#section-8.2.6.1). */
function trying(request: SipRequest): SipResponse {
  const response = createResponse(request, 100);
  const timestamp = request.get('timestamp');
  if (timestamp !== undefined) response.add('timestamp', timestamp);
  return response;
}
