import type { Logger } from '@carillon/config';
import type { BridgeHandle, ContainerHandle, MediaEvent } from '../media/index.ts';
import { createResponse, newCallId, newTag, parseNameAddr, SipRequest, type SipResponse } from '../sip/message/index.ts';
import { InviteSession, type IncomingOffer, type SessionSettings, type SessionTermination } from '../sip/session/index.ts';
import type { InviteServerTransaction, NonInviteServerTransaction, TransactionLayer } from '../sip/transaction/index.ts';
import type { SipTarget, SipTransportProtocol } from '../sip/transport/index.ts';
import type { Codec } from '../sdp/session-description.ts';
import type { BridgeOutcome } from '../apps/call-handle.ts';
import type { TrunkTarget } from '../routing/destination.ts';
import type { CallRecords } from './call-records.ts';
import { forkOffer, readForkAnswer } from './fork-media.ts';
import type { LocalWebRtc } from './webrtc-media.ts';
import { LocalSdp } from './local-sdp.ts';
import { answerReoffer, HOLD_MUSIC, type AnchoredParty } from './reoffer.ts';
import { acceptRefer, notifyRefer } from './refer.ts';
import { replacesFromUriHeaders } from './replaces.ts';
import { parkSipfrag, type ParkOutcome } from './parking.ts';
import { answerInfoDtmf } from './info-dtmf.ts';

/** A device of the extension, as its registration says to reach it. */
export interface CalleeDevice {
  target: SipTarget;
  uri: string;
  deviceId: string | null;
}

/**
 * One party a `bridgeTo` rings: a device of an extension, or an outside
 * number through the account's trunk. What its INVITE carries is decided by
 * the caller of `ring` (AppCall), which knows the destination.
 */
export interface CalleeTarget extends CalleeDevice {
  /** The extension whose device this is; null for an outside number. */
  extensionId: string | null;
  /** The To header. */
  to: string;
  /** The From header, without its tag. */
  from: string;
  /** More headers (P-Asserted-Identity, Privacy, Diversion), in order. */
  headers: [string, string][];
  /** The carrier of an outside number: its credentials answer a challenge (RFC 3261 §22.2). */
  trunk: TrunkTarget | null;
  /** Whoever answers must press 1 before the caller is connected. */
  confirm: boolean;
}

/** What ringing an extension for an application call needs. */
export interface CalleeForksContext {
  log: Logger;
  transactions: TransactionLayer;
  sessionSettings?: Partial<SessionSettings>;
  localContact(transport: SipTransportProtocol): { host: string; port: number };
  dtlsFingerprint: string;
  records: Pick<CallRecords, 'addLeg' | 'legEnded' | 'answered'>;
  /** The fork's Call-ID reaches this call from now on (the callee's BYE, a retransmitted 2xx), until forgotten. */
  registerFork(callId: string): void;
  /** The Authorization for a carrier's 401/407, null when it has no credentials (calls/call-engine.ts, shared with the B2BUA). */
  trunkAuthorization?(trunk: TrunkTarget, request: SipRequest, challenge: SipResponse): string | null;
  /** What the caller hears while the connected user holds: their hold music (calls/call-context.ts `holdMusic`). */
  holdMusic?(accountId: string, extensionId: string): Promise<string | null>;
}

