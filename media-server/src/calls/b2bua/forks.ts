import type { Logger } from '@carillon/config';
import type { CallResult } from '@carillon/db';
import { newTag, SipRequest, type SipResponse } from '../../sip/message/index.ts';
import { InviteSession, type SessionSettings } from '../../sip/session/index.ts';
import type { TransactionLayer } from '../../sip/transaction/index.ts';
import type { SipTarget } from '../../sip/transport/index.ts';
import type { LocalWebRtc } from '../webrtc-media.ts';

/**
 * The B2BUA's forks: our INVITEs to every registered device of an extension
 * (or to the trunk) for the callee, or for a transfer target, as a proxy's
 * parallel search would (RFC 3261 §16.7) but as a UAC each time. This module
 * owns their SIP: the INVITE, one `InviteSession.uac` per fork (the ACKs are
 * its business), a carrier's 401/407 answered once (§22.2), CANCEL (§9.1),
 * their statuses, the caller's final answer once every fork has failed, and
 * the no-answer timer. What an answer or a failure means for the call (who
 * takes which side, a transfer's NOTIFY) is the call's: it is told through
 * `ForkEvents`.
 */
export interface Fork {
  /** The side of the bridge the answering party will occupy, and why we called it. */
  readonly side: 'a' | 'b';
  readonly purpose: 'callee' | 'transfer';
  /** Our INVITE (the last one sent: a retry with credentials replaces it). */
  request: SipRequest;
  /** Our INVITE to this device or trunk, and the dialog once it answers: the session owns the ACKs. */
  session: InviteSession;
  readonly target: SipTarget;
  readonly deviceId: string | null;
  readonly legRecordId: string | null;
  status: 'calling' | 'ringing' | 'answered' | 'failed' | 'cancelled';
  finalStatus: number | null;
  authRetried: boolean;
  /** Our WebRTC side of the offer, for a browser (a device registered over WebSocket). */
  readonly webrtc: LocalWebRtc | null;
}

/** What the call does with its forks' responses. */
export interface ForkEvents {
  /** A provisional response (not 100) from a fork that was still calling: it rings. */
  ringing(fork: Fork): void;
  /** A 2xx, already acknowledged by the fork's session (RFC 3261 §13.2.2.4), even one the call does not want. */
  answered(fork: Fork, res: SipResponse): Promise<void>;
  /** A final failure of the fork (its leg record already ended with the status). */
  failed(fork: Fork, res: SipResponse): void;
  /** The carrier's credentials for a 401/407 to this fork, or null when the fork is not retried. */
  authorization(fork: Fork, challenge: SipResponse): string | null;
}

export interface ForksDeps {
  transactions: TransactionLayer;
  sessionSettings?: Partial<SessionSettings>;
  records: { legEnded(legId: string, result: string): Promise<unknown> };
  log: Logger;
  /** A fork's Call-ID reaches the call from now on (CallRegistry). */
  register(callId: string): void;
  events: ForkEvents;
}

/** Our INVITE to a fork's target: `from` gets our tag; `headers` (a carrier's) come after To. */
export function forkInvite(o: {
  uri: string;
  from: string;
  to: string;
  headers?: Iterable<readonly [string, string]>;
  callId: string;
  contact: { host: string; port: number };
  transport: string;
  body: Buffer;
}): SipRequest {
  const req = new SipRequest('INVITE', o.uri);
  req.add('max-forwards', 70);
  req.add('from', `${o.from};tag=${newTag()}`);
  req.add('to', o.to);
  for (const [name, value] of o.headers ?? []) req.add(name, value);
  req.add('call-id', o.callId);
  req.add('cseq', '1 INVITE');
  req.add('contact', `<sip:carillon@${o.contact.host}:${o.contact.port};transport=${o.transport.toLowerCase()}>`);
  req.add('allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY, UPDATE');
  req.add('content-type', 'application/sdp');
  req.body = o.body;
  return req;
}

const stillTrying = (f: Fork) => f.status === 'calling' || f.status === 'ringing';

export class Forks {
  private readonly list: Fork[] = [];
  private readonly deps: ForksDeps;
  private noAnswerTimer: NodeJS.Timeout | null = null;

  constructor(deps: ForksDeps) {
    this.deps = deps;
  }

  /** How many forks the call has sent (the first takes the call's own b-side Call-ID). */
  get count(): number {
    return this.list.length;
  }

  get callIds(): string[] {
    return this.list.map((f) => f.request.callId);
  }

  /** Sends a new fork's INVITE (its leg record is written, and the call checked that it still lives). */
  add(init: { side: 'a' | 'b'; purpose: 'callee' | 'transfer'; request: SipRequest; target: SipTarget; deviceId: string | null; legRecordId: string | null; webrtc: LocalWebRtc | null }): Fork {
    const fork: Fork = { ...init, session: null as unknown as InviteSession, status: 'calling', finalStatus: null, authRetried: false };
    this.list.push(fork);
    this.deps.register(init.request.callId);
    this.send(fork);
    return fork;
  }

