/**
 * The media plane's public surface, for call control: the engine, its
 * bridges (two parties, the fast path), rooms (N parties) and pipes (media
 * between containers on different workers), the types of their requests and
 * events, and the helpers SDP handling needs (SDES keys, static payload
 * types, shipped prompts), and call recording through the bridge handle.
 */
export { MediaEngine, type MediaEngineOptions, type MediaEngineEvents, type MediaLiveCounts, type PlacementOptions } from './engine/media-engine.ts';
export { ContainerHandle, type ContainerEvents, type PipeOptions } from './engine/container-handle.ts';
export { MediaPipe, type PipeEnd } from './engine/media-pipe.ts';
export { BridgeHandle, type BridgeEvents } from './bridge/bridge-handle.ts';
export { RoomHandle, type RoomEvents } from './mixer/room-handle.ts';
export type {
  LegCodecName,
  LegSpec,
  LegStats,
  LegUpdate,
  LocalMediaAddress,
  MediaDirection,
  MediaEvent,
  MixerStats,
  PlaybackOptions,
  PlaybackSource,
  RecordingOptions,
  RecordingResult,
  RecordingStopReason,
  RemoteMediaAddress,
  RoomOptions,
  SrtpLegKeys,
  WebRtcLegSpec,
} from './engine/control-messages.ts';
export { RtpPortAllocator, type RtpPortPair } from './engine/rtp-port-allocator.ts';
export { readRtpPortRange, RtpPortSettingsError, DEFAULT_RTP_PORT_RANGE, type RtpPortRange } from './engine/rtp-port-settings.ts';
export { STATIC_PAYLOAD_TYPES } from './codecs/g711-codec.ts';
export { parseSdesInlineKey, formatSdesInlineKey, generateSrtpMasterKey } from './srtp/sdes-crypto.ts';
export { SRTP_PROFILES, type SrtpProfileName, type SrtpMasterKey } from './srtp/srtp-profile.ts';
export { staticAudioPath, promptPath, PROMPT_LANGUAGES, PROMPT_NAMES, type PromptLanguage, type PromptName } from './media-player/static-audio.ts';
export { isDtmfDigit, type DtmfDigit } from './dtmf/dtmf-digits.ts';
