import { SipRequest, type SipResponse } from '../message/index.ts';
import type { SipTarget } from '../transport/index.ts';
import { ClientTransaction } from './client-transaction.ts';
import type { TransactionContext } from './transaction.ts';
import type { TransactionState } from './transaction-state.ts';
import type { ClientTransactionUser } from './transaction-user.ts';

/**
 * INVITE client transaction, https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1
 * with the `Accepted` state of https://www.rfc-editor.org/rfc/rfc6026#section-8.4,
 * in which further 2xx responses (retransmissions, forks) still reach the TU so
 * that it can acknowledge each one.
 */
export class InviteClientTransaction extends ClientTransaction {
  #ack: SipRequest | null = null;
  readonly #onProceeding: (() => void)[] = [];

  constructor(
    key: string,
    request: SipRequest,
    target: SipTarget,
    user: ClientTransactionUser,
    context: TransactionContext,
  ) {
    super(key, request, target, user, 'Calling', context);
  }

  start(): void {
    this.send(this.request);
    // §17.1.1.2: Timer A only on unreliable transports, doubling each time; Timer B bounds the whole attempt.
    if (!this.reliable) this.#scheduleA(performance.now(), this.durations.A);
    this.startTimer('B', this.durations.B, () => {
      this.stateTransition('Terminated');
      this.deliverTimeout();
    });
  }

  /**
   * Runs once a provisional response has arrived, which a CANCEL must wait for
   * (https://www.rfc-editor.org/rfc/rfc3261#section-9.1). Returns false when the
   * transaction is past the point where cancelling makes sense.
   */
  whenProceeding(fn: () => void): boolean {
    if (this.state === 'Proceeding') fn();
    else if (this.state === 'Calling') this.#onProceeding.push(fn);
    else return false;
    return true;
  }

  receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.state) {
      case 'Calling':
      case 'Proceeding':
        if (status < 200) {
          if (this.state === 'Calling') this.stateTransition('Proceeding');
          this.deliverResponse(response);
        } else if (status < 300) {
          this.stateTransition('Accepted');
          this.deliverResponse(response);
        } else {
          // §17.1.1.2: the ACK goes out before the TU hears of the failure.
          this.#ack = this.#buildAck(response);
          this.send(this.#ack);
          this.stateTransition('Completed');
          this.deliverResponse(response);
        }
        break;
      case 'Accepted':
        if (status >= 200 && status < 300) this.deliverResponse(response);
        break;
      case 'Completed':
        // A retransmitted final response means our ACK was lost: send it again, tell nobody.
        if (status >= 300 && this.#ack) this.send(this.#ack);
        break;
      default:
        break;
    }
  }

  protected onTransportFailure(error: Error): void {
    if (this.state !== 'Calling' && this.state !== 'Proceeding') return;
    this.stateTransition('Terminated');
    this.deliverTransportError(error);
  }

  #scheduleA(previous: number, interval: number): void {
    const due = previous + interval;
    this.startTimerAt('A', due, () => {
      this.send(this.request);
      this.#scheduleA(due, interval * 2);
    });
  }

  /**
   * The ACK for a non-2xx final response, https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1.3:
   * same Request-URI, Call-ID, From, CSeq number and single top Via as the INVITE,
   * the To of the response, and the INVITE's Route set.
   */
  #buildAck(response: SipResponse): SipRequest {
    const invite = this.request;
    const ack = new SipRequest('ACK', invite.uri);
    ack.add('via', invite.get('via') ?? '');
    for (const route of invite.getAll('route')) ack.add('route', route);
    ack.add('max-forwards', 70);
    ack.add('from', invite.get('from') ?? '');
    ack.add('to', response.get('to') ?? invite.get('to') ?? '');
    ack.add('call-id', invite.callId);
    ack.add('cseq', `${invite.cseq.seq} ACK`);
    return ack;
  }

  private stateTransition(to: TransactionState): void {
    const from = this.state;
    const allowed: Partial<Record<TransactionState, TransactionState[]>> = {
      Proceeding: ['Calling'],
      Accepted: ['Calling', 'Proceeding'],
      Completed: ['Calling', 'Proceeding'],
      Terminated: ['Calling', 'Proceeding', 'Accepted', 'Completed'],
    };
    if (!allowed[to]?.includes(from)) throw new Error(`Invalid state transition from ${from} to ${to}`);
    this.stopTimer('A', 'B');
    this.enterState(to);
    const waiting = this.#onProceeding.splice(0);
    switch (to) {
      case 'Proceeding':
        for (const fn of waiting) this.callUser('whenProceeding', fn);
        break;
      case 'Accepted':
        this.startTimer('M', this.durations.M, () => this.stateTransition('Terminated'));
        break;
      case 'Completed':
        this.startTimer('D', this.durations.D, () => this.stateTransition('Terminated'));
        break;
      default:
        break;
    }
  }
}
