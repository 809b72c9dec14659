/**
 * What crosses the worker channel (threads/worker-channel.ts) between the
 * main thread's SfuThread and the SFU of a worker thread: requests naming
 * objects by id, and the objects' public events as notices. Packets never
 * cross: they stay on the thread that holds the sockets.
 */
import type { PacketIoMode } from '../media/endpoint/udp-socket.ts';
import type { NoApi } from '../threads/worker-channel.ts';
import type { ConsumerStats } from './consumer.ts';
import type { ProducerStats } from './producer.ts';
import type { MediaKind, RtpParameters } from './rtp-parameters.ts';
import type { SfuLiveCounts } from './sfu.ts';
import type { IceCandidate, WebRtcServerListenInfo } from './web-rtc-server.ts';
import type { DtlsParameters, DtlsState, IceParameters, IceState, WebRtcTransportStats } from './web-rtc-transport.ts';

export interface SfuWorkerData {
  /** The process's DTLS certificate, shared by every worker. */
  dtlsCertificate: { certPem: string; keyPem: string; fingerprint: string };
  rtcpIntervalMs?: number;
  /** MEDIA_NATIVE for the server's sockets; "off" when absent. */
  packetIo?: PacketIoMode;
}

export interface WebRtcTransportInfo {
  id: string;
  iceParameters: IceParameters;
  iceCandidates: readonly IceCandidate[];
  dtlsParameters: DtlsParameters;
}

export interface ConsumerInfo {
  id: string;
  producerId: string;
  kind: MediaKind;
  rtpParameters: RtpParameters;
}

/** The public events of the worker's objects, named by the object's id. */
export type SfuEvent =
  | { type: 'icestatechange'; transportId: string; state: IceState }
  | { type: 'dtlsstatechange'; transportId: string; state: DtlsState }
  /** The object closed by a cascade (its parent closed), not by a request of ours. */
  | { type: 'closed'; kind: 'transport' | 'producer' | 'consumer'; id: string; reason: 'routerclose' | 'webrtcserverclose' | 'transportclose' | 'producerclose' };

export interface SfuWorkerApi {
  requests: {
    'create-webrtc-server': { params: { listenInfos: WebRtcServerListenInfo[] }; result: { id: string; iceCandidates: readonly IceCandidate[] } };
    'close-webrtc-server': { params: { id: string }; result: null };
    'create-router': { params: null; result: { id: string } };
    'close-router': { params: { id: string }; result: null };
    'create-webrtc-transport': { params: { routerId: string; webRtcServerId: string }; result: WebRtcTransportInfo };
    'connect-transport': { params: { id: string; dtlsParameters: DtlsParameters }; result: null };
    'close-transport': { params: { id: string }; result: null };
    'restart-ice': { params: { id: string }; result: IceParameters };
    produce: { params: { transportId: string; kind: MediaKind; rtpParameters: RtpParameters; keyFrameRequestDelay?: number }; result: { id: string } };
    'close-producer': { params: { id: string }; result: null };
    consume: { params: { transportId: string; producerId: string; paused?: boolean }; result: ConsumerInfo };
    'close-consumer': { params: { id: string }; result: null };
    'resume-consumer': { params: { id: string }; result: null };
    'set-preferred-layer': { params: { id: string; spatialLayer: number }; result: null };
    'get-stats': {
      params: { kind: 'transport' | 'producer' | 'consumer'; id: string };
      result: WebRtcTransportStats | ProducerStats | ConsumerStats;
    };
    'live-counts': { params: null; result: SfuLiveCounts };
    shutdown: { params: null; result: null };
  };
  notices: NoApi['notices'];
}

export interface SfuMainApi {
  requests: NoApi['requests'];
  notices: { 'sfu-event': SfuEvent };
}
