import type { Logger } from '@carillon/config';
import type { CallResult } from '@carillon/db';
import type { MonitorMode } from '@carillon/domain';
import type { BridgeHandle, ContainerHandle, LegCodecName, MediaEvent } from '../../media/index.ts';
import { promptPath } from '../../media/index.ts';
import { createResponse, newCallId, newTag, parseNameAddr, SipRequest, type SipResponse } from '../../sip/message/index.ts';
import { InviteSession, type IncomingOffer, type SessionTermination } from '../../sip/session/index.ts';
import type { InviteServerTransaction, NonInviteServerTransaction } from '../../sip/transaction/index.ts';
import type { SipSource, SipTarget } from '../../sip/transport/index.ts';
import { mediaAddress, parseSdp, type Codec } from '../../sdp/session-description.ts';
import { chooseCodec, PLAIN_RTP_CODECS, TELEPHONE_EVENT, WEBRTC_CODECS } from '../../sdp/negotiate-codecs.ts';
import type { CallContext, CallParty } from '../call-context.ts';
import type { ParkableCall } from '../park-lot.ts';
import { ParkCodeDetector } from '../park-code.ts';
import { answerInfoDtmf } from '../info-dtmf.ts';
import { parkOnLocation, parkSipfrag, recallCallerName, type ParkDestination, type ParkOutcome } from '../parking.ts';
import { bridgedOrRejected, type BridgedDestination } from '../../apps/applications.ts';
import { reject as rejectDestination, type Destination, type RejectDestination } from '../../routing/destination.ts';
import { CallState, type CallMoves } from '../call-state.ts';
import { LocalSdp } from '../local-sdp.ts';
import { SipLeg } from '../sip-leg.ts';
import { forkInvite, Forks, type Fork } from './forks.ts';
import { answerReoffer, HOLD_MUSIC } from '../reoffer.ts';
import { acceptRefer, notifyRefer } from '../refer.ts';
import { joiningOffer, uasSession } from '../uas-session.ts';
import { forkOffer, readForkAnswer } from '../fork-media.ts';
import { reachTarget } from '../binding-target.ts';
import { OnDemandRecording, type RecordedCall } from '../../apps/recording/on-demand-recording.ts';
import { CallMonitor, type MonitoredCall } from '../call-monitor.ts';
import { replacesFromUriHeaders, type ReplacesTarget } from '../replaces.ts';
import { pstnHeaders, trunkRequestUri, trunkSipTarget } from '../pstn-callee.ts';
import { answerSetup, isWebRtcMedia, newLocalWebRtc, readPeerWebRtc, webRtcLegSpec, type LocalWebRtc, type PeerWebRtc } from '../webrtc-media.ts';

/**
 * One call through the B2BUA: the caller's leg (we are its UAS) and the
 * callee's leg (we are its UAC, forking to every registered device of the
 * extension, or to the trunk). Media of both legs ends on one bridge of the
 * media engine, so each side only ever sees media-server.
 *
 *   Routing -> Ringing -> Answered -> Ended
 *      \__________\_______________/
 *              (failed, cancelled)
 *
 * Ended is terminal: `transition()` (calls/call-state.ts) is the only writer
 * of the state and refuses any other move.
 */
export type B2buaCallState = 'Routing' | 'Ringing' | 'Answered' | 'Ended';

const B2BUA_MOVES: CallMoves<B2buaCallState> = {
  Routing: ['Ringing', 'Ended'],
  Ringing: ['Answered', 'Ended'],
  Answered: ['Ended'],
  Ended: [],
};

/** Thrown by a step of a call's start that finds the call already ended: the start stops there. */
export class CallEndedError extends Error {
  constructor() {
    super('the call has ended');
    this.name = 'CallEndedError';
  }
}

const CODEC_NAMES = new Set<LegCodecName>(['PCMU', 'PCMA', 'OPUS']);
const legCodec = (c: Codec) => ({ name: c.name.toUpperCase() as LegCodecName, payloadType: c.payloadType });

/** A destination as this call puts it through: its devices or the carrier, or refused (destinations with no application yet: 480). */
type Route = BridgedDestination | RejectDestination;

export class B2buaCall implements ParkableCall {
  readonly aCallId: string;
  readonly bCallId = newCallId('carillon');
  readonly #state = new CallState<B2buaCallState>('Routing', B2BUA_MOVES, 'Ended');
  /** The start in progress: finish() waits for it to stop before releasing what it acquired. */
  private startup: Promise<void> = Promise.resolve();
  private readonly ctx: CallContext;
  private readonly log: Logger;
  private readonly invite: SipRequest;
  private readonly inviteTx: InviteServerTransaction;
  /** The caller's INVITE session: we are its UAS. */
  private readonly aSession: InviteSession;
  private readonly aSource: SipSource;
  private readonly caller: CallParty;
  private readonly aTag = newTag();
  private readonly aSdp = new LocalSdp();
  private readonly bSdp = new LocalSdp();
  private aCodec!: Codec;
  private aTelephoneEvent: Codec | null = null;
  /** The caller sent no SDP: our 200 offers, its ACK answers. */
  private lateOffer = false;
  private lateAnswered = false;
  /** Set when the caller is a browser. */
  private aWebRtc: { local: LocalWebRtc; peer: PeerWebRtc } | null = null;
  private bridge: BridgeHandle | null = null;
  private bLocal: { address: string; rtpPort: number } | null = null;
  private aLocal: { address: string; rtpPort: number } | null = null;
  /** Our INVITEs to the callee's devices (or the trunk) and to transfer targets (./forks.ts). */
  private readonly forks: Forks;
  private route: Route | null = null;
  private callRecordId: string | null = null;
  private aLegRecordId: string | null = null;
  private a: SipLeg | null = null;
  private b: SipLeg | null = null;
  private ringingSent = false;
  /**
   * A blind transfer in progress (RFC 3515 REFER, RFC 5589): who asked, and the side being replaced.
   * `byCommand`: asked by the app (control channel), not by a REFER: the party replaced has no
   * subscription to notify, and is simply sent a BYE once the target answers.
   */
  private transfer: {
    side: 'a' | 'b';
    /** Null for the recall of a parked call: nobody is replaced, the parked side is empty. */
    transferor: SipLeg | null;
    byeTimer: NodeJS.Timeout | null;
    targetNumber: string;
    byCommand: boolean;
    /** The recall of a parked call to its parker: a failure ends the call, and nobody answers within the no-answer time is a failure. */
    recall?: boolean;
  } | null = null;
  /**
   * Parked on a location (issue 15, PK-01): the side its parker left is empty and the
   * party on the other side hears hold music, until a member retrieves the call
   * (`takeIncoming`), the recall rings the parker back, or the party hangs up.
   */
  private parked: { location: string; side: 'a' | 'b' } | null = null;
  /** The Call-IDs of parties who came in by their own INVITE (a retrieval, a pickup): they reach this call until it is forgotten. */
  private readonly incomingCallIds: string[] = [];
  /** A member's INVITE is taking the empty side (`takeIncoming`): answers of forks for that side give way. */
  private taking = false;
  /** `*9` on-demand recording (apps/recording): it owns its state; the call lends it its bridge and closes it in finish(). */
  private readonly recording: OnDemandRecording;
  /** `*8` + a location + `#` typed during the call: park the other party there. */
  private readonly parkCodes = new ParkCodeDetector();
  /** A transferor's leg after its place was taken, kept to answer its BYE. */
  private retired: SipLeg[] = [];
  /**
   * After an attended transfer, one side of this call is joined to a side of
   * another call: the two bridges are joined by a media pipe, so
   * neither remaining party is re-INVITEd. Hanging up on one call ends both.
   */
  private link: { side: 'a' | 'b'; call: B2buaCall; theirSide: 'a' | 'b' } | null = null;
  /**
   * Who the party on a side is in the call record's current segment, where an
   * attended transfer made it other than side a = caller, side b = callee.
   */
  private segmentRole: { a?: 'caller' | 'callee'; b?: 'caller' | 'callee' } = {};
  /** The extension on each side, for presence: a device's caller, and the called extension. */
  private readonly sideExtension: { a: string | null; b: string | null } = { a: null, b: null };
  /** The extension a blind transfer is ringing, if any. */
  private transferTargetExtension: string | null = null;
  /** A monitor on the call (MON-01, `monitor()`, calls/call-monitor.ts), while it is on it. */
  private monitoring: CallMonitor | null = null;
  /** The media changes of the last monitor that left (its legs moving back to the bridge): finish() waits for them. */
  private monitorLeaving: Promise<void> = Promise.resolve();
  private readonly onDtmf = (e: Extract<MediaEvent, { type: 'dtmf' }>) => this.mediaEvent(e);
  private readonly onMediaTimeout = (e: Extract<MediaEvent, { type: 'media-timeout' }>) => this.mediaTimedOut(e);

