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
}

/** The browser's side, from its SDP. */
export interface PeerWebRtc {
  ufrag: string;
  pwd: string;
  fingerprint: string;
  setup: DtlsSetup;
  mid: string | null;
}

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
  return { ufrag, pwd, fingerprint, setup, mid: attribute(sdp, m, 'mid') };
}

export function newLocalWebRtc(fingerprint: string, setup: DtlsSetup, mid: string | null): LocalWebRtc {
  return { ...newIceCredentials(), fingerprint, setup, mid: mid ?? '0', ssrc: randomInt(1, 0xffff_ffff) };
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
