import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from '@carillon/config';
import { Dialog } from '../dialog/dialog.ts';
import { createResponse, newTag, SipResponse, type SipRequest } from '../message/index.ts';
import type {
  InviteClientTransaction,
  InviteServerTransaction,
  NonInviteClientTransaction,
  NonInviteServerTransaction,
  TransactionLayer,
} from '../transaction/index.ts';
import { isReliableTransport, type SipSource, type SipTarget } from '../transport/index.ts';
import { ackRoutes, type AckRoutes } from './ack-routes.ts';
import { OfferAnswer } from './offer-answer.ts';
import {
  expiryGuardSeconds,
  formatSessionExpires,
  readMinSe,
  readSessionExpires,
  supportsOption,
  MIN_SE_FLOOR,
} from './session-timer.ts';

/**
 * The life of an INVITE session (RFC 3261 §13–15), whichever side we are:
 *
 *   Early --(UAS: 2xx sent)--> WaitingForAck --(ACK)--> Confirmed
 *     \  \--(UAC: 2xx received, ACK sent)-------------->/      |
 *      \             \ (ACK timeout: BYE; ACK after a        | (BYE either way, session
 *       \             v  held bye(): BYE)                      v  expired, 481/408 to a re-INVITE)
 *        `--(non-2xx final, CANCEL)-------------------> Terminated
 *
 * `transition()` is the one writer of the state and refuses every other move
 * (SIP.js `Session.stateTransition`). Terminated is the session's closed flag.
 * A `bye()` in WaitingForAck is held (RFC 3261 §15): the session stays there
 * until the ACK comes, then sends the BYE, or sends it at 64*T1 without one.
 */
export type InviteSessionState = 'Early' | 'WaitingForAck' | 'Confirmed' | 'Terminated';

const LEGAL_MOVES: Record<InviteSessionState, readonly InviteSessionState[]> = {
  Early: ['WaitingForAck', 'Confirmed', 'Terminated'],
  WaitingForAck: ['Confirmed', 'Terminated'],
  Confirmed: ['Terminated'],
  Terminated: [],
};

export class IllegalSessionTransition extends Error {
  constructor(from: InviteSessionState, to: InviteSessionState) {
    super(`an INVITE session cannot move from ${from} to ${to}`);
    this.name = 'IllegalSessionTransition';
  }
}

/** Why a session ended. */
export type TerminationReason =
  /** The peer sent BYE. */
  | 'bye'
  /** We sent BYE (`bye()`). */
  | 'local-bye'
  /** The initial INVITE got a final non-2xx response, sent by us or received. */
  | 'rejected'
  /** The INVITE was cancelled (487), by the peer or by us. */
  | 'cancelled'
  /** No ACK came for our 2xx within 64*T1 (RFC 3261 §13.3.1.4): we sent BYE. */
  | 'ack-timeout'
  /** Our 2xx carried the offer and the ACK no answer (RFC 3261 §13.2.1): we sent BYE. */
  | 'no-answer-in-ack'
  /** The refresher let the session interval pass (RFC 4028 §10): we sent BYE. */
  | 'session-expired'
  /** A 481 or 408 to our re-INVITE (RFC 3261 §14.1): the dialog is gone. */
  | 'dialog-gone'
  /** `close()`: the owner ended the session without signalling. */
  | 'closed';

export interface SessionTermination {
  reason: TerminationReason;
  /** The final response that ended an initial INVITE we sent, or our re-INVITE. */
  response?: SipResponse;
}

/**
 * A remote offer to answer (RFC 3264): in a re-INVITE or an UPDATE (RFC 3311),
 * or in the 2xx to an INVITE we sent without SDP. `sdp` is null for a
 * re-INVITE without SDP: our 2xx then carries an offer, and its ACK the answer.
 */
export interface IncomingOffer {
  readonly method: 'INVITE' | 'UPDATE';
  readonly request: SipRequest | null;
  readonly sdp: Buffer | null;
  accept(opts?: { sdp?: Buffer | null }): void;
  reject(status: number, reason?: string): void;
}

/** A change of the session both sides agreed on (a re-INVITE or UPDATE that succeeded). */
export interface SessionModification {
  by: 'local' | 'remote';
  method: 'INVITE' | 'UPDATE';
  /** The peer's SDP in that exchange (its offer or its answer), if any. */
  remoteSdp: Buffer | null;
}

export interface InviteSessionEvents {
  /** UAC: a provisional response (not 100) to the initial INVITE. */
  progress: [response: SipResponse];
  /** UAC: the 2xx to the initial INVITE (already acknowledged unless an `offer` follows: a late offer). */
  accepted: [response: SipResponse];
  /** A remote offer to answer with `offer.accept` or refuse with `offer.reject`. */
  offer: [offer: IncomingOffer];
  /** The peer's answer to the offer in our 2xx, from its ACK (late offer, RFC 3261 §13.2.1). */
  answer: [sdp: Buffer];
  /** UAS: the ACK of our 2xx to the initial INVITE. */
  confirmed: [];
  modified: [change: SessionModification];
  /** An in-dialog request the session does not own (INFO, REFER, NOTIFY, OPTIONS…); the listener answers it. */
  request: [request: SipRequest, transaction: NonInviteServerTransaction | InviteServerTransaction];
  terminated: [termination: SessionTermination];
}

