/**
 * The media plane as the main thread sees it. It starts N worker threads
 * (one per CPU by default), owns the RTP port range, and places each bridge
 * on the least loaded worker, where its sockets and packets stay. The main
 * thread only sends control messages and receives events.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { createDtlsCertificate } from '../webrtc/dtls-certificate.ts';
import { BridgeHandle, type BridgeEvents, type BridgeHost, type BridgeOp } from './bridge-handle.ts';
import type {
  LegConfig,
  LegSpec,
  LocalMediaAddress,
  MediaEvent,
  WorkerMessage,
  WorkerRequest,
} from './control-messages.ts';
import type { MediaWorkerData } from './media-worker.ts';
import { RtpPortAllocator, type RtpPortPair } from './rtp-port-allocator.ts';
import { readRtpPortRange, type RtpPortRange } from './rtp-port-settings.ts';

export interface MediaEngineOptions {
  /** Worker threads; defaults to the available CPUs. */
  workers?: number;
  /** Defaults to RTP_PORT_MIN / RTP_PORT_MAX from the environment, else 20000–20999. */
  portRange?: RtpPortRange;
  /** Address the media sockets bind to. */
  bindAddress?: string;
  /** Address to put in SDP; defaults to bindAddress (127.0.0.1 when binding to all interfaces). */
  advertisedAddress?: string;
  /** How often a leg sends its own RTCP when none is forwarded to it (RFC 3550 suggests 5 s). */
  rtcpIntervalMs?: number;
}

export type MediaEngineEvents = { [K in MediaEvent['type']]: [Extract<MediaEvent, { type: K }>] } & { error: [Error] };

/** Tries before giving up on a leg whose ports another process holds. */
const BIND_ATTEMPTS = 8;

interface WorkerSlot {
  index: number;
  worker: Worker;
  bridges: number;
  pending: Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>;
  /** Set once the thread is gone: requests to it fail at once instead of waiting forever. */
  exited: boolean;
}

export class MediaEngine extends EventEmitter<MediaEngineEvents> implements BridgeHost {
  readonly ports: RtpPortAllocator;
  readonly bindAddress: string;
  readonly advertisedAddress: string;
  private readonly slots: WorkerSlot[];
  private readonly bridges = new Map<string, BridgeHandle>();
  /** RTP port of each leg, by bridge then leg id, to release on removal. */
  private readonly legPorts = new Map<string, Map<string, RtpPortPair>>();
  private nextRequestId = 1;
  private stopped = false;

  static async start(options: MediaEngineOptions = {}): Promise<MediaEngine> {
    const count = Math.max(1, options.workers ?? os.availableParallelism());
    const certificate = await createDtlsCertificate();
    const data: MediaWorkerData = { rtcpIntervalMs: options.rtcpIntervalMs ?? 5000, dtlsCertificate: { certPem: certificate.certPem, keyPem: certificate.keyPem } };
    const workers = await Promise.all(Array.from({ length: count }, () => startWorker(data)));
    return new MediaEngine(options, workers, certificate.fingerprint);
  }

  /** The a=fingerprint of this engine's DTLS certificate, for the SDP of WebRTC legs. */
  readonly dtlsFingerprint: string;

  private constructor(options: MediaEngineOptions, workers: Worker[], dtlsFingerprint: string) {
    super();
    this.dtlsFingerprint = dtlsFingerprint;
    this.ports = new RtpPortAllocator(options.portRange ?? readRtpPortRange());
    this.bindAddress = options.bindAddress ?? '0.0.0.0';
    this.advertisedAddress =
      options.advertisedAddress ?? (this.bindAddress === '0.0.0.0' || this.bindAddress === '::' ? '127.0.0.1' : this.bindAddress);
    this.slots = workers.map((worker, index) => {
      const slot: WorkerSlot = { index, worker, bridges: 0, pending: new Map(), exited: false };
      worker.on('message', (message: WorkerMessage) => this.onWorkerMessage(slot, message));
      worker.on('error', (err) => this.onWorkerFailure(slot, err));
      worker.on('exit', (code) => {
        slot.exited = true;
        if (!this.stopped) this.onWorkerFailure(slot, new Error(`media worker ${index} exited with code ${code}`));
      });
      return slot;
    });
  }

  get workerCount(): number {
    return this.slots.length;
  }

  get bridgeCount(): number {
    return this.bridges.size;
  }

  /** Media legs open on every bridge (each holds an RTP/RTCP port pair). */
  get legCount(): number {
    let legs = 0;
    for (const ports of this.legPorts.values()) legs += ports.size;
    return legs;
  }

  /**
   * How busy each worker's event loop was: since it started, or since the
   * `previous` readings when given (`.utilization` is the busy share, 0–1).
   */
  eventLoopUtilization(previous?: readonly EventLoopUtilization[]): EventLoopUtilization[] {
    return this.slots.map((s, i) => s.worker.performance.eventLoopUtilization(previous?.[i]));
  }