  constructor(ctx: CallContext, invite: SipRequest, inviteTx: InviteServerTransaction, source: SipSource, caller: CallParty) {
    this.ctx = ctx;
    this.log = ctx.log.child('call');
    this.invite = invite;
    this.inviteTx = inviteTx;
    this.aSource = source;
    this.caller = caller;
    this.aCallId = invite.callId;
    const local = ctx.localContact(source.transport);
    this.aSession = InviteSession.uas({
      invite,
      transaction: inviteTx,
      transactions: ctx.transactions,
      localTag: this.aTag,
      localContact: `<sip:carillon@${local.host}:${local.port};transport=${source.transport.toLowerCase()}>`,
      resolveTarget: (remoteTarget) => reachTarget(remoteTarget, { transport: source.transport, address: source.remoteAddress, port: source.remotePort, connectionId: source.connectionId }),
      ...(ctx.sessionSettings ? { settings: ctx.sessionSettings } : {}),
      log: this.log,
    });
    // The caller's answer to the offer in our 200, from its ACK (late offer).
    this.aSession.on('answer', (sdp) => void this.lateAnswer(sdp).catch((err: unknown) => this.log.error('late answer failed', { error: err })));
    this.forks = new Forks({
      transactions: ctx.transactions,
      ...(ctx.sessionSettings ? { sessionSettings: ctx.sessionSettings } : {}),
      records: ctx.records,
      log: this.log,
      register: (callId) => ctx.registerFork(callId, this),
      events: {
        ringing: (fork) => this.forkRinging(fork),
        answered: (fork, res) => this.forkAnswered(fork, res),
        failed: (fork, res) => this.forkFailed(fork, res),
        // A carrier that asks for credentials gets them once, while the call still rings (RFC 3261 §22.2).
        authorization: (fork, challenge) => (this.route?.kind === 'pstn' && this.state === 'Ringing' ? this.ctx.trunkAuthorization(this.route.trunk, fork.request, challenge) : null),
      },
    });
    this.recording = new OnDemandRecording({ call: this.recordedCall(), records: ctx.records, recordingsDir: ctx.recordingsDir, log: this.log });
  }

  get state(): B2buaCallState {
    return this.#state.current;
  }

  private get ended(): boolean {
    return this.#state.closed;
  }

  /** The one writer of the state; throws IllegalCallTransition on a move the diagram above does not draw. */
  private transition(to: B2buaCallState): void {
    this.#state.transition(to);
  }

  /**
   * After an await of the start: stops the start when the call ended meanwhile. Every await of the
   * call's start is followed by it, so a call that ended meanwhile (a CANCEL during routing) goes no
   * further: no presence, no bridge, no INVITE to a callee of a dead call. (A state, not an
   * AbortController: aborting one builds a DOMException, ~40 µs of the main thread per call.)
   */
  private stillAlive(): void {
    if (this.ended) throw new CallEndedError();
  }

  /**
   * Routes the call and starts ringing the callee; every failure ends in a final response to the caller.
   * Rejects with CallEndedError when the call ended while it started; finish() then releases what the
   * start had acquired (it waits for this promise).
   */
  start(routed?: Destination): Promise<void> {
    // Run from the next microtask, so that `startup` is set before any of the start can end the call.
    this.startup = Promise.resolve().then(() => this.run(routed));
    return this.startup;
  }

  /** `routed`: the destination, when the engine routed the call already (it does, to pick the call's kind). */
  private async run(routed?: Destination): Promise<void> {
    // Cancelled while the caller was being authenticated: the INVITE already has its 487 (RFC 3261 §9.2).
    if (!this.inviteTx.canRespond) void this.finish('cancelled', 'caller');
    // An INVITE without SDP is a late offer (RFC 3261 §13.2.1): our 200 carries the offer, its ACK the answer.
    this.lateOffer = this.invite.body.length === 0;
    const offer = this.lateOffer ? null : parseSdp(this.invite.body.toString('utf8'));
    const audio = offer?.media.find((m) => m.type === 'audio' && m.port > 0);
    const browser = offer && audio && isWebRtcMedia(offer, audio);
    const peer = browser ? readPeerWebRtc(offer, audio) : null;
    const choice = audio && (!browser || peer) ? chooseCodec(audio.codecs, browser ? WEBRTC_CODECS : PLAIN_RTP_CODECS) : null;
    // A Session-Expires below our Min-SE gets 422 (RFC 4028 §6).
    if (this.aSession.refuseTooBrief()) {
      void this.finish('failed', null);
      return;
    }
    if (!this.lateOffer && (!offer || !audio || !choice)) {
      // An offer with nothing we can speak (RFC 3261 §13.3.1.3).
      this.reject(488, 'Not Acceptable Here', 'failed');
      return;
    }
    this.aCodec = choice?.audio ?? PLAIN_RTP_CODECS[0]!;
    this.aTelephoneEvent = choice ? choice.telephoneEvent : TELEPHONE_EVENT;
    if (peer) this.aWebRtc = { local: newLocalWebRtc(this.ctx.media.dtlsFingerprint, answerSetup(peer.setup), peer.mid), peer };
    const dialed = this.invite.requestUri()?.user ?? '';
    // Routing and the call record are the call's ledger: they complete even for a call cancelled meanwhile,
    // so that every authenticated call has its record. Nothing after them runs for an ended call.
    const destination = routed ?? (await this.ctx.route(this.caller, dialed));
    const route = bridgedOrRejected(destination);
    this.route = route;
    const fromUser = this.invite.from()?.uri.user ?? '';
    const direction = route.kind === 'extension' ? route.direction : route.kind === 'pstn' ? 'outbound' : this.caller.kind === 'trunk' ? 'inbound' : 'internal';
    const records = await this.ctx.records.startCallWithLeg(
      {
      accountId: this.caller.accountId,
      sipCallId: this.aCallId,
      direction,
      fromNumber: this.caller.kind === 'device' ? this.caller.extensionNumber : fromUser,
      fromName: this.invite.from()?.displayName ?? null,
      toNumber: route.kind === 'pstn' ? route.e164 : dialed,
      callerExtensionId: this.caller.kind === 'device' ? this.caller.extensionId : null,
      calleeExtensionId: calleeExtensionOf(destination),
      emergency: route.kind === 'pstn' && route.emergency,
      },
      {
        role: 'caller',
        endpoint: this.caller.kind === 'trunk' ? 'trunk' : this.aWebRtc ? 'webrtc' : 'sip',
        deviceId: this.caller.kind === 'device' ? this.caller.deviceId : null,
        sipCallId: this.aCallId,
        remoteUri: this.invite.get('from') ?? null,
      },
    );
    this.callRecordId = records.callId;
    this.aLegRecordId = records.legId;
    this.stillAlive();
    if (route.kind === 'reject') {
      this.reject(route.status, route.reason, route.result);
      return;
    }
    if (this.caller.kind === 'device') this.setPresence('a', this.caller.extensionId, 'on_call');

    const targets: { target: SipTarget; uri: string; deviceId: string | null }[] = [];
    if (route.kind === 'extension') {
      const bindings = await this.ctx.bindings.list(route.extensionId);
      this.stillAlive();
      for (const b of bindings) {
        const target = reachTarget(b.contact, b.source);
        if (target) targets.push({ target, uri: b.contact, deviceId: b.deviceId });
      }
      if (targets.length === 0) {
        this.reject(480, 'Temporarily Unavailable', 'unavailable');
        return;
      }
    } else {
      targets.push({ target: trunkSipTarget(route.trunk), uri: trunkRequestUri(route.trunk), deviceId: null });
    }

    // Held by the call as soon as it exists: finish() closes it, and its legs with it.
    this.bridge = await this.ctx.media.createBridge();
    this.bridge.on('dtmf', this.onDtmf);
    this.bridge.on('media-timeout', this.onMediaTimeout);
    this.stillAlive();
    const remote = offer && audio ? mediaAddress(offer, audio) : null;
    const aWebRtc = this.aWebRtc;
    this.aLocal = await this.bridge.addLeg({
      legId: 'a',
      codec: legCodec(this.aCodec),
      telephoneEventPayloadType: this.aTelephoneEvent?.payloadType ?? null,
      // A browser's media is only taken from the path its ICE checks proved.
      remote: !aWebRtc && remote && audio ? { address: remote, rtpPort: audio.port } : null,
      ...(aWebRtc ? { ssrc: aWebRtc.local.ssrc, webrtc: webRtcLegSpec(aWebRtc.local, aWebRtc.peer) } : {}),
    });
    this.stillAlive();
    this.bLocal = await this.bridge.addLeg({
      legId: 'b',
      codec: legCodec(this.aCodec),
      telephoneEventPayloadType: 101,
      remote: null,
    });
    this.stillAlive();

    this.transition('Ringing');
    if (route.kind === 'extension') this.setPresence('b', route.extensionId, 'ringing');
    for (const t of targets) await this.fork(t.target, t.uri, t.deviceId, 'b', 'callee');
    this.stillAlive();
    this.forks.startNoAnswer(this.ctx.settings.noAnswerSeconds * 1000, () => this.noAnswer());
  }

  // ---- B side: forks -------------------------------------------------------

