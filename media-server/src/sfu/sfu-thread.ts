/**
 * The main thread's side of an SFU worker thread: it starts the thread and
 * sends it requests over the worker channel; the thread's objects are named
 * by id, and their events arrive as typed 'sfu-event' notices. Signalling
 * (a meeting's join, publish and subscribe) talks to this; the packets stay
 * on the worker.
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { createDtlsCertificate, type DtlsCertificate } from '../media/webrtc/dtls-certificate.ts';
import { workerChannel, type WorkerChannel } from '../threads/worker-channel.ts';
import type { ConsumerStats } from './consumer.ts';
import type { ProducerStats } from './producer.ts';
import type { MediaKind, RtpParameters } from './rtp-parameters.ts';
import type { SfuLiveCounts } from './sfu.ts';
import type { ConsumerInfo, SfuEvent, SfuMainApi, SfuWorkerApi, SfuWorkerData, WebRtcTransportInfo } from './sfu-worker-api.ts';
import type { IceCandidate, WebRtcServerListenInfo } from './web-rtc-server.ts';
import type { PacketIoMode } from '../media/endpoint/udp-socket.ts';
import type { DtlsParameters, IceParameters, WebRtcTransportStats } from './web-rtc-transport.ts';

export type SfuThreadEvents = { 'sfu-event': [SfuEvent]; error: [Error] };

export class SfuThread extends EventEmitter<SfuThreadEvents> {
  readonly dtlsFingerprint: string;
  #stopped = false;
  readonly #worker: Worker;
  readonly #channel: WorkerChannel<SfuMainApi, SfuWorkerApi>;

  static async start({ dtlsCertificate, rtcpIntervalMs, packetIo }: { dtlsCertificate?: DtlsCertificate; rtcpIntervalMs?: number; packetIo?: PacketIoMode } = {}): Promise<SfuThread> {
    const certificate = dtlsCertificate ?? (await createDtlsCertificate());
    const data: SfuWorkerData = { dtlsCertificate: certificate, ...(rtcpIntervalMs ? { rtcpIntervalMs } : {}), ...(packetIo ? { packetIo } : {}) };
    const worker = new Worker(new URL('./sfu-worker.ts', import.meta.url), { workerData: data });
    let deliver: (event: SfuEvent) => void = () => undefined;
    const channel = workerChannel<SfuMainApi, SfuWorkerApi>(worker, { requests: {}, notices: { 'sfu-event': (event) => deliver(event) } });
    try {
      await channel.ready();
    } catch (err) {
      await worker.terminate();
      throw err;
    }
    const thread = new SfuThread(worker, channel, certificate.fingerprint);
    deliver = (event) => thread.emit('sfu-event', event);
    return thread;
  }

  private constructor(worker: Worker, channel: WorkerChannel<SfuMainApi, SfuWorkerApi>, dtlsFingerprint: string) {
    super();
    this.#worker = worker;
    this.#channel = channel;
    this.dtlsFingerprint = dtlsFingerprint;
    worker.on('error', (err) => this.emit('error', err));
    worker.on('exit', (code) => {
      if (!this.#stopped) this.emit('error', new Error(`SFU worker exited with code ${code}`));
    });
  }

  createWebRtcServer(listenInfos: WebRtcServerListenInfo[]): Promise<{ id: string; iceCandidates: readonly IceCandidate[] }> {
    return this.#channel.request('create-webrtc-server', { listenInfos });
  }

  async closeWebRtcServer(id: string): Promise<void> {
    await this.#channel.request('close-webrtc-server', { id });
  }

  async createRouter(): Promise<string> {
    return (await this.#channel.request('create-router', null)).id;
  }

  async closeRouter(id: string): Promise<void> {
    await this.#channel.request('close-router', { id });
  }

  createWebRtcTransport(routerId: string, webRtcServerId: string): Promise<WebRtcTransportInfo> {
    return this.#channel.request('create-webrtc-transport', { routerId, webRtcServerId });
  }

  async connectTransport(id: string, dtlsParameters: DtlsParameters): Promise<void> {
    await this.#channel.request('connect-transport', { id, dtlsParameters });
  }

  /** New ICE credentials for the transport's client (RFC 8445 §2.4), after it changed networks. */
  restartIce(transportId: string): Promise<IceParameters> {
    return this.#channel.request('restart-ice', { id: transportId });
  }

  async closeTransport(id: string): Promise<void> {
    await this.#channel.request('close-transport', { id });
  }

  async produce(transportId: string, kind: MediaKind, rtpParameters: RtpParameters, keyFrameRequestDelay?: number): Promise<string> {
    return (await this.#channel.request('produce', { transportId, kind, rtpParameters, ...(keyFrameRequestDelay !== undefined ? { keyFrameRequestDelay } : {}) })).id;
  }

  async closeProducer(id: string): Promise<void> {
    await this.#channel.request('close-producer', { id });
  }

  consume(transportId: string, producerId: string, paused = false): Promise<ConsumerInfo> {
    return this.#channel.request('consume', { transportId, producerId, paused });
  }

  async closeConsumer(id: string): Promise<void> {
    await this.#channel.request('close-consumer', { id });
  }

  async setPreferredLayer(consumerId: string, spatialLayer: number): Promise<void> {
    await this.#channel.request('set-preferred-layer', { id: consumerId, spatialLayer });
  }

  transportStats(id: string): Promise<WebRtcTransportStats> {
    return this.#channel.request('get-stats', { kind: 'transport', id }) as Promise<WebRtcTransportStats>;
  }

  producerStats(id: string): Promise<ProducerStats> {
    return this.#channel.request('get-stats', { kind: 'producer', id }) as Promise<ProducerStats>;
  }

  consumerStats(id: string): Promise<ConsumerStats> {
    return this.#channel.request('get-stats', { kind: 'consumer', id }) as Promise<ConsumerStats>;
  }

  /** What the worker holds open (all 0 when idle), for the node's live counts. */
  liveCounts(): Promise<SfuLiveCounts> {
    return this.#channel.request('live-counts', null);
  }

  /** Closes everything on the worker and ends the thread. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const exited = new Promise((resolve) => this.#worker.once('exit', resolve));
    await this.#channel.request('shutdown', null).catch(() => undefined);
    // A worker that does not leave within a second is stopped.
    const timer = setTimeout(() => void this.#worker.terminate(), 1000);
    await exited;
    clearTimeout(timer);
  }
}