/** The call that rings: its record, its codec, what to do on the answer, and the prompt a forwarded party must accept. */
export interface CalleeForksCall {
  recordId: string;
  accountId: string;
  callerCodec: Codec;
  /** The first 2xx (or, for a party that must accept, its 1): the extension whose device answered, null for an outside number. */
  onAnswered: (extensionId: string | null) => Promise<void>;
  /** Where the legs are when not in the bridge (a monitor's room, calls/call-monitor.ts): the answered leg's figures are read there. */
  legs?: () => ContainerHandle | null;
  /** The "press 1 to accept" prompt (a media file), for targets with `confirm`. */
  acceptPrompt?: { file: string } | { pcm: Int16Array };
  /**
   * Call screening: this digit from a confirming party declines the call for everyone: the attempt
   * ends at once with 'rejected' (603) and the application takes a message.
   */
  declineDigit?: string;
  /** How long a confirming party has to press a digit; ACCEPT_SECONDS when absent. */
  acceptSeconds?: number;
  /** The connected party put the call on hold (true) or took it off (false) by re-INVITE or UPDATE. */
  onHold?: (held: boolean) => void;
  /**
   * The connected party's blind transfer (REFER, RFC 3515) to a number of the account: null when the
   * call can go there (the caller will be put through once this attempt is over), or the status and
   * reason it cannot. Absent: REFER is refused (501).
   */
  referTo?: (number: string) => Promise<{ status: number; reason: string } | null>;
  /**
   * The connected party's REFER to a number that may be a park location (RFC 5589 §6 to a location's
   * number, PK-01): 'not-a-location' when it is not one (the REFER is a transfer then), else how the
   * park went (null: the caller is parked, and this party leaves). `fits` says whether the party is
   * still the connected one. Absent: no parking.
   */
  parkAt?: (number: string, fits: () => boolean) => Promise<ParkOutcome | 'not-a-location'>;
  /** A digit the connected party sent as SIP INFO (RFC 4733 ones come from the bridge): relayed to the caller as RFC 4733 too. */
  onDigit?: (digit: string) => void;
  /** The connected party parked the caller and left (its REFER, or the park code): leg 'b' waits empty until a member retrieves the call or it is recalled. */
  onParked?: (parker: string | null) => void;
}

/** A transferor that does not hang up after the NOTIFY 200 gets our BYE then (as the B2BUA does). */
const TRANSFEROR_BYE_MS = 5000;

/** How long a forwarded party has to press 1 once it answered (the prompt loops meanwhile). */
export const ACCEPT_SECONDS = 12;
export const ACCEPT_DIGIT = '1';
/** Call screening's "2 to send to voicemail". */
export const DECLINE_DIGIT = '2';

/** What a confirming party chose: 1, the decline digit, or anything else (another digit, silence, its hang-up). */
type AcceptChoice = 'accept' | 'decline' | 'refuse';

interface Fork {
  request: SipRequest;
  session: InviteSession;
  legRecordId: string;
  webrtc: LocalWebRtc | null;
  callee: CalleeTarget;
  /** 'confirming': answered, waiting for the party to press 1 (only `callee.confirm` forks). */
  status: 'calling' | 'ringing' | 'confirming' | 'answered' | 'failed' | 'cancelled';
  finalStatus: number | null;
  authRetried: boolean;
  /** Our side of its SDP (its offer, then our answers to its re-offers). */
  sdp: LocalSdp;
  /** Once connected: its media as our answers to its re-offers say it (calls/reoffer.ts). */
  media: AnchoredParty | null;
}