  private async fork(target: SipTarget, uri: string, deviceId: string | null, side: 'a' | 'b', purpose: 'callee' | 'transfer', routeOverride?: Route): Promise<void> {
    const route = routeOverride ?? this.route!;
    const contact = this.ctx.localContact(target.transport);
    const offer = forkOffer({ target, callerCodec: this.aCodec, dtlsFingerprint: this.ctx.media.dtlsFingerprint, local: side === 'b' ? this.bLocal! : this.aLocal!, sdp: side === 'b' ? this.bSdp : this.aSdp });
    const webrtc = offer.webrtc;
    const req = forkInvite({ uri, ...this.forkParties(route, purpose, contact.host), callId: this.forks.count === 0 ? this.bCallId : newCallId('carillon'), contact, transport: target.transport, body: offer.body });
    const legRecordId = await this.ctx.records.addLeg({
      callId: this.callRecordId!,
      accountId: this.caller.accountId,
      role: purpose === 'transfer' ? 'transfer_target' : 'callee',
      endpoint: route.kind === 'pstn' ? 'trunk' : webrtc ? 'webrtc' : 'sip',
      deviceId,
      sipCallId: req.callId,
      remoteUri: uri,
    });
    if (this.ended) {
      // The call ended while the leg was written: its INVITE is never sent.
      await this.ctx.records.legEnded(legRecordId, 'cancelled');
      throw new CallEndedError();
    }
    this.forks.add({ side, purpose, request: req, target, deviceId, legRecordId, webrtc });
  }

  /** Who a fork's INVITE is from and to: the carrier's headers for an outside number, else the caller (or the park, for a recall) and the extension. */
  private forkParties(route: Route, purpose: 'callee' | 'transfer', host: string): { from: string; to: string; headers?: Iterable<readonly [string, string]> } {
    if (route.kind === 'pstn') {
      const carrier = pstnHeaders(route, host);
      return { from: carrier.from, to: carrier.to, headers: carrier.headers };
    }
    const dialed = this.invite.requestUri()?.user ?? '';
    // A recall from park says so on the parker's display, as desk phones show it ("Park 801"), with the party's number.
    const recallOf = purpose === 'transfer' && this.transfer?.recall ? this.parked?.location : undefined;
    const fromName = recallOf ? recallCallerName(recallOf) : this.caller.kind === 'device' ? this.caller.displayName : this.invite.from()?.displayName ?? null;
    const fromUser = this.caller.kind === 'device' ? this.caller.extensionNumber : this.invite.from()?.uri.user ?? 'unknown';
    return {
      from: `${fromName ? `"${fromName}" ` : ''}<sip:${fromUser}@${this.ctx.domain}>`,
      to: `<sip:${route.kind === 'extension' ? route.extensionNumber : dialed}@${this.ctx.domain}>`,
    };
  }

  /** A fork rings: the caller hears it once (180), unless the fork is a transfer target's. */
  private forkRinging(fork: Fork): void {
    if (fork.purpose === 'transfer') return;
    if (!this.ringingSent && this.state === 'Ringing') {
      this.ringingSent = true;
      this.aSession.progress(180);
    }
  }

  private forkFailed(fork: Fork, res: SipResponse): void {
    if (fork.purpose === 'transfer') {
      this.transferFailed(res.status, res.reason);
      return;
    }
    this.maybeAllForksFailed();
  }

  /** A 2xx from a fork, already acknowledged by its session (RFC 3261 §13.2.2.4), even one we do not want. */
  private async forkAnswered(fork: Fork, res: SipResponse): Promise<void> {
    const session = fork.session;
    if (fork.purpose === 'transfer') {
      await this.transferAnswered(fork, res);
      return;
    }
    if (this.state !== 'Ringing' || this.taking) {
      session.bye();
      return;
    }
    const choice = await this.applyAnswer('b', res, fork);
    if (this.state !== 'Ringing' || this.taking) {
      // The caller left while the answer was applied (or another device answered first): this callee is hung up at once.
      session.bye();
      return;
    }
    if (!choice) {
      session.bye();
      this.forks.unusable(fork);
      this.maybeAllForksFailed();
      return;
    }
    this.forks.answered(fork);
    this.transition('Answered');
    if (this.sideExtension.b) this.setPresence('b', this.sideExtension.b, 'on_call');
    this.forks.clearNoAnswer();
    this.forks.cancelRinging({ except: fork });
    this.b = this.attach(new SipLeg({ legId: 'b', session, codec: choice.audio, telephoneEvent: choice.telephoneEvent, sdp: this.bSdp, legRecordId: fork.legRecordId, webrtc: choice.webrtc }));
    // The callee hung up while its answer was applied (a BYE right after its ACK): the caller is answered all the
    // same, and hung up below, our BYE waiting for the caller's ACK (RFC 3261 §15, held by its session).
    const calleeLeft = session.closed;

    // Answer the caller: its session retransmits the 200 until the ACK, and ends the call if none comes.
    this.aSession.accept({ sdp: this.answerToCaller() });
    if (this.aSession.dialog && this.aSession.target) this.a = this.attach(new SipLeg({ legId: 'a', session: this.aSession, codec: this.aCodec, telephoneEvent: this.aTelephoneEvent, sdp: this.aSdp, legRecordId: this.aLegRecordId, webrtc: this.aWebRtc }));
    const answeredLegs = [
      ...(fork.legRecordId ? [{ id: fork.legRecordId, codec: choice.audio.name }] : []),
      ...(this.aLegRecordId ? [{ id: this.aLegRecordId, codec: this.aCodec.name }] : []),
    ];
    await this.ctx.records.answered(this.callRecordId!, answeredLegs);
    this.ctx.events.onAnswered?.(this);
    if (calleeLeft) this.hangup('b', 'answered');
  }

  /** Points a bridge leg at the party that answered our offer, with the codec it chose; null if its SDP is unusable. */
  private async applyAnswer(
    legId: 'a' | 'b',
    res: SipResponse,
    fork: Fork,
  ): Promise<{ audio: Codec; telephoneEvent: Codec | null; webrtc: SipLeg['webrtc'] } | null> {
    const answer = readForkAnswer(res, fork.webrtc);
    if (!answer) return null;
    await this.bridge!.updateLeg(legId, answer.leg);
    return { audio: answer.audio, telephoneEvent: answer.telephoneEvent, webrtc: answer.webrtc };
  }

  private maybeAllForksFailed(): void {
    if (this.state !== 'Ringing') return;
    const verdict = this.forks.allFailed();
    if (verdict) this.reject(verdict.status, verdict.reason, verdict.result);
  }

  private noAnswer(): void {
    if (this.state !== 'Ringing') return;
    this.forks.cancelRinging();
    this.reject(480, 'No Answer', 'no_answer');
  }

  // ---- A side ---------------------------------------------------------------

  /** Our SDP in the 200 to the caller: the answer, one codec; to a late offer, our offer, every codec we speak. */
  private answerToCaller(): Buffer {
    const codecs = this.lateOffer ? PLAIN_RTP_CODECS : [this.aCodec];
    return this.aSdp.build({ address: this.aLocal!.address, port: this.aLocal!.rtpPort, codecs, telephoneEvent: this.aTelephoneEvent, webrtc: this.aWebRtc?.local ?? null });
  }

  /**
   * Watches an answered party's session: its BYE, or the session ending on
   * its own (no ACK, no answer in the ACK, expiry, dialog gone), hangs the
   * call up from that side; its re-INVITEs and UPDATEs, and its other
   * in-dialog requests, come here. A session that no longer holds a side of
   * the call (a transferor's, replaced) is not listened to.
   */
  private attach(leg: SipLeg): SipLeg {
    const session = leg.session;
    const current = () => (this.a === leg ? 'a' : this.b === leg ? 'b' : null);
    session.on('terminated', (t: SessionTermination) => {
      const side = current();
      if (!side) return;
      if (t.reason === 'bye') this.hangup(side, 'answered');
      else if (t.reason === 'ack-timeout' || t.reason === 'no-answer-in-ack' || t.reason === 'session-expired' || t.reason === 'dialog-gone') this.hangup(side, 'failed');
    });
    session.on('offer', (offer) => {
      if (!current()) {
        offer.reject(481);
        return;
      }
      void this.reoffer(leg, offer).catch((err: unknown) => {
        this.log.error('re-offer failed', { error: err });
        offer.reject(500);
      });
    });
    session.on('request', (req, tx) => {
      const side = current();
      if (!side) {
        tx.respond(createResponse(req, 481));
        return;
      }
      void this.otherRequest(side, leg, req, tx).catch((err: unknown) => {
        // The call ended while the request was handled (e.g. a transfer target being called).
        if (!(err instanceof CallEndedError)) this.log.error('in-dialog request failed', { method: req.method, error: err });
        if (tx.canRespond) tx.respond(createResponse(req, err instanceof CallEndedError ? 481 : 500));
      });
    });
    return leg;
  }

  /** A 2xx no transaction claims any more: the session that sent the INVITE acknowledges it again (§13.2.2.4). */
  receiveStrayResponse(res: SipResponse): void {
    this.forks.receiveStrayResponse(res);
    for (const leg of [this.a, this.b]) if (leg && leg.callId === res.callId && !this.forks.holds(leg.session)) leg.session.receiveStrayResponse(res);
  }

