export { Sfu, type SfuLiveCounts } from './sfu.ts';
export { Router, type RouterEvents, type RouterCounts } from './router.ts';
export { WebRtcServer, type WebRtcServerOptions, type WebRtcServerListenInfo, type IceCandidate } from './web-rtc-server.ts';
export {
  WebRtcTransport,
  type WebRtcTransportEvents,
  type WebRtcTransportStats,
  type IceParameters,
  type DtlsParameters,
  type DtlsFingerprint,
  type IceState,
  type DtlsState,
} from './web-rtc-transport.ts';
export { Producer, type ProducerOptions, type ProducerEvents, type ProducerStats, DEFAULT_KEY_FRAME_REQUEST_DELAY_MS } from './producer.ts';
export { Consumer, type ConsumerEvents, type ConsumerStats } from './consumer.ts';
export type { MediaKind, RtpParameters, RtpCodecParameters, RtpEncodingParameters, RtcpFeedbackParameter } from './rtp-parameters.ts';
export { InvalidStateError } from './errors.ts';
export { SfuThread, type SfuThreadEvents } from './sfu-thread.ts';
export type { SfuEvent, ConsumerInfo, WebRtcTransportInfo } from './sfu-worker-api.ts';
