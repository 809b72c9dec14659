/**
 * The signalling side of a WebRTC leg (RFC 8829 JSEP as a SIP peer sees it,
 * RFC 8842 for DTLS roles): telling a browser's SDP from a phone's, reading
 * its ICE and DTLS parameters, and choosing ours. media-server is an ICE-lite
 * agent with one host candidate per leg, and prefers the DTLS server role.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { WebRtcLegSpec } from '../media/index.ts';
import type { MediaSection, SessionDescription } from '../sdp/session-description.ts';

export type DtlsSetup = 'actpass' | 'active' | 'passive';

/** Our side of a WebRTC leg, as our SDP states it. */
export interface LocalWebRtc {
  ufrag: string;
  pwd: string;
  fingerprint: string;
  setup: DtlsSetup;
  mid: string;
  /** The SSRC we send with, announced so that stacks that route by SSRC accept it. */
  ssrc: number;
  /**
   * The id of the RFC 6464 audio level header extension we accept (a=extmap, RFC 8285), or null. An
   * answer takes the browser's id (RFC 8285 §6); without it in our answer the browser does not send the
   * levels a conference room chooses its talkers by (an Opus member's payload is not measured).
   */
  audioLevelId: number | null;
}

/** The browser's side, from its SDP. */
export interface PeerWebRtc {
  ufrag: string;
  pwd: string;
  fingerprint: string;
  setup: DtlsSetup;
  mid: string | null;
  /** Its id for the RFC 6464 audio level extension (a=extmap), or null when it offers none. */
  audioLevelId: number | null;
}

/** RFC 6464's client-to-mixer audio level header extension. */
export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

const attribute = (sdp: SessionDescription, m: MediaSection, name: string): string | null => {
  const prefix = `${name}:`;
  const line = m.attributes.find((a) => a.startsWith(prefix)) ?? sdp.attributes.find((a) => a.startsWith(prefix));
  return line ? line.slice(prefix.length).trim() : null;
};

/** A browser's media section: DTLS-SRTP profile (RFC 5764 §8) with a fingerprint to check. */
export function isWebRtcMedia(sdp: SessionDescription, m: MediaSection): boolean {
  return /UDP\/TLS\/RTP\/SAVPF?|RTP\/SAVPF/i.test(m.protocol) && attribute(sdp, m, 'fingerprint') !== null;
}

export function readPeerWebRtc(sdp: SessionDescription, m: MediaSection): PeerWebRtc | null {
  const ufrag = attribute(sdp, m, 'ice-ufrag');
  const pwd = attribute(sdp, m, 'ice-pwd');
  const fingerprint = attribute(sdp, m, 'fingerprint');
  const setup = (attribute(sdp, m, 'setup') ?? 'actpass') as DtlsSetup;
  if (!ufrag || !pwd || !fingerprint || !['actpass', 'active', 'passive'].includes(setup)) return null;
  return { ufrag, pwd, fingerprint, setup, mid: attribute(sdp, m, 'mid'), audioLevelId: audioLevelIdOf(m) };
}

/**
 * The id the section gives the audio level extension: `extmap:<id>[/<direction>] <uri> [...]`
 * (RFC 8285 §8). Ids are 1–14 in the one-byte form and up to 255 in the two-byte form; 15 is reserved.
 */
function audioLevelIdOf(m: MediaSection): number | null {
  for (const a of m.attributes) {
    const match = /^extmap:([0-9]{1,3})(?:\/\S+)? (\S+)/.exec(a);
    if (!match || match[2] !== AUDIO_LEVEL_URI) continue;
    const id = Number(match[1]);
    return id >= 1 && id <= 255 && id !== 15 ? id : null;
  }
  return null;
}

/** `audioLevelId`: the browser's, to accept its audio levels (application calls, whose caller may join a room); null by default. */
export function newLocalWebRtc(fingerprint: string, setup: DtlsSetup, mid: string | null, audioLevelId: number | null = null): LocalWebRtc {
  return { ...newIceCredentials(), fingerprint, setup, mid: mid ?? '0', ssrc: randomInt(1, 0xffff_ffff), audioLevelId };
}

/** ICE credentials (RFC 8839 §5.4: ufrag ≥ 4 and pwd ≥ 22 characters of ice-char). */
export function newIceCredentials(): { ufrag: string; pwd: string } {
  const chars = (n: number) => randomBytes(n).toString('base64').replace(/[^A-Za-z0-9+/]/g, '').slice(0, n);
  return { ufrag: chars(8), pwd: chars(24) };
}

/** Our a=setup in an answer (RFC 8842 §5.3): passive whenever the offerer lets us, so we are the DTLS server. */
export function answerSetup(peer: DtlsSetup): DtlsSetup {
  return peer === 'passive' ? 'active' : 'passive';
}

/** What the media leg needs, once both sides' parameters are known. */
export function webRtcLegSpec(local: LocalWebRtc, peer: PeerWebRtc): WebRtcLegSpec {
  // With our actpass offer, the answerer's choice decides; otherwise ours does.
  const ours = local.setup === 'actpass' ? (peer.setup === 'active' ? 'passive' : 'active') : local.setup;
  return {
    ice: { localUfrag: local.ufrag, localPwd: local.pwd, remoteUfrag: peer.ufrag },
    dtls: { role: ours === 'passive' ? 'server' : 'client', remoteFingerprint: peer.fingerprint },
  };
}