  /** The caller's answer to our offer, in its ACK: the a leg gets its codec and address, or the call ends. */
  private async lateAnswer(sdp: Buffer): Promise<void> {
    if (!this.lateOffer || this.lateAnswered) return;
    this.lateAnswered = true;
    const answer = parseSdp(sdp.toString('utf8'));
    const audio = answer?.media.find((m) => m.type === 'audio' && m.port > 0);
    const choice = audio ? chooseCodec(audio.codecs) : null;
    const remote = answer && audio ? mediaAddress(answer, audio) : null;
    if (!choice || !audio || !remote || !this.bridge) {
      this.log.warn('late offer: the ACK carried no usable answer; ending the call');
      this.hangup('a', 'failed');
      this.aSession.bye();
      return;
    }
    this.aCodec = choice.audio;
    this.aTelephoneEvent = choice.telephoneEvent;
    if (this.a) {
      this.a.codec = choice.audio;
      this.a.telephoneEvent = choice.telephoneEvent;
    }
    await this.bridge.updateLeg('a', { codec: legCodec(choice.audio), telephoneEventPayloadType: choice.telephoneEvent?.payloadType ?? null, remote: { address: remote, rtpPort: audio.port } });
    if (this.aLegRecordId) await this.ctx.records.legAnswered(this.aLegRecordId, choice.audio.name);
  }

  /** CANCEL from the caller before the answer (RFC 3261 §9.2): 200 to it, 487 to the INVITE by the caller's session. */
  cancelByCaller(cancelTx: NonInviteServerTransaction): void {
    if (this.state !== 'Ringing' && this.state !== 'Routing') {
      this.aSession.acceptCancel(cancelTx);
      return;
    }
    this.forks.cancelRinging();
    this.aSession.acceptCancel(cancelTx);
    void this.finish('cancelled', 'caller');
  }

  /** Which side a dialog's Call-ID belongs to now (a transfer can move a Call-ID to the other side). */
  sideOf(callId: string): 'a' | 'b' | null {
    if (this.a?.callId === callId) return 'a';
    if (this.b?.callId === callId) return 'b';
    if (!this.a && callId === this.aCallId) return 'a';
    return null;
  }

  /** A request inside one of our dialogs, from whichever party it belongs to. */
  async inDialog(req: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction): Promise<void> {
    const retired = this.retired.find((l) => l.callId === req.callId);
    if (retired) {
      // The transferor leaving after the transfer: its dialog is no longer bridged to anything.
      tx.respond(createResponse(req, req.method === 'BYE' || req.method === 'NOTIFY' ? 200 : 481));
      if (req.method === 'BYE') {
        this.retired = this.retired.filter((l) => l !== retired);
        retired.close();
      }
      return;
    }
    const monitor = this.monitoring;
    if (monitor && monitor.callId === req.callId) {
      // The monitor's BYE, re-INVITEs and INFO: its session answers and hands them to the monitoring handlers.
      monitor.receiveRequest(req, tx);
      return;
    }
    const side = this.sideOf(req.callId);
    const leg = side === 'a' ? this.a : side === 'b' ? this.b : null;
    const answering = !leg && !this.ended ? this.forks.answering(req.callId) : undefined;
    if (answering) {
      // A callee's request between its 2xx and our answer to the caller (forkAnswered applies its SDP first):
      // its session answers it. A BYE there ends it, and forkAnswered hangs the call up once it has answered.
      answering.session.receiveRequest(req, tx);
      return;
    }
    if (!side || !leg || this.ended) {
      tx.respond(createResponse(req, 481));
      return;
    }
    leg.followConnection(tx.source);
    // The session answers BYE, orders CSeqs, and hands re-INVITEs and UPDATEs to reoffer() and the rest to otherRequest().
    leg.session.receiveRequest(req, tx);
  }

  /** An in-dialog request that is not the session's own business (INFO, OPTIONS, REFER, NOTIFY…). */
  private async otherRequest(side: 'a' | 'b', leg: SipLeg, req: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction): Promise<void> {
    switch (req.method) {
      case 'INFO':
        this.infoDtmf(side, req, tx);
        return;
      case 'OPTIONS':
        tx.respond(createResponse(req, 200));
        return;
      case 'REFER':
        await this.refer(side, leg, req, tx);
        return;
      case 'NOTIFY':
        tx.respond(createResponse(req, 200));
        return;
      default:
        tx.respond(createResponse(req, 501));
    }
  }

  /** A re-INVITE or UPDATE: hold, resume, or a new address (calls/reoffer.ts); the other party hears hold music while this one holds. */
  private async reoffer(leg: SipLeg, incoming: IncomingOffer): Promise<void> {
    if (!incoming.sdp) {
      incoming.accept();
      return;
    }
    const held = await answerReoffer({ container: this.legs!, party: leg, local: leg.legId === 'a' ? this.aLocal! : this.bLocal!, other: leg.legId === 'a' ? 'b' : 'a', offer: incoming, music: () => this.holdMusicOf(leg.legId) });
    if (held !== null) this.ctx.events.onHold?.(this, leg.legId, held);
  }

  /** The music a side's hold plays to the other side: its user's choice (null: silence), else the shipped hold music. */
  private async holdMusicOf(side: 'a' | 'b'): Promise<string | null> {
    const extensionId = this.sideExtension[side];
    if (!extensionId || !this.ctx.holdMusic) return HOLD_MUSIC.file;
    return this.ctx.holdMusic(this.accountId, extensionId).catch((err: unknown) => {
      this.log.warn('hold music of the user could not be read: the shipped music plays', { error: err });
      return HOLD_MUSIC.file;
    });
  }

  // ---- Transfers ------------------------------------------------------------

  /**
   * Blind transfer (RFC 3515, RFC 5589 §6): the party on `side` asks us to
   * replace it with the Refer-To target. The other party hears hold music
   * until the target answers, then talks to it on the same media port, so
   * its own session never changes. Progress goes back as NOTIFY sipfrag.
   */
  private async refer(side: 'a' | 'b', leg: SipLeg, req: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction): Promise<void> {
    // A transfer or a park moves the call's media elsewhere: the monitor leaves first (a BYE), the parties back on their bridge.
    await this.endMonitoring();
    const referTo = parseNameAddr(req.get('refer-to') ?? '');
    if (!referTo || this.transfer || this.parked || this.state !== 'Answered') {
      tx.respond(createResponse(req, referTo ? 491 : 400, { toTag: leg.session.dialog!.state.localTag }));
      return;
    }
    const replaces = replacesFromUriHeaders(referTo.uri.headers);
    if (replaces === 'invalid') {
      tx.respond(createResponse(req, 400, { reason: 'Bad Replaces In Refer-To', toTag: leg.session.dialog!.state.localTag }));
      return;
    }
    if (replaces) {
      await this.attendedTransfer(side, leg, req, tx, replaces);
      return;
    }
    const target = referTo.uri.user ?? '';
    const destination = await this.ctx.route(this.caller, target);
    if (destination.kind === 'park' && this.ctx.parking) {
      await this.parkByRefer(side, leg, req, tx, destination);
      return;
    }
    const route = bridgedOrRejected(destination);
    acceptRefer(leg.session, req, tx);
    this.transfer = { side, transferor: leg, byeTimer: null, targetNumber: target, byCommand: false };
    this.notifyTransfer(leg, 'SIP/2.0 100 Trying', 'active;expires=60');
    await this.callTransferTarget(side, route);
  }

  /**
   * A blind transfer asked by the app: the party on `transferee` is put through to `target` (as
   * the dial plan routes it for this call's caller) and the other party leaves once the target
   * answers. Resolves once the target is being called, or with why it cannot be.
   */
  async transferByCommand(transferee: 'a' | 'b', target: string): Promise<string | null> {
    const side = transferee === 'a' ? 'b' : 'a';
    const leg = side === 'a' ? this.a : this.b;
    if (this.state !== 'Answered' || this.transfer || this.link || !leg) return 'the call cannot be transferred now';
    await this.endMonitoring();
    const route = bridgedOrRejected(await this.ctx.route(this.caller, target));
    if (route.kind === 'reject') return `the target cannot be reached (${route.status} ${route.reason})`;
    if (this.state !== 'Answered' || this.transfer) return 'the call cannot be transferred now';
    this.transfer = { side, transferor: leg, byeTimer: null, targetNumber: target, byCommand: true };
    return (await this.callTransferTarget(side, route)) ? null : 'the target cannot be reached (no registered device)';
  }

