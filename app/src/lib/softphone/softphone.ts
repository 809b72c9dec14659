/**
 * The browser softphone: sip.js (UserAgent, Registerer, Inviter,
 * Invitation) over SIP/WebSocket to the SIP edge, with the registration the
 * server issues. Browser-only: the page loads it after mount. Several calls
 * at once, one active: answering or placing a call holds the others, as on a
 * desk phone; blind and attended transfer by REFER.
 */
import { Invitation, Inviter, Registerer, RegistererState, SessionState, UserAgent, type Notification, type Session } from 'sip.js';
import type { SessionDescriptionHandler } from 'sip.js/lib/platform/web/index.js';

export interface SoftphoneRegistration {
  username: string;
  password: string;
  domain: string;
  server: string;
  extension: string;
  displayName: string;
}

export type PhoneStatus = 'connecting' | 'registered' | 'unregistered' | 'failed';
export type CallStatus = 'ringing-in' | 'calling' | 'in-call';

export interface CallView {
  id: string;
  status: CallStatus;
  /** The other party as SIP shows it (display name or number). */
  peer: string;
  muted: boolean;
  held: boolean;
  /** When the call was answered (ms since epoch). */
  answeredAt: number | null;
  /** A transfer asked of media-server and not yet finished. */
  transferring: boolean;
  /** When the far end started ringing (180), for an outgoing call. */
  ringingAt: number | null;
  /** When the call was placed or received (ms since epoch). */
  startedAt: number;
}

export interface SoftphoneState {
  status: PhoneStatus;
  calls: CallView[];
  /** Why something failed, when it did not end normally. */
  lastError: string | null;
  /** The final SIP answer of the last outgoing call that did not connect. */
  lastFailure: { status: number; reason: string } | null;
  /** Times the connection to the SIP edge was lost and restored (calls kept, ICE restarted). */
  recoveries: number;
  /** ICE restarts the far end accepted (re-INVITE answered 200). */
  iceRestarts: number;
}

const audioWith = (microphoneId: string | null) => ({ constraints: { audio: microphoneId ? { deviceId: { exact: microphoneId } } : true, video: false } });
const AUDIO_ONLY = audioWith(null);

export class Softphone {
  readonly state: SoftphoneState = { status: 'connecting', calls: [], lastError: null, lastFailure: null, recoveries: 0, iceRestarts: 0 };
  private readonly ua: UserAgent;
  private readonly registerer: Registerer;
  private readonly registration: SoftphoneRegistration;
  private readonly audio: HTMLAudioElement;
  private readonly onChange: (state: SoftphoneState) => void;
  private readonly sessions = new Map<string, Session>();
  private nextId = 1;
  private stopping = false;
  /** The microphone chosen by the user, or the browser's default. */
  private microphoneId: string | null = null;
  private recovering: Promise<void> | null = null;

  constructor(registration: SoftphoneRegistration, audio: HTMLAudioElement, onChange: (state: SoftphoneState) => void) {
    this.registration = registration;
    this.audio = audio;
    this.onChange = onChange;
    const uri = UserAgent.makeURI(`sip:${registration.username}@${registration.domain}`);
    if (!uri) throw new Error('invalid softphone registration');
    this.ua = new UserAgent({
      uri,
      displayName: registration.displayName,
      authorizationUsername: registration.username,
      authorizationPassword: registration.password,
      transportOptions: { server: registration.server },
      // Each tab is an instance of the same device (RFC 5626): the registrar keeps one binding per
      // instance, so a second tab adds itself instead of replacing the first.
      instanceIdAlwaysAdded: true,
      logLevel: 'warn',
      sessionDescriptionHandlerFactoryOptions: AUDIO_ONLY,
      delegate: {
        onInvite: (invitation) => this.incoming(invitation),
        // A dropped WebSocket (network blip, proxy restart) is recovered without ending the calls.
        onDisconnect: (error) => {
          if (error && !this.stopping) void this.recover();
        },
      },
    });
    this.registerer = new Registerer(this.ua);
    this.registerer.stateChange.addListener((s) => {
      if (s === RegistererState.Unregistered && !this.stopping) this.update({ status: 'unregistered' });
    });
  }

