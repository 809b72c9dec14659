import type { Logger } from '@carillon/config';
import type { BridgeHandle } from '../media/index.ts';
import { createResponse, newCallId, newTag, SipRequest, type SipResponse } from '../sip/message/index.ts';
import { InviteSession, type SessionSettings, type SessionTermination } from '../sip/session/index.ts';
import type { InviteServerTransaction, NonInviteServerTransaction, TransactionLayer } from '../sip/transaction/index.ts';
import type { SipTarget, SipTransportProtocol } from '../sip/transport/index.ts';
import type { Codec } from '../sdp/session-description.ts';
import type { BridgeOutcome } from '../apps/call-handle.ts';
import type { ExtensionDestination } from '../routing/destination.ts';
import type { CallRecords } from './call-records.ts';
import { forkOffer, readForkAnswer } from './fork-media.ts';
import type { LocalWebRtc } from './webrtc-media.ts';
import { LocalSdp } from './local-sdp.ts';

/** A device of the extension, as its registration says to reach it. */
export interface CalleeDevice {
  target: SipTarget;
  uri: string;
  deviceId: string | null;
}

/** What ringing an extension for an application call needs. */
export interface CalleeForksContext {
  log: Logger;
  transactions: TransactionLayer;
  sessionSettings?: Partial<SessionSettings>;
  localContact(transport: SipTransportProtocol): { host: string; port: number };
  domain: string;
  dtlsFingerprint: string;
  records: Pick<CallRecords, 'addLeg' | 'legEnded' | 'answered'>;
  /** The fork's Call-ID reaches this call from now on (the callee's BYE, a retransmitted 2xx), until forgotten. */
  registerFork(callId: string): void;
}

/** The call that rings: its record, who calls (the From of the forks), its codec, and what to do on the answer. */
export interface CalleeForksCall {
  recordId: string;
  accountId: string;
  from: { user: string; name: string | null };
  callerCodec: Codec;
  /** The first 2xx: the extension whose device answered. */
  onAnswered: (extensionId: string) => Promise<void>;
}

/** An extension rung by one attempt, with its devices. */
export interface CalleeTarget {
  destination: ExtensionDestination;
  devices: CalleeDevice[];
}

interface Fork {
  /** The extension whose device this fork rings. */
  extensionId: string;
  request: SipRequest;
  session: InviteSession;
  legRecordId: string;
  webrtc: LocalWebRtc | null;
  status: 'calling' | 'ringing' | 'answered' | 'failed' | 'cancelled';
  finalStatus: number | null;
}

/**
 * The callee side of `AppCall.bridgeTo`: INVITEs forked to every registered
 * device of an extension (or of several at once: a queue's Simultaneous offer) (RFC 3261 §16.7 style parallel search done as a
 * B2BUA, as `B2buaCall` does), whose first 2xx takes the bridge's leg 'b'; the
 * others are CANCELled (§9.1), and a 2xx that comes after the first is
 * acknowledged and hung up at once (§13.2.2.4).
 *
 *   Ringing --> Answered --> Done
 *       \______________________/  (no answer, busy, unavailable, the caller left)
 *
 * `outcome` settles once: 'answered' when the answered leg ends (the callee's
 * BYE, or `callerLeft()` after the caller's), a failure outcome when every
 * fork failed or the ring time ran out, or a rejection with `CallEndedError`
 * (from `callerLeft()` while ringing).
 */
export class CalleeForks {
  private readonly ctx: CalleeForksContext;
  private readonly log: Logger;
  private readonly bridge: BridgeHandle;
  private readonly sdp = new LocalSdp();
  private readonly forks: Fork[] = [];
  private phase: 'Ringing' | 'Answered' | 'Done' = 'Ringing';
  private timer: NodeJS.Timeout | null = null;
  private answered: Fork | null = null;
  /** ring() is still sending INVITEs: a fork that fails meanwhile does not end the attempt (more may follow). */
  private sending = false;
  private settle!: (o: BridgeOutcome) => void;
  private fail!: (err: unknown) => void;
  readonly outcome: Promise<BridgeOutcome>;

  private readonly call: CalleeForksCall;

  constructor(ctx: CalleeForksContext, bridge: BridgeHandle, call: CalleeForksCall) {
    this.ctx = ctx;
    this.call = call;
    this.log = ctx.log.child('callee-forks');
    this.bridge = bridge;
    this.outcome = new Promise<BridgeOutcome>((resolve, reject) => {
      this.settle = resolve;
      this.fail = reject;
    });
  }

