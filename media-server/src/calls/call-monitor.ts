import type { Logger } from '@carillon/config';
import type { MonitorMode } from '@carillon/domain';
import type { BridgeHandle, LegCodecName, MediaEngine, MediaEvent, RoomHandle } from '../media/index.ts';
import { createResponse, type SipRequest } from '../sip/message/index.ts';
import { InviteSession, type SessionSettings } from '../sip/session/index.ts';
import type { InviteServerTransaction, NonInviteServerTransaction, TransactionLayer } from '../sip/transaction/index.ts';
import type { SipSource, SipTransportProtocol } from '../sip/transport/index.ts';
import { mediaAddress, parseSdp, type Codec } from '../sdp/session-description.ts';
import type { CallParty } from './call-context.ts';
import type { CallRecords } from './call-records.ts';
import { LocalSdp } from './local-sdp.ts';
import { joiningOffer, uasSession } from './uas-session.ts';

/**
 * Call monitoring (MON-01), the rules of a monitored call's media: while a
 * monitor is on it, the call's two legs and the monitor's leg are members of
 * one room (media/mixer/room.ts), and each member hears what its mode says.
 * The monitor's leg is 'm'; the monitored user (the agent) is on one side of
 * the call, the other party on the other.
 */
export const MONITOR_LEG = 'm';

/**
 * Keys the monitor presses during the call to change mode, as Asterisk's
 * ChanSpy does (4 listen, 5 whisper, 6 barge), and 7 to take the call over.
 */
export const MONITOR_MODE_DIGITS: Readonly<Record<string, MonitorMode>> = { '4': 'listen', '5': 'whisper', '6': 'barge', '7': 'takeover' };

/** Whom each leg hears, by leg id; null: everyone else in the room. */
export type Hearing = Record<'a' | 'b' | typeof MONITOR_LEG, string[] | null>;

/**
 * - listen: the monitor hears both parties; the parties hear only each other.
 * - whisper: the agent hears the other party and the monitor; the other party hears only the agent; the monitor hears both.
 * - barge: everyone hears everyone (a three-way call).
 * Take over is no hearing rule: the agent leaves, and the monitor takes its side of the two-party bridge.
 */
export function hearingFor(mode: Exclude<MonitorMode, 'takeover'>, agentSide: 'a' | 'b'): Hearing {
  const other = agentSide === 'a' ? 'b' : 'a';
  const rules: Hearing = { a: null, b: null, [MONITOR_LEG]: null };
  if (mode === 'listen') {
    rules[agentSide] = [other];
    rules[other] = [agentSide];
  } else if (mode === 'whisper') {
    rules[other] = [agentSide];
  }
  return rules;
}

const legCodec = (c: Codec) => ({ name: c.name.toUpperCase() as LegCodecName, payloadType: c.payloadType });

/**
 * What a monitored call lends its monitor: a call whose two parties are the legs 'a' and 'b' of
 * one bridge. A two-party B2BUA call (B2buaCall) and an application call bridged to an agent
 * (AppCall after bridgeTo: queue calls, answering rules) both are.
 */
export interface MonitoredCall {
  readonly log: Logger;
  readonly accountId: string;
  /** The call's record: the monitor's leg is written in it (role 'monitor'); null: no record. */
  readonly recordId: string | null;
  readonly media: Pick<MediaEngine, 'createRoom'>;
  readonly transactions: TransactionLayer;
  readonly sessionSettings?: Partial<SessionSettings> | undefined;
  readonly records: Pick<CallRecords, 'addLeg' | 'legAnswered' | 'legEnded'>;
  localContact(transport: SipTransportProtocol): { host: string; port: number };
  /** The bridge that holds the legs 'a' and 'b' when no monitor is on the call. */
  bridge(): BridgeHandle | null;
  /** Still a call this monitor can join on its agent's side (asked again after each wait). */
  fits(): boolean;
  /** The call is ending: the legs stay where they are, the call closes them. */
  ended(): boolean;
  /** The monitor's Call-ID reaches this call from now on (its ACK, BYE, re-INVITEs). */
  registerCallId(callId: string): void;
  /** The call knows its monitor (from now on its end ends the monitoring), or no longer. */
  setMonitor(monitor: CallMonitor | null): void;
  /** A key or a media timeout of the parties' legs, while they are in the room. */
  partyEvent(e: MediaEvent): void;
  /** The monitor's presence: on a call while it monitors. */
  presence(extensionId: string, state: 'on_call' | null): void;
  /** Take over (the agent leaves, the monitor takes its side); absent: this call cannot be taken over (7 is ignored). */
  takeOver?(monitor: CallMonitor): Promise<void>;
}