  /** Plays hold music to the party being transferred and rings the target; false when it has nowhere to ring. */
  private async callTransferTarget(side: 'a' | 'b', route: Route): Promise<boolean> {
    const other = side === 'a' ? 'b' : 'a';
    await this.bridge!.play(other, HOLD_MUSIC, { loop: true });

    const targets: { target: SipTarget; uri: string; deviceId: string | null }[] = [];
    if (route.kind === 'extension') {
      for (const b of await this.ctx.bindings.list(route.extensionId)) {
        const t = reachTarget(b.contact, b.source);
        if (t) targets.push({ target: t, uri: b.contact, deviceId: b.deviceId });
      }
    } else if (route.kind === 'pstn') {
      targets.push({ target: trunkSipTarget(route.trunk), uri: trunkRequestUri(route.trunk), deviceId: null });
    }
    if (targets.length === 0) {
      this.transferFailed(route.kind === 'reject' ? route.status : 480, route.kind === 'reject' ? route.reason : 'Temporarily Unavailable');
      return false;
    }
    if (route.kind === 'extension') this.ctx.presence?.set(this, this.caller.accountId, route.extensionId, 'ringing');
    this.transferTargetExtension = route.kind === 'extension' ? route.extensionId : null;
    for (const t of targets) await this.fork(t.target, t.uri, t.deviceId, side, 'transfer', route);
    return true;
  }

  private async transferAnswered(fork: Fork, res: SipResponse): Promise<void> {
    const transfer = this.transfer;
    if (!transfer || this.ended || (transfer.recall && this.taking)) {
      fork.session.bye();
      return;
    }
    const side = transfer.side;
    const choice = await this.applyAnswer(side, res, fork);
    if (transfer.recall && (this.transfer !== transfer || this.taking || this.ended)) {
      // A member retrieved the call while the parker answered the recall: the member has it.
      fork.session.bye();
      return;
    }
    if (!choice) {
      fork.session.bye();
      this.transferFailed(488, 'Not Acceptable Here');
      return;
    }
    this.forks.answered(fork);
    this.forks.cancelRinging({ purpose: 'transfer', except: fork });
    await this.bridge!.stopPlayback(side === 'a' ? 'b' : 'a');
    const replaced = new SipLeg({ legId: side, session: fork.session, codec: choice.audio, telephoneEvent: choice.telephoneEvent, sdp: side === 'a' ? this.aSdp : this.bSdp, legRecordId: fork.legRecordId, webrtc: choice.webrtc });
    if (side === 'a') this.a = replaced;
    else this.b = replaced;
    this.attach(replaced);
    // The transferor leaves the call; the target is on it now.
    const transferorExtension = this.sideExtension[side];
    if (transferorExtension && transferorExtension !== this.transferTargetExtension) this.ctx.presence?.set(this, this.caller.accountId, transferorExtension, null);
    this.sideExtension[side] = this.transferTargetExtension;
    if (this.transferTargetExtension) this.ctx.presence?.set(this, this.caller.accountId, this.transferTargetExtension, 'on_call');
    if (fork.legRecordId) await this.ctx.records.legAnswered(fork.legRecordId, choice.audio.name);
    if (transfer.transferor?.legRecordId) await this.ctx.records.legEnded(transfer.transferor.legRecordId, 'transferred');
    await this.startTransferredSegment(side, fork.legRecordId, transfer.targetNumber);
    const transferor = transfer.transferor;
    this.transfer = null;
    if (transfer.recall) {
      // The parker took its call back: the location is free.
      this.leaveParking();
      return;
    }
    if (transfer.byCommand || !transferor) {
      // Nobody asked by REFER: the party replaced just leaves.
      transferor?.hangUp();
      this.ctx.events.onTransferred?.(this, side);
      return;
    }
    // The transferor is told, then leaves; if it does not hang up by itself, we end its dialog.
    this.retire(transferor);
    this.notifyTransfer(transferor, 'SIP/2.0 200 OK', 'terminated;reason=noresource');
    this.ctx.events.onTransferred?.(this, side);
  }

  // ---- Park and pickup (issue 15 points 4 and 5) ----------------------------------

  /**
   * Park by blind transfer (RFC 5589 §6) to a park location's number: the
   * party on `side` (the parker, a member of the location) leaves, the other
   * party hears hold music on its own media port until a member dials the
   * location (`takeIncoming`) or the recall rings the parker back. The REFER
   * gets its 202 at once; the NOTIFY sipfrag says how it ended: 200 parked,
   * 486 when the location holds a call already (one call per location), 403
   * for a non-member. A refused park leaves the call as it was.
   */
  private async parkByRefer(side: 'a' | 'b', leg: SipLeg, req: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction, destination: Extract<Destination, { kind: 'park' }>): Promise<void> {
    acceptRefer(leg.session, req, tx);
    this.notifyTransfer(leg, 'SIP/2.0 100 Trying', 'active;expires=60');
    const outcome = await this.parkOther(side, leg, destination);
    if (outcome === 'changed' && this.ended) return;
    this.notifyTransfer(leg, parkSipfrag(outcome), 'terminated;reason=noresource');
    if (outcome) return;
    // The transferor's phone hangs up on the NOTIFY's 200.
    this.retireSide(side, false);
    this.ctx.events.onParked?.(this, destination.slot!);
  }

  /**
   * The in-call park code (calls/park-code.ts): `side` keyed `*8` + a location + `#`. The other party
   * is parked there as by a blind transfer, and `side` is released with a BYE (it sent no REFER, so no
   * NOTIFY tells its phone to hang up). A code the call cannot follow (not a park location, refused,
   * the call busy with a transfer) changes nothing: the two stay connected.
   */
  private async parkByCode(side: 'a' | 'b', location: string): Promise<void> {
    const leg = side === 'a' ? this.a : this.b;
    if (!leg || !this.ctx.parking || this.state !== 'Answered' || this.transfer || this.parked) return;
    await this.endMonitoring();
    const destination = await this.ctx.route(this.caller, location);
    if (destination.kind !== 'park') {
      this.log.info('park code for what is not a park location: ignored', { side });
      return;
    }
    const outcome = await this.parkOther(side, leg, destination);
    if (outcome) {
      this.log.info('park code refused', { side, why: outcome });
      return;
    }
    this.retireSide(side, true);
    this.ctx.events.onParked?.(this, destination.slot!);
  }

  /**
   * Parks the party opposite `side` on a location, for `side`'s user (issue 15 point 4: members only,
   * one call per location): the location is taken and the other party hears hold music. Null when
   * parked; why not otherwise ('changed': the call ended or changed while the location was taken, which
   * is then given back).
   */
  private async parkOther(side: 'a' | 'b', leg: SipLeg, destination: ParkDestination): Promise<ParkOutcome> {
    // A call joined to another (attended transfer) has its other party on the other bridge: not parked, as a full location.
    if (this.link) return 'occupied';
    return parkOnLocation(this.ctx.parking!, this, {
      accountId: this.accountId,
      destination,
      parkerExtensionId: this.sideExtension[side],
      stillFits: () => !this.ended && (side === 'a' ? this.a : this.b) === leg && !this.transfer,
      parked: async (location) => {
        this.parked = { location, side };
        await this.bridge!.play(side === 'a' ? 'b' : 'a', HOLD_MUSIC, { loop: true });
      },
    });
  }

  /** The location this call is parked on, if it is. */
  get parkedOn(): string | null {
    return this.parked?.location ?? null;
  }

  /**
   * Nobody retrieved the parked call in time (ParkLot's timer): it rings the
   * one who parked it, as a blind transfer whose transferor is gone. Answered,
   * the parker talks to the party; not answered within the no-answer time (or
   * refused), the call ends.
   */
  async recallParked(parkerNumber: string | null): Promise<void> {
    const parked = this.parked;
    if (!parked || this.ended || this.transfer || this.state !== 'Answered') return;
    this.ctx.parking?.recalling(this);
    const route = parkerNumber ? bridgedOrRejected(await this.ctx.route(this.caller, parkerNumber)) : rejectDestination(404, 'Not Found', 'not_found');
    if (this.ended || this.parked !== parked || this.transfer) return;
    this.log.debug('park recall', { location: parked.location });
    const transfer = { side: parked.side, transferor: null, byeTimer: null, targetNumber: parkerNumber ?? '', byCommand: true, recall: true };
    this.transfer = transfer;
    if (!(await this.callTransferTarget(parked.side, route))) return;
    const timer = setTimeout(() => {
      if (this.transfer !== transfer || this.ended) return;
      this.forks.cancelRinging({ purpose: 'transfer' });
      this.transferFailed(480, 'No Answer');
    }, this.ctx.settings.noAnswerSeconds * 1000);
    timer.unref();
  }

  /** The call is no longer parked (retrieved, taken back at the recall, or ended): the location is free again. */
  private leaveParking(): void {
    if (!this.parked) return;
    this.parked = null;
    this.ctx.parking?.release(this);
    this.ctx.events.onParked?.(this, null);
  }

  /** The extension this call is ringing (not answered yet), for a directed pickup (`*58` + extension). */
  get ringingExtension(): { extensionId: string; extensionNumber: string } | null {
    if (this.state !== 'Ringing' || this.route?.kind !== 'extension') return null;
    return { extensionId: this.route.extensionId, extensionNumber: this.route.extensionNumber };
  }