export interface SessionSettings {
  /** RFC 3261 T1 and T2: the 2xx retransmission interval and its cap, the ACK wait is 64*T1. */
  T1: number;
  T2: number;
  /** RFC 3261 §14.1 draws the glare retry "in units of 10 ms": tests make the unit shorter. */
  glareUnitMs: number;
  /** How long one second of Session-Expires lasts: 1000, shorter in tests. */
  secondMs: number;
  /** Our Min-SE (RFC 4028 §5), in seconds, never below 90. */
  minSe: number;
  /** A whole number in [min, max), for the glare and Retry-After draws; tests inject their own. */
  random(min: number, max: number): number;
}

/** Re-INVITEs refused 491 in a row before we give the change up. */
const MAX_GLARE_RETRIES = 5;

export const SESSION_ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY, UPDATE';

type TimerName = 'retransmit-2xx' | 'ack-wait' | 'glare' | 'refresh' | 'expiry';

interface PendingAck {
  cseq: number;
  response: SipResponse;
  source: SipSource;
  /** Our 2xx carried the offer: the ACK must carry the answer. */
  lateOffer: boolean;
}

export interface UasOptions {
  invite: SipRequest;
  transaction: InviteServerTransaction;
  transactions: TransactionLayer;
  /** Our Contact, in every 18x and 2xx and in target-refresh requests. */
  localContact: string;
  /** Where in-dialog requests go for the peer's Contact (the caller knows about NAT and connections). */
  resolveTarget(remoteTarget: string): SipTarget | null;
  localTag?: string;
  settings?: Partial<SessionSettings>;
  log?: Logger;
}

export interface UacOptions {
  /** The initial INVITE; without a body it is a late offer (the 2xx brings the offer, our ACK the answer). */
  request: SipRequest;
  target: SipTarget;
  transactions: TransactionLayer;
  settings?: Partial<SessionSettings>;
  log?: Logger;
}

/**
 * One INVITE session, in the manner of SIP.js's session dialog: it owns what
 * RFC 3261 leaves to the UA core around the dialog, so that no application
 * writes a SIP timer:
 * - the 2xx retransmission until the ACK and the ACK wait (§13.3.1.4), for
 *   the initial INVITE and for re-INVITEs, and the ACK of every 2xx we receive,
 *   retransmissions included (§13.2.2.4);
 * - the offer/answer state (RFC 3264), late offers included (§13.2.1);
 * - re-INVITE (§14) and UPDATE (RFC 3311), glare (491) and its retry timer (§14.1);
 * - session timers (RFC 4028): Session-Expires, Min-SE, 422, refresher, expiry.
 * It sits on the transaction and dialog layers and knows nothing of calls.
 */
export class InviteSession extends EventEmitter<InviteSessionEvents> {
  readonly role: 'uas' | 'uac';
  #state: InviteSessionState = 'Early';
  readonly #offerAnswer = new OfferAnswer();
  readonly #transactions: TransactionLayer;
  readonly #settings: SessionSettings;
  readonly #log: Logger | null;
  readonly #timers = new Map<TimerName, ReturnType<typeof setTimeout>>();
  #dialog: Dialog | null = null;
  #target: SipTarget | null;
  /** The last SDP we sent (offer or answer): a session refresh sends it again unchanged (RFC 4028 §7.4). */
  #localSdp: Buffer | null = null;
  /** The session interval in force (RFC 4028), and whether we are its refresher. */
  #interval: { seconds: number; weRefresh: boolean } | null = null;
  /** Our 2xx waiting for its ACK. */
  #pendingAck: PendingAck | null = null;
  /** Where the ACKs of this session's transaction layer are routed: we are there while `#pendingAck` is set. */
  readonly #acks: AckRoutes;
  /** `bye()` came before the ACK of our 2xx to the initial INVITE: the BYE leaves with the ACK (RFC 3261 §15). */
  #byeHeld = false;
  /** An in-dialog INVITE or UPDATE of the peer not answered yet. */
  #incoming: { method: 'INVITE' | 'UPDATE' } | null = null;
  /** Our re-INVITE or UPDATE in flight, or waiting for its glare retry. */
  #outgoing: { method: 'INVITE' | 'UPDATE' } | null = null;
  // UAS side.
  readonly #invite: SipRequest | null;
  readonly #inviteTx: InviteServerTransaction | null;
  readonly #localTag: string;
  readonly #localContact: string;
  readonly #resolveTarget: ((remoteTarget: string) => SipTarget | null) | null;
  // UAC side.
  #uacTx: InviteClientTransaction | null = null;
  /** The ACK of the last 2xx we received, resent when that 2xx is retransmitted. */
  #lastAck: { cseq: number; remoteTag: string; ack: SipRequest } | null = null;
  #cancelled = false;

