import type { InviteSession } from '../sip/session/index.ts';
import type { SipSource } from '../sip/transport/index.ts';
import type { Codec } from '../sdp/session-description.ts';
import { reachTarget } from './binding-target.ts';
import type { LocalSdp } from './local-sdp.ts';
import type { AnchoredParty } from './reoffer.ts';
import type { LocalWebRtc, PeerWebRtc } from './webrtc-media.ts';

/**
 * One answered party of a call: its INVITE session (its dialog, where its
 * requests go, the 2xx and ACKs, its re-INVITEs: sip/session), the media
 * endpoint that carries its audio (`legId` in the call's bridge or room) and
 * our side of its SDP, with what was negotiated (codec, telephone-event,
 * a browser's DTLS/ICE parameters) and whether it holds the call.
 *
 * The leg has one closed flag. It is closed when its party leaves the call:
 * by our BYE (`hangUp`), by its own BYE or its session ending (the call then
 * closes it), or when the call ends (`close`: no SIP, its session's timers
 * stop; a BYE held for the ACK of our 2xx still goes, RFC 3261 §15). Its
 * media endpoint is the container's: closed with the bridge or room, as the
 * call closes its legs, then its container.
 */
export class SipLeg implements AnchoredParty {
  readonly legId: 'a' | 'b';
  readonly session: InviteSession;
  codec: Codec;
  telephoneEvent: Codec | null;
  /** Our side of its SDP: one per dialog, so that each answer's o= version is one more than the last (RFC 3264 §8). */
  readonly sdp: LocalSdp;
  onHold = false;
  /** Its row in call_legs, when written. */
  legRecordId: string | null;
  /** Our side of a browser's leg (its DTLS role settled), and the browser's last parameters. */
  webrtc: { local: LocalWebRtc; peer: PeerWebRtc } | null;
  #closed = false;
  private retireTimer: NodeJS.Timeout | null = null;

  constructor(init: {
    legId: 'a' | 'b';
    session: InviteSession;
    codec: Codec;
    telephoneEvent: Codec | null;
    sdp: LocalSdp;
    legRecordId: string | null;
    webrtc: { local: LocalWebRtc; peer: PeerWebRtc } | null;
  }) {
    this.legId = init.legId;
    this.session = init.session;
    this.codec = init.codec;
    this.telephoneEvent = init.telephoneEvent;
    this.sdp = init.sdp;
    this.legRecordId = init.legRecordId;
    this.webrtc = init.webrtc;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The Call-ID of its dialog, once it has one. */
  get callId(): string | null {
    return this.session.dialog?.state.callId ?? null;
  }

  /** Whether its dialog has these identifiers (tags in either order). */
  matches(callId: string, tag1: string, tag2: string): boolean {
    return this.session.matches(callId, tag1, tag2);
  }

  /** Hangs its party up: our BYE (held by the session until the ACK of our 2xx, RFC 3261 §15). */
  hangUp(): void {
    this.clearRetire();
    this.#closed = true;
    this.session.bye();
  }

  /** Lets go of it without SIP (the call ended, or its party hung up): its session's timers stop. */
  close(): void {
    this.clearRetire();
    this.#closed = true;
    this.session.close();
  }

  /**
   * Its party left the call by a transfer (it sent the REFER): the dialog is
   * kept only to answer its BYE (`close` then); if it does not hang up within
   * `ms`, we end it (`hangUp`) and `gone` is told.
   */
  retire(ms: number, gone: () => void): void {
    this.clearRetire();
    this.retireTimer = setTimeout(() => {
      this.retireTimer = null;
      if (this.#closed) return;
      gone();
      this.hangUp();
    }, ms);
    this.retireTimer.unref();
  }

  private clearRetire(): void {
    if (this.retireTimer) clearTimeout(this.retireTimer);
    this.retireTimer = null;
  }

  /**
   * A party over a stream (a browser's WebSocket) that reconnected sends its
   * next request on the new connection; requests to it must follow, or the
   * call would be stuck on the dead one (RFC 5626's flow idea, per dialog).
   */
  followConnection(source: SipSource): void {
    const current = this.session.target;
    const dialog = this.session.dialog;
    if (source.connectionId === undefined || !current || !dialog || !('connectionId' in current) || current.connectionId === source.connectionId) return;
    const target = reachTarget(dialog.state.remoteTarget, { transport: source.transport, address: source.remoteAddress, port: source.remotePort, connectionId: source.connectionId });
    if (target) this.session.retarget(target);
  }
}
