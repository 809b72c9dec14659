import { staticAudioPath, type ContainerHandle } from '../media/index.ts';
import type { IncomingOffer } from '../sip/session/index.ts';
import { answerDirection, isHold, mediaAddress, parseSdp, type Codec } from '../sdp/session-description.ts';
import type { LocalSdp } from './local-sdp.ts';
import { newIceCredentials, readPeerWebRtc, webRtcLegSpec, type LocalWebRtc, type PeerWebRtc } from './webrtc-media.ts';

/** What a party put on hold hears from us (seed 000 "musique d'attente"). */
export const HOLD_MUSIC = { file: staticAudioPath('hold-music.wav') };

/**
 * One answered party whose media we anchor (a B2BUA side, an application call's caller or the
 * callee its `bridgeTo` connected): what our answers to its re-offers are built from, and whether
 * it holds the call now.
 */
export interface AnchoredParty {
  /** Its endpoint in the container (the bridge, or a monitoring room). */
  legId: string;
  codec: Codec;
  telephoneEvent: Codec | null;
  /** Our side of its SDP: one per dialog, so that each answer's o= version is one more than the last (RFC 3264 §8). */
  sdp: LocalSdp;
  onHold: boolean;
  /** Our side of a browser's leg (its DTLS role settled), and the browser's last parameters. */
  webrtc: { local: LocalWebRtc; peer: PeerWebRtc } | null;
}

/**
 * A re-INVITE or UPDATE with SDP from an answered party (RFC 3261 §14.2): hold, resume, or a new
 * address. Media is anchored here, so it is answered here: the endpoint follows the new address
 * (or the browser's ICE restart), takes the direction we answer (RFC 3264 §6.1 and §8.4: a
 * sendonly or inactive hold is answered recvonly or inactive), and the party on `other` (an
 * endpoint in the same container; null when nobody is connected) hears hold music while this
 * one holds. Our answer keeps the party's codec. An offer without SDP is the caller's to answer
 * (what it offers depends on the call).
 *
 * Resolves with the new hold state when it changed, null otherwise.
 */
export async function answerReoffer(o: {
  container: ContainerHandle;
  party: AnchoredParty;
  /** Our address and port of the party's endpoint. */
  local: { address: string; rtpPort: number };
  other: string | null;
  offer: IncomingOffer;
  /** What `other` hears while this party holds: a file, or null for silence (the holding user's choice); the shipped hold music by default. */
  music?: () => Promise<string | null>;
}): Promise<boolean | null> {
  const { container, party, offer } = o;
  const sdp = offer.sdp ? parseSdp(offer.sdp.toString('utf8')) : null;
  const audio = sdp?.media.find((m) => m.type === 'audio');
  if (!sdp || !audio) {
    offer.reject(488);
    return null;
  }
  const remote = mediaAddress(sdp, audio);
  const hold = isHold(sdp);
  const direction = answerDirection(audio.direction);
  if (party.webrtc) {
    const peer = readPeerWebRtc(sdp, audio);
    if (!peer) {
      offer.reject(488);
      return null;
    }
    // New ICE credentials from the browser are an ICE restart (it changed networks): ours change too
    // (RFC 8445 §9), and the leg follows the first path the new checks prove, keeping its DTLS keys.
    if (peer.ufrag !== party.webrtc.peer.ufrag) party.webrtc.local = { ...party.webrtc.local, ...newIceCredentials() };
    party.webrtc.peer = peer;
    await container.updateEndpoint(party.legId, { webrtc: webRtcLegSpec(party.webrtc.local, peer) });
  } else if (remote && remote !== '0.0.0.0' && audio.port > 0) await container.updateEndpoint(party.legId, { remote: { address: remote, rtpPort: audio.port } });
  await container.setDirection(party.legId, direction);
  const changed = hold !== party.onHold;
  if (o.other && changed) {
    if (hold) {
      const music = o.music ? await o.music() : HOLD_MUSIC.file;
      if (music) await container.play(o.other, { file: music }, { loop: true });
    } else await container.stopPlayback(o.other);
  }
  party.onHold = hold;
  offer.accept({ sdp: party.sdp.build({ address: o.local.address, port: o.local.rtpPort, codecs: [party.codec], telephoneEvent: party.telephoneEvent, direction, webrtc: party.webrtc?.local ?? null }) });
  return changed ? hold : null;
}
