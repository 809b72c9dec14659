import { createResponse, type SipRequest, type SipResponse } from '../message/index.ts';
import { isReliableTransport, type SipTarget } from '../transport/index.ts';
import { Transaction, type TransactionContext } from './transaction.ts';
import type { TransactionState } from './transaction-state.ts';
import type { ClientTransactionUser } from './transaction-user.ts';

/**
 * The client side of https://www.rfc-editor.org/rfc/rfc3261#section-17.1: sends
 * its request to one target and reports responses, timeouts and transport
 * failures to its TU.
 */
export abstract class ClientTransaction extends Transaction {
  readonly target: SipTarget;
  user: ClientTransactionUser;

  constructor(
    key: string,
    request: SipRequest,
    target: SipTarget,
    user: ClientTransactionUser,
    initial: TransactionState,
    context: TransactionContext,
  ) {
    super(key, request, isReliableTransport(target.transport), initial, context);
    this.target = target;
    this.user = user;
  }

  /** Sends the request and starts the timers. */
  abstract start(): void;

  /** A response whose top Via branch and CSeq method matched this transaction (§17.1.3). */
  abstract receiveResponse(response: SipResponse): void;

  /** Transport failure while the request is still unanswered (§17.1.4). */
  protected abstract onTransportFailure(error: Error): void;

  protected send(message: SipRequest): void {
    this.context.transport.send(message, this.target).catch((err: unknown) => {
      if (this.state !== 'Terminated')
        this.onTransportFailure(err instanceof Error ? err : new Error(String(err)));
    });
  }

  protected deliverResponse(response: SipResponse): void {
    this.callUser('onResponse', () => this.user.onResponse?.(response));
  }

  /** §8.1.3.1: "treat this as if a 408 (Request Timeout) status code has been received". */
  protected deliverTimeout(): void {
    const response = this.#synthesize(408);
    this.callUser('onTimeout', () =>
      this.user.onTimeout ? this.user.onTimeout(response) : this.user.onResponse?.(response),
    );
  }

  /** §8.1.3.1: a transport error is treated "as if a 503 (Service Unavailable) status code has been received". */
  protected deliverTransportError(error: Error): void {
    const response = this.#synthesize(503);
    this.callUser('onTransportError', () =>
      this.user.onTransportError
        ? this.user.onTransportError(error, response)
        : this.user.onResponse?.(response),
    );
  }

  #synthesize(status: number): SipResponse {
    const response = createResponse(this.request, status);
    // Nobody answered, so no To tag was chosen.
    response.set('to', this.request.get('to') ?? '');
    return response;
  }
}