  /**
   * A member's own INVITE takes the empty side of this call:
   * - 'retrieve': the member dialled the location this call is parked on (PK-01); it takes the side the
   *   parker left, the waiting party stops hearing hold music, and the call log starts a segment between them.
   * - 'pickup': the member dialled `*58` + the extension this call rings (PU-01); the callee's devices get
   *   CANCEL (RFC 3261 §9.1), the member answers in their place on side b, and the caller gets its 200.
   * We are the UAS of that INVITE (a new dialog on this call's bridge, the callee side's media port), so
   * neither party already on the call is re-INVITEd. Plain RTP only for now: a browser's offer gets 488.
   * The engine checked that the member may (ParkLot); this checks that the call still fits.
   */
  async takeIncoming(mode: 'retrieve' | 'pickup', invite: SipRequest, tx: InviteServerTransaction, source: SipSource, party: Extract<CallParty, { kind: 'device' }>): Promise<void> {
    const parked = this.parked;
    const side = mode === 'pickup' ? 'b' : parked?.side;
    const fits = () => (mode === 'pickup' ? this.state === 'Ringing' && !this.ended : this.state === 'Answered' && this.parked === parked && (side === 'a' ? this.a : this.b) === null);
    if (!side || !fits() || !this.bridge) {
      tx.respond(createResponse(invite, 480, { reason: mode === 'pickup' ? 'Nothing To Pick Up' : 'No Call Parked' }));
      return;
    }
    const choice = joiningOffer(invite);
    if (!choice) {
      tx.respond(createResponse(invite, 488, { reason: 'Not Acceptable Here' }));
      return;
    }
    const session = uasSession({ invite, tx, source, transactions: this.ctx.transactions, localContact: this.ctx.localContact, sessionSettings: this.ctx.sessionSettings, log: this.log });
    this.incomingCallIds.push(invite.callId);
    this.ctx.registerFork(invite.callId, this);
    if (session.refuseTooBrief()) return;
    const legRecordId = this.callRecordId
      ? await this.ctx.records.addLeg({
          callId: this.callRecordId,
          accountId: this.accountId,
          role: mode === 'pickup' ? 'callee' : 'transfer_target',
          endpoint: 'sip',
          deviceId: party.deviceId,
          sipCallId: invite.callId,
          remoteUri: invite.get('from') ?? null,
        })
      : null;
    // Media first (an await). `taking` keeps a second member, and a callee or parker answering meanwhile, from
    // pointing the same side elsewhere: the worker applies leg updates in order, and they give way once it is set.
    const sdp = new LocalSdp();
    const claimed = fits() && !this.taking;
    if (claimed) {
      this.taking = true;
      try {
        await this.bridge.updateLeg(side, { codec: legCodec(choice.audio), telephoneEventPayloadType: choice.telephoneEvent?.payloadType ?? null, remote: choice.remote });
      } finally {
        this.taking = false;
      }
    }
    if (!claimed || !fits() || !tx.canRespond) {
      // The call moved on meanwhile (answered elsewhere, retrieved by another member, ended), or the member's CANCEL came first.
      if (tx.canRespond) session.reject(480, mode === 'pickup' ? 'Nothing To Pick Up' : 'No Call Parked');
      session.close();
      if (legRecordId) await this.ctx.records.legEnded(legRecordId, tx.canRespond ? 'unavailable' : 'cancelled');
      return;
    }
    // From here to the answer nothing awaits: the call cannot change under us.
    if (mode === 'pickup') {
      this.forks.clearNoAnswer();
      this.forks.cancelRinging();
      this.transition('Answered');
    } else {
      this.parked = null;
      // A recall ringing the parker meanwhile is called off: the member was first.
      if (this.transfer?.recall) {
        this.transfer = null;
        this.forks.cancelRinging({ purpose: 'transfer' });
      }
    }
    const local = side === 'a' ? this.aLocal! : this.bLocal!;
    session.accept({ sdp: sdp.build({ address: local.address, port: local.rtpPort, codecs: [choice.audio], telephoneEvent: choice.telephoneEvent, webrtc: null }) });
    const taken = this.attach(new SipLeg({ legId: side, session, codec: choice.audio, telephoneEvent: choice.telephoneEvent, sdp, legRecordId, webrtc: null }));
    if (side === 'a') this.a = taken;
    else this.b = taken;
    if (this.ended) return;

    if (mode === 'pickup') {
      // The extension that rang is no longer ringing; the member who picked up is on the call.
      const rung = this.sideExtension.b;
      if (rung && rung !== party.extensionId) this.ctx.presence?.set(this, this.accountId, rung, null);
      this.setPresence('b', party.extensionId, 'on_call');
      this.aSession.accept({ sdp: this.answerToCaller() });
      if (this.aSession.dialog && this.aSession.target) this.a = this.attach(new SipLeg({ legId: 'a', session: this.aSession, codec: this.aCodec, telephoneEvent: this.aTelephoneEvent, sdp: this.aSdp, legRecordId: this.aLegRecordId, webrtc: this.aWebRtc }));
      const answeredLegs = [...(legRecordId ? [{ id: legRecordId, codec: choice.audio.name }] : []), ...(this.aLegRecordId ? [{ id: this.aLegRecordId, codec: this.aCodec.name }] : [])];
      await this.ctx.records.answered(this.callRecordId!, answeredLegs);
      this.ctx.events.onAnswered?.(this);
      return;
    }
    await this.bridge.stopPlayback(side === 'a' ? 'b' : 'a').catch(() => undefined);
    this.ctx.parking?.release(this);
    this.ctx.events.onParked?.(this, null);
    this.setPresence(side, party.extensionId, 'on_call');
    if (legRecordId) await this.ctx.records.legAnswered(legRecordId, choice.audio.name);
    this.transferTargetExtension = party.extensionId;
    await this.startTransferredSegment(side, legRecordId, party.extensionNumber);
  }

  // ---- Call monitoring (issue 15 point 6, MON-01) --------------------------------

  /** Where the legs a and b are: the call's bridge, or the monitoring room while a monitor is on the call. */
  private get legs(): ContainerHandle | null {
    return this.monitoring?.inRoom ? this.monitoring.room : this.bridge;
  }

  /**
   * The side `extensionId` is on, when this is an answered two-party call a monitor can join: both
   * parties here (not parked, not joined to another call, no transfer going on) and no monitor yet.
   */
  monitorableSide(extensionId: string): 'a' | 'b' | null {
    if (this.state !== 'Answered' || this.ended || this.monitoring || this.link || this.parked || this.transfer || !this.a || !this.b || !this.bridge) return null;
    return this.sideExtension.a === extensionId ? 'a' : this.sideExtension.b === extensionId ? 'b' : null;
  }

  /** The monitored side and mode, while a monitor is on the call (tests and the supervisor's view read it). */
  get monitored(): { agentSide: 'a' | 'b'; mode: MonitorMode; monitorExtensionId: string } | null {
    const m = this.monitoring;
    return m ? { agentSide: m.agentSide, mode: m.mode, monitorExtensionId: m.party.extensionId } : null;
  }

  /** A monitor's INVITE (a monitoring code + the agent's extension) joins this call on `agentSide` (CallMonitor.join). */
  monitor(mode: MonitorMode, agentSide: 'a' | 'b', invite: SipRequest, tx: InviteServerTransaction, source: SipSource, party: Extract<CallParty, { kind: 'device' }>): Promise<void> {
    const agentExtension = this.sideExtension[agentSide];
    const call: MonitoredCall = {
      log: this.log,
      accountId: this.accountId,
      recordId: this.callRecordId,
      media: this.ctx.media,
      transactions: this.ctx.transactions,
      sessionSettings: this.ctx.sessionSettings,
      records: this.ctx.records,
      localContact: (transport) => this.ctx.localContact(transport),
      bridge: () => this.bridge,
      fits: () => agentExtension !== null && this.monitorableSide(agentExtension) === agentSide,
      ended: () => this.ended,
      registerCallId: (callId) => {
        this.incomingCallIds.push(callId);
        this.ctx.registerFork(callId, this);
      },
      setMonitor: (monitor) => {
        // The one leaving is waited for by finish() (its legs may be moving back to the bridge).
        if (!monitor && this.monitoring) this.monitorLeaving = this.monitoring.settled();
        this.monitoring = monitor;
      },
      partyEvent: (e) => (e.type === 'dtmf' ? this.onDtmf(e) : e.type === 'media-timeout' ? this.onMediaTimeout(e) : undefined),
      presence: (extensionId, state) => this.ctx.presence?.set(this, this.accountId, extensionId, state),
      takeOver: (monitor) => this.takeOver(monitor),
    };
    return CallMonitor.join(call, mode, agentSide, invite, tx, source, party);
  }

  /**
   * Take over: the agent gets a BYE and leaves; the monitor takes the agent's side of the call (its
   * session and its leg record become that side's), and the two legs go back to the two-party bridge,
   * the monitor's under the agent's leg id. The other party keeps its session and hears the monitor.
   */
  private async takeOver(monitor: CallMonitor): Promise<void> {
    await monitor.serial(async () => {
      // The signalling first and at once: from here a BYE from either party ends the call with the monitor in it.
      if (!monitor.becomeParty()) return;
      const side = monitor.agentSide;
      this.retireSide(side, true);
      const legRecordId = monitor.legRecordId;
      monitor.legRecordId = null;
      if (side === 'a') this.aLegRecordId = legRecordId;
      const taken = this.attach(new SipLeg({ legId: side, session: monitor.session, codec: monitor.codec, telephoneEvent: monitor.telephoneEvent, sdp: monitor.sdp, legRecordId, webrtc: null }));
      if (side === 'a') this.a = taken;
      else this.b = taken;
      this.setPresence(side, monitor.party.extensionId, 'on_call');
      // Then the media (finish() waits for this before closing the bridge).
      await monitor.moveAsAgent(this.bridge!);
      this.log.info('call taken over by its monitor', { side });
    });
  }

