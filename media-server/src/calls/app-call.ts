import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@carillon/config';
import type { CallResult } from '@carillon/db';
import type { MonitorMode } from '@carillon/domain';
import { promptPath, type BridgeHandle, type ContainerHandle, type LegCodecName, type MediaEvent, type PlaybackSource, type PromptName, type RoomHandle } from '../media/index.ts';
import { generateTone } from '../media/audio/tone-generator.ts';
import { readWav8kMono, WAV_HEADER_BYTES, wavHeader } from '../media/media-player/wav-file.ts';
import { createResponse, type SipRequest, type SipResponse } from '../sip/message/index.ts';
import { InviteSession, type IncomingOffer, type SessionSettings, type SessionTermination } from '../sip/session/index.ts';
import type { InviteServerTransaction, NonInviteServerTransaction, TransactionLayer } from '../sip/transaction/index.ts';
import type { SipSource, SipTransportProtocol } from '../sip/transport/index.ts';
import { mediaAddress, parseSdp, type Codec } from '../sdp/session-description.ts';
import { chooseCodec, PLAIN_RTP_CODECS, TELEPHONE_EVENT, WEBRTC_CODECS } from '../sdp/negotiate-codecs.ts';
import {
  CallEndedError,
  DestinationRefusedError,
  UnsupportedVerbError,
  type CallApp,
  type CallHandle,
  type CollectOptions,
  type BridgeOptions,
  type BridgeOutcome,
  type DialOutOptions,
  type CollectResult,
  type PlayOptions,
  type PlayResult,
  type PlaySource,
  type JoinRoomOptions,
  type RecordOptions,
  type RecordResult,
  type RoomExit,
  type RoomRef,
  type RoomRole,
} from '../apps/call-handle.ts';
import type { CallDirection, Destination, ExtensionDestination, TrunkTarget } from '../routing/destination.ts';
import type { MediaEngine } from '../media/index.ts';
import { CallState, type CallMoves } from './call-state.ts';
import { CalleeForks, DECLINE_DIGIT, type CalleeDevice, type CalleeTarget } from './app-call-bridge.ts';
import { CallMonitor, type MonitoredCall } from './call-monitor.ts';
import { pstnCallee } from './pstn-callee.ts';
import type { CallRecords } from './call-records.ts';
import type { RoomRegistry } from './room-registry.ts';
import { dialIntoRoom } from './room-dial-out.ts';
import type { CallParty } from './call-context.ts';
import { LocalSdp } from './local-sdp.ts';
import { answerReoffer, HOLD_MUSIC } from './reoffer.ts';
import { joiningOffer, uasSession } from './uas-session.ts';
import { answerSetup, isWebRtcMedia, newLocalWebRtc, readPeerWebRtc, webRtcLegSpec, type LocalWebRtc, type PeerWebRtc } from './webrtc-media.ts';
import type { ParkableCall, ParkLot } from './park-lot.ts';
import { ParkCodeDetector } from './park-code.ts';
import { answerInfoDtmf } from './info-dtmf.ts';
import { parkOnLocation, recallCallerName, type ParkDestination, type ParkOutcome } from './parking.ts';

/**
 * A call answered by an application (apps/): the caller's INVITE session (we
 * are its UAS) and, once answered, one media endpoint with no peer (an
 * endpoint alone in a bridge) that plays prompts to the caller, hears its
 * digits and records it. The application drives it through `CallHandle`.
 *
 *   Starting --> Offered --> Answered
 *       \           |           |
 *        '----------+-----------+--> Ending --> Ended
 *
 * Starting: the call record is opened (every authenticated call has one; calls/call-records.ts writes it at the answer or the end).
 * Offered: the application runs; the caller's INVITE has no final response.
 * Answered: our 200 is sent; media flows.
 * Ending: whatever ended it (the caller's CANCEL or BYE, the application's
 * hang-up or refusal, the application returning, a failure), the signal has
 * fired and every verb refuses; the call waits for the application to return,
 * then releases its media.
 * Ended: everything is released (the closed flag); nothing reopens it.
 * `transition()` (calls/call-state.ts) is the only writer of the state and
 * throws IllegalCallTransition on any move this diagram does not draw.
 */
export type AppCallState = 'Starting' | 'Offered' | 'Answered' | 'Ending' | 'Ended';

const APP_CALL_MOVES: CallMoves<AppCallState> = {
  Starting: ['Offered', 'Ending'],
  Offered: ['Answered', 'Ending'],
  Answered: ['Ending'],
  Ending: ['Ended'],
  Ended: [],
};

/** How the call ended, as its record says it. */
export interface AppCallEnd {
  result: CallResult;
  /** 'caller', 'callee' (the application), 'control', or null (a failure). */
  hangupBy: string | null;
}

export interface AppCallEvents {
  state: [from: AppCallState, to: AppCallState];
  /** Our 200 went out, with the codec the caller's leg uses. */
  answered: [codec: string];
  /** The call is over for the application (the signal fired). */
  ending: [end: AppCallEnd];
  /** What `bridgeTo` does to the extension it rings (its presence): ringing, on the call, or nothing any more; and a monitor's, on the call while it monitors. */
  callee: [extensionId: string, state: 'ringing' | 'on_call' | null];
  /** A party put the call on hold or took it off ('a': the caller; 'b': the party `bridgeTo` connected), as a B2BUA call's onHold says it. */
  hold: [side: 'a' | 'b', held: boolean];
  /** The caller was parked on a location (its number) by the party `bridgeTo` connected, and when it left it (retrieved, recalled, or ended). */
  parked: [location: string | null];
  /** Everything is released; `stats` are the caller's media figures, if media was opened. */
  ended: [end: AppCallEnd & { stats: Record<string, unknown> | undefined }];
}

/** What an application call needs from the engine; narrow, so that it can be tested on its own. */
export interface AppCallContext {
  log: Logger;
  transactions: TransactionLayer;
  media: MediaEngine;
  sessionSettings?: Partial<SessionSettings>;
  localContact(transport: SipTransportProtocol): { host: string; port: number };
  /** Opens the call's record with its caller's leg (calls/call-records.ts, written at the answer or the end); the call's id in the log. */
  openRecord(call: AppCall): Promise<{ callId: string; legId: string }>;
  /** The account's language, for prompts. */
  language(accountId: string): Promise<'en' | 'fr'>;
  /** Text spoken in a language, as a media file (8 kHz mono WAV), from the TTS cache. */
  speak(text: string, language: 'en' | 'fr'): Promise<string>;
  /** Where recordings in progress are written (under DATA_DIR). */
  recordingsDir: string;
  /** The call is over and released: the engine forgets it. */
  forget(call: AppCall): void;
  /** For `bridgeTo`: the devices an extension has registered now (none: unavailable). */
  calleeDevices(extensionId: string): Promise<CalleeDevice[]>;
  /** The callee legs of `bridgeTo` in the call record. */
  records: Pick<CallRecords, 'addLeg' | 'legEnded' | 'answered' | 'legAnswered'>;
  domain: string;
  /** A callee fork's Call-ID reaches this call (its BYE, a retransmitted 2xx) until the call is forgotten. */
  registerFork(callId: string, call: AppCall): void;
  /** The Authorization for a carrier's challenge to a forwarded call (shared with the B2BUA's outbound calls). */
  trunkAuthorization?(trunk: TrunkTarget, request: SipRequest, challenge: SipResponse): string | null;
  /** For `joinRoom`: the node's rooms (one opens with its first member and closes with its last). */
  rooms: Pick<RoomRegistry, 'enter'>;
  /**
   * For `transfer`: where an extension's number leads for a call of this account and direction (the
   * dial plan), and the application that then takes the call, or why none does.
   */
  transferTarget(accountId: string, extensionNumber: string, direction: CallDirection): Promise<{ destination: Destination; app: CallApp } | { status: number; reason: string }>;
  /** What the other party hears while a user holds: their hold music, null for silence (calls/call-context.ts `holdMusic`); absent, the shipped music. */
  holdMusic?(accountId: string, extensionId: string): Promise<string | null>;
  /** Park locations (unreleased area 'park'): absent, a REFER to a location is refused as a transfer with no application (480). */
  parking?: AppCallParking;
}

/** What parking an application call's caller needs (calls/parking.ts): the node's park lot, and the dial plan's view of a number. */
export interface AppCallParking {
  lot: Pick<ParkLot<AppCall>, 'park' | 'release' | 'recalling'>;
  /** The park location a number of the account names, or null when it names none. */
  location(accountId: string, number: string): Promise<ParkDestination | null>;
  /** The extension a parker's number names, rung at the recall; null when it names none. */
  parker(accountId: string, number: string): Promise<ExtensionDestination | null>;
}

/** Hand-overs in one call: past it, applications sending the call to each other are a loop (RFC 3261's Max-Forwards, in spirit). */
const MAX_TRANSFERS = 10;

/** Extensions one `bridgeTo` rings at once (a queue's Simultaneous offer goes to its free members). */
const MAX_BRIDGE_TARGETS = 100;
/** Outbound legs one call holds at once (`dialOut`: a page's receivers, a conference's dial-outs). */
export const MAX_DIAL_OUTS = 100;

/**
 * The caller's place in a room while `joinRoom` runs. 'moved': its endpoint left the call's bridge
 * for the room (same worker: its sockets, keys and stream stay, the peer sees nothing); 'piped': the
 * room is on another worker, so the endpoint stays in the bridge and a pipe joins the bridge to the
 * room, whose end of it is the member.
 */
interface RoomMembership {
  room: RoomHandle;
  /** The member's endpoint in the room (the caller's own, or the pipe's end). */
  endpointId: string;
  placed: 'moved' | 'piped';
  /** A listener is never heard, whatever `setRoomMute` says. */
  listener: boolean;
  muted: boolean;
}

/** The bridge's end of the pipe to a room on another worker. */
const ROOM_PIPE_LEG = 'room';

