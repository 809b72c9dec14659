/**
 * The media plane's public surface, for the SIP edge: the engine and its
 * bridges, the types of their control messages and events, and the helpers
 * SDP handling needs (SDES keys, static payload types, shipped prompts), and
 * call recording through the bridge handle.
 */
export { MediaEngine, type MediaEngineOptions, type MediaEngineEvents } from './relay/media-engine.ts';
export { BridgeHandle, type BridgeEvents } from './relay/bridge-handle.ts';
export type {
  LegCodecName,
  LegSpec,
  LegStats,
  LegUpdate,
  LocalMediaAddress,
  MediaDirection,
  MediaEvent,
  PlaybackOptions,
  PlaybackSource,
  RecordingOptions,
  RecordingResult,
  RecordingStopReason,
  RemoteMediaAddress,
  SrtpLegKeys,
  WebRtcLegSpec,
} from './relay/control-messages.ts';
export { RtpPortAllocator, type RtpPortPair } from './relay/rtp-port-allocator.ts';
export { readRtpPortRange, RtpPortSettingsError, DEFAULT_RTP_PORT_RANGE, type RtpPortRange } from './relay/rtp-port-settings.ts';
export { STATIC_PAYLOAD_TYPES } from './codecs/g711-codec.ts';
export { parseSdesInlineKey, formatSdesInlineKey, generateSrtpMasterKey } from './srtp/sdes-crypto.ts';
export { SRTP_PROFILES, type SrtpProfileName, type SrtpMasterKey } from './srtp/srtp-profile.ts';
export { staticAudioPath, promptPath, PROMPT_LANGUAGES, PROMPT_NAMES, type PromptLanguage, type PromptName } from './media-player/static-audio.ts';
export { isDtmfDigit, type DtmfDigit } from './dtmf/dtmf-digits.ts';
