import type { LegCodecName, LegUpdate } from '../media/index.ts';
import type { SipResponse } from '../sip/message/index.ts';
import type { SipTarget } from '../sip/transport/index.ts';
import { mediaAddress, parseSdp, type Codec } from '../sdp/session-description.ts';
import { chooseCodec, PLAIN_RTP_CODECS, WEBRTC_CODECS, WEBRTC_TELEPHONE_EVENTS } from '../sdp/negotiate-codecs.ts';
import type { LocalSdp } from './local-sdp.ts';
import { newLocalWebRtc, readPeerWebRtc, webRtcLegSpec, type LocalWebRtc, type PeerWebRtc } from './webrtc-media.ts';

/**
 * The media of one fork of a call to a device (or a trunk), shared by the
 * calls that fork: `B2buaCall` and `AppCall.bridgeTo`. The offer in the
 * fork's INVITE, and what the device's answer makes of the bridge leg.
 */

const legCodec = (c: Codec) => ({ name: c.name.toUpperCase() as LegCodecName, payloadType: c.payloadType });

/**
 * The SDP offer of a fork's INVITE. A device registered over WebSocket is a
 * browser: it gets a WebRTC offer (DTLS-SRTP, ICE, Opus). The caller's codec
 * is offered first so that no transcoding is needed when the callee has it too.
 */
export function forkOffer(o: { target: SipTarget; callerCodec: Codec; dtlsFingerprint: string; local: { address: string; rtpPort: number }; sdp: LocalSdp }): { body: Buffer; webrtc: LocalWebRtc | null } {
  const webrtc = o.target.transport === 'WS' || o.target.transport === 'WSS' ? newLocalWebRtc(o.dtlsFingerprint, 'actpass', '0') : null;
  const supported = webrtc ? WEBRTC_CODECS : PLAIN_RTP_CODECS;
  const first = supported.find((c) => c.name.toLowerCase() === o.callerCodec.name.toLowerCase());
  const codecs = first ? [first, ...supported.filter((c) => c !== first)] : supported;
  const body = o.sdp.build({
    address: o.local.address,
    port: o.local.rtpPort,
    codecs,
    ...(webrtc ? { telephoneEvent: WEBRTC_TELEPHONE_EVENTS, webrtc } : {}),
  });
  return { body, webrtc };
}

export interface ForkAnswer {
  audio: Codec;
  telephoneEvent: Codec | null;
  /** Our side of a browser's leg (its DTLS role settled by the answer), and the browser's parameters. */
  webrtc: { local: LocalWebRtc; peer: PeerWebRtc } | null;
  /** What the bridge leg of this party becomes. */
  leg: LegUpdate;
}

/** The device's answer to a fork's offer: the codec it chose and where its media goes; null if its SDP is unusable. */
export function readForkAnswer(res: SipResponse, offered: LocalWebRtc | null): ForkAnswer | null {
  const answer = parseSdp(res.body.toString('utf8'));
  const audio = answer?.media.find((m) => m.type === 'audio');
  const peer = offered && answer && audio ? readPeerWebRtc(answer, audio) : null;
  if (offered && !peer) return null;
  const choice = audio ? chooseCodec(audio.codecs, offered ? WEBRTC_CODECS : PLAIN_RTP_CODECS) : null;
  if (!answer || !audio || !choice) return null;
  const remote = mediaAddress(answer, audio);
  const webrtc = offered && peer ? { local: { ...offered, setup: peer.setup === 'active' ? ('passive' as const) : ('active' as const) }, peer } : null;
  return {
    ...choice,
    webrtc,
    leg: {
      codec: legCodec(choice.audio),
      telephoneEventPayloadType: choice.telephoneEvent?.payloadType ?? null,
      remote: !webrtc && remote ? { address: remote, rtpPort: audio.port } : null,
      // The leg may have carried a browser before a transfer, or a phone before this browser.
      webrtc: webrtc ? webRtcLegSpec(offered!, peer!) : null,
      ...(webrtc ? { ssrc: webrtc.local.ssrc } : {}),
    },
  };
}