  async createBridge(): Promise<BridgeHandle> {
    if (this.stopped) throw new Error('the media engine is stopped');
    const slot = this.slots.reduce((best, s) => (s.bridges < best.bridges ? s : best));
    const handle = new BridgeHandle(randomUUID(), slot.index, this);
    slot.bridges++;
    try {
      await this.send(slot, { op: 'create-bridge', bridgeId: handle.id });
    } catch (err) {
      slot.bridges--;
      throw err;
    }
    this.bridges.set(handle.id, handle);
    this.legPorts.set(handle.id, new Map());
    return handle;
  }

  async addLeg(bridge: BridgeHandle, spec: LegSpec): Promise<LocalMediaAddress> {
    const legs = this.legPorts.get(bridge.id);
    if (!legs) throw new Error(`bridge ${bridge.id} is closed`);
    if (legs.has(spec.legId)) throw new Error(`bridge ${bridge.id} already has a leg ${spec.legId}`);
    for (let attempt = 1; ; attempt++) {
      const pair = this.ports.allocate();
      if (!pair) throw new Error(`no free RTP ports left in ${this.ports.range.min}-${this.ports.range.max}`);
      const leg: LegConfig = { ...spec, bindAddress: this.bindAddress, rtpPort: pair.rtp, rtcpPort: pair.rtcp };
      try {
        await this.send(this.slots[bridge.workerIndex]!, { op: 'add-leg', bridgeId: bridge.id, leg });
        legs.set(spec.legId, pair);
        return { address: this.advertisedAddress, rtpPort: pair.rtp, rtcpPort: pair.rtcp };
      } catch (err) {
        this.ports.release(pair.rtp);
        // Another process holds that pair: the next one round the range is probably free.
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= BIND_ATTEMPTS) throw err;
      }
    }
  }

  async removeLeg(bridge: BridgeHandle, legId: string): Promise<void> {
    await this.send(this.slots[bridge.workerIndex]!, { op: 'remove-leg', bridgeId: bridge.id, legId });
    const pair = this.legPorts.get(bridge.id)?.get(legId);
    if (pair) this.ports.release(pair.rtp);
    this.legPorts.get(bridge.id)?.delete(legId);
  }

  request(bridge: BridgeHandle, op: BridgeOp): Promise<unknown> {
    if (bridge.closed) return Promise.reject(new Error(`bridge ${bridge.id} is closed`));
    return this.send(this.slots[bridge.workerIndex]!, { ...op, bridgeId: bridge.id } as WorkerRequest);
  }

  async closeBridge(bridge: BridgeHandle): Promise<void> {
    if (bridge.closed) return;
    bridge.closed = true;
    const slot = this.slots[bridge.workerIndex]!;
    try {
      if (!this.stopped) await this.send(slot, { op: 'destroy-bridge', bridgeId: bridge.id });
    } finally {
      for (const pair of this.legPorts.get(bridge.id)?.values() ?? []) this.ports.release(pair.rtp);
      this.legPorts.delete(bridge.id);
      this.bridges.delete(bridge.id);
      slot.bridges--;
      bridge.emit('closed');
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    for (const bridge of [...this.bridges.values()]) await this.closeBridge(bridge).catch(() => undefined);
    this.stopped = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        const exited = new Promise((resolve) => slot.worker.once('exit', resolve));
        await this.send(slot, { op: 'shutdown' }).catch(() => undefined);
        // A worker that does not leave within a second is stopped.
        const timer = setTimeout(() => void slot.worker.terminate(), 1000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  private send(slot: WorkerSlot, request: WorkerRequest): Promise<unknown> {
    const id = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      if (slot.exited) {
        reject(new Error(`media worker ${slot.index} has exited`));
        return;
      }
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ ...request, id });
    });
  }

  private onWorkerMessage(slot: WorkerSlot, message: WorkerMessage): void {
    if (message.kind === 'reply') {
      const pending = slot.pending.get(message.id);
      if (!pending) return;
      slot.pending.delete(message.id);
      if (message.ok) pending.resolve(message.result);
      else pending.reject(Object.assign(new Error(message.error), { code: message.code }));
    } else if (message.kind === 'event') {
      const event = message.event;
      this.emit(event.type, event as never);
      this.bridges.get(event.bridgeId)?.emit(event.type as keyof BridgeEvents, event as never);
    }
  }

  private onWorkerFailure(slot: WorkerSlot, err: Error): void {
    for (const pending of slot.pending.values()) pending.reject(err);
    slot.pending.clear();
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

function startWorker(data: MediaWorkerData): Promise<Worker> {
  const worker = new Worker(new URL('./media-worker.ts', import.meta.url), { workerData: data });
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    worker.once('error', onError);
    worker.once('message', (message: WorkerMessage) => {
      worker.off('error', onError);
      if (message.kind === 'ready') resolve(worker);
      else reject(new Error(`media worker sent ${message.kind} before ready`));
    });
  });
}
