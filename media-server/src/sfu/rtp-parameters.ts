/**
 * What a producer sends and a consumer receives, in mediasoup's (and ORTC's)
 * vocabulary: the codecs with their payload types and RTCP feedback, the
 * encodings (an SSRC, or a rid for simulcast, and the RTX stream that
 * retransmits it, RFC 4588), and the mid of its m-line (RFC 8843).
 * validateRtpParameters() checks what a client sent and returns a clean copy
 * (mediasoup's ortc.ts: "It throws if invalid"); the input is not modified.
 */
export type MediaKind = 'audio' | 'video';

export interface RtcpFeedbackParameter {
  /** 'nack', 'ccm', 'goog-remb', 'transport-cc'. */
  type: string;
  /** 'pli' for nack, 'fir' for ccm; empty for a plain NACK. */
  parameter?: string;
}

export interface RtpCodecParameters {
  /** 'audio/opus', 'video/VP8', 'video/rtx'. */
  mimeType: string;
  payloadType: number;
  clockRate: number;
  channels?: number;
  /** fmtp parameters; an RTX codec names its media codec's payload type as `apt`. */
  parameters?: Record<string, string | number>;
  rtcpFeedback?: RtcpFeedbackParameter[];
}

export interface RtpEncodingParameters {
  ssrc?: number;
  /** RFC 8851 restriction id (simulcast layer). */
  rid?: string;
  rtx?: { ssrc: number };
}

export interface RtpParameters {
  mid?: string;
  codecs: RtpCodecParameters[];
  encodings: RtpEncodingParameters[];
  rtcp?: { cname?: string };
}

const isUint32 = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

export const isRtxCodec = (codec: RtpCodecParameters): boolean => codec.mimeType.toLowerCase().endsWith('/rtx');

/** A deep, validated copy of `rtpParameters` for a track of `kind`. */
export function validateRtpParameters(kind: MediaKind, rtpParameters: RtpParameters): RtpParameters {
  if (typeof rtpParameters !== 'object' || rtpParameters === null) throw new TypeError('rtpParameters must be an object');
  const { mid, codecs, encodings, rtcp } = rtpParameters;
  if (mid !== undefined && (typeof mid !== 'string' || mid.length === 0 || mid.length > 32)) throw new TypeError('invalid mid');
  if (!Array.isArray(codecs) || codecs.length === 0 || codecs.length > 16) throw new TypeError('rtpParameters.codecs must hold 1 to 16 codecs');
  const payloadTypes = new Set<number>();
  const clean: RtpCodecParameters[] = codecs.map((c) => {
    if (typeof c?.mimeType !== 'string' || !/^(audio|video)\/[\w.-]+$/i.test(c.mimeType)) throw new TypeError(`invalid codec mimeType ${JSON.stringify(c?.mimeType)}`);
    if (c.mimeType.split('/')[0]!.toLowerCase() !== kind) throw new TypeError(`codec ${c.mimeType} is not ${kind}`);
    if (!Number.isInteger(c.payloadType) || c.payloadType < 0 || c.payloadType > 127) throw new TypeError(`invalid payloadType ${c.payloadType}`);
    if (payloadTypes.has(c.payloadType)) throw new TypeError(`duplicate payloadType ${c.payloadType}`);
    payloadTypes.add(c.payloadType);
    if (!Number.isInteger(c.clockRate) || c.clockRate <= 0) throw new TypeError(`invalid clockRate ${c.clockRate}`);
    return {
      mimeType: c.mimeType,
      payloadType: c.payloadType,
      clockRate: c.clockRate,
      ...(c.channels !== undefined ? { channels: c.channels } : {}),
      parameters: { ...c.parameters },
      rtcpFeedback: (c.rtcpFeedback ?? []).map((f) => ({ type: String(f.type), parameter: f.parameter === undefined ? '' : String(f.parameter) })),
    };
  });
  if (isRtxCodec(clean[0]!)) throw new TypeError('the first codec must be a media codec, not RTX');
  for (const c of clean) {
    if (isRtxCodec(c) && !payloadTypes.has(Number(c.parameters?.apt))) throw new TypeError(`RTX codec ${c.payloadType} names no known apt`);
  }
  if (!Array.isArray(encodings) || encodings.length === 0 || encodings.length > 3) throw new TypeError('rtpParameters.encodings must hold 1 to 3 encodings');
  const cleanEncodings = encodings.map((e) => {
    if (e.ssrc === undefined && e.rid === undefined) throw new TypeError('an encoding needs an ssrc or a rid');
    if (e.ssrc !== undefined && !isUint32(e.ssrc)) throw new TypeError(`invalid ssrc ${e.ssrc}`);
    if (e.rid !== undefined && (typeof e.rid !== 'string' || !/^[A-Za-z0-9]{1,16}$/.test(e.rid))) throw new TypeError(`invalid rid ${JSON.stringify(e.rid)}`);
    if (e.rtx !== undefined && !isUint32(e.rtx.ssrc)) throw new TypeError('invalid rtx ssrc');
    return { ...(e.ssrc !== undefined ? { ssrc: e.ssrc } : {}), ...(e.rid !== undefined ? { rid: e.rid } : {}), ...(e.rtx ? { rtx: { ssrc: e.rtx.ssrc } } : {}) };
  });
  return { ...(mid !== undefined ? { mid } : {}), codecs: clean, encodings: cleanEncodings, rtcp: { ...(rtcp?.cname ? { cname: String(rtcp.cname) } : {}) } };
}

export function hasFeedback(codec: RtpCodecParameters | undefined, type: string, parameter = ''): boolean {
  return codec?.rtcpFeedback?.some((f) => f.type === type && (f.parameter ?? '') === parameter) ?? false;
}

/** The RTX codec whose apt is `payloadType`, if negotiated. */
export function rtxCodecFor(codecs: readonly RtpCodecParameters[], payloadType: number): RtpCodecParameters | undefined {
  return codecs.find((c) => isRtxCodec(c) && Number(c.parameters?.apt) === payloadType);
}