  /** Ends the monitoring before the call's media moves elsewhere (a transfer, a park): BYE to the monitor. */
  private async endMonitoring(): Promise<void> {
    await this.monitoring?.end();
  }

  /**
   * Attended transfer (RFC 5589 §7): the party on `side` talks to someone
   * else in another call and asks us to connect its two correspondents,
   * replacing both of its dialogs (Refer-To with Replaces, RFC 3891). Both
   * correspondents keep their sessions: the two bridges are linked instead.
   */
  private async attendedTransfer(side: 'a' | 'b', leg: SipLeg, req: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction, replaces: ReplacesTarget): Promise<void> {
    const found = this.ctx.findDialog(replaces.callId, replaces.toTag, replaces.fromTag);
    const refuse = (status: number, reason: string) => tx.respond(createResponse(req, status, { reason, toTag: leg.session.dialog!.state.localTag }));
    if (!found || found.call === this || found.call.state !== 'Answered' || found.call.link) return refuse(481, 'Replaced Dialog Does Not Exist');
    // A dialog of another account is not ours to hand over, whatever its identifiers.
    if (found.call.accountId !== this.accountId) return refuse(403, 'Forbidden');
    if (replaces.earlyOnly) return refuse(486, 'Busy Here');
    acceptRefer(leg.session, req, tx);
    this.notifyTransfer(leg, 'SIP/2.0 100 Trying', 'active;expires=60');
    try {
      await this.linkWith(side, found.call, found.side);
    } catch (err) {
      this.log.error('attended transfer failed', { error: err });
      this.notifyTransfer(leg, 'SIP/2.0 500 Server Internal Error', 'terminated;reason=noresource');
      return;
    }
    await this.joinSegments(side, found.call, found.side);
    // Both of the transferor's dialogs end: the replaced one by our BYE (RFC 3891 §3), the other after NOTIFY.
    found.call.retireSide(found.side, true);
    this.notifyTransfer(leg, 'SIP/2.0 200 OK', 'terminated;reason=noresource');
    this.retireSide(side, false);
    this.ctx.events.onTransferred?.(this, side);
  }

  /**
   * The call log after a blind transfer: the segment with the transferor ends,
   * hung up by the transferor, and one between the party who stayed and the
   * target starts (the target's leg moves to it); side a's party is its caller.
   */
  private async startTransferredSegment(transferorSide: 'a' | 'b', targetLegRecordId: string | null, targetNumber: string): Promise<void> {
    const segment = this.callRecordId;
    if (!segment) return;
    const stayer = transferorSide === 'a' ? 'b' : 'a';
    const stayed = { segment, end: this.partyRole(stayer) === 'caller' ? ('from' as const) : ('to' as const) };
    const target = { number: targetNumber, name: null, extensionId: this.transferTargetExtension };
    try {
      this.callRecordId = await this.ctx.records.transferred({
        ended: [{ segment, hangupBy: this.partyRole(transferorSide) }],
        from: transferorSide === 'a' ? target : stayed,
        to: transferorSide === 'a' ? stayed : target,
        legIds: targetLegRecordId ? [targetLegRecordId] : [],
      });
      this.segmentRole = {};
    } catch (err) {
      this.log.error('call record of a transfer not written', { error: err });
    }
  }

  /**
   * The call log after an attended transfer: both segments the transferor was
   * in (with us, and the consultation in `other`) end, hung up by the
   * transferor, and one between the two parties who stayed starts in this
   * call's session, written by whichever of the two calls ends first.
   */
  private async joinSegments(transferorSide: 'a' | 'b', other: B2buaCall, theirTransferorSide: 'a' | 'b'): Promise<void> {
    const mine = this.callRecordId;
    const theirs = other.callRecordId;
    if (!mine || !theirs) return;
    const myStayer = transferorSide === 'a' ? 'b' : 'a';
    const theirStayer = theirTransferorSide === 'a' ? 'b' : 'a';
    const end = (side: 'a' | 'b', call: B2buaCall) => (call.partyRole(side) === 'caller' ? ('from' as const) : ('to' as const));
    try {
      const joined = await this.ctx.records.transferred({
        ended: [
          { segment: mine, hangupBy: this.partyRole(transferorSide) },
          { segment: theirs, hangupBy: other.partyRole(theirTransferorSide) },
        ],
        from: { segment: mine, end: end(myStayer, this) },
        to: { segment: theirs, end: end(theirStayer, other) },
        legIds: [],
      });
      this.callRecordId = joined;
      other.callRecordId = joined;
      this.segmentRole = { [myStayer]: 'caller' };
      other.segmentRole = { [theirStayer]: 'callee' };
    } catch (err) {
      this.log.error('call record of a transfer not written', { error: err });
    }
  }

  private partyRole(side: 'a' | 'b'): 'caller' | 'callee' {
    return this.segmentRole[side] ?? (side === 'a' ? 'caller' : 'callee');
  }

  /**
   * Joins our `side` to the other call's `theirSide` with a media pipe between the two bridges
   * (the transferor's legs on both give their place to the pipe's ends). Closing either bridge
   * closes the pipe.
   */
  private async linkWith(side: 'a' | 'b', other: B2buaCall, theirSide: 'a' | 'b'): Promise<void> {
    const staying = side === 'a' ? this.b : this.a;
    // The codec of the party that stays on our side, so its audio crosses without transcoding when both match.
    const codec = staying && staying.codec.name.toUpperCase() !== 'OPUS' ? legCodec(staying.codec) : { name: 'PCMU' as LegCodecName, payloadType: 0 };
    await this.bridge!.pipeTo(side, other.bridge!, theirSide, { codec });
    // Whoever waited on hold while the transferor consulted now hears the other party.
    await Promise.all([this.bridge!.stopPlayback(side === 'a' ? 'b' : 'a'), other.bridge!.stopPlayback(theirSide === 'a' ? 'b' : 'a')]);
    this.link = { side, call: other, theirSide };
    other.link = { side: theirSide, call: this, theirSide: side };
  }

  /** The transferor leaves `side`: its dialog is kept only to answer its BYE, or ended by ours. */
  private retireSide(side: 'a' | 'b', sendBye: boolean): void {
    const leg = side === 'a' ? this.a : this.b;
    if (!leg) return;
    if (side === 'a') this.a = null;
    else this.b = null;
    const leaving = this.sideExtension[side];
    if (leaving) this.ctx.presence?.set(this, this.caller.accountId, leaving, null);
    this.sideExtension[side] = null;
    if (leg.legRecordId) void this.ctx.records.legEnded(leg.legRecordId, 'transferred').catch(() => undefined);
    if (sendBye) {
      leg.hangUp();
      return;
    }
    this.retire(leg);
  }

  /** A transferor's leg, kept to answer its BYE; if it does not hang up within 5 s, we end it. */
  private retire(leg: SipLeg): void {
    this.retired.push(leg);
    leg.retire(5000, () => {
      this.retired = this.retired.filter((l) => l !== leg);
    });
  }

  private setPresence(side: 'a' | 'b', extensionId: string, state: 'ringing' | 'on_call'): void {
    // finish() cleared the call's presence for good.
    if (this.ended) return;
    this.sideExtension[side] = extensionId;
    this.ctx.presence?.set(this, this.caller.accountId, extensionId, state);
  }

  /** Which side of this call holds the dialog with these tags (in either order). */
  sideWithDialog(callId: string, tag1: string, tag2: string): 'a' | 'b' | null {
    for (const leg of [this.a, this.b]) if (leg?.matches(callId, tag1, tag2)) return leg.legId;
    return null;
  }

  get accountId(): string {
    return this.caller.accountId;
  }

  /** The extension whose phone is on `side` now, if any (presence of a hold). */
  extensionOn(side: 'a' | 'b'): string | null {
    return this.sideExtension[side];
  }

  private transferFailed(status: number, reason: string): void {
    const transfer = this.transfer;
    if (!transfer) return;
    if (this.transferTargetExtension && this.transferTargetExtension !== this.sideExtension.a && this.transferTargetExtension !== this.sideExtension.b) {
      this.ctx.presence?.set(this, this.caller.accountId, this.transferTargetExtension, null);
    }
    this.transfer = null;
    if (transfer.recall) {
      // Nobody retrieved the call and its parker did not take it back: it ends (the party who waited gets a BYE).
      // The segment was answered; it ends from the side that left it, as when the callee hangs up.
      this.log.debug('park recall failed; ending the parked call', { status });
      this.hangup(transfer.side, 'answered', this.partyRole(transfer.side));
      return;
    }
    void this.bridge?.stopPlayback(transfer.side === 'a' ? 'b' : 'a').catch(() => undefined);
    if (!transfer.byCommand && transfer.transferor) this.notifyTransfer(transfer.transferor, `SIP/2.0 ${status} ${reason}`, 'terminated;reason=noresource');
  }