/**
 * A monitor on a call (MON-01): its session (we are the UAS of its INVITE), the room that holds the
 * call's two legs and the monitor's while it lasts, its mode, and its leg in the call log. One class
 * for every kind of monitored call (MonitoredCall): the media moves, the hearing rules, the keys.
 *
 * The legs a and b move from the bridge into a room placed on the bridge's worker (their sockets,
 * keys and RTP streams stay: no re-INVITE), each with the hearing rule of the mode, then the
 * monitor's leg opens in the room. The monitor leaving moves them back (the room relays until each
 * has moved: no gap) and closes the room with the monitor's leg.
 */
export class CallMonitor {
  readonly session: InviteSession;
  /** The monitor's INVITE (a take over makes its dialog the agent's side). */
  readonly invite: SipRequest;
  readonly room: RoomHandle;
  readonly agentSide: 'a' | 'b';
  readonly party: Extract<CallParty, { kind: 'device' }>;
  readonly codec: Codec;
  readonly telephoneEvent: Codec | null;
  readonly sdp = new LocalSdp();
  mode: MonitorMode;
  /** The legs a and b are in the room (moved there from the bridge, and back when the monitor leaves). */
  inRoom = false;
  /** The monitor's leg in the call log; a take over hands it to the side the monitor takes. */
  legRecordId: string | null = null;
  private readonly call: MonitoredCall;
  /** The media changes, one at a time (moves between the bridge and the room, hearing rules). */
  private ops: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;

  private constructor(call: MonitoredCall, init: { session: InviteSession; invite: SipRequest; room: RoomHandle; mode: MonitorMode; agentSide: 'a' | 'b'; party: Extract<CallParty, { kind: 'device' }>; codec: Codec; telephoneEvent: Codec | null }) {
    this.call = call;
    this.session = init.session;
    this.invite = init.invite;
    this.room = init.room;
    this.mode = init.mode;
    this.agentSide = init.agentSide;
    this.party = init.party;
    this.codec = init.codec;
    this.telephoneEvent = init.telephoneEvent;
  }

  /** The monitor's dialog. */
  get callId(): string | undefined {
    return this.session.dialog?.state.callId;
  }

