import { createLogger, type Logger } from '@carillon/config';
import {
  createResponse,
  formatVia,
  newBranch,
  newTag,
  SipRequest,
  type SipMessage,
  type SipResponse,
} from '../message/index.ts';
import type { SipSource, SipTarget } from '../transport/index.ts';
import { ClientTransaction } from './client-transaction.ts';
import { InviteClientTransaction } from './invite-client-transaction.ts';
import { InviteServerTransaction } from './invite-server-transaction.ts';
import { NonInviteClientTransaction } from './non-invite-client-transaction.ts';
import { NonInviteServerTransaction } from './non-invite-server-transaction.ts';
import type { ServerTransaction } from './server-transaction.ts';
import { resolveTimerSettings, type TimerSettings } from './timers.ts';
import type { Transaction, TransactionContext } from './transaction.ts';
import { clientTransactionKey, serverTransactionKey } from './transaction-key.ts';
import type { TransactionLayerSettings } from './transaction-layer-settings.ts';
import type { TransactionTransport } from './transaction-transport.ts';
import type { ClientTransactionUser } from './transaction-user.ts';

/** A new request (never ACK or CANCEL) with the server transaction that will carry its responses. */
export type RequestHandler = (
  request: SipRequest,
  transaction: InviteServerTransaction | NonInviteServerTransaction,
  source: SipSource,
) => void;

/**
 * Looks at a new request before a server transaction is made for it: a
 * response to send statelessly instead, 'drop' to ignore it, or null for the
 * usual transaction (see ChallengeGate).
 */
export type StatelessFilter = (request: SipRequest, source: SipSource) => SipResponse | 'drop' | null;

/** Seconds a peer is asked to wait (Retry-After) when the server transaction table is full. */
const FULL_RETRY_AFTER_S = 5;

/** An ACK no server transaction absorbed: the ACK of a 2xx, for the dialog layer (§13.3.1.4, §17.2.3). */
export type AckHandler = (ack: SipRequest, source: SipSource) => void;

/**
 * A new CANCEL that matched a live INVITE server transaction (§9.2). The TU
 * answers `cancelTransaction` (200) and, if still possible, `inviteTransaction`
 * (487); `acceptCancel` does both.
 */
export type CancelHandler = (
  cancel: SipRequest,
  cancelTransaction: NonInviteServerTransaction,
  inviteTransaction: InviteServerTransaction,
  source: SipSource,
) => void;

/** A response no client transaction claims: a 2xx retransmitted after ours ended, or a stray (§17.1.3, §18.1.2). */
export type StrayResponseHandler = (response: SipResponse, source: SipSource) => void;

/**
 * The transaction layer of https://www.rfc-editor.org/rfc/rfc3261#section-17: it
 * matches every message from the transport to its transaction, creates server
 * transactions for new requests and hands them to the TU, and runs client
 * transactions for the TU's requests.
 *
 * Delivery to the TU:
 * - `onRequest`: every new request except ACK and CANCEL; retransmissions are absorbed.
 * - `onAck`: ACKs for 2xx (their own transaction, §17.1.1.3) and ACKs matching an
 *   `Accepted` INVITE server transaction. ACKs for non-2xx are absorbed here.
 * - `onCancel`: a CANCEL matching a live INVITE server transaction, with both
 *   transactions. Without a handler the layer answers 200 and 487 itself. A CANCEL
 *   matching nothing is answered 481 here (§9.2) and the TU never sees it.
 * - `onStrayResponse`: responses without a client transaction.
 */
export class TransactionLayer {
  readonly #transport: TransactionTransport;
  readonly #settings: TransactionLayerSettings;
  readonly #timers: TimerSettings;
  readonly #log: Logger;
  readonly #client = new Map<string, ClientTransaction>();
  readonly #server = new Map<string, ServerTransaction>();
  /**
   * Completed UDP non-INVITE server transactions, reduced to their last
   * response: resend, and when Timer J ends. Insertion order is expiry order
   * (J is one duration), so a sweep stops at the first live entry.
   */
  readonly #completed = new Map<string, { resend: () => Promise<void>; expiresAt: number }>();
  #sweep: ReturnType<typeof setInterval> | null = null;
  readonly #context: TransactionContext;
  readonly #listener = (message: SipMessage, source: SipSource) => this.receive(message, source);
  #onRequest: RequestHandler | null = null;
  #onAck: AckHandler | null = null;
  #onCancel: CancelHandler | null = null;
  #onStrayResponse: StrayResponseHandler | null = null;
  #statelessFilter: StatelessFilter | null = null;
  readonly #maxServer: number;
  /** New requests answered without a transaction: by the stateless filter, or 503 while the table was full. */
  readonly #stateless = { answered: 0, dropped: 0, full: 0 };
  #closed = false;