  private notifyTransfer(to: SipLeg, sipfrag: string, subscriptionState: string): void {
    notifyRefer(to.session, sipfrag, subscriptionState);
  }

  /** SIP INFO DTMF (application/dtmf-relay or application/dtmf) goes on to the other side as RFC 4733. */
  private infoDtmf(side: 'a' | 'b', req: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction): void {
    const digit = answerInfoDtmf(req, tx);
    if (!digit) return;
    const other = side === 'a' ? 'b' : 'a';
    this.onDigit(side, digit);
    void this.legs?.sendDtmf(other, digit).catch(() => undefined);
  }


  private mediaEvent(e: MediaEvent): void {
    if (e.type === 'dtmf') this.onDigit(e.legId as 'a' | 'b', e.digit);
  }

  /**
   * The call's phones have all sent no RTP or RTCP for the media timeout
   * (media/engine/media-timeout.ts): they vanished without a BYE (lost power
   * or network). The call ends as a failure, hung up by 'media-timeout': a
   * BYE to each silent leg (in case it is only deaf) and, through hangup(),
   * to the other side and the party of a call joined to this one. Before the
   * answer the ringing has its own timer; the engine reports a lasting
   * silence again later.
   */
  private mediaTimedOut(e: Extract<MediaEvent, { type: 'media-timeout' }>): void {
    if (this.state !== 'Answered' || this.ended) return;
    const silent = e.legIds.filter((id): id is 'a' | 'b' => id === 'a' || id === 'b');
    const from = silent[0];
    if (!from) return;
    this.log.warn('no media from the call\'s phones: ending the call', { legs: silent, silentMs: e.silentMs });
    for (const side of silent) (side === 'a' ? this.a : this.b)?.hangUp();
    this.hangup(from, 'failed', 'media-timeout');
  }

  private onDigit(side: 'a' | 'b', digit: string): void {
    this.ctx.events.onDtmf?.(this, side, digit);
    // Which digit is never logged: digits can be PINs and card numbers.
    this.log.debug('dtmf received', { side });
    this.recording.digit(side, digit);
    const parkAt = this.parkCodes.feed(side, digit);
    if (parkAt) void this.parkByCode(side, parkAt).catch((err: unknown) => this.log.warn('park code failed', { error: err }));
  }

  /**
   * What the `*9` recording sees of this call: the bridge's recorder and
   * players (both parties in one file, both hear the announcements), the
   * account's switch and language, and who typed it.
   */
  private recordedCall(): RecordedCall {
    return {
      accountId: this.caller.accountId,
      recordId: () => this.callRecordId,
      // The bridge records its two legs; while monitored they are in the monitoring room (not recorded there yet).
      unavailable: () => (this.state !== 'Answered' || !this.bridge || !this.callRecordId ? 'not-answered' : this.monitoring ? 'monitored' : null),
      extensionOf: (side) => (side === 'a' ? (this.caller.kind === 'device' ? this.caller.extensionId : null) : this.route?.kind === 'extension' ? this.route.extensionId : null),
      settings: () => this.ctx.recordingSettings(this.caller.accountId),
      startRecorder: (file) => this.bridge!.startRecording(file),
      stopRecorder: async () => (this.bridge ? await this.bridge.stopRecording() : null),
      announce: async (prompt, language) => {
        const file = promptPath(language, prompt);
        await Promise.all([this.bridge!.play('a', { file }), this.bridge!.play('b', { file })]);
      },
      changed: (on) => this.ctx.events.onRecording?.(this, on),
    };
  }

  /** Ends an answered call from one side: BYE to the other, then cleanup. */
  hangup(from: 'a' | 'b', result: CallResult, hangupBy?: 'caller' | 'callee' | 'media-timeout'): void {
    if (this.ended) return;
    // Hung up from the call we are joined to, the party who left is there, not on our `from` side.
    const by = hangupBy ?? this.partyRole(from);
    const otherSide = from === 'a' ? 'b' : 'a';
    const other = from === 'a' ? this.b : this.a;
    if (other) other.hangUp();
    const link = this.link;
    if (link && link.side === otherSide) {
      // The other party is in the call we were joined to: it is hung up there.
      this.link = null;
      link.call.link = null;
      link.call.hangup(link.theirSide, result, by);
    }
    void this.finish(result, by);
  }

  /**
   * Ends the call on a command from the app (the control channel): an answered
   * call gets a BYE on both sides (and on the party of a call it is joined to);
   * a call not answered yet is refused to the caller (480) and its forks are
   * cancelled. Returns false when the call had already ended.
   */
  hangUpByCommand(): boolean {
    if (this.ended) return false;
    if (this.state !== 'Answered') {
      this.reject(480, 'Call Ended By Administrator', 'cancelled', 'control');
      return true;
    }
    const link = this.link;
    for (const side of ['a', 'b'] as const) {
      const leg = side === 'a' ? this.a : this.b;
      if (leg) leg.hangUp();
      else if (link?.side === side) {
        this.link = null;
        link.call.link = null;
        link.call.hangUpByCommand();
      }
    }
    void this.finish('answered', 'control');
    return true;
  }

  /** Starts or stops the `*9` recording on a command; the reason when it cannot. */
  setRecordingByCommand(on: boolean): Promise<string | null> {
    return this.recording.command(on);
  }

  private reject(status: number, reason: string, result: CallResult, hangupBy: string | null = null): void {
    this.aSession.reject(status, reason);
    void this.finish(result, hangupBy);
  }

  /**
   * Ends the call and everything it holds, whatever step it is at: the state
   * becomes Ended (terminal), the start stops at its next step, ringing forks
   * are cancelled, and once the start has stopped its bridge (with the media
   * legs) is closed and the records written. Runs once.
   */
  async finish(result: CallResult, hangupBy: string | null): Promise<void> {
    if (this.ended) return;
    this.transition('Ended');
    this.ctx.presence?.clear(this);
    this.forks.clearNoAnswer();
    this.parked = null;
    this.ctx.parking?.release(this);
    // Whatever ended the call, no session of it keeps a timer running (2xx retransmission, refresh, expiry).
    if (this.a) this.a.close();
    if (this.b) this.b.close();
    if (!this.a) this.aSession.close();
    this.forks.cancelRinging();
    // Either party hung up: the monitor gets its BYE too (its room is closed below, with the legs in it if they are there).
    const monitoring = this.monitoring;
    this.monitoring = null;
    monitoring?.hangUp();
    this.ctx.forget(this);
    // What the start acquired before it saw the end is on the call once it stops.
    await this.startup.catch(() => undefined);
    try {
      await this.recording.close().catch((err: unknown) => this.log.warn('recording not finalised', { error: err }));
      // A monitor's change of mode or leaving stops before the media is read and closed.
      await this.monitorLeaving;
      await monitoring?.settled();
      const legs = monitoring?.inRoom && !monitoring.room.closed ? monitoring.room : this.bridge;
      const stats = legs ? await legs.stats().catch(() => []) : [];
      const statsOf = (legId: string) => {
        const s = stats.find((x) => x.legId === legId);
        return s ? { received: s.received, sent: s.sent, dropped: s.dropped, rtcpReceived: s.rtcpReceived } : undefined;
      };
      this.lastStats = stats;
      const endedLegs = [
        ...(this.aLegRecordId ? [{ id: this.aLegRecordId, result, rtpStats: statsOf('a') }] : []),
        ...(this.b?.legRecordId ? [{ id: this.b.legRecordId, result, rtpStats: statsOf('b') }] : []),
      ];
      if (this.callRecordId) await this.ctx.records.ended(this.callRecordId, result, hangupBy, endedLegs);
      else for (const leg of endedLegs) await this.ctx.records.legEnded(leg.id, leg.result, leg.rtpStats);
    } catch (err) {
      this.log.error('could not write the call record', { error: err });
    } finally {
      if (monitoring) await monitoring.close();
      if (this.bridge) {
        this.bridge.off('dtmf', this.onDtmf);
        this.bridge.off('media-timeout', this.onMediaTimeout);
        await this.bridge.close().catch(() => undefined);
      }
      this.ctx.events.onEnded?.(this, result);
    }
  }

  /** The last media figures read at the end of the call (tests and benchmarks read them). */
  lastStats: Awaited<ReturnType<BridgeHandle['stats']>> = [];

  get recordId(): string | null {
    return this.callRecordId;
  }

  get forkCallIds(): string[] {
    return [...this.forks.callIds, ...this.incomingCallIds];
  }

  /** Codec names the media engine can carry, for the engine to refuse the rest early. */
  static supports(name: string): boolean {
    return CODEC_NAMES.has(name.toUpperCase() as LegCodecName);
  }
}

/** The extension a call was for, in its record: the called extension, or the special extension (mailbox, queue, announcement, paging group) it reached. */
function calleeExtensionOf(destination: Destination): string | null {
  return 'extensionId' in destination ? destination.extensionId : destination.kind === 'ivr' ? destination.menuId : null;
}