  /**
   * A monitor's INVITE (a monitoring code + the agent's extension) joins `call` on `agentSide`.
   * The engine checked that the monitor may (a group where it monitors the agent). Plain RTP only,
   * as a pickup: a browser's offer gets 488. 'takeover' drops the agent at once (calls that can).
   */
  static async join(call: MonitoredCall, mode: MonitorMode, agentSide: 'a' | 'b', invite: SipRequest, tx: InviteServerTransaction, source: SipSource, party: Extract<CallParty, { kind: 'device' }>): Promise<void> {
    if (!call.fits()) {
      tx.respond(createResponse(invite, 404, { reason: 'No Call To Monitor' }));
      return;
    }
    if (mode === 'takeover' && !call.takeOver) {
      tx.respond(createResponse(invite, 488, { reason: 'Take Over Not Available' }));
      return;
    }
    const choice = joiningOffer(invite);
    if (!choice) {
      tx.respond(createResponse(invite, 488, { reason: 'Not Acceptable Here' }));
      return;
    }
    const session = uasSession({ invite, tx, source, transactions: call.transactions, localContact: (transport) => call.localContact(transport), sessionSettings: call.sessionSettings, log: call.log });
    call.registerCallId(invite.callId);
    if (session.refuseTooBrief()) return;
    const room = await call.media.createRoom({ near: call.bridge()! });
    const monitor = new CallMonitor(call, { session, invite, room, mode, agentSide, party, codec: choice.audio, telephoneEvent: choice.telephoneEvent });
    if (!call.fits() || !tx.canRespond) {
      // The call moved on while the room opened (hung up, transferred, another monitor first), or the monitor's CANCEL came first.
      if (tx.canRespond) session.reject(404, 'No Call To Monitor');
      session.close();
      await room.close().catch(() => undefined);
      return;
    }
    // From here on the call knows its monitor: its end ends the monitoring, whatever happens below.
    call.setMonitor(monitor);
    room.on('dtmf', (e) => (e.legId === MONITOR_LEG ? monitor.digit(e.digit) : call.partyEvent(e)));
    room.on('media-timeout', (e) => call.partyEvent(e));
    if (call.recordId) {
      monitor.legRecordId = await call.records
        .addLeg({ callId: call.recordId, accountId: call.accountId, role: 'monitor', endpoint: 'sip', deviceId: party.deviceId, sipCallId: invite.callId, remoteUri: invite.get('from') ?? null })
        .catch((err: unknown) => {
          call.log.error('monitor leg not written in the call record', { error: err });
          return null;
        });
    }
    let local: { address: string; rtpPort: number };
    try {
      local = await monitor.serial(async () => {
        const bridge = call.bridge();
        if (!bridge || !monitor.current) throw new Error('the call left before its monitor joined');
        // The rules first, then the monitor's leg: it is never heard before its mode says so.
        await bridge.moveEndpoint('a', room);
        await bridge.moveEndpoint('b', room);
        monitor.inRoom = true;
        await monitor.applyHearing(mode === 'takeover' ? 'listen' : mode);
        return room.addEndpoint({ legId: MONITOR_LEG, codec: legCodec(choice.audio), telephoneEventPayloadType: choice.telephoneEvent?.payloadType ?? null, remote: choice.remote });
      });
    } catch (err) {
      if (!call.ended()) call.log.error('monitoring could not start', { error: err });
      if (tx.canRespond) session.reject(call.ended() ? 404 : 500, call.ended() ? 'No Call To Monitor' : undefined);
      await monitor.stop();
      return;
    }
    if (!monitor.current || !tx.canRespond) {
      if (tx.canRespond) session.reject(404, 'No Call To Monitor');
      await monitor.stop();
      return;
    }
    session.accept({ sdp: monitor.sdp.build({ address: local.address, port: local.rtpPort, codecs: [choice.audio], telephoneEvent: choice.telephoneEvent, webrtc: null }) });
    if (monitor.legRecordId) void call.records.legAnswered(monitor.legRecordId, choice.audio.name).catch(() => undefined);
    // Its BYE (or its session failing); not the BYE the call's end sent it (hangUp), whose close follows.
    session.on('terminated', () => {
      if (monitor.current) void monitor.stop();
    });
    session.on('offer', (o) => {
      // Hold or a new address from the monitor's phone: the same media, its answer our SDP again.
      const sdp = o.sdp ? parseSdp(o.sdp.toString('utf8')) : null;
      const a = sdp?.media.find((m) => m.type === 'audio' && m.port > 0);
      const address = sdp && a ? mediaAddress(sdp, a) : null;
      if (!monitor.current || !a || !address) {
        o.reject(monitor.current ? 488 : 481);
        return;
      }
      void (async () => {
        if (address !== '0.0.0.0') await monitor.room.updateEndpoint(MONITOR_LEG, { remote: { address, rtpPort: a.port } });
        o.accept({ sdp: monitor.sdp.build({ address: local.address, port: local.rtpPort, codecs: [monitor.codec], telephoneEvent: monitor.telephoneEvent, webrtc: null }) });
      })().catch(() => o.reject(500));
    });
    session.on('request', (req, rtx) => {
      if (req.method === 'INFO') {
        const body = req.body.toString('utf8');
        const digit = /Signal\s*=\s*([0-9*#])/.exec(body)?.[1] ?? (/^\s*([0-9*#])\s*$/.exec(body)?.[1] ?? null);
        rtx.respond(createResponse(req, 200));
        if (digit) monitor.digit(digit);
        return;
      }
      rtx.respond(createResponse(req, req.method === 'OPTIONS' || req.method === 'NOTIFY' ? 200 : 501));
    });
    // Who monitored whom is worth a log line (a supervisor's action on a colleague's call); the monitor is on a call too.
    call.log.info('monitoring started', { mode, side: agentSide, monitorExtensionId: party.extensionId });
    if (!call.ended()) call.presence(party.extensionId, 'on_call');
    if (mode === 'takeover') await call.takeOver!(monitor);
  }

  /** This monitor is still the call's (not stopped, not become a party by take over). */
  private current = true;

  /** A request in the monitor's dialog (its BYE, re-INVITEs, INFO): its session answers it. */
  receiveRequest(req: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction): void {
    this.session.receiveRequest(req, tx);
  }

  /** One media change after the other, so a change of mode never crosses the monitor leaving. */
  serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.ops.then(op);
    this.ops = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Waits for the media changes under way (the call's end reads and closes the media after them). */
  settled(): Promise<void> {
    return this.ops;
  }

  private async applyHearing(mode: Exclude<MonitorMode, 'takeover'>): Promise<void> {
    const rules = hearingFor(mode, this.agentSide);
    // The monitor hears everyone in every mode (its rule stays null); the parties' rules say whether they hear it.
    await this.room.setHears('a', rules.a);
    await this.room.setHears('b', rules.b);
    this.mode = mode;
  }

  /** A key from the monitor: 4 listen, 5 whisper, 6 barge, 7 take over (MONITOR_MODE_DIGITS); others are ignored. */
  private digit(digit: string): void {
    const mode = MONITOR_MODE_DIGITS[digit];
    if (!mode || !this.current || mode === this.mode) return;
    this.call.log.debug('monitoring mode', { mode });
    if (mode === 'takeover') {
      if (this.call.takeOver) void this.call.takeOver(this).catch((err: unknown) => this.call.log.error('take over failed', { error: err }));
      return;
    }
    void this.serial(async () => {
      if (this.current && this.inRoom) await this.applyHearing(mode);
    }).catch((err: unknown) => this.call.log.error('monitoring mode not changed', { error: err }));
  }

  /**
   * Take over (inside `serial`): the monitor is the call's monitor no more but the party on the
   * agent's side; its session's monitoring handlers go, and the caller attaches it as that side.
   * False when the monitor left meanwhile.
   */
  becomeParty(): boolean {
    if (!this.current || !this.inRoom || this.call.ended()) return false;
    this.current = false;
    this.call.setMonitor(null);
    for (const event of ['offer', 'request', 'terminated'] as const) this.session.removeAllListeners(event);
    return true;
  }

  /**
   * The media of a take over (inside `serial`, after becomeParty): the other party hears the
   * monitor at once, the agent's leg closes, and the two go back to the bridge, the monitor's
   * under the agent's leg id; the room closes.
   */
  async moveAsAgent(bridge: BridgeHandle): Promise<void> {
    const side = this.agentSide;
    const other = side === 'a' ? 'b' : 'a';
    await this.room.setHears(other, null);
    await this.room.removeEndpoint(side);
    await this.room.moveEndpoint(other, bridge);
    await this.room.moveEndpoint(MONITOR_LEG, bridge, side);
    this.inRoom = false;
    this.room.removeAllListeners();
    await this.room.close();
  }

  /** The monitor leaves (its BYE, or the monitoring failed): the parties go back to their bridge, the room closes. */
  stop(): Promise<void> {
    this.stopping ??= this.serial(async () => {
      if (this.current) {
        this.current = false;
        this.call.setMonitor(null);
      }
      // The monitor is free again (the call's end clears the call's presence as a whole).
      if (!this.call.ended()) this.call.presence(this.party.extensionId, null);
      if (this.room.closed) return;
      // Back to the two-party path first (the room relays until each leg is moved), then the monitor's leg closes with the
      // room. A call that ended meanwhile closes the room with its legs in it: they are going anyway.
      const bridge = this.call.bridge();
      if (this.inRoom && !this.call.ended() && bridge && !bridge.closed) {
        for (const leg of ['a', 'b'] as const) await this.room.moveEndpoint(leg, bridge).catch(() => undefined);
        this.inRoom = false;
      }
      // The monitor's figures, read once the parties are back on their bridge (its leg is still in the room).
      const stats = await this.room.stats().catch(() => []);
      this.room.removeAllListeners();
      await this.room.close().catch(() => undefined);
      await this.legEnded(stats);
      this.call.log.info('monitoring ended');
    });
    return this.stopping;
  }

  /** Ends the monitoring before the call's media moves elsewhere (a transfer, a park, the agent gone): BYE to the monitor. */
  async end(): Promise<void> {
    if (this.current) this.session.bye();
    await this.stop();
  }

  /**
   * The call ends with its monitor on it: BYE to the monitor now; `close` after the call has read
   * its legs' figures (the room holds them while the monitor is on) closes the room with what is in it.
   */
  hangUp(): void {
    this.current = false;
    this.session.bye();
  }

  async close(): Promise<void> {
    this.session.close();
    if (this.stopping) return this.stopping;
    const stats = this.room.closed ? [] : await this.room.stats().catch(() => []);
    this.room.removeAllListeners();
    await this.room.close().catch(() => undefined);
    await this.legEnded(stats);
  }

  private async legEnded(stats: Awaited<ReturnType<RoomHandle['stats']>>): Promise<void> {
    const id = this.legRecordId;
    this.legRecordId = null;
    if (!id) return;
    const s = stats.find((x) => x.legId === MONITOR_LEG);
    await this.call.records.legEnded(id, 'answered', s ? { received: s.received, sent: s.sent, dropped: s.dropped, rtcpReceived: s.rtcpReceived } : undefined).catch((err: unknown) => this.call.log.error('monitor leg not ended in the record', { error: err }));
  }
}