  constructor(transport: TransactionTransport, settings: TransactionLayerSettings) {
    if (!settings.via?.host) throw new TypeError('via.host is required');
    this.#transport = transport;
    this.#settings = settings;
    this.#timers = resolveTimerSettings(settings.timers);
    this.#log = settings.logger ?? createLogger('sip-transaction');
    this.#maxServer = settings.maxServerTransactions ?? 50_000;
    this.#context = {
      transport,
      timers: this.#timers,
      log: this.#log,
      onTerminated: (transaction) => this.#forget(transaction),
      retireCompleted: (key, resend, ms) => this.#retireCompleted(key, resend, ms),
    };
    transport.on('message', this.#listener);
  }

  get timers(): Readonly<TimerSettings> {
    return this.#timers;
  }

  /** Live transactions, and completed ones reduced to their last response, for leak checks and monitoring. */
  get transactionCount(): { client: number; server: number; completed: number } {
    return { client: this.#client.size, server: this.#server.size, completed: this.#completed.size };
  }

  /** New requests that got no transaction: answered statelessly, dropped, or refused with 503 as the table was full. */
  get statelessCount(): { answered: number; dropped: number; full: number } {
    return { ...this.#stateless };
  }

  /** Set once by the TU: decides which new requests are answered without a transaction. */
  setStatelessFilter(filter: StatelessFilter): void {
    this.#statelessFilter = filter;
  }

  onRequest(handler: RequestHandler): void {
    this.#onRequest = handler;
  }

  onAck(handler: AckHandler): void {
    this.#onAck = handler;
  }

  onCancel(handler: CancelHandler): void {
    this.#onCancel = handler;
  }

  onStrayResponse(handler: StrayResponseHandler): void {
    this.#onStrayResponse = handler;
  }

  /**
   * Sends a request in a new client transaction. The request is copied and the
   * copy (`transaction.request`) gets our Via on top, with a fresh branch and
   * `rport` (https://www.rfc-editor.org/rfc/rfc3261#section-8.1.1.7, RFC 3581).
   * ACK has no transaction: send it with `sendStateless`; CANCEL with `cancel`.
   */
  sendRequest(
    request: SipRequest,
    target: SipTarget,
    user: ClientTransactionUser = {},
  ): InviteClientTransaction | NonInviteClientTransaction {
    if (this.#closed) throw new Error('transaction layer is closed');
    if (request.method === 'ACK') throw new TypeError('ACK is not sent in a transaction: use sendStateless');
    if (request.method === 'CANCEL') throw new TypeError('CANCEL must reuse the INVITE branch: use cancel');
    const copy = copyRequest(request);
    const branch = newBranch();
    copy.prepend('via', this.#via(target, branch));
    const key = clientTransactionKey(branch, copy.method);
    const transaction =
      copy.method === 'INVITE'
        ? new InviteClientTransaction(key, copy, target, user, this.#context)
        : new NonInviteClientTransaction(key, copy, target, user, this.#context);
    this.#client.set(key, transaction);
    transaction.start();
    return transaction;
  }

  /**
   * Cancels an INVITE we sent (https://www.rfc-editor.org/rfc/rfc3261#section-9.1):
   * the CANCEL copies the INVITE's Request-URI, Call-ID, From, To, CSeq number,
   * Route set and top Via (so the same branch), and goes to the same target. It
   * waits for a provisional response if none arrived yet. Returns false when the
   * INVITE already has a final response, so there is nothing left to cancel.
   */
  cancel(
    invite: InviteClientTransaction | NonInviteClientTransaction,
    user: ClientTransactionUser = {},
  ): boolean {
    // §9.1: cancelling a non-INVITE request "SHOULD NOT" be done, since its response comes without delay.
    if (!(invite instanceof InviteClientTransaction))
      throw new TypeError('only an INVITE transaction can be cancelled');
    return invite.whenProceeding(() => {
      if (this.#closed) return;
      const original = invite.request;
      const cancel = new SipRequest('CANCEL', original.uri);
      cancel.add('via', original.get('via') ?? '');
      for (const route of original.getAll('route')) cancel.add('route', route);
      cancel.add('max-forwards', 70);
      cancel.add('from', original.get('from') ?? '');
      cancel.add('to', original.get('to') ?? '');
      cancel.add('call-id', original.callId);
      cancel.add('cseq', `${original.cseq.seq} CANCEL`);
      const key = clientTransactionKey(invite.branch, 'CANCEL');
      if (this.#client.has(key)) return;
      const transaction = new NonInviteClientTransaction(key, cancel, invite.target, user, this.#context);
      this.#client.set(key, transaction);
      transaction.start();
    });
  }

  /**
   * Sends without a transaction: the ACK of a 2xx (§13.2.2.4), or a response
   * from a stateless element. A request without Via gets ours with a fresh
   * branch, since an ACK for 2xx is a transaction of its own (§17.1.1.3).
   */
  sendStateless(message: SipMessage, target: SipTarget): Promise<void> {
    if (message.kind === 'request' && !message.has('via')) {
      const copy = copyRequest(message);
      copy.prepend('via', this.#via(target, newBranch()));
      return this.#transport.send(copy, target);
    }
    return this.#transport.send(message, target);
  }

  /** Matches one message from the transport; the layer subscribes to its transport's `message` event with this. */
  receive(message: SipMessage, source: SipSource): void {
    if (this.#closed) return;
    if (message.kind === 'response') this.#receiveResponse(message, source);
    else if (message.method === 'ACK') this.#receiveAck(message, source);
    else if (message.method === 'CANCEL') this.#receiveCancel(message, source);
    else this.#receiveRequest(message, source);
  }

  /** Stops listening and ends every transaction without telling their TUs. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#transport.off('message', this.#listener);
    for (const transaction of [...this.#client.values(), ...this.#server.values()]) transaction.dispose();
    this.#client.clear();
    this.#server.clear();
    this.#completed.clear();
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = null;
  }

  /** §17.1.3: by top Via branch and CSeq method. */
  #receiveResponse(response: SipResponse, source: SipSource): void {
    const branch = response.topVia()?.params.get('branch') ?? '';
    const transaction = this.#client.get(clientTransactionKey(branch, response.cseq.method));
    if (transaction) {
      transaction.receiveResponse(response);
      return;
    }
    const handler = this.#onStrayResponse;
    if (handler) this.#callTu('onStrayResponse', () => handler(response, source));
  }

  #receiveAck(ack: SipRequest, source: SipSource): void {
    const key = serverTransactionKey(ack);
    const transaction = key === null ? undefined : this.#server.get(key);
    if (transaction instanceof InviteServerTransaction && transaction.receiveAck(ack)) return;
    const handler = this.#onAck;
    if (handler) this.#callTu('onAck', () => handler(ack, source));
  }

  /**
   * https://www.rfc-editor.org/rfc/rfc3261#section-9.2: a CANCEL is its own
   * non-INVITE server transaction, matched to the INVITE it cancels as if its
   * method were INVITE.
   */
  #receiveCancel(cancel: SipRequest, source: SipSource): void {
    const key = serverTransactionKey(cancel);
    if (key === null) return;
    const existing = this.#server.get(key);
    if (existing) {
      existing.receiveRequest(cancel);
      return;
    }
    const cancelTransaction = new NonInviteServerTransaction(key, cancel, source, this.#context);
    this.#server.set(key, cancelTransaction);
    const inviteKey = serverTransactionKey(cancel, 'INVITE');
    const invite = inviteKey === null ? undefined : this.#server.get(inviteKey);
    if (!(invite instanceof InviteServerTransaction)) {
      cancelTransaction.respond(createResponse(cancel, 481));
      return;
    }
    const handler = this.#onCancel;
    if (!handler) {
      acceptCancel(cancelTransaction, invite);
      return;
    }
    this.#callTu('onCancel', () => handler(cancel, cancelTransaction, invite, source), cancelTransaction);
  }

  #receiveRequest(request: SipRequest, source: SipSource): void {
    const key = serverTransactionKey(request);
    if (key === null) return;
    const existing = this.#server.get(key);
    if (existing) {
      existing.receiveRequest(request);
      return;
    }
    const completed = this.#completed.get(key);
    if (completed) {
      completed.resend().catch((err: unknown) => this.#log.debug('retransmitted response not sent', { error: err }));
      return;
    }
    if (this.#answerStatelessly(request, source)) return;
    const transaction =
      request.method === 'INVITE'
        ? new InviteServerTransaction(key, request, source, this.#context)
        : new NonInviteServerTransaction(key, request, source, this.#context);
    this.#server.set(key, transaction);
    const handler = this.#onRequest;
    if (!handler) {
      transaction.respond(createResponse(request, 501, { reason: 'No Transaction User' }));
      return;
    }
    this.#callTu('onRequest', () => handler(request, transaction, source), transaction);
  }

  /** True when a new request was answered (or dropped) with no transaction kept for it. */
  #answerStatelessly(request: SipRequest, source: SipSource): boolean {
    let verdict: SipResponse | 'drop' | null = null;
    if (this.#statelessFilter) {
      try {
        verdict = this.#statelessFilter(request, source);
      } catch (err) {
        this.#log.error('stateless filter threw', { error: err });
      }
    }
    if (verdict === null && this.#server.size + this.#completed.size >= this.#maxServer) {
      // Full: refuse rather than grow (RFC 3261 §21.5.4, 503 with Retry-After).
      verdict = createResponse(request, 503, { reason: 'Overloaded' }).add('retry-after', FULL_RETRY_AFTER_S);
      this.#stateless.full++;
    } else if (verdict === 'drop') {
      this.#stateless.dropped++;
    } else if (verdict !== null) {
      this.#stateless.answered++;
    }
    if (verdict === null) return false;
    if (verdict !== 'drop') this.#transport.send(verdict, source).catch((err: unknown) => this.#log.debug('stateless response not sent', { error: err }));
    return true;
  }

  /** Runs TU code; if it throws before answering, the request still gets a 500 rather than silence. */
  #callTu(what: string, fn: () => void, unanswered?: ServerTransaction): void {
    try {
      fn();
    } catch (err) {
      this.#log.error('transaction user threw', { handler: what, error: err });
      if (unanswered?.canRespond) {
        try {
          unanswered.respond(createResponse(unanswered.request, 500));
        } catch {
          // Already answered in between: nothing left to do.
        }
      }
    }
  }

  #via(target: SipTarget, branch: string): string {
    const { host, ports } = this.#settings.via;
    return formatVia({
      transport: target.transport,
      host,
      port: ports[target.transport] ?? null,
      params: new Map([
        ['branch', branch],
        ['rport', null],
      ]),
    });
  }

  #retireCompleted(key: string, resend: () => Promise<void>, ms: number): boolean {
    if (this.#closed || ms <= 0) return false;
    this.#completed.delete(key);
    this.#completed.set(key, { resend, expiresAt: performance.now() + ms });
    this.#sweep ??= setInterval(() => this.#sweepCompleted(), Math.min(1000, Math.ceil(ms / 8)));
    this.#sweep.unref?.();
    return true;
  }

  #sweepCompleted(): void {
    const now = performance.now();
    for (const [key, entry] of this.#completed) {
      if (entry.expiresAt > now) break;
      this.#completed.delete(key);
    }
    if (this.#completed.size === 0 && this.#sweep) {
      clearInterval(this.#sweep);
      this.#sweep = null;
    }
  }

  #forget(transaction: Transaction): void {
    const table: Map<string, Transaction> =
      transaction instanceof ClientTransaction ? this.#client : this.#server;
    if (table.get(transaction.key) === transaction) table.delete(transaction.key);
  }
}

/**
 * The usual answer to a matched CANCEL (https://www.rfc-editor.org/rfc/rfc3261#section-9.2):
 * 200 to the CANCEL and, if the INVITE has no final response yet, 487 to it,
 * both with the To tag the INVITE's responses already carry, if any.
 */
export function acceptCancel(
  cancelTransaction: NonInviteServerTransaction,
  invite: InviteServerTransaction,
): void {
  const toTag = invite.lastResponse?.to()?.params.get('tag') ?? newTag();
  if (cancelTransaction.canRespond)
    cancelTransaction.respond(createResponse(cancelTransaction.request, 200, { toTag }));
  if (invite.canRespond) invite.respond(createResponse(invite.request, 487, { toTag }));
}

function copyRequest(request: SipRequest): SipRequest {
  return new SipRequest(
    request.method,
    request.uri,
    request.headers.map((h) => ({ ...h })),
    request.body,
  );
}
