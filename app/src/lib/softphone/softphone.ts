/**
 * The browser softphone: sip.js (UserAgent, Registerer, Inviter,
 * Invitation) over SIP/WebSocket to the SIP edge, with the registration the
 * server issues. Browser-only: the page loads it after mount. One call at a
 * time for now; the state it reports drives the page.
 */
import { Invitation, Inviter, Registerer, RegistererState, SessionState, UserAgent, type Session } from 'sip.js';
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
export type CallStatus = 'idle' | 'ringing-in' | 'calling' | 'in-call';

export interface SoftphoneState {
  status: PhoneStatus;
  call: CallStatus;
  /** The other party as SIP shows it (display name or number). */
  peer: string | null;
  muted: boolean;
  held: boolean;
  /** When the current call was answered (ms since epoch). */
  answeredAt: number | null;
  /** Why the last call ended or failed, when it did not end normally. */
  lastError: string | null;
  /** The final SIP answer of the last outgoing call that did not connect. */
  lastFailure: { status: number; reason: string } | null;
  /** Times the connection to the SIP edge was lost and restored (calls kept, ICE restarted). */
  recoveries: number;
  /** ICE restarts the far end accepted (re-INVITE answered 200). */
  iceRestarts: number;
}

export class Softphone {
  readonly state: SoftphoneState = { status: 'connecting', call: 'idle', peer: null, muted: false, held: false, answeredAt: null, lastError: null, lastFailure: null, recoveries: 0, iceRestarts: 0 };
  private readonly ua: UserAgent;
  private readonly registerer: Registerer;
  private readonly registration: SoftphoneRegistration;
  private readonly audio: HTMLAudioElement;
  private readonly onChange: (state: SoftphoneState) => void;
  private session: Session | null = null;
  private stopping = false;
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
      logLevel: 'warn',
      sessionDescriptionHandlerFactoryOptions: { constraints: { audio: true, video: false } },
      delegate: {
        onInvite: (invitation) => this.incoming(invitation),
        // A dropped WebSocket (network blip, proxy restart) is recovered without ending the call.
        onDisconnect: (error) => {
          if (error && !this.stopping) void this.recover();
        },
      },
    });
    this.registerer = new Registerer(this.ua);
    this.registerer.stateChange.addListener((s) => this.update({ status: s === RegistererState.Registered ? 'registered' : s === RegistererState.Unregistered ? 'unregistered' : this.state.status }));
  }

  async start(): Promise<void> {
    try {
      await this.ua.start();
      await this.register();
    } catch (err) {
      this.update({ status: 'failed', lastError: err instanceof Error ? err.message : String(err) });
    }
  }

  /**
   * Reconnects with backoff, registers again, and restarts ICE on the call in
   * progress: the WebSocket came back, and if the network changed the media
   * path has to be found again too. The far end sees a re-INVITE, never a BYE.
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
      const s = this.session;
      if (s?.state === SessionState.Established) {
        await s
          .invite({
            sessionDescriptionHandlerOptions: { offerOptions: { iceRestart: true }, hold: this.state.held } as object,
            requestDelegate: { onAccept: () => this.update({ iceRestarts: this.state.iceRestarts + 1 }) },
          })
          .catch(() => undefined);
      }
      this.update({ recoveries: this.state.recoveries + 1 });
    })().finally(() => (this.recovering = null));
    return this.recovering;
  }

  /** REGISTER, with the status taken from the answer (a refresh while already registered changes no registerer state). */
  private async register(): Promise<void> {
    await this.registerer.register({
      requestDelegate: {
        onAccept: () => this.update({ status: 'registered' }),
        onReject: (response) => this.update({ status: 'failed', lastError: `${response.message.statusCode} ${response.message.reasonPhrase}` }),
      },
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.hangUp().catch(() => undefined);
    await this.registerer.unregister().catch(() => undefined);
    await this.ua.stop();
  }

  async call(number: string): Promise<void> {
    if (this.session) return;
    const target = UserAgent.makeURI(`sip:${number.replace(/[^0-9*#+]/g, '')}@${this.registration.domain}`);
    if (!target) return;
    const inviter = new Inviter(this.ua, target, { sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } });
    this.track(inviter, number);
    this.update({ call: 'calling', peer: number, lastError: null, lastFailure: null });
    await inviter
      .invite({
        requestDelegate: {
          // The callee's final answer, for the page to say why the call did not go through.
          onReject: (response) => this.update({ lastFailure: { status: response.message.statusCode ?? 0, reason: response.message.reasonPhrase ?? '' } }),
        },
      })
      .catch((err: unknown) => this.update({ call: 'idle', lastError: err instanceof Error ? err.message : String(err) }));
  }

  async answer(): Promise<void> {
    if (this.session instanceof Invitation && this.session.state === SessionState.Initial) {
      await this.session.accept({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } });
    }
  }

  async decline(): Promise<void> {
    if (this.session instanceof Invitation && this.session.state === SessionState.Initial) await this.session.reject({ statusCode: 603 });
  }

  async hangUp(): Promise<void> {
    const s = this.session;
    if (!s) return;
    if (s instanceof Inviter && (s.state === SessionState.Initial || s.state === SessionState.Establishing)) await s.cancel();
    else if (s instanceof Invitation && s.state === SessionState.Initial) await s.reject();
    else if (s.state === SessionState.Established) await s.bye();
  }

  setMuted(muted: boolean): void {
    const pc = this.peerConnection();
    pc?.getSenders().forEach((sender) => {
      if (sender.track) sender.track.enabled = !muted;
    });
    this.update({ muted });
  }

  /** Hold and resume by re-INVITE (sendonly / sendrecv): the other party hears hold music. */
  async setHeld(held: boolean): Promise<void> {
    const s = this.session;
    if (!s || s.state !== SessionState.Established) return;
    await s.invite({ sessionDescriptionHandlerOptions: { hold: held } as object });
    this.update({ held });
  }

  sendDigit(digit: string): void {
    const sdh = this.session?.sessionDescriptionHandler as SessionDescriptionHandler | undefined;
    sdh?.sendDtmf(digit);
  }

  /** Chromium's own figures for the call: packets and audio energy received, packets sent. */
  async mediaStats(): Promise<{ packetsReceived: number; audioEnergy: number; packetsSent: number; jitter: number; packetsLost: number; rtt: number | null } | null> {
    const pc = this.peerConnection();
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

  private peerConnection(): RTCPeerConnection | null {
    const sdh = this.session?.sessionDescriptionHandler as SessionDescriptionHandler | undefined;
    return sdh?.peerConnection ?? null;
  }

  private incoming(invitation: Invitation): void {
    if (this.session) {
      // One call at a time for now: a second caller hears busy.
      void invitation.reject({ statusCode: 486 });
      return;
    }
    const from = invitation.remoteIdentity;
    this.track(invitation, from.displayName || from.uri.user || '');
    this.update({ call: 'ringing-in', peer: from.displayName || from.uri.user || null, lastError: null });
  }

  private track(session: Session, peer: string): void {
    this.session = session;
    session.stateChange.addListener((s) => {
      if (s === SessionState.Established) {
        this.attachAudio(session);
        this.update({ call: 'in-call', peer, answeredAt: Date.now() });
      } else if (s === SessionState.Terminated) {
        if (this.session === session) this.session = null;
        this.audio.srcObject = null;
        this.update({ call: 'idle', peer: null, muted: false, held: false, answeredAt: null });
      }
    });
  }

  private attachAudio(session: Session): void {
    const pc = (session.sessionDescriptionHandler as SessionDescriptionHandler | undefined)?.peerConnection;
    if (!pc) return;
    const stream = new MediaStream();
    pc.getReceivers().forEach((r) => r.track && stream.addTrack(r.track));
    this.audio.srcObject = stream;
    void this.audio.play().catch(() => undefined);
  }

  private update(patch: Partial<SoftphoneState>): void {
    Object.assign(this.state, patch);
    this.onChange({ ...this.state });
  }
}