  private constructor(
    role: 'uas' | 'uac',
    common: { transactions: TransactionLayer; settings?: Partial<SessionSettings> | undefined; log?: Logger | undefined },
    uas: UasOptions | null,
    target: SipTarget | null,
  ) {
    super();
    this.role = role;
    this.#transactions = common.transactions;
    this.#acks = ackRoutes(common.transactions);
    const timers = common.transactions.timers;
    this.#settings = {
      T1: timers.T1,
      T2: timers.T2,
      glareUnitMs: 10,
      secondMs: 1000,
      minSe: MIN_SE_FLOOR,
      random: (min, max) => randomInt(min, max),
      ...common.settings,
    };
    this.#log = common.log ?? null;
    this.#target = target;
    this.#invite = uas?.invite ?? null;
    this.#inviteTx = uas?.transaction ?? null;
    this.#localTag = uas?.localTag ?? newTag();
    this.#localContact = uas?.localContact ?? '';
    this.#resolveTarget = uas?.resolveTarget ?? null;
  }

  /** We answer `invite` (RFC 3261 §13.3). An INVITE with SDP is the remote offer; without, a late offer. */
  static uas(options: UasOptions): InviteSession {
    const session = new InviteSession('uas', options, options, null);
    if (options.invite.body.length) session.#offerAnswer.transition('HaveRemoteOffer');
    return session;
  }

  /** We send `request`, the initial INVITE, now (RFC 3261 §13.2). */
  static uac(options: UacOptions): InviteSession {
    const session = new InviteSession('uac', options, null, options.target);
    if (options.request.body.length) {
      session.#offerAnswer.transition('HaveLocalOffer');
      session.#localSdp = options.request.body;
    }
    session.#uacTx = options.transactions.sendRequest(options.request, options.target, {
      onResponse: (response) => session.#initialResponse(response),
    }) as InviteClientTransaction;
    return session;
  }

  get state(): InviteSessionState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#state === 'Terminated';
  }

  get offerAnswerState() {
    return this.#offerAnswer.state;
  }

  /** The dialog, once a 2xx made one (RFC 3261 §12.1). */
  get dialog(): Dialog | null {
    return this.#dialog;
  }

  /** Where in-dialog requests go. */
  get target(): SipTarget | null {
    return this.#target;
  }

  /** The initial INVITE as it went out (with our Via), UAC only. */
  get request(): SipRequest | null {
    return this.#uacTx?.request ?? this.#invite;
  }

  /** The session interval in force and who refreshes (RFC 4028), null when no session timer runs. */
  get sessionInterval(): { seconds: number; refresher: 'local' | 'remote' } | null {
    return this.#interval ? { seconds: this.#interval.seconds, refresher: this.#interval.weRefresh ? 'local' : 'remote' } : null;
  }

  /** A peer that reconnected (a browser's new WebSocket) is reached on its new connection from now on. */
  retarget(target: SipTarget): void {
    this.#target = target;
  }

  /** Whether this session's dialog has these tags, in either order (RFC 3891 Replaces). */
  matches(callId: string, tag1: string, tag2: string): boolean {
    const d = this.#dialog?.state;
    if (!d || d.callId !== callId) return false;
    return (d.localTag === tag1 && d.remoteTag === tag2) || (d.localTag === tag2 && d.remoteTag === tag1);
  }

  // ---- UAS: the answer to the initial INVITE ---------------------------------

  /**
   * RFC 4028 §5–6: a Session-Expires below our Min-SE is refused with 422 and
   * our Min-SE. Returns true when it was (the session is then terminated).
   */
  refuseTooBrief(): boolean {
    const asked = this.#invite ? readSessionExpires(this.#invite) : null;
    if (!asked || asked.seconds >= this.#settings.minSe) return false;
    this.reject(422, 'Session Interval Too Small', [['min-se', String(this.#settings.minSe)]]);
    return true;
  }

  /** A provisional response to the initial INVITE (18x carry our Contact and the To tag, RFC 3261 §13.3.1.1). */
  progress(status = 180, reason?: string): void {
    const tx = this.#uasTransaction();
    if (!tx.canRespond || this.#state !== 'Early') return;
    const response = createResponse(this.#invite!, status, { toTag: this.#localTag, ...(reason ? { reason } : {}) });
    if (status > 100) response.add('contact', this.#localContact);
    tx.respond(response);
  }

  /**
   * Answers the initial INVITE with 200: the answer to its offer, or our
   * offer when it had none. The 2xx is retransmitted until the ACK comes
   * (over UDP: streams deliver it end to end) and the session ends with a BYE
   * if no ACK comes within 64*T1 (RFC 3261 §13.3.1.4).
   */
  accept(opts: { sdp: Buffer | null }): SipResponse | null {
    const tx = this.#uasTransaction();
    if (!tx.canRespond || this.#state !== 'Early') return null;
    const invite = this.#invite!;
    const response = createResponse(invite, 200, { toTag: this.#localTag });
    response.add('contact', this.#localContact);
    response.add('allow', SESSION_ALLOW);
    this.#negotiateTimerAsUas(invite, response);
    const lateOffer = this.#offerAnswer.state === 'NoOffer';
    if (opts.sdp) {
      response.add('content-type', 'application/sdp');
      response.body = opts.sdp;
      this.#localSdp = opts.sdp;
      this.#offerAnswer.transition(lateOffer ? 'HaveLocalOffer' : 'Stable');
    }
    this.#dialog = Dialog.fromIncomingInvite(invite, this.#localTag, this.#localContact);
    this.#target = this.#dialog ? (this.#resolveTarget?.(this.#dialog.state.remoteTarget) ?? null) : null;
    this.#transition('WaitingForAck');
    tx.respond(response);
    this.#awaitAck({ cseq: invite.cseq.seq, response, source: tx.source, lateOffer: lateOffer && !!opts.sdp });
    this.#armSessionTimer();
    return response;
  }

  /** A final non-2xx to the initial INVITE. */
  reject(status: number, reason?: string, headers: [string, string][] = []): void {
    const tx = this.#uasTransaction();
    if (tx.canRespond) {
      const response = createResponse(this.#invite!, status, { toTag: this.#localTag, ...(reason ? { reason } : {}) });
      for (const [name, value] of headers) response.add(name, value);
      tx.respond(response);
    }
    this.#terminate(status === 487 ? 'cancelled' : 'rejected');
  }

  /**
   * The peer cancelled the initial INVITE (RFC 3261 §9.2): 200 to the CANCEL,
   * and 487 to the INVITE if it has no final response yet. Returns true when
   * the INVITE was cancelled (false: it had been answered already).
   */
  acceptCancel(cancelTx: NonInviteServerTransaction): boolean {
    const tx = this.#uasTransaction();
    if (cancelTx.canRespond) cancelTx.respond(createResponse(cancelTx.request, 200, { toTag: this.#localTag }));
    if (!tx.canRespond) return false;
    tx.respond(createResponse(this.#invite!, 487, { toTag: this.#localTag }));
    this.#terminate('cancelled');
    return true;
  }

  /** An ACK for this session's dialog (the transaction layer hands 2xx ACKs to the TU, RFC 6026 §8.5). */
  receiveAck(ack: SipRequest): void {
    const pending = this.#pendingAck;
    // A retransmitted ACK, or one for a 2xx we no longer wait on.
    if (!pending || ack.cseq.seq !== pending.cseq || this.closed) return;
    this.#setPendingAck(null);
    this.#stopTimer('retransmit-2xx', 'ack-wait');
    if (this.#byeHeld) {
      // The BYE held for this ACK leaves now (RFC 3261 §15); whatever the ACK carries no longer matters.
      this.#sendBye();
      this.#terminate('local-bye');
      return;
    }
    if (pending.lateOffer) {
      if (!ack.body.length) {
        this.#log?.warn('late offer: the ACK carried no answer; ending the session');
        this.#sendBye();
        this.#terminate('no-answer-in-ack');
        return;
      }
      this.#offerAnswer.transition('Stable');
      this.emit('answer', ack.body);
    }
    if (this.#state === 'WaitingForAck') {
      this.#transition('Confirmed');
      this.emit('confirmed');
    }
  }

  // ---- UAC: the initial INVITE -------------------------------------------------

  /** Cancels our initial INVITE (RFC 3261 §9.1); a 2xx that crosses the CANCEL is acknowledged and ended with BYE. */
  cancel(): void {
    if (this.role !== 'uac' || this.#state !== 'Early' || !this.#uacTx || this.#cancelled) return;
    this.#cancelled = true;
    this.#transactions.cancel(this.#uacTx);
  }

  #initialResponse(response: SipResponse): void {
    const status = response.status;
    if (status < 200) {
      if (status > 100 && this.#state === 'Early') this.emit('progress', response);
      return;
    }
    if (status >= 300) {
      if (this.#state === 'Early') this.#terminate(this.#cancelled || status === 487 ? 'cancelled' : 'rejected', response);
      return;
    }
    if (this.#dialog || this.closed) {
      this.#ackAgain(response);
      return;
    }
    const request = this.#uacTx!.request;
    const dialog = Dialog.fromResponse(request, response);
    if (!dialog) {
      this.#log?.warn('a 2xx without To tag or Contact: no dialog can be made', { callId: response.callId });
      this.#terminate('rejected', response);
      return;
    }
    this.#dialog = dialog;
    dialog.refreshTarget(response);
    if (this.#cancelled) {
      // The 2xx crossed our CANCEL: it is acknowledged, then the session ends (RFC 3261 §15).
      this.#sendAck(request.cseq.seq, null);
      this.#sendBye();
      this.#terminate('cancelled', response);
      return;
    }
    this.#negotiateTimerAsUac(request, response);
    if (this.#offerAnswer.state === 'HaveLocalOffer') {
      this.#offerAnswer.transition('Stable');
      this.#sendAck(request.cseq.seq, null);
      this.#transition('Confirmed');
      this.#armSessionTimer();
      this.emit('accepted', response);
      return;
    }
    // Late offer: the 2xx is the offer, our ACK carries the answer (RFC 3261 §13.2.1).
    this.emit('accepted', response);
    if (!response.body.length) {
      this.#sendAck(request.cseq.seq, null);
      this.#transition('Confirmed');
      this.#sendBye();
      this.#terminate('no-answer-in-ack', response);
      return;
    }
    this.#offerAnswer.transition('HaveRemoteOffer');
    let answered = false;
    const finish = (sdp: Buffer | null) => {
      if (answered || this.closed) return;
      answered = true;
      this.#sendAck(request.cseq.seq, sdp);
      this.#transition('Confirmed');
      if (!sdp) {
        this.#sendBye();
        this.#terminate('no-answer-in-ack', response);
        return;
      }
      this.#localSdp = sdp;
      this.#offerAnswer.transition('Stable');
      this.#armSessionTimer();
    };
    this.#emitOffer({
      method: 'INVITE',
      request: null,
      sdp: response.body,
      accept: (opts) => finish(opts?.sdp ?? null),
      reject: () => finish(null),
    });
  }

  /**
   * A 2xx no transaction claims any more (RFC 3261 §13.2.2.4, §17.1.1.2): the
   * retransmission of one we acknowledged gets the same ACK again; one from
   * another fork of our INVITE is acknowledged and ended with BYE.
   */
  receiveStrayResponse(response: SipResponse): void {
    if (response.cseq.method !== 'INVITE' || response.status < 200 || response.status >= 300) return;
    this.#ackAgain(response);
  }

  #ackAgain(response: SipResponse): void {
    const remoteTag = response.to()?.params.get('tag') ?? '';
    const last = this.#lastAck;
    if (last && last.cseq === response.cseq.seq && last.remoteTag === remoteTag) {
      void this.#transactions.sendStateless(last.ack, this.#target!).catch(() => undefined);
      return;
    }
    // Another fork answered (§13.2.2.4): its dialog is acknowledged and ended at once.
    const request = this.#uacTx?.request;
    if (!request || response.cseq.seq !== request.cseq.seq || !this.#target) return;
    const other = Dialog.fromResponse(request, response);
    if (!other) return;
    void this.#transactions.sendStateless(other.createRequest('ACK', { cseq: request.cseq.seq }), this.#target).catch(() => undefined);
    this.#send(other, 'BYE');
  }

  #sendAck(cseq: number, sdp: Buffer | null): void {
    const dialog = this.#dialog!;
    const ack = dialog.createRequest('ACK', { cseq, ...(sdp ? { body: sdp } : {}) });
    this.#lastAck = { cseq, remoteTag: dialog.state.remoteTag, ack };
    void this.#transactions.sendStateless(ack, this.#target!).catch((err: unknown) => this.#log?.warn('ACK not sent', { error: err }));
  }

  // ---- Both sides: in the dialog -----------------------------------------------

  /** A request inside this session's dialog (never ACK or CANCEL). */
  receiveRequest(request: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction): void {
    const dialog = this.#dialog;
    if (!dialog || this.closed) {
      tx.respond(createResponse(request, 481));
      return;
    }
    // RFC 3261 §12.2.2: a CSeq lower than the last one is out of order.
    if (!dialog.acceptRemoteSeq(request.cseq.seq)) {
      tx.respond(createResponse(request, 500, { reason: 'Out Of Order', toTag: dialog.state.localTag }));
      return;
    }
    switch (request.method) {
      case 'BYE':
        tx.respond(createResponse(request, 200, { toTag: dialog.state.localTag }));
        this.#terminate('bye');
        return;
    }
    if (this.#byeHeld) {
      // We have hung up and only wait for the ACK to say so (RFC 3261 §15): the session takes nothing more.
      tx.respond(createResponse(request, 481, { reason: 'Session Ending', toTag: dialog.state.localTag }));
      return;
    }
    switch (request.method) {
      case 'INVITE':
      case 'UPDATE':
        this.#incomingModify(request, tx);
        return;
      default:
        if (this.listenerCount('request') > 0) this.emit('request', request, tx);
        else tx.respond(createResponse(request, 501, { toTag: dialog.state.localTag }));
    }
  }

  /**
   * A re-INVITE (RFC 3261 §14.2) or an UPDATE (RFC 3311 §5.2) from the peer.
   * One offer at a time: if ours is out, theirs gets 491 (glare); if theirs is
   * still unanswered, the new one gets 500 with a Retry-After of 0–10 s.
   */
  #incomingModify(request: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction): void {
    const dialog = this.#dialog!;
    const method = request.method as 'INVITE' | 'UPDATE';
    const hasOffer = request.body.length > 0;
    const refuse = (status: number, reason?: string, headers: [string, string][] = []) => {
      const response = createResponse(request, status, { toTag: dialog.state.localTag, ...(reason ? { reason } : {}) });
      for (const [name, value] of headers) response.add(name, value);
      tx.respond(response);
    };
    if (this.#incoming || this.#offerAnswer.state === 'HaveRemoteOffer') {
      refuse(500, 'Server Internal Error', [['retry-after', String(this.#settings.random(0, 11))]]);
      return;
    }
    // Our re-INVITE or UPDATE is out, or our offer of a late-offer 2xx waits for its ACK: glare.
    if ((method === 'INVITE' && this.#outgoing) || this.#offerAnswer.state === 'HaveLocalOffer' || (hasOffer && this.#outgoing)) {
      refuse(491);
      return;
    }
    if (method === 'INVITE' && this.#pendingAck) {
      // §14.2: a re-INVITE before the ACK of the previous 2xx; rare, and refused like a glare.
      refuse(491);
      return;
    }
    const asked = readSessionExpires(request);
    if (asked && asked.seconds < this.#settings.minSe) {
      refuse(422, 'Session Interval Too Small', [['min-se', String(this.#settings.minSe)]]);
      return;
    }
    dialog.refreshTarget(request);
    if (!hasOffer && method === 'UPDATE') {
      // A refresh with no offer (RFC 4028 §7.4, RFC 3311 §5.2): nothing for the application to decide.
      const response = createResponse(request, 200, { toTag: dialog.state.localTag });
      response.add('contact', dialog.state.localContact);
      this.#negotiateTimerAsUas(request, response);
      tx.respond(response);
      this.#armSessionTimer();
      return;
    }
    this.#incoming = { method };
    if (hasOffer) this.#offerAnswer.transition('HaveRemoteOffer');
    let answered = false;
    const offer: IncomingOffer = {
      method,
      request,
      sdp: hasOffer ? request.body : null,
      accept: (opts = {}) => {
        if (answered) return;
        answered = true;
        this.#incoming = null;
        if (this.closed || !tx.canRespond) return;
        const sdp = opts.sdp ?? null;
        const response = createResponse(request, 200, { toTag: dialog.state.localTag });
        response.add('contact', dialog.state.localContact);
        this.#negotiateTimerAsUas(request, response);
        if (sdp) {
          response.add('content-type', 'application/sdp');
          response.body = sdp;
          this.#localSdp = sdp;
        }
        // Our answer settles their offer; our offer in a 2xx to an offerless re-INVITE waits for the ACK.
        const ourOffer = !hasOffer && !!sdp && method === 'INVITE';
        if (hasOffer) this.#offerAnswer.transition('Stable');
        else if (ourOffer) this.#offerAnswer.transition('HaveLocalOffer');
        tx.respond(response);
        if (method === 'INVITE') this.#awaitAck({ cseq: request.cseq.seq, response, source: tx.source, lateOffer: ourOffer });
        this.#armSessionTimer();
        this.emit('modified', { by: 'remote', method, remoteSdp: hasOffer ? request.body : null });
      },
      reject: (status, reason) => {
        if (answered) return;
        answered = true;
        this.#incoming = null;
        // The offer is refused: the session as it was stands (RFC 3261 §14.2).
        if (hasOffer && this.#offerAnswer.state === 'HaveRemoteOffer') this.#offerAnswer.transition('Stable');
        if (!this.closed && tx.canRespond) refuse(status, reason);
      },
    };
    this.#emitOffer(offer);
  }

  #emitOffer(offer: IncomingOffer): void {
    // Nobody to ask: a refresh answered with the SDP we sent last (RFC 4028 §7.4), anything else refused.
    if (this.listenerCount('offer') === 0) {
      if (offer.sdp && this.#localSdp) offer.accept({ sdp: this.#localSdp });
      else offer.reject(488);
      return;
    }
    this.emit('offer', offer);
  }

  /**
   * Sends a re-INVITE (RFC 3261 §14.1) with `sdp` as the offer, retried after
   * a 491 at the §14.1 interval (2.1–4 s when we own the Call-ID, else 0–2 s).
   * Resolves with the final response: 2xx (acknowledged, the answer applied to
   * the offer/answer state) or the failure; a 481 or 408 ends the session.
   */
  reinvite(sdp: Buffer | null): Promise<SipResponse> {
    return this.#modify('INVITE', sdp);
  }

  /** Sends an UPDATE (RFC 3311) with `sdp` as the offer (null: a session refresh without offer). */
  update(sdp: Buffer | null): Promise<SipResponse> {
    return this.#modify('UPDATE', sdp);
  }

  #modify(method: 'INVITE' | 'UPDATE', sdp: Buffer | null): Promise<SipResponse> {
    if (this.#byeHeld) return Promise.reject(new Error(`cannot send ${method}: the session is ending`));
    if (this.#state !== 'Confirmed' && !(method === 'UPDATE' && this.#state === 'WaitingForAck'))
      return Promise.reject(new Error(`cannot send ${method}: the session is ${this.#state}`));
    if (this.#outgoing || this.#incoming || this.#offerAnswer.pending)
      return Promise.reject(new Error(`cannot send ${method}: an offer is already being negotiated`));
    this.#outgoing = { method };
    return new Promise((resolve) => this.#sendModify(method, sdp, 0, resolve));
  }

  #sendModify(method: 'INVITE' | 'UPDATE', sdp: Buffer | null, attempt: number, done: (response: SipResponse) => void, minSe = 0): void {
    const dialog = this.#dialog;
    if (this.closed || !dialog || !this.#target) {
      this.#outgoing = null;
      done(synthetic(481, 'Call/Transaction Does Not Exist'));
      return;
    }
    const request = dialog.createRequest(method, sdp ? { body: sdp } : {});
    if (this.#interval || minSe) {
      // We refresh the sessions we modify (RFC 4028 §7.1), at the interval in force or the peer's Min-SE.
      const seconds = Math.max(this.#interval?.seconds ?? this.#settings.minSe, minSe);
      request.add('session-expires', formatSessionExpires({ seconds, refresher: 'uac' }));
      request.add('supported', 'timer');
    }
    if (sdp) {
      this.#offerAnswer.transition('HaveLocalOffer');
      this.#localSdp = sdp;
    }
    const settle = (response: SipResponse) => {
      if (sdp && this.#offerAnswer.state === 'HaveLocalOffer') this.#offerAnswer.transition('Stable');
      this.#outgoing = null;
      done(response);
    };
    let finalSeen = false;
    try {
      this.#transactions.sendRequest(request, this.#target, {
        onResponse: (response) => {
          if (response.status < 200) return;
          if (finalSeen) {
            if (response.status < 300 && method === 'INVITE') this.#ackAgain(response);
            return;
          }
          finalSeen = true;
          if (response.status < 300) {
            if (method === 'INVITE') this.#sendAck(request.cseq.seq, null);
            dialog.refreshTarget(response);
            this.#negotiateTimerAsUac(request, response);
            this.#armSessionTimer();
            settle(response);
            this.emit('modified', { by: 'local', method, remoteSdp: response.body.length ? response.body : null });
            return;
          }
          if (response.status === 491 && attempt < MAX_GLARE_RETRIES && !this.closed) {
            // RFC 3261 §14.1: both sides refused each other's re-INVITE; the owner of the Call-ID waits longer.
            if (sdp) this.#offerAnswer.transition('Stable');
            const units = this.role === 'uac' ? this.#settings.random(210, 401) : this.#settings.random(0, 201);
            this.#startTimer('glare', units * this.#settings.glareUnitMs, () => this.#sendModify(method, sdp, attempt + 1, done));
            return;
          }
          if (response.status === 422 && !minSe) {
            // RFC 4028 §6: our interval is below the peer's Min-SE; once more with theirs.
            const theirs = readMinSe(response);
            if (theirs) {
              if (sdp) this.#offerAnswer.transition('Stable');
              this.#sendModify(method, sdp, attempt, done, theirs);
              return;
            }
          }
          settle(response);
          if (response.status === 481 || response.status === 408) {
            // RFC 3261 §14.1 / §12.2.1.2: the dialog is gone (or the peer is); a BYE is the last word.
            if (response.status === 408) this.#sendBye();
            this.#terminate('dialog-gone', response);
          }
        },
      });
    } catch (err) {
      this.#log?.warn(`${method} not sent`, { error: err });
      settle(synthetic(503, 'Service Unavailable'));
    }
  }

  /** Sends a request other than INVITE, UPDATE, BYE inside the dialog (NOTIFY, INFO, REFER…). */
  sendRequest(method: string, opts: { body?: Buffer; contentType?: string; headers?: [string, string][] } = {}): NonInviteClientTransaction | null {
    if (!this.#dialog || !this.#target || this.closed) return null;
    const request = this.#dialog.createRequest(method, { ...(opts.body ? { body: opts.body } : {}), ...(opts.contentType ? { contentType: opts.contentType } : {}) });
    for (const [name, value] of opts.headers ?? []) request.add(name, value);
    try {
      return this.#transactions.sendRequest(request, this.#target, {}) as NonInviteClientTransaction;
    } catch (err) {
      this.#log?.warn(`${method} not sent`, { error: err });
      return null;
    }
  }

  /**
   * Ends the session with a BYE (RFC 3261 §15); an unanswered UAC INVITE is cancelled instead.
   *
   * Before the ACK of our 2xx to the initial INVITE the BYE is held: the
   * callee "MUST NOT send a BYE on a confirmed dialog until it has received
   * an ACK for its 2xx response or until the server transaction times out"
   * (§15). It leaves as soon as the ACK comes (a round trip, usually), and if
   * none comes within 64*T1 the ACK wait sends it (§13.3.1.4): either way the
   * session then terminates (`local-bye`, or `ack-timeout`). Meanwhile it keeps
   * retransmitting the 2xx and is in the ACK routes of its transaction layer,
   * so the owner may let go of it at once: `close()` leaves a held BYE alone.
   */
  bye(): void {
    if (this.closed || this.#byeHeld) return;
    if (!this.#dialog) {
      if (this.role === 'uac') this.cancel();
      return;
    }
    if (this.#state === 'WaitingForAck' && this.#pendingAck) {
      this.#byeHeld = true;
      this.#log?.info('hang-up before the ACK of our 2xx: the BYE waits for it', { callId: this.#dialog.state.callId });
      return;
    }
    this.#sendBye();
    this.#terminate('local-bye');
  }

  /**
   * Ends the session without a word on the wire (the owner is going away, or
   * already signalled). A BYE held for the ACK (`bye()`) is not dropped: the
   * session ends on its own, when it has been sent.
   */
  close(): void {
    if (this.#byeHeld) return;
    this.#terminate('closed');
  }

  // ---- Session timers (RFC 4028) -----------------------------------------------

  /**
   * RFC 4028 §9: as UAS of a request with Session-Expires, our 2xx carries it
   * with the refresher (theirs, else `uac` when the UAC supports timers, else
   * `uas`) and Require: timer when the UAC refreshes. A request without it
   * turns the timer off (we do not impose one).
   */
  #negotiateTimerAsUas(request: SipRequest, response: SipResponse): void {
    const asked = readSessionExpires(request);
    if (!asked) {
      this.#interval = null;
      return;
    }
    const uacSupports = supportsOption(request, 'timer');
    const refresher = asked.refresher ?? (uacSupports ? 'uac' : 'uas');
    response.add('session-expires', formatSessionExpires({ seconds: asked.seconds, refresher }));
    response.add('supported', 'timer');
    if (refresher === 'uac') response.add('require', 'timer');
    this.#interval = { seconds: asked.seconds, weRefresh: refresher === 'uas' };
  }

  /** RFC 4028 §7.2: as UAC, the 2xx's Session-Expires rules; without one, we refresh what we asked for, if anything. */
  #negotiateTimerAsUac(request: SipRequest, response: SipResponse): void {
    const granted = readSessionExpires(response);
    if (granted) {
      this.#interval = { seconds: granted.seconds, weRefresh: granted.refresher !== 'uas' };
      return;
    }
    const asked = readSessionExpires(request);
    this.#interval = asked ? { seconds: asked.seconds, weRefresh: true } : null;
  }

  /** After each successful refresh (RFC 4028 §10): the refresher refreshes at half the interval, the other side watches for expiry. */
  #armSessionTimer(): void {
    this.#stopTimer('refresh', 'expiry');
    const interval = this.#interval;
    if (!interval || this.closed) return;
    const second = this.#settings.secondMs;
    if (interval.weRefresh) {
      this.#startTimer('refresh', (interval.seconds / 2) * second, () => this.#refresh());
    } else {
      this.#startTimer('expiry', expiryGuardSeconds(interval.seconds) * second, () => {
        this.#log?.info('session expired: no refresh from the peer', { callId: this.#dialog?.state.callId });
        this.#sendBye();
        this.#terminate('session-expired');
      });
    }
  }

  #refresh(): void {
    if (this.closed) return;
    if (this.#state !== 'Confirmed' || this.#outgoing || this.#incoming || this.#offerAnswer.pending) {
      // A negotiation is under way, and its success will re-arm the timer; if it fails, try again shortly.
      this.#startTimer('refresh', this.#settings.random(1, 201) * this.#settings.glareUnitMs, () => this.#refresh());
      return;
    }
    void this.reinvite(this.#localSdp).then((response) => {
      if (response.status >= 300 && !this.closed && !this.#timers.has('refresh') && !this.#timers.has('expiry')) {
        // A refused refresh keeps the session (RFC 4028 §10 leaves the policy to us): try again later.
        this.#armSessionTimer();
      }
    }, (err: unknown) => this.#log?.warn('session refresh not sent', { error: err }));
  }

  // ---- Internals -----------------------------------------------------------------

  #uasTransaction(): InviteServerTransaction {
    if (this.role !== 'uas' || !this.#inviteTx) throw new Error('only the UAS answers the initial INVITE');
    return this.#inviteTx;
  }

  /** Retransmits our 2xx at T1, 2T1… capped at T2 until the ACK, and gives up at 64*T1 (RFC 3261 §13.3.1.4). */
  #awaitAck(pending: PendingAck): void {
    this.#stopTimer('retransmit-2xx', 'ack-wait');
    this.#setPendingAck(pending);
    const { T1, T2 } = this.#settings;
    // Streams carry the 2xx end to end: only UDP needs retransmissions.
    if (!isReliableTransport(pending.source.transport)) {
      const schedule = (due: number, interval: number) => {
        this.#startTimer('retransmit-2xx', Math.max(0, due - performance.now()), () => {
          if (this.#pendingAck !== pending) return;
          void this.#transactions.sendStateless(pending.response, pending.source).catch(() => undefined);
          const next = Math.min(interval * 2, T2);
          schedule(due + next, next);
        });
      };
      schedule(performance.now() + T1, T1);
    }
    this.#startTimer('ack-wait', 64 * T1, () => {
      if (this.#pendingAck !== pending) return;
      this.#setPendingAck(null);
      this.#stopTimer('retransmit-2xx');
      this.#log?.warn('no ACK for our 2xx: ending the session', { callId: pending.response.callId });
      this.#sendBye();
      this.#terminate('ack-timeout');
    });
  }

  /** The one writer of `#pendingAck`: while it is set, the ACK routes of our transaction layer lead here. */
  #setPendingAck(pending: PendingAck | null): void {
    const dialog = this.#dialog?.state;
    if (dialog && this.#pendingAck) this.#acks.delete(dialog.callId, dialog.localTag, this);
    this.#pendingAck = pending;
    if (dialog && pending) this.#acks.add(dialog.callId, dialog.localTag, this);
  }

  #sendBye(): void {
    if (this.#dialog) this.#send(this.#dialog, 'BYE');
  }

  #send(dialog: Dialog, method: string): void {
    if (!this.#target) return;
    try {
      this.#transactions.sendRequest(dialog.createRequest(method), this.#target, {});
    } catch (err) {
      this.#log?.warn(`${method} not sent`, { error: err });
    }
  }

  #transition(to: InviteSessionState): void {
    if (!LEGAL_MOVES[this.#state].includes(to)) throw new IllegalSessionTransition(this.#state, to);
    this.#state = to;
  }

  #terminate(reason: TerminationReason, response?: SipResponse): void {
    if (this.closed) return;
    this.#transition('Terminated');
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#setPendingAck(null);
    this.emit('terminated', { reason, ...(response ? { response } : {}) });
  }

  #startTimer(name: TimerName, ms: number, fire: () => void): void {
    this.#stopTimer(name);
    const timer = setTimeout(() => {
      this.#timers.delete(name);
      if (!this.closed) fire();
    }, ms);
    timer.unref?.();
    this.#timers.set(name, timer);
  }

  #stopTimer(...names: TimerName[]): void {
    for (const name of names) {
      const timer = this.#timers.get(name);
      if (timer) clearTimeout(timer);
      this.#timers.delete(name);
    }
  }
}

/** A final response made up locally (RFC 3261 §8.1.3.1 does the same for timeouts and transport errors). */
function synthetic(status: number, reason: string): SipResponse {
  return new SipResponse(status, reason);
}