  get ringing(): boolean {
    return this.phase === 'Ringing';
  }

  /** Sends the INVITEs, and starts the ring timer. `local`: our side of leg 'b' for the offers. */
  async ring(targets: readonly CalleeTarget[], local: { address: string; rtpPort: number }, ringSeconds: number): Promise<void> {
    this.sending = true;
    try {
      for (const t of targets) await this.sendAll(t.destination, t.devices, local);
    } finally {
      this.sending = false;
    }
    // Every fork may have failed while the others were sent.
    this.maybeAllFailed();
    if (this.phase === 'Ringing') this.timer = setTimeout(() => this.noAnswer(), ringSeconds * 1000);
  }

  private async sendAll(destination: ExtensionDestination, devices: CalleeDevice[], local: { address: string; rtpPort: number }): Promise<void> {
    for (const d of devices) {
      if (this.phase !== 'Ringing') return;
      const contact = this.ctx.localContact(d.target.transport);
      const req = new SipRequest('INVITE', d.uri);
      req.add('max-forwards', 70);
      const from = this.call.from;
      req.add('from', `${from.name ? `"${from.name}" ` : ''}<sip:${from.user}@${this.ctx.domain}>;tag=${newTag()}`);
      req.add('to', `<sip:${destination.extensionNumber}@${this.ctx.domain}>`);
      req.add('call-id', newCallId('carillon'));
      req.add('cseq', '1 INVITE');
      req.add('contact', `<sip:carillon@${contact.host}:${contact.port};transport=${d.target.transport.toLowerCase()}>`);
      req.add('allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE');
      req.add('content-type', 'application/sdp');
      const offer = forkOffer({ target: d.target, callerCodec: this.call.callerCodec, dtlsFingerprint: this.ctx.dtlsFingerprint, local, sdp: this.sdp });
      req.body = offer.body;
      const legRecordId = await this.ctx.records.addLeg({
        callId: this.call.recordId,
        accountId: this.call.accountId,
        role: 'callee',
        endpoint: offer.webrtc ? 'webrtc' : 'sip',
        deviceId: d.deviceId,
        sipCallId: req.callId,
        remoteUri: d.uri,
      });
      if (this.phase !== 'Ringing') {
        // The attempt ended while the leg was written: its INVITE is never sent.
        await this.ctx.records.legEnded(legRecordId, 'cancelled');
        return;
      }
      this.ctx.registerFork(req.callId);
      this.send({ extensionId: destination.extensionId, request: req, session: null as unknown as InviteSession, legRecordId, webrtc: offer.webrtc, status: 'calling', finalStatus: null }, d.target);
    }
  }

  private send(fork: Fork, target: SipTarget): void {
    const session = InviteSession.uac({ request: fork.request, target, transactions: this.ctx.transactions, ...(this.ctx.sessionSettings ? { settings: this.ctx.sessionSettings } : {}), log: this.log });
    fork.session = session;
    this.forks.push(fork);
    const failed = (err: unknown) => this.log.error('fork response failed', { error: err });
    session.on('progress', (res) => {
      if (res.status > 100 && fork.status === 'calling') fork.status = 'ringing';
    });
    session.on('accepted', (res) => void this.forkAnswered(fork, res).catch(failed));
    // Not yet: a callee's re-INVITE or UPDATE (hold, a new address) is refused and the call goes on as it was (RFC 3261 §14.2).
    session.on('offer', (offer) => offer.reject(488));
    session.on('request', (req, tx) => tx.respond(createResponse(req, req.method === 'OPTIONS' || req.method === 'INFO' || req.method === 'NOTIFY' ? 200 : 501)));
    session.on('terminated', (t: SessionTermination) => {
      if (fork === this.answered) {
        if (t.reason !== 'local-bye' && t.reason !== 'closed') this.calleeLeft();
        return;
      }
      // A final failure of the INVITE (a 2xx that crossed our CANCEL was acknowledged and ended by the session).
      if (t.response && t.response.status >= 300 && fork.status !== 'answered') void this.forkFailed(fork, t.response.status).catch(failed);
    });
  }

  private async forkFailed(fork: Fork, status: number): Promise<void> {
    if (fork.status !== 'cancelled') fork.status = 'failed';
    fork.finalStatus = status;
    if (fork.status === 'failed') await this.ctx.records.legEnded(fork.legRecordId, String(status));
    this.maybeAllFailed();
  }