/** How long `bridgeTo` rings when the application does not say (inventory 1 §7.5: 4 rings of 5 s). */
export const DEFAULT_RING_SECONDS = 20;
/** A screened party hears a longer prompt (the caller's name) than "press 1": it gets longer to choose. */
const SCREENING_ACCEPT_SECONDS = 20;
/** Between the parts of the screening prompt, and before it starts again: 0.4 s at 8 kHz. */
const SCREENING_PAUSE_SAMPLES = 3200;

/** Digits kept while no verb is waiting for them (type-ahead); more are dropped. */
const MAX_BUFFERED_DIGITS = 32;
/** The beep before a recording: 1 kHz, a quarter of a second, a third of full scale. */
const BEEP_HZ = 1000;
const TONE_AMPLITUDE = 10_000;

const legCodec = (c: Codec) => ({ name: c.name.toUpperCase() as LegCodecName, payloadType: c.payloadType });

/** The result a refusal leaves in the call log. */
function resultOfStatus(status: number): CallResult {
  if (status === 486 || status === 600) return 'busy';
  if (status === 404 || status === 484) return 'not_found';
  if (status === 403) return 'forbidden';
  if (status === 603) return 'rejected';
  if (status === 480) return 'unavailable';
  return 'failed';
}

export class AppCall extends EventEmitter<AppCallEvents> implements ParkableCall {
  readonly sipCallId: string;
  readonly caller: CallParty;
  readonly invite: SipRequest;
  readonly destination: Destination;
  readonly #machine = new CallState<AppCallState>('Starting', APP_CALL_MOVES, 'Ended', 'an application call');
  get #state(): AppCallState {
    return this.#machine.current;
  }
  #end: AppCallEnd | null = null;
  /** Aborted when the call leaves Offered/Answered: the application's signal. */
  private readonly lifetime = new AbortController();
  private readonly ctx: AppCallContext;
  private readonly log: Logger;
  private readonly app: CallApp;
  private readonly inviteTx: InviteServerTransaction;
  private readonly session: InviteSession;
  private readonly sdp = new LocalSdp();
  private codec: Codec = PLAIN_RTP_CODECS[0]!;
  private telephoneEvent: Codec | null = TELEPHONE_EVENT;
  private lateOffer = false;
  private webrtc: { local: LocalWebRtc; peer: PeerWebRtc } | null = null;
  private remote: { address: string; rtpPort: number } | null = null;
  /** The caller put the call on hold (its last re-offer was sendonly or inactive). */
  private callerHeld = false;
  private bridge: BridgeHandle | null = null;
  private local: { address: string; rtpPort: number } | null = null;
  /** The start and the application, while they run: the release waits for them. */
  private running: Promise<void> = Promise.resolve();
  private recordId: string | null = null;
  private legRecordId: string | null = null;
  private language: 'en' | 'fr' = 'en';
  private readonly digits: string[] = [];
  /** Recordings this call made: one the application has not moved away by the time it returns is deleted. */
  private readonly recordings: string[] = [];
  private readonly digitWaiters = new Set<() => void>();
  private readonly onMediaEvent = (e: MediaEvent) => this.mediaEvent(e);
  /** `bridgeTo` attempts, the current one last: their forks' Call-IDs stay this call's until it is forgotten. */
  private readonly calleeForks: CalleeForks[] = [];
  private bridging: CalleeForks | null = null;
  /** The devices `bridgeTo` rings (a ring plan's, a shared line's), while it runs; null: every device of the extensions. */
  private bridgeDeviceIds: readonly string[] | null = null;
  /** `dialOut` legs still running: the release waits for them (they stop with the call's signal). */
  private readonly dialOuts = new Set<Promise<BridgeOutcome>>();
  private member: RoomMembership | null = null;
  /** The room this member is recording (startRoomRecording), while it does; the end of its last recording. */
  private roomRecording: RoomHandle | null = null;
  private roomRecordingEnd: Promise<{ durationMs: number } | null> = Promise.resolve(null);
  /** The extension whose device answered the current `bridgeTo` (the agent a monitor listens to), while connected. */
  private agentExtension: string | null = null;
  /** A monitor on the bridged call (MON-01, calls/call-monitor.ts), while it is on it. */
  private monitoring: CallMonitor | null = null;
  /** The media changes of the last monitor that left (the legs moving back to the bridge): the release waits for them. */
  private monitorLeaving: Promise<void> = Promise.resolve();
  /** The Call-IDs of dialogs that joined this call (monitors, a device retrieving it held): this call's until it is forgotten. */
  private readonly joinedCallIds: string[] = [];
  /** How many times an application handed the call on (`transfer`). */
  private transfers = 0;
  /**
   * Parked on a location by the party `bridgeTo` connected (PK-01): the caller hears hold music, leg 'b'
   * waits empty, until a member retrieves the call (`takeIncoming`), the recall rings the parker
   * (`recallTo` set), or the caller hangs up.
   */
  private parked: { location: string; recallTo?: string | null } | null = null;
  /** `*8` + a location + `#` keyed by the connected party (leg 'b'): park the caller there. */
  private readonly parkCodes = new ParkCodeDetector();
  /** A digit from the caller's endpoint while it is in a room (events then come from the room). */
  private readonly onRoomEvent = (e: MediaEvent) => {
    if (e.type === 'dtmf' && this.member?.placed === 'moved' && e.legId === this.member.endpointId) this.digit(e.digit);
  };

  constructor(ctx: AppCallContext, invite: SipRequest, inviteTx: InviteServerTransaction, source: SipSource, caller: CallParty, destination: Destination, app: CallApp) {
    super();
    this.ctx = ctx;
    this.log = ctx.log.child('app-call');
    this.invite = invite;
    this.inviteTx = inviteTx;
    this.caller = caller;
    this.destination = destination;
    this.app = app;
    this.sipCallId = invite.callId;
    this.session = uasSession({ invite, tx: inviteTx, source, transactions: ctx.transactions, localContact: ctx.localContact, sessionSettings: ctx.sessionSettings, log: this.log });
    this.session.on('terminated', (t) => this.sessionTerminated(t));
    this.session.on('offer', (offer) => void this.reoffer(offer).catch((err: unknown) => {
      this.log.warn('re-offer failed', { error: err });
      offer.reject(488);
    }));
    this.session.on('answer', (sdp) => void this.lateAnswer(sdp).catch((err: unknown) => this.log.warn('late answer failed', { error: err })));
    this.session.on('request', (req, tx) => this.otherRequest(req, tx));
  }

  get state(): AppCallState {
    return this.#state;
  }

  /** The closed flag: Ended is terminal. */
  get closed(): boolean {
    return this.#state === 'Ended';
  }

  get accountId(): string {
    return this.caller.accountId;
  }

  /** The extension whose phone is on `side` now, if any: 'a' the caller's (a device of the account), 'b' the party `bridgeTo` connected. */
  extensionOn(side: 'a' | 'b'): string | null {
    if (side === 'b') return this.agentExtension;
    return this.caller.kind === 'device' ? this.caller.extensionId : null;
  }

  /** The caller's Call-ID: the park lot's name for the call. */
  get aCallId(): string {
    return this.sipCallId;
  }

  /** The location the caller is parked on, if it is. */
  get parkedOn(): string | null {
    return this.parked?.location ?? null;
  }

  get signal(): AbortSignal {
    return this.lifetime.signal;
  }

  /** The call's id in the call log, once written. */
  get callRecordId(): string | null {
    return this.recordId;
  }

  /** The caller is a browser (WebRTC media). */
  get isWebRtc(): boolean {
    return this.webrtc !== null;
  }

  get callerLegRecordId(): string | null {
    return this.legRecordId;
  }

  /** The one writer of the state; throws on a move the diagram does not draw. */
  private transition(to: AppCallState): void {
    const from = this.#machine.transition(to);
    this.emit('state', from, to);
  }

  /** For the unit tests of the state machine: the transition function itself. */
  transitionForTesting(to: AppCallState): void {
    this.transition(to);
  }

  /** The state now (a method, so that the compiler does not carry a narrowing across an await). */
  private is(state: AppCallState): boolean {
    return this.#state === state;
  }

  private get live(): boolean {
    return this.#state === 'Offered' || this.#state === 'Answered';
  }

  private alive(): void {
    if (!this.live || this.lifetime.signal.aborted) throw new CallEndedError();
  }

  /**
   * Writes the record, then runs the application; resolves when the call is
   * over and released. Never rejects: every failure ends the call.
   */
  start(): Promise<void> {
    this.running = Promise.resolve()
      .then(() => this.run())
      .catch((err: unknown) => {
        // A fault of the call itself (not of the application, which run() contains): the caller is not left hanging.
        this.log.error('application call failed', { error: err });
        if (this.inviteTx.canRespond) this.session.reject(500);
        else if (this.is('Answered')) this.session.bye();
        this.end({ result: 'failed', hangupBy: null });
      });
    return this.running.then(() => this.closing ?? undefined);
  }

  private closing: Promise<void> | null = null;

  private async run(): Promise<void> {
    const offer = this.readOffer();
    const ids = await this.ctx.openRecord(this).catch((err: unknown) => {
      this.log.error('could not write the call record', { error: err });
      return null;
    });
    this.recordId = ids?.callId ?? null;
    this.legRecordId = ids?.legId ?? null;
    // Cancelled while it was routed or its record written: the INVITE already has its 487 (RFC 3261 §9.2).
    if (!this.inviteTx.canRespond) {
      this.end({ result: 'cancelled', hangupBy: 'caller' });
      return;
    }
    if (this.#state !== 'Starting') return;
    if (!ids) {
      this.refuse(500, 'Server Internal Error', 'failed');
      return;
    }
    if (this.session.refuseTooBrief()) {
      // 422 sent (RFC 4028 §6).
      this.end({ result: 'failed', hangupBy: null });
      return;
    }
    if (offer === 'unusable') {
      this.refuse(488, 'Not Acceptable Here', 'failed');
      return;
    }
    this.language = await this.ctx.language(this.caller.accountId).catch(() => 'en' as const);
    if (!this.is('Starting')) return;
    this.transition('Offered');
    try {
      await this.app(this.handle(), this.destination);
    } catch (err) {
      if (!(err instanceof CallEndedError)) this.log.error('application failed', { kind: this.destination.kind, error: err });
      if (this.live) {
        if (this.is('Offered')) this.refuse(500, 'Server Internal Error', 'failed');
        else this.byeAndEnd({ result: 'failed', hangupBy: null });
        return;
      }
    }
    // The application returned without ending the call: it ends now (CallHandle's contract).
    if (this.is('Offered')) this.refuse(480, 'Temporarily Unavailable', 'unavailable');
    else if (this.is('Answered')) this.byeAndEnd({ result: 'answered', hangupBy: 'callee' });
  }

  /** The caller's offer: a codec we speak, or none (a late offer: our 200 offers). */
  private readOffer(): 'ok' | 'unusable' {
    // An INVITE without SDP is a late offer (RFC 3261 §13.2.1): our 200 carries the offer, its ACK the answer.
    this.lateOffer = this.invite.body.length === 0;
    if (this.lateOffer) return 'ok';
    const offer = parseSdp(this.invite.body.toString('utf8'));
    const audio = offer?.media.find((m) => m.type === 'audio' && m.port > 0);
    if (!offer || !audio) return 'unusable';
    const browser = isWebRtcMedia(offer, audio);
    const peer = browser ? readPeerWebRtc(offer, audio) : null;
    if (browser && !peer) return 'unusable';
    const choice = chooseCodec(audio.codecs, browser ? WEBRTC_CODECS : PLAIN_RTP_CODECS);
    if (!choice) return 'unusable';
    this.codec = choice.audio;
    this.telephoneEvent = choice.telephoneEvent;
    // Its audio levels accepted: the caller may join a room, which chooses its talkers by them.
    if (peer) this.webrtc = { local: newLocalWebRtc(this.ctx.media.dtlsFingerprint, answerSetup(peer.setup), peer.mid, peer.audioLevelId), peer };
    const address = mediaAddress(offer, audio);
    this.remote = !browser && address ? { address, rtpPort: audio.port } : null;
    return 'ok';
  }

  // ---- Ending -------------------------------------------------------------------

  /** A final response to the INVITE, then the end. */
  private refuse(status: number, reason: string, result: CallResult): void {
    this.session.reject(status, reason);
    this.end({ result, hangupBy: null });
  }

  /**
   * Our BYE, then the end. An application that answers and hangs up at once (a full queue, a blocked
   * caller) does so before the caller's ACK: the session holds the BYE until it comes (RFC 3261 §15),
   * and the call ends now all the same.
   */
  private byeAndEnd(end: AppCallEnd): void {
    this.session.bye();
    this.end(end);
  }

  /**
   * The call is over, whoever ended it: the state moves to Ending (once; later
   * ends are ignored), the signal fires, the session stops its timers, and the
   * release starts: it waits for the application to return, then closes the
   * media endpoint and moves to Ended.
   */
  private end(end: AppCallEnd): void {
    if (this.#state === 'Ending' || this.#state === 'Ended') return;
    this.#end = end;
    this.transition('Ending');
    this.leaveParking();
    this.lifetime.abort();
    for (const wake of this.digitWaiters) wake();
    this.session.close();
    this.emit('ending', end);
    this.closing = this.release(end);
  }

  private async release(end: AppCallEnd): Promise<void> {
    // What the start and the application acquired is on the call once they stop.
    await this.running.catch(() => undefined);
    // Outbound legs stop with the signal (BYE or CANCEL each); an application that did not wait for them does not leave them behind.
    await Promise.allSettled([...this.dialOuts]);
    // A message is moved away by its deposit; what is left is a recording nobody kept (bounded disk).
    for (const file of this.recordings) await fs.rm(file, { force: true }).catch(() => undefined);
    // A monitor still on (the application ended the call another way): it leaves first, the legs back in the bridge.
    await this.monitoring?.end();
    await this.monitorLeaving;
    let stats: Record<string, unknown> | undefined;
    if (this.bridge) {
      const leg = (await this.bridge.stats().catch(() => [])).find((s) => s.legId === 'a');
      if (leg) stats = { received: leg.received, sent: leg.sent, dropped: leg.dropped, rtcpReceived: leg.rtcpReceived };
      this.bridge.off('dtmf', this.onMediaEvent);
      this.bridge.off('media-timeout', this.onMediaEvent);
      await this.bridge.close().catch((err: unknown) => this.log.warn('media endpoint not closed cleanly', { error: err }));
    }
    this.transition('Ended');
    this.ctx.forget(this);
    this.emit('ended', { ...end, stats });
  }

  /** Ends the call, whatever it is doing (shutdown): BYE once answered, else 480. Resolves once released. */
  async close(end: AppCallEnd = { result: 'failed', hangupBy: null }): Promise<void> {
    if (this.#state === 'Answered') this.byeAndEnd(end);
    else if (this.#state === 'Offered' || this.#state === 'Starting') {
      if (this.inviteTx.canRespond) this.session.reject(480, 'Temporarily Unavailable');
      this.end(end);
    }
    await (this.closing ?? undefined);
  }

  private sessionTerminated(t: SessionTermination): void {
    // A caller who hangs up while bridgeTo rings the callee has not talked to anyone: the call log says cancelled, as for a B2BUA call.
    if (t.reason === 'bye') this.end({ result: this.bridging?.ringing ? 'cancelled' : 'answered', hangupBy: 'caller' });
    else if (t.reason === 'ack-timeout' || t.reason === 'no-answer-in-ack' || t.reason === 'session-expired' || t.reason === 'dialog-gone') this.end({ result: 'failed', hangupBy: null });
  }

  /** How the call ended, once it has. */
  get ending(): AppCallEnd | null {
    return this.#end;
  }

  // ---- SIP from the caller --------------------------------------------------------

  /** CANCEL before our final response (RFC 3261 §9.2): 200 to it, 487 to the INVITE; after it, only the 200. */
  cancelByCaller(cancelTx: NonInviteServerTransaction): void {
    const cancelled = this.session.acceptCancel(cancelTx);
    if (cancelled || this.#state === 'Starting') this.end({ result: 'cancelled', hangupBy: 'caller' });
  }

  /** A 2xx to one of our forks that no transaction claims any more: its session acknowledges it again (RFC 3261 §13.2.2.4). */
  receiveStrayResponse(res: SipResponse): void {
    for (const f of this.calleeForks) f.receiveStrayResponse(res);
  }

  /** The Call-IDs of every fork this call sent. */
  get forkCallIds(): string[] {
    return [...this.calleeForks.flatMap((f) => f.callIds), ...this.joinedCallIds];
  }

  /** A request in the caller's dialog: the session answers BYE and re-INVITEs, and hands the rest to otherRequest. */
  inDialog(req: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction): void {
    if (this.monitoring && req.callId === this.monitoring.callId) {
      // The monitor's BYE, re-INVITEs and INFO: its session answers and hands them to the monitoring handlers.
      this.monitoring.receiveRequest(req, tx);
      return;
    }
    if (req.callId !== this.sipCallId) {
      // A callee's request (its BYE): the fork's session answers it.
      if (!this.calleeForks.some((f) => f.inDialog(req, tx))) tx.respond(createResponse(req, 481));
      return;
    }
    if (!this.session.dialog || this.session.closed) {
      tx.respond(createResponse(req, 481));
      return;
    }
    this.session.receiveRequest(req, tx);
  }

  private otherRequest(req: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction): void {
    if (req.method === 'INFO') {
      // SIP INFO DTMF, for phones that send digits that way.
      const digit = answerInfoDtmf(req, tx);
      if (digit) this.digit(digit);
      return;
    }
    tx.respond(createResponse(req, req.method === 'OPTIONS' || req.method === 'NOTIFY' ? 200 : 501));
  }

  /**
   * The caller's re-INVITE or UPDATE: hold, resume, a new address or codec (calls/reoffer.ts, as for a
   * B2BUA's party). While `bridgeTo` has a party connected, that party hears hold music while the
   * caller holds, as the caller does while the party holds.
   */
  private async reoffer(offer: IncomingOffer): Promise<void> {
    if (!this.bridge || !this.local) {
      offer.reject(488);
      return;
    }
    if (!offer.sdp) {
      offer.accept({ sdp: this.localSdp(PLAIN_RTP_CODECS) });
      return;
    }
    const sdp = parseSdp(offer.sdp.toString('utf8'));
    const audio = sdp?.media.find((m) => m.type === 'audio');
    const choice = audio ? chooseCodec(audio.codecs, this.webrtc ? WEBRTC_CODECS : PLAIN_RTP_CODECS) : null;
    if (!choice) {
      offer.reject(488);
      return;
    }
    const { container, endpointId } = this.callerEndpoint();
    if (!this.webrtc && (choice.audio.payloadType !== this.codec.payloadType || choice.telephoneEvent?.payloadType !== this.telephoneEvent?.payloadType)) {
      await container.updateEndpoint(endpointId, { codec: legCodec(choice.audio), telephoneEventPayloadType: choice.telephoneEvent?.payloadType ?? null });
    }
    this.codec = choice.audio;
    this.telephoneEvent = choice.telephoneEvent;
    const party = { legId: endpointId, codec: this.codec, telephoneEvent: this.telephoneEvent, sdp: this.sdp, onHold: this.callerHeld, webrtc: this.webrtc };
    const other = this.bridging?.connected && !this.member ? 'b' : null;
    const holdMusic = this.ctx.holdMusic;
    const caller = this.caller;
    // A user's phone holding: the other party hears that user's hold music; a carrier's caller, the shipped music.
    const music = holdMusic && caller.kind === 'device' ? { music: () => holdMusic(caller.accountId, caller.extensionId).catch(() => HOLD_MUSIC.file) } : {};
    const held = await answerReoffer({ container, party, local: this.local, other, offer, ...music });
    this.callerHeld = party.onHold;
    if (held !== null) this.emit('hold', 'a', held);
  }

  /** The caller's answer to the offer in our 200, from its ACK (late offer). */
  private async lateAnswer(sdp: Buffer): Promise<void> {
    const answer = parseSdp(sdp.toString('utf8'));
    const audio = answer?.media.find((m) => m.type === 'audio' && m.port > 0);
    const choice = audio ? chooseCodec(audio.codecs) : null;
    const address = answer && audio ? mediaAddress(answer, audio) : null;
    if (!choice || !audio || !address || !this.bridge) {
      this.log.warn('late offer: the ACK carried no usable answer; ending the call');
      this.byeAndEnd({ result: 'failed', hangupBy: null });
      return;
    }
    this.codec = choice.audio;
    this.telephoneEvent = choice.telephoneEvent;
    this.remote = { address, rtpPort: audio.port };
    await this.legs!.updateEndpoint('a', { codec: legCodec(choice.audio), telephoneEventPayloadType: choice.telephoneEvent?.payloadType ?? null, remote: this.remote });
  }

  private localSdp(codecs: Codec[]): Buffer {
    return this.sdp.build({ address: this.local!.address, port: this.local!.rtpPort, codecs, telephoneEvent: this.telephoneEvent, webrtc: this.webrtc?.local ?? null });
  }

  // ---- Media events -----------------------------------------------------------

  private mediaEvent(e: MediaEvent): void {
    if (e.type === 'dtmf' && e.legId === 'a') this.digit(e.digit);
    if (e.type === 'dtmf' && e.legId === 'b') this.partyDigit(e.digit);
    // The caller (and the callee bridgeTo joined, if any) sent no RTP or RTCP for the media timeout
    // (media/engine/media-timeout.ts): gone without a BYE. Prompts and music to nobody end here.
    if (e.type === 'media-timeout' && this.#state === 'Answered') {
      this.log.warn('no media from the caller: ending the call', { legs: e.legIds, silentMs: e.silentMs });
      this.byeAndEnd({ result: 'failed', hangupBy: 'media-timeout' });
    }
  }

  /** A digit of the party `bridgeTo` connected (RFC 4733 on leg 'b', or its SIP INFO): the park code. */
  private partyDigit(d: string): void {
    if (!this.bridging?.connected || !this.ctx.parking) return;
    const location = this.parkCodes.feed('b', d);
    if (location) void this.parkByCode(location).catch((err: unknown) => this.log.warn('park code failed', { error: err }));
  }

  private digit(d: string): void {
    if (!this.live) return;
    if (this.digits.length < MAX_BUFFERED_DIGITS) this.digits.push(d);
    for (const wake of this.digitWaiters) wake();
  }

  /** The next digit (buffered first), or null after `timeoutMs`; rejects with CallEndedError when the call ends. */
  private nextDigit(timeoutMs: number | null, stop?: AbortSignal): Promise<string | null> {
    this.alive();
    const buffered = this.digits.shift();
    if (buffered !== undefined) return Promise.resolve(buffered);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const done = () => {
        this.digitWaiters.delete(wake);
        stop?.removeEventListener('abort', wake);
        if (timer) clearTimeout(timer);
      };
      const wake = () => {
        if (!this.live) {
          done();
          reject(new CallEndedError());
          return;
        }
        if (stop?.aborted) {
          done();
          resolve(null);
          return;
        }
        const d = this.digits.shift();
        if (d === undefined) return;
        done();
        resolve(d);
      };
      this.digitWaiters.add(wake);
      stop?.addEventListener('abort', wake);
      if (timeoutMs !== null) {
        timer = setTimeout(() => {
          done();
          resolve(null);
        }, timeoutMs);
      }
    });
  }

  // ---- Verbs ------------------------------------------------------------------

  answer(): Promise<void> {
    this.alive();
    if (this.#state === 'Answered') return Promise.resolve();
    // Two verbs that answer at once share one answer (and one endpoint).
    this.answering ??= this.openMediaAndAccept();
    return this.answering;
  }

  private answering: Promise<void> | null = null;

  private async openMediaAndAccept(): Promise<void> {
    const bridge = await this.ctx.media.createBridge();
    // Held by the call as soon as it exists: the release closes it.
    this.bridge = bridge;
    bridge.on('dtmf', this.onMediaEvent);
    bridge.on('media-timeout', this.onMediaEvent);
    this.alive();
    const webrtc = this.webrtc;
    this.local = await bridge.addLeg({
      legId: 'a',
      codec: legCodec(this.codec),
      telephoneEventPayloadType: this.telephoneEvent?.payloadType ?? null,
      remote: this.remote,
      ...(webrtc ? { ssrc: webrtc.local.ssrc, webrtc: webRtcLegSpec(webrtc.local, webrtc.peer), audioLevelExtensionId: webrtc.local.audioLevelId } : {}),
    });
    this.alive();
    // To a late offer our 200 offers every codec we speak; its ACK answers.
    const sent = this.session.accept({ sdp: this.localSdp(this.lateOffer ? PLAIN_RTP_CODECS : [this.codec]) });
    if (!sent) {
      // The INVITE was answered meanwhile (a CANCEL that won the race): nothing to do, the end follows.
      this.end({ result: 'cancelled', hangupBy: 'caller' });
      throw new CallEndedError();
    }
    this.transition('Answered');
    this.emit('answered', this.codec.name);
  }

  async reject(status: number, reason?: string): Promise<void> {
    this.alive();
    if (this.#state !== 'Offered') throw new Error('reject: the call is already answered');
    if (status < 400 || status > 699) throw new RangeError(`reject: ${status} is not a final failure status`);
    this.session.reject(status, reason);
    this.end({ result: resultOfStatus(status), hangupBy: null });
  }

  /** CallHandle.transfer: the destination's application runs on this same call (the caller's leg and media stay). */
  async transfer(target: string): Promise<void> {
    this.alive();
    const found = await this.transferDestination(target);
    this.log.info('call handed on', { to: target, kind: found.destination.kind });
    await found.app(this.handle(), found.destination);
  }

  /** Where `transfer` would hand the call on, or DestinationRefusedError. */
  private async transferDestination(target: string): Promise<{ destination: Destination; app: CallApp }> {
    if (++this.transfers > MAX_TRANSFERS) throw new DestinationRefusedError(482, 'Loop Detected');
    const direction: CallDirection = this.caller.kind === 'trunk' ? 'inbound' : 'internal';
    const found = await this.ctx.transferTarget(this.caller.accountId, target, direction);
    this.alive();
    if ('status' in found) throw new DestinationRefusedError(found.status, found.reason);
    return found;
  }

  async hangup(options: { blocked?: boolean } = {}): Promise<void> {
    if (this.#state === 'Offered') {
      if (options.blocked) this.refuse(603, 'Decline', 'rejected');
      else this.refuse(480, 'Temporarily Unavailable', 'unavailable');
      return;
    }
    // A blocked caller heard a message: the call was refused, not answered by anyone.
    if (this.#state === 'Answered') this.byeAndEnd(options.blocked ? { result: 'rejected', hangupBy: 'blocked' } : { result: 'answered', hangupBy: 'callee' });
  }

  /** The file or samples a play source stands for. */
  private async source(source: PlaySource): Promise<PlaybackSource> {
    if ('prompt' in source) return { file: promptPath(this.language, source.prompt as PromptName) };
    if ('file' in source) return { file: source.file };
    if ('tts' in source) return { file: await this.ctx.speak(source.tts, source.language ?? this.language) };
    const silenceMs = source.silenceMs ?? 0;
    if (!(source.tone > 0 && source.tone < 4000) || !(source.durationMs > 0 && source.durationMs <= 10_000) || !(silenceMs >= 0 && silenceMs <= 10_000)) throw new RangeError('tone: 0-4000 Hz, up to 10 s, then up to 10 s of silence');
    const tone = generateTone([source.tone], TONE_AMPLITUDE, Math.round((source.durationMs * 8000) / 1000));
    if (silenceMs === 0) return { pcm: tone };
    const pcm = new Int16Array(tone.length + Math.round((silenceMs * 8000) / 1000));
    pcm.set(tone);
    return { pcm };
  }

  async play(source: PlaySource, options: PlayOptions = {}): Promise<PlayResult> {
    this.alive();
    if (options.stop?.aborted) return { digit: null };
    const playback = await this.source(source);
    if (this.#state === 'Offered') await this.answer();
    this.alive();
    // The endpoint facing the caller: in the bridge, or in the room it has moved to.
    const { container, endpointId } = this.callerEndpoint();
    // Digits typed before the prompt barge in at once.
    if (options.bargeIn && this.digits.length) return { digit: this.digits.shift()! };
    const stopDigits = new AbortController();
    let endedId: number | null = null;
    const finished = new Set<number>();
    let wakeEnded: (() => void) | null = null;
    const onEnded = (e: Extract<MediaEvent, { type: 'playback-ended' }>) => {
      if (e.legId !== endpointId) return;
      finished.add(e.playbackId);
      if (e.playbackId === endedId) wakeEnded?.();
    };
    container.on('playback-ended', onEnded);
    let stopListening = () => undefined as void;
    try {
      endedId = await container.play(endpointId, playback, { loop: options.loop ?? false });
      this.alive();
      // Stopped: the playback ends, and its 'playback-ended' resolves the wait below.
      const stopIt = () => void container.stopPlayback(endpointId).catch(() => undefined);
      if (options.stop?.aborted) stopIt();
      else options.stop?.addEventListener('abort', stopIt, { once: true });
      stopListening = () => options.stop?.removeEventListener('abort', stopIt);
      let unlisten = () => undefined as void;
      const ended = finished.has(endedId)
        ? Promise.resolve(null)
        : new Promise<null>((resolve, reject) => {
            const abort = () => reject(new CallEndedError());
            unlisten = () => this.lifetime.signal.removeEventListener('abort', abort);
            wakeEnded = () => resolve(null);
            this.lifetime.signal.addEventListener('abort', abort, { once: true });
          });
      // Whichever of the race loses must not reject unobserved.
      ended.catch(() => undefined);
      try {
        if (!options.bargeIn) {
          await ended;
          return { digit: null };
        }
        const digit = await Promise.race([ended, this.nextDigit(null, stopDigits.signal)]);
        if (digit !== null) await container.stopPlayback(endpointId).catch(() => undefined);
        return { digit };
      } finally {
        unlisten();
      }
    } finally {
      stopListening();
      stopDigits.abort();
      container.off('playback-ended', onEnded);
    }
  }

  /** Where the caller's own endpoint is now: leg 'a' of the call's bridge, or its member in a room. */
  private callerEndpoint(): { container: ContainerHandle; endpointId: string } {
    if (this.member?.placed === 'moved') return { container: this.member.room, endpointId: this.member.endpointId };
    return { container: this.legs!, endpointId: 'a' };
  }

  /**
   * Puts the caller in a room (CallHandle.joinRoom): a seat from the node's rooms, then the caller's
   * endpoint moved into the room (or piped to it, when the room lives on another worker); back in the
   * bridge when `leave` aborts, removed with the room seat when the call ends. What the application was
   * playing stops: the member hears the room. The room's capacity is the registry's (RoomFullError).
   */
  async joinRoom(ref: RoomRef, role: RoomRole, options: JoinRoomOptions = {}): Promise<RoomExit> {
    this.alive();
    if (ref.accountId !== this.accountId) throw new Error('joinRoom: a room of another account');
    if (role === 'whisper') throw new UnsupportedVerbError('joinRoom', 'the whisper role is not supported yet');
    if (this.is('Offered')) await this.answer();
    this.alive();
    if (this.member || this.joining) throw new Error('joinRoom: already in a room');
    if (this.bridging) throw new Error('joinRoom: the call is bridged to another party');
    if (options.leave?.aborted) return { reason: 'left' };
    const bridge = this.bridge!;
    this.joining = true;
    let seat: Awaited<ReturnType<AppCallContext['rooms']['enter']>> | null = null;
    let membership: RoomMembership | null = null;
    try {
      seat = await this.ctx.rooms.enter(ref, bridge);
      this.alive();
      const room = seat.room;
      const endpointId = `call-${randomUUID()}`;
      const listener = role === 'listener';
      const muted = listener || options.muted === true;
      await bridge.stopPlayback('a').catch(() => undefined);
      this.alive();
      room.on('dtmf', this.onRoomEvent);
      if (room.workerIndex === bridge.workerIndex) {
        await bridge.moveEndpoint('a', room, endpointId);
        membership = { room, endpointId, placed: 'moved', listener, muted };
      } else {
        await bridge.pipeTo(ROOM_PIPE_LEG, room, endpointId);
        membership = { room, endpointId, placed: 'piped', listener, muted };
      }
      this.member = membership;
      if (muted) await room.setDirection(endpointId, 'sendonly');
      this.alive();
      options.onJoined?.();
      return await new Promise<RoomExit>((resolve) => {
        const hangup = () => done({ reason: 'hangup' });
        const left = () => done({ reason: 'left' });
        const done = (exit: RoomExit) => {
          this.lifetime.signal.removeEventListener('abort', hangup);
          options.leave?.removeEventListener('abort', left);
          resolve(exit);
        };
        this.lifetime.signal.addEventListener('abort', hangup, { once: true });
        options.leave?.addEventListener('abort', left, { once: true });
      });
    } catch (err) {
      // The call ended on the way in: as when it ends in the room.
      if (err instanceof CallEndedError && seat) return { reason: 'hangup' };
      throw err;
    } finally {
      this.joining = false;
      this.member = null;
      // The member's recording of the room ends as it leaves (the room goes on without it).
      if (this.roomRecording) await this.stopRoomRecording();
      if (seat) {
        seat.room.off('dtmf', this.onRoomEvent);
        if (membership) await this.leaveRoom(bridge, membership).catch((err: unknown) => this.log.warn('room member not removed cleanly', { error: err }));
        await seat.leave().catch((err: unknown) => this.log.warn('room not closed cleanly', { error: err }));
      }
    }
  }

  private joining = false;

  /** The member out of its room: back to the bridge while the call goes on, else closed (its ports released). */
  private async leaveRoom(bridge: BridgeHandle, m: RoomMembership): Promise<void> {
    if (m.placed === 'piped') {
      // Closing the bridge's end closes the pipe and its end in the room.
      if (!bridge.closed) await bridge.removeEndpoint(ROOM_PIPE_LEG);
      return;
    }
    if (m.room.closed) return;
    if (this.live && !bridge.closed) {
      await m.room.stopPlayback(m.endpointId).catch(() => undefined);
      // Heard again, should the application put it in a room later.
      if (m.muted) await m.room.setDirection(m.endpointId, 'sendrecv');
      await m.room.moveEndpoint(m.endpointId, bridge, 'a');
    } else {
      await m.room.removeEndpoint(m.endpointId);
    }
  }

  /** CallHandle.setRoomMute: a listener stays muted. */
  async setRoomMute(muted: boolean): Promise<void> {
    this.alive();
    const m = this.member;
    if (!m) throw new Error('setRoomMute: the caller is not in a room');
    const next = m.listener || muted;
    if (next === m.muted) return;
    m.muted = next;
    await m.room.setDirection(m.endpointId, next ? 'sendonly' : 'sendrecv');
  }

  /** CallHandle.startRoomRecording: the room's mix, this member's recording until it stops it or leaves. */
  async startRoomRecording(file: string): Promise<void> {
    this.alive();
    const m = this.member;
    if (!m) throw new Error('startRoomRecording: the caller is not in a room');
    if (this.roomRecording) throw new Error('startRoomRecording: this member is already recording the room');
    // Taken before the file exists, so that leaving meanwhile stops it once started.
    this.roomRecording = m.room;
    try {
      await m.room.startRecording(file);
    } catch (err) {
      if (this.roomRecording === m.room) this.roomRecording = null;
      throw err;
    }
  }

  /** CallHandle.stopRoomRecording: also once the call has ended (the recording then ended as the member left). */
  stopRoomRecording(): Promise<{ durationMs: number } | null> {
    const room = this.roomRecording;
    if (!room) return this.roomRecordingEnd;
    this.roomRecording = null;
    this.roomRecordingEnd = room.stopRecording().then(
      (r) => ({ durationMs: r.durationMs }),
      // The room closed under it (its last member left): the file was finalized then.
      () => null,
    );
    return this.roomRecordingEnd;
  }

  async collect(options: CollectOptions): Promise<CollectResult> {
    this.alive();
    if (!(options.maxDigits >= 1) || !(options.timeoutMs > 0)) throw new RangeError('collect: maxDigits >= 1 and timeoutMs > 0');
    const terminators = options.terminators ?? '';
    let digits = '';
    let first: string | null = null;
    if (options.prompt) first = (await this.play(options.prompt, { bargeIn: true })).digit;
    for (;;) {
      const d = first ?? (await this.nextDigit(digits.length === 0 ? options.timeoutMs : (options.interDigitTimeoutMs ?? options.timeoutMs)));
      first = null;
      if (d === null) return { digits, reason: 'timeout', terminator: null };
      if (terminators.includes(d)) return { digits, reason: 'terminator', terminator: d };
      digits += d;
      if (digits.length >= options.maxDigits) return { digits, reason: 'max-digits', terminator: null };
    }
  }

  /**
   * Records the caller (what it sends, not what it hears) into a mono WAV under
   * the recordings directory. Ends at `maxSeconds`, at a terminator digit, or
   * when the caller hangs up: that ending is a result (reason 'hangup'), not an
   * error, since a voicemail is mostly ended that way. The file is the
   * application's until it returns: one still there then is deleted (a
   * message is moved away by its deposit). Silence detection is not
   * implemented: `silenceSeconds` is ignored (the worker reports no levels yet).
   */
  async record(options: RecordOptions): Promise<RecordResult> {
    this.alive();
    if (!(options.maxSeconds > 0 && options.maxSeconds <= 3600)) throw new RangeError('record: maxSeconds in (0, 3600]');
    if (this.#state === 'Offered') await this.answer();
    if (options.beep) await this.play({ tone: BEEP_HZ, durationMs: 250 });
    this.alive();
    const bridge = this.bridge!;
    // A digit typed before the recording must not end it.
    this.digits.length = 0;
    const file = path.join(this.ctx.recordingsDir, 'app-calls', `${randomUUID()}.wav`);
    this.recordings.push(file);
    await bridge.startRecording(file);
    const stop = new AbortController();
    const terminators = options.terminators ?? '';
    let timer: NodeJS.Timeout | null = null;
    const byLength = new Promise<{ reason: 'max-length'; terminator: null }>((resolve) => {
      timer = setTimeout(() => resolve({ reason: 'max-length', terminator: null }), options.maxSeconds * 1000);
    });
    const byDigit = (async () => {
      for (;;) {
        const d = await this.nextDigit(null, stop.signal);
        if (d === null) return new Promise<never>(() => undefined);
        if (terminators.includes(d)) return { reason: 'terminator' as const, terminator: d };
      }
    })().catch(() => ({ reason: 'hangup' as const, terminator: null }));
    let outcome: { reason: RecordResult['reason']; terminator: string | null };
    try {
      outcome = await Promise.race([byLength, byDigit]);
    } finally {
      stop.abort();
      if (timer) clearTimeout(timer);
    }
    const done = await bridge.stopRecording();
    const mono = await keepFirstChannel(done.path);
    return { path: done.path, durationMs: mono.durationMs, reason: outcome.reason, terminator: outcome.terminator };
  }

  /**
   * Rings the target (an extension's registered devices, forked INVITEs; an outside number, through
   * the account's trunk as the B2BUA sends outbound calls), or several targets together
   * (calls/app-call-bridge.ts), and, when one answers, puts it on this call's bridge as leg 'b', next
   * to the caller's 'a'.
   *
   * The caller must be answered first. A B2BUA answers its caller only when the callee answers, but
   * an application call's media (its bridge and the caller's endpoint) exists only once the caller
   * is answered, and what follows a failure (voicemail: a greeting, a recording) needs the caller
   * answered anyway; answering first also lets the application play ring-back meanwhile, which stops
   * when the callee answers.
   *
   * Resolves 'answered' when the bridged leg ends (the callee's BYE: the application returns and the
   * caller gets a BYE; the caller's BYE: the callee gets one, endedBy 'caller'); 'no-answer' after
   * `ringSeconds` (forks CANCELled, the caller stays with the application) or when a forwarded party
   * did not press 1, 'busy' when the parties all answered 486, 'unavailable' when none is registered
   * or none could be reached. The caller's hang-up while it rings CANCELs the forks and rejects with
   * CallEndedError.
   */
  async bridgeTo(target: Destination | readonly Destination[], options: BridgeOptions = {}, fromName?: string): Promise<BridgeOutcome> {
    this.alive();
    const targets: readonly Destination[] = Array.isArray(target) ? target : [target as Destination];
    for (const t of targets) if (t.kind !== 'extension' && t.kind !== 'pstn') throw new UnsupportedVerbError('bridgeTo', `an application call bridges to an extension or an outside number, not to ${t.kind}`);
    if (targets.length === 0 || targets.length > MAX_BRIDGE_TARGETS) throw new RangeError(`bridgeTo: 1 to ${MAX_BRIDGE_TARGETS} parties`);
    if (!this.is('Answered')) throw new Error('bridgeTo: answer the caller first');
    if (this.bridging) throw new Error('bridgeTo: one party at a time');
    const ringSeconds = options.ringSeconds ?? DEFAULT_RING_SECONDS;
    if (!(ringSeconds > 0 && ringSeconds <= 600)) throw new RangeError('bridgeTo: ringSeconds in (0, 600]');
    const callees = await this.calleeTargets(targets, options, fromName);
    const confirm = callees.some((c) => c.confirm);
    const acceptPrompt = !confirm ? undefined : options.screening ? await this.screeningPrompt(options.screening.nameRecording) : await this.acceptPrompt();
    this.alive();
    if (callees.length === 0 || !this.recordId) return { outcome: 'unavailable', status: 480 };
    const bridge = this.bridge!;
    const extensions = targets.flatMap((t) => (t.kind === 'extension' ? [t.extensionId] : []));
    // Where the connected party sent the caller by REFER, if it did: put through once this attempt is over.
    let referred: { number: string; destination: Destination; app: CallApp } | null = null;
    this.bridgeDeviceIds = options.deviceIds ?? null;
    const forks = new CalleeForks(
      {
        log: this.log,
        transactions: this.ctx.transactions,
        ...(this.ctx.sessionSettings ? { sessionSettings: this.ctx.sessionSettings } : {}),
        localContact: this.ctx.localContact,
        dtlsFingerprint: this.ctx.media.dtlsFingerprint,
        records: this.ctx.records,
        registerFork: (callId) => this.ctx.registerFork(callId, this),
        ...(this.ctx.trunkAuthorization ? { trunkAuthorization: this.ctx.trunkAuthorization } : {}),
        ...(this.ctx.holdMusic ? { holdMusic: this.ctx.holdMusic } : {}),
      },
      bridge,
      {
        recordId: this.recordId,
        accountId: this.accountId,
        callerCodec: this.codec,
        legs: () => this.legs,
        ...(acceptPrompt ? { acceptPrompt } : {}),
        ...(options.screening ? { declineDigit: DECLINE_DIGIT, acceptSeconds: SCREENING_ACCEPT_SECONDS } : {}),
        onHold: (held) => {
          if (this.live) this.emit('hold', 'b', held);
        },
        ...(this.ctx.parking ? { parkAt: (number: string, fits: () => boolean) => this.parkAt(number, fits) } : {}),
        onDigit: (d) => this.partyDigit(d),
        onParked: (parker) => {
          // The parker left: its presence, and the monitor's view, go with it.
          this.agentExtension = null;
          if (parker && this.live) this.emit('callee', parker, null);
          if (parker) options.onLeft?.(parker);
        },
        referTo: async (number) => {
          try {
            referred = { number, ...(await this.transferDestination(number)) };
            return null;
          } catch (err) {
            if (err instanceof DestinationRefusedError) return { status: err.status, reason: err.reason };
            throw err;
          }
        },
        onAnswered: async (extensionId) => {
          // Presence: the extension whose device answered is on the call; the others ring no more.
          for (const id of extensions) this.emit('callee', id, id === extensionId ? 'on_call' : null);
          this.agentExtension = extensionId;
          if (extensionId) options.onAnswered?.(extensionId);
          // The parker answered the recall: the location is free.
          this.leaveParking();
          // The caller hears the callee from now on, not what the application played while it rang.
          await bridge.stopPlayback('a').catch(() => undefined);
        },
      },
    );
    // Observed here, awaited below: a rejection before the await is not unhandled.
    forks.outcome.catch(() => undefined);
    this.calleeForks.push(forks);
    this.bridging = forks;
    const callerLeft = () => forks.callerLeft(new CallEndedError());
    this.lifetime.signal.addEventListener('abort', callerLeft, { once: true });
    let legAdded = false;
    let outcome: BridgeOutcome;
    try {
      const local = await bridge.addLeg({ legId: 'b', codec: legCodec(this.codec), telephoneEventPayloadType: TELEPHONE_EVENT.payloadType, remote: null });
      legAdded = true;
      this.alive();
      for (const id of extensions) this.emit('callee', id, 'ringing');
      await forks.ring(callees, local, ringSeconds);
      outcome = await forks.outcome;
    } finally {
      this.lifetime.signal.removeEventListener('abort', callerLeft);
      // A device that took the call meanwhile (SL-01, a park retrieval) is not one of those rung: it is off the call too.
      if (this.agentExtension && !extensions.includes(this.agentExtension)) this.emit('callee', this.agentExtension, null);
      // Its monitor leaves with the agent (a BYE), the legs back in the bridge before leg 'b' goes.
      this.agentExtension = null;
      await this.monitoring?.end();
      this.bridging = null;
      this.bridgeDeviceIds = null;
      for (const id of extensions) this.emit('callee', id, null);
      // The caller stays with the application (voicemail after no answer): leg 'b' goes. An ended call's release closes the bridge.
      // Before the ring-back stops: while it plays nothing is relayed to the caller, and a party that was
      // hung up (a forwarded one that did not press 1) may still send for a moment.
      if (legAdded && this.live) await bridge.removeLeg('b').catch((err: unknown) => this.log.warn('callee leg not removed', { error: err }));
      // Ring-back the application played while it rang ends with the ringing.
      if (this.live) await bridge.stopPlayback('a').catch(() => undefined);
    }
    if (forks.recalled && this.live) return this.ringParker();
    if (referred && this.live) {
      // The connected party transferred the caller (REFER) and left: the number's application (a user's
      // phones ringing, a queue…) takes the call as `transfer` hands it on; then the attempt is over.
      const to: { number: string; destination: Destination; app: CallApp } = referred;
      this.log.info('call transferred by the party that answered', { to: to.number, kind: to.destination.kind });
      await to.app(this.handle(), to.destination);
    }
    return outcome;
  }

  // ---- Retrieving a held call (SL-01) --------------------------------------------

  /**
   * Whether `party` may take this call as it is now: the party `bridgeTo` connected holds it, and
   * `party` is one of the devices it rang (a shared line's: SL-01, "an answered call can be passed to
   * another phone sharing the same number"). A call being monitored, or in a room, stays where it is.
   */
  heldFor(party: CallParty): boolean {
    return party.kind === 'device' && this.is('Answered') && !!this.bridging?.held && !this.monitoring && !this.member && !!this.bridgeDeviceIds?.includes(party.deviceId);
  }

  /**
   * The device's INVITE takes the held call (`heldFor` said it may): it is answered with leg 'b' (plain
   * RTP), the caller stops hearing hold music and hears it, and the device that held the call gets a
   * BYE (its leg ends 'transferred'). The call moved on meanwhile (resumed, ended): 480.
   */
  retrieveHeld(invite: SipRequest, tx: InviteServerTransaction, source: SipSource, party: Extract<CallParty, { kind: 'device' }>): Promise<void> {
    return this.joinAsParty(invite, tx, source, party, {
      role: 'callee',
      fits: () => this.heldFor(party),
      refusal: 'No Call Held',
      joined: () => this.emit('hold', 'b', false),
    });
  }

  /**
   * A device's own INVITE becomes the party on leg 'b' of the current `bridgeTo` (SL-01's retrieval of a
   * held call, a member retrieving the parked caller): answered with leg 'b' (plain RTP; a browser's offer
   * gets 488), in place of the party that was there (`CalleeForks.takeOver`), its re-offers and REFERs
   * answered as that party's were. 480 with `refusal` when the call no longer `fits` (it moved on
   * meanwhile, or the device's CANCEL came first).
   */
  private async joinAsParty(
    invite: SipRequest,
    tx: InviteServerTransaction,
    source: SipSource,
    party: Extract<CallParty, { kind: 'device' }>,
    how: { role: 'callee' | 'transfer_target'; fits: () => boolean; refusal: string; joined: () => void },
  ): Promise<void> {
    const choice = joiningOffer(invite);
    if (!choice) {
      tx.respond(createResponse(invite, 488, { reason: 'Not Acceptable Here' }));
      return;
    }
    const session = uasSession({ invite, tx, source, transactions: this.ctx.transactions, localContact: this.ctx.localContact, sessionSettings: this.ctx.sessionSettings, log: this.log });
    // Its requests (its BYE, a hold of its own) reach this call from now on.
    this.ctx.registerFork(invite.callId, this);
    this.joinedCallIds.push(invite.callId);
    if (session.refuseTooBrief()) return;
    const forks = this.bridging;
    const legRecordId = this.recordId
      ? await this.ctx.records.addLeg({ callId: this.recordId, accountId: this.accountId, role: how.role, endpoint: 'sip', deviceId: party.deviceId, sipCallId: invite.callId, remoteUri: invite.get('from') ?? null })
      : null;
    const fits = () => !!forks && forks === this.bridging && how.fits() && tx.canRespond && !!this.bridge && !!forks.legLocal;
    const refuse = async () => {
      if (tx.canRespond) session.reject(480, how.refusal);
      session.close();
      if (legRecordId) await this.ctx.records.legEnded(legRecordId, tx.canRespond ? 'unavailable' : 'cancelled');
    };
    if (!fits() || !legRecordId || this.joiningParty) {
      await refuse();
      return;
    }
    // One device at a time: a second one meanwhile is refused (the leg is one).
    this.joiningParty = true;
    const sdp = new LocalSdp();
    try {
      await this.bridge!.updateLeg('b', { codec: legCodec(choice.audio), telephoneEventPayloadType: choice.telephoneEvent?.payloadType ?? null, remote: choice.remote });
      // The leg took the held party's direction (recvonly or inactive) or a parked call's (inactive): the new party is sent to again.
      await this.bridge!.setDirection('b', 'sendrecv');
    } finally {
      this.joiningParty = false;
    }
    if (!fits()) {
      await refuse();
      return;
    }
    // From here to the take over nothing awaits: the call cannot change under us.
    const local = forks!.legLocal!;
    session.accept({ sdp: sdp.build({ address: local.address, port: local.rtpPort, codecs: [choice.audio], telephoneEvent: choice.telephoneEvent, webrtc: null }) });
    forks!.takeOver(session, invite, party.extensionId, legRecordId, { codec: choice.audio, telephoneEvent: choice.telephoneEvent, sdp });
    const previous = this.agentExtension;
    this.agentExtension = party.extensionId;
    if (previous && previous !== party.extensionId) this.emit('callee', previous, null);
    this.emit('callee', party.extensionId, 'on_call');
    how.joined();
    this.log.info('call taken by another device', { extensionId: party.extensionId, as: how.role });
    await this.bridge!.stopPlayback('a').catch(() => undefined);
    await this.ctx.records.legAnswered(legRecordId, choice.audio.name);
  }

  /** A device is taking leg 'b' (`joinAsParty`, between its checks and its answer). */
  private joiningParty = false;

  // ---- Park (issue 15 point 4, PK-01; shared with the B2BUA in calls/parking.ts) ---------------

  /**
   * The connected party parks the caller on the location `number` names, if it names one (its REFER,
   * or the park code): members only, one call per location (the lot); once taken, nothing is sent to
   * leg 'b' (the party leaves it) and the caller hears hold music. `fits`: the party is still connected.
   */
  private async parkAt(number: string, fits: () => boolean): Promise<ParkOutcome | 'not-a-location'> {
    const parking = this.ctx.parking;
    if (!parking || this.parked) return 'not-a-location';
    const destination = await parking.location(this.accountId, number);
    if (!destination) return 'not-a-location';
    // A monitor leaves first (a BYE), the legs back on the bridge where the caller waits.
    await this.monitoring?.end();
    return parkOnLocation(parking.lot, this, {
      accountId: this.accountId,
      destination,
      parkerExtensionId: this.agentExtension,
      stillFits: () => this.is('Answered') && !this.monitoring && !this.parked && fits(),
      parked: async (location) => {
        this.parked = { location };
        this.emit('parked', location);
        const bridge = this.bridge!;
        await bridge.setDirection('b', 'inactive');
        await bridge.play('a', HOLD_MUSIC, { loop: true });
      },
    });
  }

  /**
   * The park code keyed by the connected party (calls/park-code.ts): the caller is parked there and the
   * party gets our BYE (it sent no REFER, so no NOTIFY tells its phone to hang up). A code the call cannot
   * follow (not a location, refused) changes nothing: the two stay connected.
   */
  private async parkByCode(location: string): Promise<void> {
    const forks = this.bridging;
    if (!forks?.connected) return;
    const outcome = await this.parkAt(location, () => forks === this.bridging && forks.connected);
    if (outcome === 'not-a-location' || outcome) {
      this.log.info('park code not followed', { why: outcome });
      return;
    }
    if (!forks.parkerLeaves(true)) this.leaveParking();
  }

  /**
   * A member dialled the location this call is parked on (the engine checked membership with the lot):
   * the member's device takes leg 'b', the caller stops hearing hold music, the location is free.
   * Nothing else is taken this way (a pickup is of a call ringing, which an application call is not).
   */
  takeIncoming(mode: 'retrieve' | 'pickup', invite: SipRequest, tx: InviteServerTransaction, source: SipSource, party: Extract<CallParty, { kind: 'device' }>): Promise<void> {
    if (mode !== 'retrieve') {
      tx.respond(createResponse(invite, 480, { reason: 'Nothing To Pick Up' }));
      return Promise.resolve();
    }
    return this.joinAsParty(invite, tx, source, party, {
      role: 'transfer_target',
      fits: () => this.is('Answered') && this.parked !== null && !!this.bridging?.parked,
      refusal: 'No Call Parked',
      joined: () => this.leaveParking(),
    });
  }

  /**
   * Nobody retrieved the parked caller in time (the lot's timer): the parked attempt ends and the parker
   * is rung (`ringParker`), the caller on hold music meanwhile. While it rings the location stays taken.
   */
  async recallParked(parkerNumber: string | null): Promise<void> {
    const parked = this.parked;
    const forks = this.bridging;
    if (!parked || !forks?.parked || !this.live) return;
    this.ctx.parking?.lot.recalling(this);
    parked.recallTo = parkerNumber;
    forks.recallParked();
  }

  /** The recall: the parker's phones ring with "Park 801" as the caller's name; nobody answering, the call ends (as a B2BUA's does). */
  private async ringParker(): Promise<BridgeOutcome> {
    const parked = this.parked;
    const parker = parked?.recallTo && this.ctx.parking ? await this.ctx.parking.parker(this.accountId, parked.recallTo) : null;
    if (parked && parker && this.live) {
      await this.bridge!.play('a', HOLD_MUSIC, { loop: true });
      const outcome = await this.bridgeTo(parker, {}, recallCallerName(parked.location));
      if (outcome.outcome === 'answered') return outcome;
    }
    this.log.debug('park recall not answered; ending the parked call');
    this.leaveParking();
    if (this.live) this.byeAndEnd({ result: 'answered', hangupBy: 'callee' });
    return { outcome: 'answered', endedBy: 'callee' };
  }

  /** The caller is no longer parked (retrieved, taken back at the recall, or the call ended): the location is free again. */
  private leaveParking(): void {
    if (!this.parked) return;
    this.parked = null;
    this.ctx.parking?.lot.release(this);
    this.emit('parked', null);
  }

  // ---- Call monitoring (issue 15 point 6, MON-01) --------------------------------

  /** Where the legs a and b are: the call's bridge, or the monitoring room while a monitor is on the call. */
  private get legs(): ContainerHandle | null {
    return this.monitoring?.inRoom ? this.monitoring.room : this.bridge;
  }

  /**
   * Whether a monitor can join this call to listen to `extensionId`: the call is bridged (`bridgeTo`)
   * to a device of that extension, which answered and is connected, the caller is in no room, and no
   * monitor is on it yet. The agent is on leg 'b', the caller on leg 'a'.
   */
  monitorable(extensionId: string): boolean {
    return this.is('Answered') && !!this.bridging?.connected && this.agentExtension === extensionId && !this.monitoring && !this.member && !this.joining && !!this.bridge;
  }

  /** The mode and monitor, while a monitor is on the call (tests read it). */
  get monitored(): { agentSide: 'a' | 'b'; mode: MonitorMode; monitorExtensionId: string } | null {
    const m = this.monitoring;
    return m ? { agentSide: m.agentSide, mode: m.mode, monitorExtensionId: m.party.extensionId } : null;
  }

  /**
   * A monitor's INVITE (a monitoring code + the agent's extension) joins this call on the agent's
   * leg 'b' (CallMonitor.join).
   */
  monitor(mode: MonitorMode, invite: SipRequest, tx: InviteServerTransaction, source: SipSource, party: Extract<CallParty, { kind: 'device' }>): Promise<void> {
    const agentExtension = this.agentExtension;
    const call: MonitoredCall = {
      log: this.log,
      accountId: this.accountId,
      recordId: this.recordId,
      media: this.ctx.media,
      transactions: this.ctx.transactions,
      sessionSettings: this.ctx.sessionSettings,
      records: this.ctx.records,
      localContact: (transport) => this.ctx.localContact(transport),
      bridge: () => this.bridge,
      fits: () => agentExtension !== null && this.monitorable(agentExtension),
      // The legs go back to the bridge whenever the monitor leaves: the release reads the caller's figures there.
      ended: () => this.#state === 'Ended',
      registerCallId: (callId) => {
        this.joinedCallIds.push(callId);
        this.ctx.registerFork(callId, this);
      },
      setMonitor: (monitor) => {
        if (!monitor && this.monitoring) this.monitorLeaving = this.monitoring.settled();
        this.monitoring = monitor;
      },
      partyEvent: (e) => this.mediaEvent(e),
      presence: (extensionId, state) => {
        if (this.live) this.emit('callee', extensionId, state);
      },
      takeOver: (monitor) => this.takeOver(monitor),
    };
    return CallMonitor.join(call, mode, 'b', invite, tx, source, party);
  }

  /**
   * Take over: the agent gets a BYE and leaves; the monitor is the answered party of `bridgeTo` from
   * now on (its dialog and its leg record), its leg on the bridge as 'b'. The caller keeps its
   * session and hears the monitor; the application's bridgeTo goes on until one of them hangs up.
   */
  private async takeOver(monitor: CallMonitor): Promise<void> {
    await monitor.serial(async () => {
      const forks = this.bridging;
      const bridge = this.bridge;
      if (!forks?.connected || !bridge || !monitor.legRecordId || !monitor.becomeParty()) return;
      const agent = this.agentExtension;
      if (!forks.takeOver(monitor.session, monitor.invite, monitor.party.extensionId, monitor.legRecordId)) return;
      monitor.legRecordId = null;
      this.agentExtension = monitor.party.extensionId;
      if (agent) this.emit('callee', agent, null);
      this.emit('callee', monitor.party.extensionId, 'on_call');
      await monitor.moveAsAgent(bridge);
      this.log.info('call taken over by its monitor');
    });
  }

  /**
   * CallHandle.dialOut: an outbound leg from this call into a room (calls/room-dial-out.ts), INVITEs to
   * the extension's devices, with the auto-answer headers when asked. It stops with this call's signal
   * or `options.hangup`; the release waits for every one.
   */
  async dialOut(target: ExtensionDestination, ref: RoomRef, role: RoomRole, options: DialOutOptions = {}): Promise<BridgeOutcome> {
    this.alive();
    if ((target as Destination).kind !== 'extension') throw new UnsupportedVerbError('dialOut', 'an application call dials out to an extension');
    if (ref.accountId !== this.accountId || target.accountId !== this.accountId) throw new Error('dialOut: a room or an extension of another account');
    if (role === 'whisper') throw new UnsupportedVerbError('dialOut', 'the whisper role is not supported yet');
    if (this.dialOuts.size >= MAX_DIAL_OUTS) throw new RangeError(`dialOut: at most ${MAX_DIAL_OUTS} outbound legs at once`);
    const ringSeconds = options.ringSeconds ?? DEFAULT_RING_SECONDS;
    if (!(ringSeconds > 0 && ringSeconds <= 600)) throw new RangeError('dialOut: ringSeconds in (0, 600]');
    const recordId = this.recordId;
    if (!recordId) return { outcome: 'unavailable', status: 480 };
    const autoAnswer: [string, string][] = options.autoAnswer
      ? [
          ['call-info', `<sip:${this.ctx.domain}>;answer-after=0`],
          ['alert-info', 'Auto Answer'],
        ]
      : [];
    const callees = (await this.calleeTargets([target], options.deviceIds ? { deviceIds: options.deviceIds } : {}, options.fromName)).map((c) => ({ ...c, headers: [...c.headers, ...autoAnswer] }));
    this.alive();
    if (callees.length === 0) return { outcome: 'unavailable', status: 480 };
    const stop = options.hangup ? AbortSignal.any([this.lifetime.signal, options.hangup]) : this.lifetime.signal;
    const run = dialIntoRoom(
      {
        log: this.log,
        transactions: this.ctx.transactions,
        ...(this.ctx.sessionSettings ? { sessionSettings: this.ctx.sessionSettings } : {}),
        localContact: this.ctx.localContact,
        dtlsFingerprint: this.ctx.media.dtlsFingerprint,
        records: this.ctx.records,
        registerFork: (callId) => this.ctx.registerFork(callId, this),
        media: this.ctx.media,
        rooms: this.ctx.rooms,
      },
      {
        recordId,
        accountId: this.accountId,
        targets: callees,
        room: ref,
        role,
        ringSeconds,
        stop,
        onForks: (forks) => this.calleeForks.push(forks),
        ...(options.onJoined ? { onJoined: options.onJoined } : {}),
      },
    );
    this.dialOuts.add(run);
    const forget = () => this.dialOuts.delete(run);
    run.then(forget, forget);
    return run;
  }

  /** The parties the destinations stand for, each with the headers of its INVITE. `fromName`: the name their displays show instead of the caller's. */
  private async calleeTargets(targets: readonly Destination[], options: BridgeOptions, fromName?: string): Promise<CalleeTarget[]> {
    const from = this.invite.from();
    const out: CalleeTarget[] = [];
    for (const t of targets) {
      if (t.kind === 'extension') {
        const only = options.deviceIds ? new Set(options.deviceIds) : null;
        const called = this.caller.kind === 'device' ? { user: this.caller.extensionNumber, name: this.caller.displayName } : { user: from?.uri.user ?? 'unknown', name: from?.displayName ?? null };
        const caller = fromName === undefined ? called : { ...called, name: fromName };
        for (const d of await this.ctx.calleeDevices(t.extensionId)) {
          if (only && (d.deviceId === null || !only.has(d.deviceId))) continue;
          out.push({
            ...d,
            extensionId: t.extensionId,
            from: `${caller.name ? `"${caller.name.replace(/"/g, '')}" ` : ''}<sip:${caller.user}@${this.ctx.domain}>`,
            to: `<sip:${t.extensionNumber}@${this.ctx.domain}>`,
            headers: [],
            trunk: null,
            // Screening asks every party who answers, a device as a forwarded number.
            confirm: options.screening !== undefined,
          });
        }
      } else if (t.kind === 'pstn') {
        out.push({ ...pstnCallee(t, this.ctx.localContact), extensionId: null, confirm: options.screening !== undefined || (options.acceptWithDigit ?? false) });
      }
    }
    return out;
  }

  /** "Press 1 to accept this call", spoken in the call's language (a beep cadence when no TTS is at hand). */
  private async acceptPrompt(): Promise<{ file: string } | undefined> {
    const text = this.language === 'fr' ? 'Appel transféré. Appuyez sur 1 pour accepter l’appel.' : 'Forwarded call. Press 1 to accept the call.';
    try {
      return { file: await this.ctx.speak(text, this.language) };
    } catch (err) {
      this.log.warn('accept prompt not spoken', { error: err });
      return undefined;
    }
  }

  /**
   * Call screening's prompt: "Call from", the caller's recorded name, "press 1 to accept, 2 to send to
   * voicemail", as one sound (the players loop one source). Without a usable recording the caller's
   * name or number is spoken instead; without TTS, the accept beeps.
   */
  private async screeningPrompt(nameRecording: string | null): Promise<{ pcm: Int16Array } | { file: string } | undefined> {
    const fr = this.language === 'fr';
    const who = this.caller.kind === 'device' ? (this.caller.displayName ?? this.caller.extensionNumber) : (this.invite.from()?.displayName ?? this.invite.from()?.uri.user ?? null);
    const choice = fr ? 'Appuyez sur 1 pour accepter, sur 2 pour l’envoyer à la messagerie vocale.' : 'Press 1 to accept, 2 to send to voicemail.';
    try {
      if (nameRecording) {
        const [intro, name, outro] = await Promise.all([this.ctx.speak(fr ? 'Appel de' : 'Call from', this.language).then(readWav8kMono), readWav8kMono(nameRecording), this.ctx.speak(choice, this.language).then(readWav8kMono)]);
        const pause = new Int16Array(SCREENING_PAUSE_SAMPLES);
        const parts = [intro, pause, name, pause, outro, pause, pause];
        const pcm = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
        let at = 0;
        for (const p of parts) {
          pcm.set(p, at);
          at += p.length;
        }
        return { pcm };
      }
      const from = who && who !== 'anonymous' ? who : fr ? 'un numéro masqué' : 'a withheld number';
      return { file: await this.ctx.speak(`${fr ? 'Appel de' : 'Call from'} ${from}. ${choice}`, this.language) };
    } catch (err) {
      this.log.warn('screening prompt not made', { error: err });
      return undefined;
    }
  }

  /** What the application sees: the verbs above, the call's identity, and its signal. */
  handle(): CallHandle {
    const from = this.invite.from();
    const id = () => this.recordId ?? '';
    const language = () => this.language;
    const caller =
      this.caller.kind === 'device'
        ? { number: this.caller.extensionNumber, name: this.caller.displayName, extensionId: this.caller.extensionId }
        : { number: from?.uri.user && from.uri.user !== 'anonymous' ? from.uri.user : null, name: from?.displayName ?? null, extensionId: null };
    return {
      get id() {
        return id();
      },
      accountId: this.caller.accountId,
      caller,
      dialed: this.invite.requestUri()?.user ?? '',
      get language() {
        return language();
      },
      signal: this.lifetime.signal,
      answer: () => this.answer(),
      reject: (status, reason) => this.reject(status, reason),
      play: (source, options) => this.play(source, options),
      collect: (options) => this.collect(options),
      record: (options) => this.record(options),
      bridgeTo: (target, options) => this.bridgeTo(target, options),
      joinRoom: (room, role, options) => this.joinRoom(room, role, options),
      dialOut: (target, room, role, options) => this.dialOut(target, room, role, options),
      setRoomMute: (muted) => this.setRoomMute(muted),
      startRoomRecording: (file) => this.startRoomRecording(file),
      stopRoomRecording: () => this.stopRoomRecording(),
      park: () => Promise.reject(new UnsupportedVerbError('park', 'an application call cannot park yet')),
      transfer: (target) => this.transfer(target),
      hangup: (options) => this.hangup(options),
    };
  }

  // ---- The control channel (control/call-control-channel.ts ControlledCall) ----------

  hangUpByCommand(): boolean {
    if (!this.live && this.#state !== 'Starting') return false;
    if (this.#state === 'Answered') this.byeAndEnd({ result: 'answered', hangupBy: 'control' });
    else {
      if (this.inviteTx.canRespond) this.session.reject(480, 'Call Ended By Administrator');
      this.end({ result: 'cancelled', hangupBy: 'control' });
    }
    return true;
  }

  setRecordingByCommand(): Promise<string | null> {
    return Promise.resolve('an application call cannot be recorded on demand');
  }

  transferByCommand(): Promise<string | null> {
    return Promise.resolve('an application call cannot be transferred yet');
  }
}

/**
 * The bridge records in stereo (channel 1 the caller, channel 2 the empty
 * side); a message is the caller alone, so the file is rewritten as mono
 * from channel 1. Returns its length.
 */
async function keepFirstChannel(file: string): Promise<{ durationMs: number }> {
  const data = await fs.readFile(file);
  const channels = data.readUInt16LE(22);
  if (channels === 1) return { durationMs: Math.round(((data.length - WAV_HEADER_BYTES) / 2 / 8000) * 1000) };
  const frames = Math.floor((data.length - WAV_HEADER_BYTES) / (2 * channels));
  const out = Buffer.alloc(WAV_HEADER_BYTES + frames * 2);
  wavHeader(8000, 1, frames * 2, out);
  for (let i = 0; i < frames; i++) out.writeInt16LE(data.readInt16LE(WAV_HEADER_BYTES + i * 2 * channels), WAV_HEADER_BYTES + i * 2);
  const tmp = `${file}.mono`;
  await fs.writeFile(tmp, out, { mode: 0o600 });
  await fs.rename(tmp, file);
  return { durationMs: Math.round((frames / 8000) * 1000) };
}