/**
 * The callee side of `AppCall.bridgeTo`: INVITEs forked to every target
 * (devices of an extension, outside numbers through the trunk; RFC 3261
 * §16.7 style parallel search done as a B2BUA, as `B2buaCall` does), whose
 * first 2xx takes the bridge's leg 'b'; the others are CANCELled (§9.1), and
 * a 2xx that comes after the first is acknowledged and hung up at once
 * (§13.2.2.4).
 *
 * A target with `confirm` (a forwarded outside number) that answers is not
 * connected at once: it takes leg 'b' and hears the accept prompt while the
 * caller still hears ring-back (a prompt playing to a leg stops the relay to
 * it), and only its 1 (RFC 4733 or in-band) connects it. Anything else (no
 * digit in time, another digit, its hang-up) hangs it up, and the others ring
 * on. With call screening every party confirms (devices too) and the prompt
 * names the caller; its `declineDigit` (2) ends the attempt for everyone with
 * 'rejected', which the application reads as "to voicemail". One party confirms at a time: another confirming party that answers
 * meanwhile is hung up; a device that answers takes the call from it.
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
  /** Our side of leg 'b' (what the offers name). */
  private local: { address: string; rtpPort: number } | null = null;
  private readonly forks: Fork[] = [];
  private phase: 'Ringing' | 'Answered' | 'Done' = 'Ringing';
  private timer: NodeJS.Timeout | null = null;
  private answered: Fork | null = null;
  /** A REFER from the connected party is being looked at (one at a time). */
  private referring = false;
  /** The number the connected party transferred the caller to (REFER), once the attempt ended that way. */
  referredTo: string | null = null;
  /**
   * The connected party parked the caller (PK-01) and left: the attempt stays answered with nobody on
   * leg 'b' (`answered` null) until a member retrieves the call (`takeOver`), the caller hangs up, or
   * the recall ends the attempt (`recallParked`, `recalled` then true).
   */
  private parkedFrom: Fork | null = null;
  /** The attempt ended for the recall of its parked caller: the application call rings the parker. */
  recalled = false;
  /** The fork that answered and must press 1, with what ends its wait. */
  private confirming: { fork: Fork; wake: (choice: AcceptChoice) => void } | null = null;
  /** The ring time ran out while a party was confirming: when it fails, the outcome is no-answer. */
  private expired = false;
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

  /** A party answered and is connected on leg 'b' (a monitor may join then). */
  get connected(): boolean {
    return this.phase === 'Answered' && this.answered !== null;
  }

  /** The caller is parked: answered, nobody on leg 'b'. */
  get parked(): boolean {
    return this.phase === 'Answered' && this.parkedFrom !== null && this.answered === null;
  }

  /** Sends the INVITEs, and starts the ring timer. `local`: our side of leg 'b' for the offers. */
  async ring(targets: CalleeTarget[], local: { address: string; rtpPort: number }, ringSeconds: number): Promise<void> {
    this.sending = true;
    this.local = local;
    try {
      await this.sendAll(targets, local);
    } finally {
      this.sending = false;
    }
    // Every fork may have failed while the others were sent.
    this.maybeAllFailed();
    if (this.phase === 'Ringing') this.timer = setTimeout(() => this.noAnswer(), ringSeconds * 1000);
  }

  private async sendAll(targets: CalleeTarget[], local: { address: string; rtpPort: number }): Promise<void> {
    for (const t of targets) {
      if (this.phase !== 'Ringing') return;
      const contact = this.ctx.localContact(t.target.transport);
      const req = new SipRequest('INVITE', t.uri);
      req.add('max-forwards', 70);
      req.add('from', `${t.from};tag=${newTag()}`);
      req.add('to', t.to);
      for (const [name, value] of t.headers) req.add(name, value);
      req.add('call-id', newCallId('carillon'));
      req.add('cseq', '1 INVITE');
      req.add('contact', `<sip:carillon@${contact.host}:${contact.port};transport=${t.target.transport.toLowerCase()}>`);
      req.add('allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE');
      req.add('content-type', 'application/sdp');
      const sdp = new LocalSdp();
      const offer = forkOffer({ target: t.target, callerCodec: this.call.callerCodec, dtlsFingerprint: this.ctx.dtlsFingerprint, local, sdp });
      req.body = offer.body;
      const legRecordId = await this.ctx.records.addLeg({
        callId: this.call.recordId,
        accountId: this.call.accountId,
        role: 'callee',
        endpoint: t.trunk ? 'trunk' : offer.webrtc ? 'webrtc' : 'sip',
        deviceId: t.deviceId,
        sipCallId: req.callId,
        remoteUri: t.uri,
      });
      if (this.phase !== 'Ringing') {
        // The attempt ended while the leg was written: its INVITE is never sent.
        await this.ctx.records.legEnded(legRecordId, 'cancelled');
        return;
      }
      this.ctx.registerFork(req.callId);
      const fork: Fork = { request: req, session: null as unknown as InviteSession, legRecordId, webrtc: offer.webrtc, callee: t, status: 'calling', finalStatus: null, authRetried: false, sdp, media: null };
      this.forks.push(fork);
      this.send(fork);
    }
  }

  private send(fork: Fork): void {
    const session = InviteSession.uac({ request: fork.request, target: fork.callee.target, transactions: this.ctx.transactions, ...(this.ctx.sessionSettings ? { settings: this.ctx.sessionSettings } : {}), log: this.log });
    fork.session = session;
    const failed = (err: unknown) => this.log.error('fork response failed', { error: err });
    session.on('progress', (res) => {
      if (res.status > 100 && fork.status === 'calling') fork.status = 'ringing';
    });
    session.on('accepted', (res) => void this.forkAnswered(fork, res).catch(failed));
    // The connected party's re-INVITE or UPDATE (hold, a new address) is answered; before that (a party
    // pressing 1) it is refused and the call goes on as it was (RFC 3261 §14.2).
    session.on('offer', (offer) => this.reoffer(fork, offer));
    session.on('request', (req, tx) => this.request(fork, req, tx));
    session.on('terminated', (t: SessionTermination) => {
      if (fork.session !== session) return; // a session replaced by the retry with credentials
      if (fork === this.answered) {
        if (t.reason !== 'local-bye' && t.reason !== 'closed') this.calleeLeft();
        return;
      }
      // The party hung up (or its session failed) before pressing 1.
      if (fork.status === 'confirming') {
        if (this.confirming?.fork === fork) this.confirming.wake('refuse');
        return;
      }
      const status = t.response?.status ?? 0;
      // A carrier that asks for credentials gets them once (RFC 3261 §22.2), as the B2BUA does.
      if ((status === 401 || status === 407) && this.retryWithCredentials(fork, t.response!)) return;
      // A final failure of the INVITE (a 2xx that crossed our CANCEL was acknowledged and ended by the session).
      if (status >= 300 && fork.status !== 'answered') void this.forkFailed(fork, status).catch(failed);
    });
  }

  private retryWithCredentials(fork: Fork, challenge: SipResponse): boolean {
    const trunk = fork.callee.trunk;
    if (!trunk || fork.authRetried || this.phase !== 'Ringing' || (fork.status !== 'calling' && fork.status !== 'ringing') || !this.ctx.trunkAuthorization) return false;
    const authorization = this.ctx.trunkAuthorization(trunk, fork.request, challenge);
    if (!authorization) return false;
    fork.authRetried = true;
    const retry = new SipRequest('INVITE', fork.request.uri, fork.request.headers.filter((h) => h.name !== 'via').map((h) => ({ ...h })), fork.request.body);
    retry.set('cseq', `${fork.request.cseq.seq + 1} INVITE`);
    retry.set(challenge.status === 401 ? 'authorization' : 'proxy-authorization', authorization);
    fork.request = retry;
    this.send(fork);
    return true;
  }

  private async forkFailed(fork: Fork, status: number, result: string = String(status)): Promise<void> {
    if (fork.status !== 'cancelled') fork.status = 'failed';
    fork.finalStatus = status;
    if (fork.status === 'failed') await this.ctx.records.legEnded(fork.legRecordId, result);
    this.maybeAllFailed();
  }

  /** Every fork failed (none sent is the same: no party could be reached): busy if one was, else unavailable; no-answer once the time ran out. */
  private maybeAllFailed(): void {
    if (this.phase !== 'Ringing' || this.sending || this.forks.some((f) => f.status === 'calling' || f.status === 'ringing' || f.status === 'confirming' || f.status === 'answered')) return;
    if (this.expired) {
      this.done();
      this.settle({ outcome: 'no-answer', status: 480 });
      return;
    }
    const statuses = this.forks.map((f) => f.finalStatus ?? 0);
    const busy = statuses.includes(486) || statuses.includes(600);
    const notAccepted = this.forks.some((f) => f.finalStatus === 0 && f.status === 'failed');
    this.done();
    this.settle(busy ? { outcome: 'busy', status: 486 } : statuses.includes(603) ? { outcome: 'rejected', status: 603 } : notAccepted ? { outcome: 'no-answer', status: 480 } : { outcome: 'unavailable', status: 480 });
  }

  /** A 2xx, already acknowledged by its session: the first one takes the bridge (a party that must press 1 first only once it has). */
  private async forkAnswered(fork: Fork, res: SipResponse): Promise<void> {
    if (this.phase !== 'Ringing' || fork.status === 'cancelled') {
      fork.session.bye();
      return;
    }
    const answer = readForkAnswer(res, fork.webrtc);
    if (!answer) {
      fork.session.bye();
      await this.forkFailed(fork, 488);
      return;
    }
    if (fork.callee.confirm) {
      await this.confirm(fork, answer);
      return;
    }
    await this.connect(fork, answer);
  }

  /** An in-dialog request of a party that is not its session's own business: REFER is a transfer (or a park), INFO may carry a digit, the rest gets 200 or 501. */
  private request(fork: Fork, req: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction): void {
    if (req.method === 'REFER') void this.refer(fork, req, tx).catch((err: unknown) => this.log.error('REFER failed', { error: err }));
    else if (req.method === 'INFO') {
      const digit = answerInfoDtmf(req, tx);
      if (!digit || fork !== this.answered || this.phase !== 'Answered') return;
      this.call.onDigit?.(digit);
      void (this.call.legs?.() ?? this.bridge).sendDtmf('a', digit).catch(() => undefined);
    } else tx.respond(createResponse(req, req.method === 'OPTIONS' || req.method === 'NOTIFY' ? 200 : 501));
  }

  /** The connected user's own hold music where there is one (an outside number's party has none: the shipped music). */
  private holdMusicOf(extensionId: string | null): { music?: () => Promise<string | null> } {
    const holdMusic = this.ctx.holdMusic;
    if (!holdMusic || !extensionId) return {};
    return { music: () => holdMusic(this.call.accountId, extensionId).catch(() => HOLD_MUSIC.file) };
  }

  /**
   * The connected party's re-offer: answered on leg 'b' (calls/reoffer.ts), the caller hearing hold
   * music while it holds. Any other fork's (a party still pressing 1, one hung up) is refused.
   */
  private reoffer(fork: Fork, offer: IncomingOffer): void {
    const legs = this.call.legs?.() ?? this.bridge;
    if (fork !== this.answered || this.phase !== 'Answered' || !fork.media || !this.local || !offer.sdp) {
      offer.reject(488);
      return;
    }
    void answerReoffer({ container: legs, party: fork.media, local: this.local, other: 'a', offer, ...this.holdMusicOf(fork.callee.extensionId) })
      .then((held) => {
        if (held !== null && fork === this.answered) this.call.onHold?.(held);
      })
      .catch((err: unknown) => {
        this.log.error('callee re-offer failed', { error: err });
        offer.reject(500);
      });
  }

  /**
   * Blind transfer by the connected party (RFC 3515; RFC 5589 §6): 202, NOTIFY 100, then the
   * application call says whether the number leads anywhere. If it does, the NOTIFY says 200, the
   * party (the transferor) is released from leg 'b' and leaves with its own BYE (ours after
   * TRANSFEROR_BYE_MS), and the attempt ends with `referredTo` set: the application call puts the
   * caller through. If not, the NOTIFY carries the refusal and the two stay connected.
   */
  private async refer(fork: Fork, req: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction): Promise<void> {
    const referTo = parseNameAddr(req.get('refer-to') ?? '');
    const number = referTo?.uri.user ?? '';
    if (fork !== this.answered || this.phase !== 'Answered' || !this.call.referTo || this.referring) {
      tx.respond(createResponse(req, !this.call.referTo ? 501 : 491, { toTag: fork.session.dialog?.state.localTag }));
      return;
    }
    if (!referTo || !number) {
      tx.respond(createResponse(req, 400, { toTag: fork.session.dialog?.state.localTag }));
      return;
    }
    // Attended transfer (Refer-To with Replaces, RFC 3891) joins two calls: not for an application's call yet.
    if (replacesFromUriHeaders(referTo.uri.headers) !== null) {
      tx.respond(createResponse(req, 501, { reason: 'Attended Transfer Not Supported Here', toTag: fork.session.dialog?.state.localTag }));
      return;
    }
    acceptRefer(fork.session, req, tx);
    notifyRefer(fork.session, 'SIP/2.0 100 Trying', 'active;expires=60');
    this.referring = true;
    let refusal: { status: number; reason: string } | null;
    try {
      const parked = this.call.parkAt ? await this.call.parkAt(number, () => this.phase === 'Answered' && fork === this.answered) : 'not-a-location';
      if (parked !== 'not-a-location') {
        if (!fork.session.closed) notifyRefer(fork.session, parkSipfrag(parked), 'terminated;reason=noresource');
        // The transferor's phone hangs up on the NOTIFY's 200; ours follows if it does not.
        if (parked === null) this.parkerLeaves(false);
        return;
      }
      refusal = await this.call.referTo(number);
    } finally {
      this.referring = false;
    }
    if (this.phase !== 'Answered' || fork !== this.answered) {
      // The caller left (or the party hung up) meanwhile.
      if (!fork.session.closed) notifyRefer(fork.session, 'SIP/2.0 487 Request Terminated', 'terminated;reason=noresource');
      return;
    }
    if (refusal) {
      notifyRefer(fork.session, `SIP/2.0 ${refusal.status} ${refusal.reason}`, 'terminated;reason=noresource');
      return;
    }
    notifyRefer(fork.session, 'SIP/2.0 200 OK', 'terminated;reason=noresource');
    this.referredTo = number;
    this.done();
    // The transferor's session is no longer the call's: its BYE (or ours, if it does not send one) ends only its dialog.
    this.answered = null;
    setTimeout(() => {
      if (!fork.session.closed) fork.session.bye();
    }, TRANSFEROR_BYE_MS).unref();
    void this.ctx.records.legEnded(fork.legRecordId, 'transferred').catch(() => undefined);
    this.settle({ outcome: 'answered', endedBy: 'callee' });
  }

  /** The party is the callee: leg 'b' is theirs, the others are CANCELled, the caller hears them. */
  private async connect(fork: Fork, answer: NonNullable<ReturnType<typeof readForkAnswer>>, legReady = false): Promise<void> {
    fork.status = 'answered';
    this.answered = fork;
    this.phase = 'Answered';
    fork.media = { legId: 'b', codec: answer.audio, telephoneEvent: answer.telephoneEvent, sdp: fork.sdp, onHold: false, webrtc: answer.webrtc };
    this.clearTimer();
    const tookFromConfirming = this.confirming !== null && this.confirming.fork !== fork;
    for (const other of this.forks) if (other !== fork && (other.status === 'calling' || other.status === 'ringing' || other.status === 'confirming')) this.cancel(other);
    // A device that answers while a forwarded party hears the accept prompt takes leg 'b': the prompt stops first.
    if (tookFromConfirming) await this.bridge.stopPlayback('b').catch(() => undefined);
    if (!legReady) await this.bridge.updateLeg('b', answer.leg);
    if (this.phase !== 'Answered') return;
    await this.call.onAnswered(fork.callee.extensionId);
    await this.ctx.records.answered(this.call.recordId, [{ id: fork.legRecordId, codec: answer.audio.name }]);
  }

  /**
   * "Press 1 to accept": the party takes leg 'b' and hears the prompt, looped,
   * for up to ACCEPT_SECONDS (or the call's `acceptSeconds`); its 1 connects it,
   * the call's `declineDigit` (screening's 2) declines the call for everyone,
   * anything else hangs it up.
   */
  private async confirm(fork: Fork, answer: NonNullable<ReturnType<typeof readForkAnswer>>): Promise<void> {
    if (this.confirming) {
      // One party confirms at a time (leg 'b' is one): this one is hung up and counts as not answering.
      fork.session.bye();
      await this.forkFailed(fork, 0, 'not_accepted');
      return;
    }
    fork.status = 'confirming';
    let wake!: (choice: AcceptChoice) => void;
    const decided = new Promise<AcceptChoice>((resolve) => (wake = resolve));
    this.confirming = { fork, wake };
    const onDigit = (e: Extract<MediaEvent, { type: 'dtmf' }>) => {
      if (e.legId !== 'b' || this.confirming?.fork !== fork) return;
      wake(e.digit === ACCEPT_DIGIT ? 'accept' : e.digit === this.call.declineDigit ? 'decline' : 'refuse');
    };
    this.bridge.on('dtmf', onDigit);
    const timer = setTimeout(() => wake('refuse'), (this.call.acceptSeconds ?? ACCEPT_SECONDS) * 1000);
    let choice: AcceptChoice = 'refuse';
    try {
      await this.bridge.updateLeg('b', answer.leg);
      // Unless a device took the call (or the caller left) meanwhile: leg 'b' is no longer this party's.
      if (fork.status === 'confirming') await this.bridge.play('b', this.call.acceptPrompt ?? ACCEPT_TONE, { loop: true });
      choice = await decided;
    } catch (err) {
      this.log.warn('accept prompt failed', { error: err });
    } finally {
      clearTimeout(timer);
      this.bridge.off('dtmf', onDigit);
      if (this.confirming?.fork === fork) this.confirming = null;
    }
    // Meanwhile the caller left, or a device answered and took the call (this fork was hung up then).
    if (fork.status !== 'confirming') return;
    if (choice === 'accept' && this.phase === 'Ringing') {
      await this.bridge.stopPlayback('b').catch(() => undefined);
      await this.connect(fork, answer, true);
      return;
    }
    // Hung up first: once the prompt stops, leg 'b' relays the caller again until another party takes it.
    if (!fork.session.closed) fork.session.bye();
    await this.bridge.stopPlayback('b').catch(() => undefined);
    if (choice === 'decline' && this.phase === 'Ringing') {
      await this.declined(fork);
      return;
    }
    await this.forkFailed(fork, 0, 'not_accepted');
  }

  /** A screened party sent the caller to voicemail: nobody else rings on, and the outcome says declined. */
  private async declined(fork: Fork): Promise<void> {
    fork.status = 'failed';
    fork.finalStatus = 603;
    for (const other of this.forks) if (other !== fork && (other.status === 'calling' || other.status === 'ringing' || other.status === 'confirming')) this.cancel(other);
    this.done();
    this.settle({ outcome: 'rejected', status: 603 });
    await this.ctx.records.legEnded(fork.legRecordId, 'declined');
  }

  private cancel(fork: Fork): void {
    const confirming = fork.status === 'confirming';
    fork.status = 'cancelled';
    if (confirming) {
      // Answered but not accepted: it has a dialog, so it gets a BYE (a CANCEL is for an INVITE still pending).
      fork.session.bye();
      if (this.confirming?.fork === fork) this.confirming.wake('refuse');
    } else fork.session.cancel();
    void this.ctx.records.legEnded(fork.legRecordId, 'cancelled');
  }

  private noAnswer(): void {
    if (this.phase !== 'Ringing') return;
    for (const f of this.forks) if (f.status === 'calling' || f.status === 'ringing') this.cancel(f);
    if (this.confirming) {
      // The party pressing 1 gets its chance: its refusal ends the attempt as no-answer.
      this.expired = true;
      return;
    }
    this.done();
    this.settle({ outcome: 'no-answer', status: 480 });
  }

  /**
   * Another party takes the connected party's place: a monitor's take over (calls/call-monitor.ts), or
   * a device of a shared line retrieving the call held on it (SL-01). Its dialog (we are the UAS of
   * its INVITE) becomes the answered party's, with its leg record; the party it replaces gets a BYE
   * and its leg ends 'transferred'. The caller moves the media (the new party's leg in place of leg
   * 'b'). With `media` (its codec and our SDP in its dialog), its re-offers (hold) and REFERs are
   * answered as the first party's were; without (a monitor, whose session answers them), refused.
   * False when nobody is connected.
   */
  takeOver(session: InviteSession, invite: SipRequest, extensionId: string, legRecordId: string, media?: { codec: Codec; telephoneEvent: Codec | null; sdp: LocalSdp }): boolean {
    const agent = this.answered;
    const from = agent ?? this.parkedFrom;
    if (this.phase !== 'Answered' || !from) return false;
    const sdp = media?.sdp ?? new LocalSdp();
    const fork: Fork = {
      request: invite,
      session,
      legRecordId,
      webrtc: null,
      callee: { ...from.callee, extensionId, confirm: false },
      status: 'answered',
      finalStatus: null,
      authRetried: false,
      sdp,
      media: media ? { legId: 'b', codec: media.codec, telephoneEvent: media.telephoneEvent, sdp, onHold: false, webrtc: null } : null,
    };
    this.forks.push(fork);
    this.answered = fork;
    // A member retrieving the parked caller: the parker left already.
    this.parkedFrom = null;
    if (agent) {
      // Its session's end is no longer the call's (the answered fork is the new party's now).
      agent.session.bye();
      void this.ctx.records.legEnded(agent.legRecordId, 'transferred').catch(() => undefined);
    }
    session.on('terminated', (t: SessionTermination) => {
      if (fork === this.answered && t.reason !== 'local-bye' && t.reason !== 'closed') this.calleeLeft();
    });
    if (media) {
      session.on('offer', (offer) => this.reoffer(fork, offer));
      session.on('request', (req, tx) => this.request(fork, req, tx));
      return true;
    }
    // A monitor's: a re-offer is refused here and the call goes on as it was (RFC 3261 §14.2).
    session.on('offer', (offer) => offer.reject(488));
    session.on('request', (req, tx) => tx.respond(createResponse(req, req.method === 'OPTIONS' || req.method === 'INFO' || req.method === 'NOTIFY' ? 200 : 501)));
    return true;
  }

  /**
   * The connected party parked the caller (the application call took the location and plays hold music
   * to the caller): it leaves leg 'b', its leg ends 'transferred', and its dialog ends with our BYE, at
   * once (`byeNow`: the park code, no REFER told its phone to hang up) or after TRANSFEROR_BYE_MS if its
   * own BYE after the NOTIFY does not come first. False when nobody is connected.
   */
  parkerLeaves(byeNow: boolean): boolean {
    const fork = this.answered;
    if (this.phase !== 'Answered' || !fork) return false;
    this.answered = null;
    this.parkedFrom = fork;
    if (byeNow) fork.session.bye();
    else
      setTimeout(() => {
        if (!fork.session.closed) fork.session.bye();
      }, TRANSFEROR_BYE_MS).unref();
    void this.ctx.records.legEnded(fork.legRecordId, 'transferred').catch(() => undefined);
    this.call.onParked?.(fork.callee.extensionId);
    return true;
  }

  /** Nobody retrieved the parked caller in time: the attempt ends (`recalled`), and the application call rings the parker. */
  recallParked(): boolean {
    if (!this.parked) return false;
    this.recalled = true;
    this.parkedFrom = null;
    this.done();
    this.settle({ outcome: 'answered', endedBy: 'callee' });
    return true;
  }

  /** The connected party holds the call (its last re-offer was sendonly or inactive): the caller hears hold music. */
  get held(): boolean {
    return this.phase === 'Answered' && this.answered?.media?.onHold === true;
  }

  /** Our side of leg 'b' (what the parties' SDP names), once ringing. */
  get legLocal(): { address: string; rtpPort: number } | null {
    return this.local;
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
      for (const f of this.forks) if (f.status === 'calling' || f.status === 'ringing' || f.status === 'confirming') this.cancel(f);
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
    const leg = (await (this.call.legs?.() ?? this.bridge).stats().catch(() => [])).find((s) => s.legId === 'b');
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

/** When no spoken prompt could be made: two short 1 kHz beeps every two seconds say "something is expected of you". */
const ACCEPT_TONE = (() => {
  const beep = 8000 / 5;
  const pcm = new Int16Array(16000);
  for (const start of [0, 2400]) for (let i = 0; i < beep; i++) pcm[start + i] = Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000));
  return { pcm };
})();