  /** Every fork failed (none sent is the same: no device could be reached): busy if one was, else unavailable. */
  private maybeAllFailed(): void {
    if (this.phase !== 'Ringing' || this.sending || this.forks.some((f) => f.status === 'calling' || f.status === 'ringing' || f.status === 'answered')) return;
    const statuses = this.forks.map((f) => f.finalStatus ?? 0);
    const busy = statuses.includes(486) || statuses.includes(600);
    this.done();
    this.settle(busy ? { outcome: 'busy', status: 486 } : statuses.includes(603) ? { outcome: 'rejected', status: 603 } : { outcome: 'unavailable', status: 480 });
  }

  /** A 2xx, already acknowledged by its session: the first one takes the bridge. */
  private async forkAnswered(fork: Fork, res: SipResponse): Promise<void> {
    if (this.phase !== 'Ringing') {
      fork.session.bye();
      return;
    }
    const answer = readForkAnswer(res, fork.webrtc);
    if (!answer) {
      fork.session.bye();
      await this.forkFailed(fork, 488);
      return;
    }
    fork.status = 'answered';
    this.answered = fork;
    this.phase = 'Answered';
    this.clearTimer();
    for (const other of this.forks) if (other !== fork && (other.status === 'calling' || other.status === 'ringing')) this.cancel(other);
    await this.bridge.updateLeg('b', answer.leg);
    if (this.phase !== 'Answered') return;
    await this.call.onAnswered(fork.extensionId);
    await this.ctx.records.answered(this.call.recordId, [{ id: fork.legRecordId, codec: answer.audio.name }]);
  }

  private cancel(fork: Fork): void {
    fork.status = 'cancelled';
    fork.session.cancel();
    void this.ctx.records.legEnded(fork.legRecordId, 'cancelled');
  }

  private noAnswer(): void {
    if (this.phase !== 'Ringing') return;
    for (const f of this.forks) if (f.status === 'calling' || f.status === 'ringing') this.cancel(f);
    this.done();
    this.settle({ outcome: 'no-answer', status: 480 });
  }

  /** The callee's BYE (or its session failing): the bridged leg is over. */
  private calleeLeft(): void {
    if (this.phase !== 'Answered') return;
    this.done();
    void this.endAnsweredLeg();
    this.settle({ outcome: 'answered', endedBy: 'callee' });
  }

  /**
   * The caller hung up: while ringing, every fork is CANCELled and the
   * outcome rejects with `error` (CallEndedError); once answered, the callee
   * gets a BYE and the outcome is 'answered', ended by the caller.
   */
  callerLeft(error: Error): void {
    if (this.phase === 'Ringing') {
      for (const f of this.forks) if (f.status === 'calling' || f.status === 'ringing') this.cancel(f);
      this.done();
      this.fail(error);
      return;
    }
    if (this.phase !== 'Answered') return;
    this.done();
    this.answered?.session.bye();
    void this.endAnsweredLeg();
    this.settle({ outcome: 'answered', endedBy: 'caller' });
  }

  private async endAnsweredLeg(): Promise<void> {
    const fork = this.answered;
    if (!fork) return;
    const leg = (await this.bridge.stats().catch(() => [])).find((s) => s.legId === 'b');
    const stats = leg ? { received: leg.received, sent: leg.sent, dropped: leg.dropped, rtcpReceived: leg.rtcpReceived } : undefined;
    await this.ctx.records.legEnded(fork.legRecordId, 'answered', stats).catch((err: unknown) => this.log.error('callee leg not ended in the record', { error: err }));
  }

  private done(): void {
    this.phase = 'Done';
    this.clearTimer();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The Call-IDs of this attempt's forks. */
  get callIds(): string[] {
    return this.forks.map((f) => f.request.callId);
  }

  /** A request in a fork's dialog (the callee's BYE, re-INVITE, INFO): its session answers it. */
  inDialog(req: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction): boolean {
    const fork = this.forks.find((f) => f.request.callId === req.callId);
    if (!fork) return false;
    if (!fork.session.dialog || fork.session.closed) tx.respond(createResponse(req, 481));
    else fork.session.receiveRequest(req, tx);
    return true;
  }

  receiveStrayResponse(res: SipResponse): void {
    for (const f of this.forks) if (f.request.callId === res.callId) f.session.receiveStrayResponse(res);
  }
}