  private send(fork: Fork): void {
    const session = InviteSession.uac({
      request: fork.request,
      target: fork.target,
      transactions: this.deps.transactions,
      ...(this.deps.sessionSettings ? { settings: this.deps.sessionSettings } : {}),
      log: this.deps.log,
    });
    fork.session = session;
    const failed = (err: unknown) => this.deps.log.error('fork response failed', { error: err });
    session.on('progress', (res) => void this.response(fork, res).catch(failed));
    session.on('accepted', (res) => void this.deps.events.answered(fork, res).catch(failed));
    session.on('terminated', ({ response }) => {
      // A final failure of the INVITE (a 2xx that crossed our CANCEL was acknowledged and ended by the session).
      if (response && response.status >= 300 && fork.session === session && fork.status !== 'answered') void this.response(fork, response).catch(failed);
    });
  }

  private async response(fork: Fork, res: SipResponse): Promise<void> {
    if (res.status < 200) {
      if (res.status === 100 || fork.status !== 'calling') return;
      fork.status = 'ringing';
      this.deps.events.ringing(fork);
      return;
    }
    if (res.status < 300) {
      await this.deps.events.answered(fork, res);
      return;
    }
    // A carrier that asks for credentials gets them once (RFC 3261 §22.2).
    if ((res.status === 401 || res.status === 407) && !fork.authRetried) {
      const authorization = this.deps.events.authorization(fork, res);
      if (authorization) {
        fork.authRetried = true;
        const retry = new SipRequest('INVITE', fork.request.uri, fork.request.headers.filter((h) => h.name !== 'via').map((h) => ({ ...h })), fork.request.body);
        retry.set('cseq', `${fork.request.cseq.seq + 1} INVITE`);
        retry.set(res.status === 401 ? 'authorization' : 'proxy-authorization', authorization);
        fork.request = retry;
        this.send(fork);
        return;
      }
    }
    fork.status = fork.status === 'cancelled' ? 'cancelled' : 'failed';
    fork.finalStatus = res.status;
    if (fork.legRecordId) await this.deps.records.legEnded(fork.legRecordId, String(res.status));
    this.deps.events.failed(fork, res);
  }

  /** The call took this fork's answer. */
  answered(fork: Fork): void {
    fork.status = 'answered';
  }

  /** The call could not use this fork's answer (its SDP): it counts as failed. */
  unusable(fork: Fork): void {
    fork.status = 'failed';
  }

  cancel(fork: Fork): void {
    fork.status = 'cancelled';
    fork.session.cancel();
    if (fork.legRecordId) void this.deps.records.legEnded(fork.legRecordId, 'cancelled');
  }

  /** CANCELs every fork still calling or ringing (only those of `purpose`, if given), but `except`. */
  cancelRinging(opts: { purpose?: Fork['purpose']; except?: Fork } = {}): void {
    for (const f of this.list) if (f !== opts.except && (!opts.purpose || f.purpose === opts.purpose) && stillTrying(f)) this.cancel(f);
  }

  /**
   * The caller's final response once no fork can answer any more, from the forks' statuses (as a
   * proxy picks the best of its branches' responses, RFC 3261 §16.7 step 6): busy first, then
   * decline, not found, forbidden, else unavailable. Null while a fork still calls, rings or answered.
   */
  allFailed(): { status: number; reason: string; result: CallResult } | null {
    if (this.list.some((f) => stillTrying(f) || f.status === 'answered')) return null;
    const statuses = this.list.map((f) => f.finalStatus ?? 0);
    if (statuses.includes(486) || statuses.includes(600)) return { status: 486, reason: 'Busy Here', result: 'busy' };
    if (statuses.includes(603)) return { status: 603, reason: 'Decline', result: 'rejected' };
    if (statuses.some((s) => s === 404 || s === 484)) return { status: 404, reason: 'Not Found', result: 'not_found' };
    if (statuses.includes(403)) return { status: 403, reason: 'Forbidden', result: 'forbidden' };
    return { status: 480, reason: 'Temporarily Unavailable', result: 'unavailable' };
  }

  /** Rings for at most `ms`, then `noAnswer` (the call cancels and answers the caller). */
  startNoAnswer(ms: number, noAnswer: () => void): void {
    this.clearNoAnswer();
    this.noAnswerTimer = setTimeout(noAnswer, ms);
  }

  clearNoAnswer(): void {
    if (this.noAnswerTimer) clearTimeout(this.noAnswerTimer);
    this.noAnswerTimer = null;
  }

  /** A 2xx no transaction claims any more: the fork's session that sent the INVITE acknowledges it again (§13.2.2.4). */
  receiveStrayResponse(res: SipResponse): void {
    for (const fork of this.list) if (fork.request.callId === res.callId) fork.session.receiveStrayResponse(res);
  }

  /** Whether this session is a fork's (its dialog is then acknowledged by the fork, not by a leg). */
  holds(session: InviteSession): boolean {
    return this.list.some((f) => f.session === session);
  }

  /** The fork with this Call-ID whose 2xx made a dialog the call has not taken yet. */
  answering(callId: string): Fork | undefined {
    return this.list.find((f) => f.request.callId === callId && f.session.dialog && !f.session.closed);
  }
}
