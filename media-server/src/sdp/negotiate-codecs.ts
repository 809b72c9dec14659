import type { Codec } from './session-description.ts';

/** Codecs plain RTP legs can speak, in our order of preference; telephone-event rides along for DTMF. */
export const PLAIN_RTP_CODECS: Codec[] = [
  { payloadType: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null },
  { payloadType: 8, name: 'PCMA', clockRate: 8000, channels: 1, fmtp: null },
];
export const TELEPHONE_EVENT: Codec = { payloadType: 101, name: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-16' };

const sameCodec = (a: Codec, b: Codec) => a.name.toLowerCase() === b.name.toLowerCase() && a.clockRate === b.clockRate;

/**
 * The first of the offerer's codecs we support (the offerer's order wins,
 * RFC 3264 §6.1), keeping its payload type, plus its telephone-event if offered.
 */
export function chooseCodec(offered: Codec[], supported: Codec[] = PLAIN_RTP_CODECS): { audio: Codec; telephoneEvent: Codec | null } | null {
  const audio = offered.find((o) => supported.some((s) => sameCodec(o, s)));
  if (!audio) return null;
  const te = offered.find((o) => o.name.toLowerCase() === 'telephone-event' && o.clockRate === audio.clockRate) ?? null;
  return { audio, telephoneEvent: te };
}

/**
 * Codecs offered to and accepted from browsers: Opus first (wideband, and
 * no transcoding between two browsers), G.711 so that a call with a phone
 * can avoid transcoding when the browser agrees to it.
 */
export const WEBRTC_CODECS: Codec[] = [
  { payloadType: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' },
  ...PLAIN_RTP_CODECS,
];
/** Browsers send DTMF at the rate of the audio codec (RFC 4733 §2.1). */
export const WEBRTC_TELEPHONE_EVENTS: Codec[] = [
  { payloadType: 110, name: 'telephone-event', clockRate: 48000, channels: 1, fmtp: '0-15' },
  { payloadType: 126, name: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-15' },
];
