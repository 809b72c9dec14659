import type { SipRequest, SipResponse } from '../message/index.ts';
import { isReliableTransport, type SipSource } from '../transport/index.ts';
import { Transaction, type TransactionContext } from './transaction.ts';
import type { TransactionState } from './transaction-state.ts';
import type { ServerTransactionUser } from './transaction-user.ts';

/**
 * The server side of https://www.rfc-editor.org/rfc/rfc3261#section-17.2: sends
 * the TU's responses back to the request's source and absorbs retransmitted
 * requests by resending the last response.
 */
export abstract class ServerTransaction extends Transaction {
  readonly source: SipSource;
  user: ServerTransactionUser = {};
  protected last: SipResponse | null = null;

  constructor(
    key: string,
    request: SipRequest,
    source: SipSource,
    initial: TransactionState,
    context: TransactionContext,
  ) {
    super(key, request, isReliableTransport(source.transport), initial, context);
    this.source = source;
  }

  /** The most recent response sent, the one a retransmitted request gets again. */
  get lastResponse(): SipResponse | null {
    return this.last;
  }

  /** Whether `respond` still accepts a final response. */
  get canRespond(): boolean {
    return this.state === 'Trying' || this.state === 'Proceeding';
  }

  /** Sends a response from the TU; throws `TransactionStateError` when the state forbids it. */
  abstract respond(response: SipResponse): void;

  /** A retransmission of the request (same key, §17.2.3). */
  abstract receiveRequest(request: SipRequest): void;

  protected send(response: SipResponse): void {
    this.last = response;
    this.resend();
  }

  protected resend(): void {
    if (!this.last) return;
    this.context.transport.send(this.last, this.source).catch((err: unknown) => this.sendFailed(err));
  }

  protected sendFailed(err: unknown): void {
    if (this.state === 'Terminated') return;
    const error = err instanceof Error ? err : new Error(String(err));
    this.onTransportFailure();
    this.callUser('onTransportError', () => this.user.onTransportError?.(error));
  }

  /** §17.2.4: the response cannot reach the client; the transaction ends. */
  protected abstract onTransportFailure(): void;

  protected static checkStatus(response: SipResponse): void {
    if (!Number.isInteger(response.status) || response.status < 100 || response.status > 699)
      throw new TypeError(`invalid status code ${response.status}`);
  }
}
