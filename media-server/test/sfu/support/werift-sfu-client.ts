/**
 * The signalling a browser app does against the SFU (mediasoup-client's
 * RemoteSdp, reduced): SDP for werift's RTCPeerConnection built from a
 * transport's ICE/DTLS parameters and the producers' or consumers' RTP
 * parameters, and the client's own parameters read back from its SDP.
 */
import { RTCRtpCodecParameters, SessionDescription } from 'werift';
import type { DtlsParameters, RtpCodecParameters, RtpParameters, WebRtcTransport } from '../../../src/sfu/index.ts';

export const OPUS = { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 };
export const VP8 = {
  mimeType: 'video/VP8',
  payloadType: 96,
  clockRate: 90000,
  rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
};

/** werift's codec list for the same codecs. */
export function weriftCodecs() {
  return {
    audio: [new RTCRtpCodecParameters({ mimeType: OPUS.mimeType, clockRate: OPUS.clockRate, channels: OPUS.channels, payloadType: OPUS.payloadType })],
    video: [new RTCRtpCodecParameters({ mimeType: VP8.mimeType, clockRate: VP8.clockRate, payloadType: VP8.payloadType, rtcpFeedback: VP8.rtcpFeedback })],
  };
}

export interface ClientMedia {
  kind: 'audio' | 'video';
  mid: string;
  ssrc: number | undefined;
}

/** The client's DTLS parameters and its m-lines, from its SDP. */
export function readClientSdp(sdp: string): { dtlsParameters: DtlsParameters; media: ClientMedia[] } {
  const parsed = SessionDescription.parse(sdp);
  const first = parsed.media[0]!;
  const dtls = first.dtlsParams!;
  return {
    dtlsParameters: {
      role: dtls.role === 'client' ? 'client' : dtls.role === 'server' ? 'server' : 'auto',
      fingerprints: dtls.fingerprints.filter((f) => f.algorithm === 'sha-256').map((f) => ({ algorithm: 'sha-256' as const, value: f.value })),
    },
    media: parsed.media.map((m) => ({ kind: m.kind as 'audio' | 'video', mid: m.rtp.muxId!, ssrc: m.ssrc[0]?.ssrc })),
  };
}

export interface SfuMediaSection {
  kind: 'audio' | 'video';
  mid: string;
  direction: 'recvonly' | 'sendonly';
  codecs: RtpCodecParameters[];
  /** For a consumer: the SSRCs we send with (media, then RTX) and the cname. */
  rtpParameters?: RtpParameters;
}

/** Our SDP (an answer to a publisher, or an offer to a subscriber) for `transport`. */
export function sfuSdp(transport: Pick<WebRtcTransport, 'iceCandidates' | 'iceParameters' | 'dtlsParameters'>, sections: SfuMediaSection[], setup: 'passive' | 'active' | 'actpass'): string {
  const candidate = transport.iceCandidates[0]!;
  const lines = ['v=0', `o=- ${Date.now()} 1 IN IP4 ${candidate.address}`, 's=-', 't=0 0', 'a=ice-lite', `a=group:BUNDLE ${sections.map((s) => s.mid).join(' ')}`, 'a=msid-semantic: WMS *'];
  for (const s of sections) {
    lines.push(`m=${s.kind} ${candidate.port} UDP/TLS/RTP/SAVPF ${s.codecs.map((c) => c.payloadType).join(' ')}`);
    lines.push(`c=IN IP4 ${candidate.address}`, `a=mid:${s.mid}`, `a=${s.direction}`, 'a=rtcp-mux');
    lines.push(`a=ice-ufrag:${transport.iceParameters.usernameFragment}`, `a=ice-pwd:${transport.iceParameters.password}`);
    lines.push(`a=fingerprint:sha-256 ${transport.dtlsParameters.fingerprints[0]!.value}`, `a=setup:${setup}`);
    for (const c of s.codecs) {
      const [, name] = c.mimeType.split('/');
      lines.push(`a=rtpmap:${c.payloadType} ${name}/${c.clockRate}${c.channels ? `/${c.channels}` : ''}`);
      for (const f of c.rtcpFeedback ?? []) lines.push(`a=rtcp-fb:${c.payloadType} ${f.type}${f.parameter ? ` ${f.parameter}` : ''}`);
      const fmtp = Object.entries(c.parameters ?? {});
      if (fmtp.length) lines.push(`a=fmtp:${c.payloadType} ${fmtp.map(([k, v]) => `${k}=${v}`).join(';')}`);
    }
    if (s.rtpParameters) {
      const encoding = s.rtpParameters.encodings[0]!;
      const cname = s.rtpParameters.rtcp?.cname ?? 'sfu';
      const msid = `sfu-${s.mid} track-${s.mid}`;
      if (encoding.rtx) lines.push(`a=ssrc-group:FID ${encoding.ssrc} ${encoding.rtx.ssrc}`);
      lines.push(`a=msid:${msid}`);
      for (const ssrc of [encoding.ssrc, encoding.rtx?.ssrc].filter((x) => x !== undefined)) {
        lines.push(`a=ssrc:${ssrc} cname:${cname}`, `a=ssrc:${ssrc} msid:${msid}`);
      }
    }
    lines.push(`a=candidate:${candidate.foundation} 1 udp ${candidate.priority} ${candidate.address} ${candidate.port} typ host`, 'a=end-of-candidates');
  }
  return lines.join('\r\n') + '\r\n';
}

/** A synthetic VP8 frame in one packet: payload descriptor (RFC 7741 §4.2, S=1) and a key frame header (§4.3, P=0) when `key`. */
export function vp8Payload(key: boolean, frame: number): Buffer {
  const body = Buffer.alloc(60, frame & 0xff);
  const header = key
    ? Buffer.from([0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00])
    : Buffer.from([0x10, 0x01, 0x00, 0x00]);
  return Buffer.concat([header, body]);
}

/** A short Opus frame (a TOC byte for 20 ms CELT, then filler): werift forwards it without decoding. */
export const OPUS_FRAME = Buffer.from([0xf8, 0xff, 0xfe]);