  async start(): Promise<void> {
    try {
      await this.ua.start();
      await this.register();
    } catch (err) {
      this.update({ status: 'failed', lastError: err instanceof Error ? err.message : String(err) });
    }
  }

  /** REGISTER, with the status taken from the answer (a refresh while registered changes no registerer state). */
  private async register(): Promise<void> {
    await this.registerer.register({
      requestDelegate: {
        onAccept: () => this.update({ status: 'registered' }),
        onReject: (response) => this.update({ status: 'failed', lastError: `${response.message.statusCode} ${response.message.reasonPhrase}` }),
      },
    });
  }

  /**
   * Reconnects with backoff, registers again, and restarts ICE on every
   * established call: the WebSocket came back, and if the network changed the
   * media path has to be found again too. The far end sees a re-INVITE, never a BYE.
   */
  recover(): Promise<void> {
    this.recovering ??= (async () => {
      this.update({ status: 'connecting' });
      for (let attempt = 0; !this.stopping; attempt++) {
        try {
          await this.ua.reconnect();
          break;
        } catch {
          await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** attempt, 8000)));
        }
      }
      if (this.stopping) return;
      await this.register().catch(() => undefined);
      for (const [id, s] of this.sessions) {
        if (s.state !== SessionState.Established) continue;
        await s
          .invite({
            sessionDescriptionHandlerOptions: { offerOptions: { iceRestart: true }, hold: this.view(id)?.held ?? false } as object,
            requestDelegate: { onAccept: () => this.update({ iceRestarts: this.state.iceRestarts + 1 }) },
          })
          .catch(() => undefined);
      }
      this.update({ recoveries: this.state.recoveries + 1 });
    })().finally(() => (this.recovering = null));
    return this.recovering;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const id of [...this.sessions.keys()]) await this.hangUp(id).catch(() => undefined);
    await this.registerer.unregister().catch(() => undefined);
    await this.ua.stop();
  }

  async call(number: string): Promise<void> {
    const target = UserAgent.makeURI(`sip:${number.replace(/[^0-9*#+]/g, '')}@${this.registration.domain}`);
    if (!target) return;
    await this.holdOthers(null);
    const inviter = new Inviter(this.ua, target, { sessionDescriptionHandlerOptions: audioWith(this.microphoneId) });
    const id = this.track(inviter, number, 'calling');
    this.update({ lastError: null, lastFailure: null });
    await inviter
      .invite({
        requestDelegate: {
          // The callee's final answer, for the page to say why the call did not go through.
          onReject: (response) => this.update({ lastFailure: { status: response.message.statusCode ?? 0, reason: response.message.reasonPhrase ?? '' } }),
          onProgress: (response) => {
            if (response.message.statusCode === 180 || response.message.statusCode === 183) {
              if (this.view(id)?.ringingAt === null) this.patchCall(id, { ringingAt: Date.now() });
            }
          },
        },
      })
      .catch((err: unknown) => {
        this.forget(id);
        this.update({ lastError: err instanceof Error ? err.message : String(err) });
      });
  }

  /** Answers a ringing call; the call in progress, if any, goes on hold first. */
  async answer(id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!(s instanceof Invitation) || s.state !== SessionState.Initial) return;
    await this.holdOthers(id);
    await s.accept({ sessionDescriptionHandlerOptions: audioWith(this.microphoneId) });
  }

  async decline(id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (s instanceof Invitation && s.state === SessionState.Initial) await s.reject({ statusCode: 603 });
  }

  async hangUp(id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) return;
    if (s instanceof Inviter && (s.state === SessionState.Initial || s.state === SessionState.Establishing)) await s.cancel();
    else if (s instanceof Invitation && s.state === SessionState.Initial) await s.reject();
    else if (s.state === SessionState.Established) await s.bye();
  }

  setMuted(id: string, muted: boolean): void {
    this.peerConnection(id)
      ?.getSenders()
      .forEach((sender) => {
        if (sender.track) sender.track.enabled = !muted;
      });
    this.patchCall(id, { muted });
  }

  /** Hold and resume by re-INVITE (sendonly / sendrecv): the other party hears hold music. */
  async setHeld(id: string, held: boolean): Promise<void> {
    const s = this.sessions.get(id);
    if (!s || s.state !== SessionState.Established || this.view(id)?.held === held) return;
    if (!held) await this.holdOthers(id);
    await s.invite({ sessionDescriptionHandlerOptions: { ...AUDIO_ONLY, hold: held } as object });
    this.patchCall(id, { held });
  }

  /** The microphone for new calls, and swapped into the calls in progress without renegotiation. */
  async setMicrophone(deviceId: string | null): Promise<void> {
    this.microphoneId = deviceId;
    for (const id of this.sessions.keys()) {
      const pc = this.peerConnection(id);
      const sender = pc?.getSenders().find((x) => x.track?.kind === 'audio');
      if (!sender) continue;
      const stream = await navigator.mediaDevices.getUserMedia({ audio: deviceId ? { deviceId: { exact: deviceId } } : true });
      const track = stream.getAudioTracks()[0]!;
      track.enabled = !(this.view(id)?.muted ?? false);
      const old = sender.track;
      await sender.replaceTrack(track);
      old?.stop();
    }
  }

  /** The speaker the calls play on (where the browser supports choosing it). */
  async setSpeaker(deviceId: string): Promise<void> {
    const audio = this.audio as HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };
    await audio.setSinkId?.(deviceId);
  }

  sendDigit(id: string, digit: string): void {
    (this.sessions.get(id)?.sessionDescriptionHandler as SessionDescriptionHandler | undefined)?.sendDtmf(digit);
  }

  /** Blind transfer (REFER): media-server calls the number and connects the other party; this call then ends. */
  async transferBlind(id: string, number: string): Promise<void> {
    const s = this.sessions.get(id);
    const target = UserAgent.makeURI(`sip:${number.replace(/[^0-9*#+]/g, '')}@${this.registration.domain}`);
    if (!s || !target || s.state !== SessionState.Established) return;
    await this.refer(id, s, target);
  }

  /** Attended transfer (REFER with Replaces): connects the parties of two calls of ours, then both end. */
  async transferAttended(id: string, otherId: string): Promise<void> {
    const s = this.sessions.get(id);
    const other = this.sessions.get(otherId);
    if (!s || !other || s.state !== SessionState.Established || other.state !== SessionState.Established) return;
    await this.refer(id, s, other);
  }

  private async refer(id: string, s: Session, to: Session | NonNullable<ReturnType<typeof UserAgent.makeURI>>): Promise<void> {
    this.patchCall(id, { transferring: true });
    await s.refer(to, {
      // media-server reports progress as NOTIFY sipfrag (RFC 3515): leave once the transfer succeeded.
      onNotify: (notification: Notification) => {
        void notification.accept();
        const status = /SIP\/2\.0 (\d{3})/.exec(notification.request.body ?? '')?.[1];
        if (!status || status.startsWith('1')) return;
        if (status.startsWith('2')) {
          void s.bye().catch(() => undefined);
          return;
        }
        this.patchCall(id, { transferring: false });
        this.update({ lastError: `transfer failed: ${status}` });
      },
      requestDelegate: {
        onReject: (response) => {
          this.patchCall(id, { transferring: false });
          this.update({ lastError: `transfer refused: ${response.message.statusCode} ${response.message.reasonPhrase}` });
        },
      },
    });
  }

  /** Chromium's own figures for a call (the active one by default): packets and audio energy received, packets sent. */
  async mediaStats(id?: string): Promise<{ packetsReceived: number; audioEnergy: number; packetsSent: number; jitter: number; packetsLost: number; rtt: number | null } | null> {
    const pc = this.peerConnection(id ?? this.activeId());
    if (!pc) return null;
    const out = { packetsReceived: 0, audioEnergy: 0, packetsSent: 0, jitter: 0, packetsLost: 0, rtt: null as number | null };
    (await pc.getStats()).forEach((s: Record<string, unknown>) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.packetsReceived = Number(s.packetsReceived ?? 0);
        out.audioEnergy = Number(s.totalAudioEnergy ?? 0);
        out.jitter = Number(s.jitter ?? 0);
        out.packetsLost = Number(s.packetsLost ?? 0);
      }
      if (s.type === 'outbound-rtp' && s.kind === 'audio') out.packetsSent = Number(s.packetsSent ?? 0);
      if (s.type === 'candidate-pair' && s.nominated && typeof s.currentRoundTripTime === 'number') out.rtt = s.currentRoundTripTime;
    });
    return out;
  }

  /** The call being talked on: established and not held (else the newest call). */
  activeId(): string | null {
    const calls = this.state.calls;
    return calls.find((c) => c.status === 'in-call' && !c.held)?.id ?? calls.at(-1)?.id ?? null;
  }

  private async holdOthers(except: string | null): Promise<void> {
    for (const c of this.state.calls) if (c.id !== except && c.status === 'in-call' && !c.held) await this.setHeld(c.id, true);
  }

  private peerConnection(id: string | null): RTCPeerConnection | null {
    const sdh = (id ? this.sessions.get(id)?.sessionDescriptionHandler : undefined) as SessionDescriptionHandler | undefined;
    return sdh?.peerConnection ?? null;
  }

  private incoming(invitation: Invitation): void {
    const from = invitation.remoteIdentity;
    const id = this.track(invitation, from.displayName || from.uri.user || '', 'ringing-in');
    // A page (paging group, issue 15): media-server asks for an answer at once with `Call-Info: …;answer-after=0`,
    // as desk phones expect. Only when the phone is otherwise idle: a page never puts the user's own call on hold.
    // The INVITE comes over the phone's own authenticated connection to media-server, never from a stranger.
    if (/;\s*answer-after\s*=\s*0\b/i.test(invitation.request.getHeader('Call-Info') ?? '') && this.state.calls.length === 1) void this.answer(id).catch(() => undefined);
  }

  private track(session: Session, peer: string, status: CallStatus): string {
    const id = String(this.nextId++);
    this.sessions.set(id, session);
    this.update({ calls: [...this.state.calls, { id, status, peer, muted: false, held: false, answeredAt: null, transferring: false, ringingAt: null, startedAt: Date.now() }] });
    session.stateChange.addListener((s) => {
      if (s === SessionState.Established) {
        this.patchCall(id, { status: 'in-call', answeredAt: Date.now() });
        this.playActive();
      } else if (s === SessionState.Terminated) {
        this.forget(id);
      }
    });
    return id;
  }

  private forget(id: string): void {
    this.sessions.delete(id);
    this.update({ calls: this.state.calls.filter((c) => c.id !== id) });
    this.playActive();
  }

  /** The speaker plays the active call's audio only. */
  private playActive(): void {
    const pc = this.peerConnection(this.activeId());
    if (!pc) {
      this.audio.srcObject = null;
      return;
    }
    const stream = new MediaStream();
    pc.getReceivers().forEach((r) => r.track && stream.addTrack(r.track));
    this.audio.srcObject = stream;
    void this.audio.play().catch(() => undefined);
  }

  private view(id: string): CallView | undefined {
    return this.state.calls.find((c) => c.id === id);
  }

  private patchCall(id: string, patch: Partial<CallView>): void {
    this.update({ calls: this.state.calls.map((c) => (c.id === id ? { ...c, ...patch } : c)) });
    if ('held' in patch) this.playActive();
  }

  private update(patch: Partial<SoftphoneState>): void {
    Object.assign(this.state, patch);
    this.onChange({ ...this.state, calls: this.state.calls.map((c) => ({ ...c })) });
  }
}
