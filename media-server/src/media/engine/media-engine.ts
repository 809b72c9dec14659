/**
 * The media plane as the main thread sees it. It starts N worker threads
 * (one per CPU by default), owns the RTP port range, and places each bridge
 * and room on a worker, where its endpoints' sockets and packets stay: the
 * least loaded one, or the worker of the container it is created `near`
 * (room affinity: an endpoint moves only between containers of its worker).
 * Media between containers of different workers goes through a MediaPipe.
 * The main thread only sends requests over each worker's channel
 * (threads/worker-channel.ts) and receives events.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { EventLoopUtilization } from 'node:perf_hooks';
import type { HeapInfo } from 'node:v8';
import { workerChannel, type WorkerChannel } from '../../threads/worker-channel.ts';
import { createDtlsCertificate } from '../webrtc/dtls-certificate.ts';
import { BridgeHandle } from '../bridge/bridge-handle.ts';
import { RoomHandle } from '../mixer/room-handle.ts';
import type { ContainerEvents, ContainerHandle, ContainerHost, ContainerOp, ContainerParams, PipeOptions } from './container-handle.ts';
import type { LegConfig, LegSpec, LocalMediaAddress, MediaEvent, MediaMainApi, MediaWorkerApi, RoomOptions } from './control-messages.ts';
import { MediaPipe, type PipeEnd } from './media-pipe.ts';
import { DEFAULT_MEDIA_TIMEOUTS } from './media-timeout.ts';
import type { MediaWorkerData } from './media-worker.ts';
import type { PacketIoMode } from '../endpoint/udp-socket.ts';
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
  /**
   * The RTP inactivity timeout (engine/media-timeout.ts): a container whose
   * peers all sent nothing this long is reported ('media-timeout'); 60 s by
   * default, 0 turns it off.
   */
  mediaTimeoutMs?: number;
  /** The same for a peer on hold, which may send nothing at all: an hour by default. */
  heldMediaTimeoutMs?: number;
  /** The workers' packet I/O (MEDIA_NATIVE): the native addon or dgram; "off" by default. */
  packetIo?: PacketIoMode;
}

export type MediaEngineEvents = { [K in MediaEvent['type']]: [Extract<MediaEvent, { type: K }>] } & { error: [Error] };

/** What the engine holds open: the media part of a node's live counts. */
export interface MediaLiveCounts {
  /** Endpoints facing a peer (each holds an RTP/RTCP port pair). */
  legs: number;
  /** Every endpoint: legs and pipe ends. */
  endpoints: number;
  bridges: number;
  rooms: number;
  pipes: number;
}

export interface PlacementOptions {
  /** Place it on the worker of this container, so endpoints can move between the two. */
  near?: ContainerHandle;
}

/** Pipe ends talk over loopback: both are on this host. */
const PIPE_ADDRESS = '127.0.0.1';

type MediaChannel = WorkerChannel<MediaMainApi, MediaWorkerApi>;

interface WorkerSlot {
  index: number;
  worker: Worker;
  channel: MediaChannel;
  /** Bridges and rooms placed here. */
  containers: number;
}

/** An open endpoint's ports, and whether it faces a peer or is the end of a pipe. */
interface OpenEndpoint {
  ports: RtpPortPair;
  pipe: MediaPipe | null;
}

export class MediaEngine extends EventEmitter<MediaEngineEvents> implements ContainerHost {
  readonly ports: RtpPortAllocator;
  readonly bindAddress: string;
  readonly advertisedAddress: string;
  private readonly slots: WorkerSlot[];
  private readonly containers = new Map<string, ContainerHandle>();
  /** The endpoints of each container, by container then endpoint id. */
  private readonly endpoints = new Map<string, Map<string, OpenEndpoint>>();
  private readonly pipes = new Map<string, MediaPipe>();
  private stopped = false;

  static async start(options: MediaEngineOptions = {}): Promise<MediaEngine> {
    const count = Math.max(1, options.workers ?? os.availableParallelism());
    const certificate = await createDtlsCertificate();
    const data: MediaWorkerData = {
      rtcpIntervalMs: options.rtcpIntervalMs ?? 5000,
      dtlsCertificate: { certPem: certificate.certPem, keyPem: certificate.keyPem },
      packetIo: options.packetIo ?? 'off',
      mediaTimeouts: { activeMs: options.mediaTimeoutMs ?? DEFAULT_MEDIA_TIMEOUTS.activeMs, heldMs: options.heldMediaTimeoutMs ?? DEFAULT_MEDIA_TIMEOUTS.heldMs },
    };
    // Events arrive on the channels before the engine exists only if a worker misbehaves; they go nowhere then.
    let deliver: (event: MediaEvent) => void = () => undefined;
    const workers = await Promise.all(Array.from({ length: count }, () => startWorker(data, (event) => deliver(event))));
    const engine = new MediaEngine(options, workers, certificate.fingerprint);
    deliver = (event) => engine.onEvent(event);
    return engine;
  }

  /** The a=fingerprint of this engine's DTLS certificate, for the SDP of WebRTC legs. */
  readonly dtlsFingerprint: string;

  private constructor(options: MediaEngineOptions, workers: { worker: Worker; channel: MediaChannel }[], dtlsFingerprint: string) {
    super();
    this.dtlsFingerprint = dtlsFingerprint;
    this.ports = new RtpPortAllocator(options.portRange ?? readRtpPortRange());
    this.bindAddress = options.bindAddress ?? '0.0.0.0';
    this.advertisedAddress =
      options.advertisedAddress ?? (this.bindAddress === '0.0.0.0' || this.bindAddress === '::' ? '127.0.0.1' : this.bindAddress);
    this.slots = workers.map(({ worker, channel }, index) => {
      const slot: WorkerSlot = { index, worker, channel, containers: 0 };
      worker.on('error', (err) => this.onWorkerFailure(err));
      worker.on('exit', (code) => {
        if (!this.stopped) this.onWorkerFailure(new Error(`media worker ${index} exited with code ${code}`));
      });
      return slot;
    });
  }

  get workerCount(): number {
    return this.slots.length;
  }

  get bridgeCount(): number {
    return this.countContainers('bridge');
  }

  get roomCount(): number {
    return this.countContainers('room');
  }

  get pipeCount(): number {
    return this.pipes.size;
  }

  /** Media legs open in every container (endpoints facing a peer; each holds an RTP/RTCP port pair). */
  get legCount(): number {
    let legs = 0;
    for (const endpoints of this.endpoints.values()) for (const e of endpoints.values()) if (!e.pipe) legs++;
    return legs;
  }

  /** Every open endpoint, pipe ends included. */
  get endpointCount(): number {
    let n = 0;
    for (const endpoints of this.endpoints.values()) n += endpoints.size;
    return n;
  }

  liveCounts(): MediaLiveCounts {
    return { legs: this.legCount, endpoints: this.endpointCount, bridges: this.bridgeCount, rooms: this.roomCount, pipes: this.pipeCount };
  }

  private countContainers(kind: 'bridge' | 'room'): number {
    let n = 0;
    for (const c of this.containers.values()) if (c.kind === kind) n++;
    return n;
  }

  /**
   * How busy each worker's event loop was: since it started, or since the
   * `previous` readings when given (`.utilization` is the busy share, 0–1).
   */
  /** Each worker's packet I/O: "native" (the addon of media-server/native) or "dgram". */
  packetIo(): Promise<('native' | 'dgram')[]> {
    return Promise.all(this.slots.map((s) => s.channel.request('packet-io', null)));
  }

  /** V8 heap statistics of each worker thread's isolate (a process's heapUsed covers the main thread only). */
  workerHeapStatistics(): Promise<HeapInfo[]> {
    return Promise.all(this.slots.map((s) => s.worker.getHeapStatistics()));
  }

  eventLoopUtilization(previous?: readonly EventLoopUtilization[]): EventLoopUtilization[] {
    return this.slots.map((s, i) => s.worker.performance.eventLoopUtilization(previous?.[i]));
  }

  /** A two-party bridge (the fast path). */
  createBridge(options: PlacementOptions = {}): Promise<BridgeHandle> {
    return this.createContainer((id, worker) => new BridgeHandle(id, worker, this), options);
  }

  /** A room: N endpoints, each hearing the loudest few of the others (mixer/room.ts). */
  createRoom(options: PlacementOptions & RoomOptions = {}): Promise<RoomHandle> {
    const room: RoomOptions = options.talkers === undefined ? {} : { talkers: options.talkers };
    return this.createContainer((id, worker) => new RoomHandle(id, worker, this), options, room);
  }

  private async createContainer<H extends ContainerHandle>(
    make: (id: string, workerIndex: number) => H,
    options: PlacementOptions,
    room?: RoomOptions,
  ): Promise<H> {
    if (this.stopped) throw new Error('the media engine is stopped');
    if (options.near && !this.containers.has(options.near.id)) throw new Error(`cannot place near ${options.near.kind} ${options.near.id}: it is closed`);
    const slot = options.near ? this.slots[options.near.workerIndex]! : this.slots.reduce((best, s) => (s.containers < best.containers ? s : best));
    const handle = make(randomUUID(), slot.index);
    slot.containers++;
    try {
      await slot.channel.request('create-container', { containerId: handle.id, kind: handle.kind, ...(room ? { room } : {}) });
    } catch (err) {
      slot.containers--;
      throw err;
    }
    this.containers.set(handle.id, handle);
    this.endpoints.set(handle.id, new Map());
    return handle;
  }

  async addEndpoint(container: ContainerHandle, spec: LegSpec): Promise<LocalMediaAddress> {
    const pair = await this.openEndpoint(container, spec, this.bindAddress, null);
    return { address: this.advertisedAddress, rtpPort: pair.rtp, rtcpPort: pair.rtcp };
  }

  /** Opens an endpoint on fresh ports (trying the next pair when another process holds one). */
  private async openEndpoint(container: ContainerHandle, spec: LegSpec, bindAddress: string, pipe: MediaPipe | null, ports?: RtpPortPair): Promise<RtpPortPair> {
    const endpoints = this.endpoints.get(container.id);
    if (!endpoints) throw new Error(`${container.kind} ${container.id} is closed`);
    if (endpoints.has(spec.legId)) throw new Error(`${container.kind} ${container.id} already has ${container.kind === 'bridge' ? 'a leg' : 'an endpoint'} ${spec.legId}`);
    for (let attempt = 1; ; attempt++) {
      const pair = ports ?? this.ports.allocate();
      if (!pair) throw new Error(`no free RTP ports left in ${this.ports.range.min}-${this.ports.range.max}`);
      const endpoint: LegConfig = { ...spec, bindAddress, rtpPort: pair.rtp, rtcpPort: pair.rtcp };
      try {
        await this.channelOf(container).request('add-endpoint', { containerId: container.id, endpoint });
        // Closed while the sockets opened: the worker closed them with the container.
        if (!this.endpoints.has(container.id)) throw new Error(`${container.kind} ${container.id} is closed`);
        endpoints.set(spec.legId, { ports: pair, pipe });
        return pair;
      } catch (err) {
        if (!ports) this.ports.release(pair.rtp);
        // Another process holds that pair: try the next ones round the range, each pair once. Other
        // processes may hold a long run of it (ranges overlap the kernel's ephemeral ports, and test
        // instances' ranges can meet), so a handful of tries is not enough.
        if (ports || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= this.ports.capacity) throw err;
      }
    }
  }

  async removeEndpoint(container: ContainerHandle, endpointId: string): Promise<void> {
    const open = this.endpoints.get(container.id)?.get(endpointId);
    if (open?.pipe) return this.closePipe(open.pipe);
    await this.channelOf(container).request('remove-endpoint', { containerId: container.id, endpointId });
    this.forgetEndpoint(container.id, endpointId);
  }

  private forgetEndpoint(containerId: string, endpointId: string): void {
    const open = this.endpoints.get(containerId)?.get(endpointId);
    if (!open) return;
    this.ports.release(open.ports.rtp);
    this.endpoints.get(containerId)!.delete(endpointId);
  }

  async moveEndpoint(from: ContainerHandle, endpointId: string, to: ContainerHandle, as: string): Promise<void> {
    const source = this.endpoints.get(from.id);
    const target = this.endpoints.get(to.id);
    if (!source) throw new Error(`${from.kind} ${from.id} is closed`);
    if (!target) throw new Error(`${to.kind} ${to.id} is closed`);
    const open = source.get(endpointId);
    if (!open) throw new Error(`${from.kind} ${from.id} has no endpoint ${endpointId}`);
    if (open.pipe) throw new Error(`${endpointId} is the end of a pipe: close the pipe and open another`);
    if (from.workerIndex !== to.workerIndex) {
      throw new Error(
        `${from.kind} ${from.id} is on worker ${from.workerIndex} and ${to.kind} ${to.id} on worker ${to.workerIndex}: ` +
          'an endpoint moves only within its worker (create the container `near` it, or join the two with a pipe)',
      );
    }
    if (target.has(as)) throw new Error(`${to.kind} ${to.id} already has an endpoint ${as}`);
    await this.channelOf(from).request('move-endpoint', { from: from.id, endpointId, to: to.id, as });
    source.delete(endpointId);
    target.set(as, open);
  }

  async pipe(a: PipeEnd, b: PipeEnd, options: PipeOptions): Promise<MediaPipe> {
    if (this.stopped) throw new Error('the media engine is stopped');
    if (a.container === b.container) throw new Error('a pipe joins two different containers');
    for (const end of [a, b]) if (!this.endpoints.has(end.container.id)) throw new Error(`${end.container.kind} ${end.container.id} is closed`);
    const pairs = [this.ports.allocate(), this.ports.allocate()];
    if (!pairs[0] || !pairs[1]) {
      for (const p of pairs) if (p) this.ports.release(p.rtp);
      throw new Error(`no free RTP ports left in ${this.ports.range.min}-${this.ports.range.max}`);
    }
    const [pa, pb] = pairs as [RtpPortPair, RtpPortPair];
    const pipe = new MediaPipe(randomUUID(), [a, b], (p) => this.closePipe(p));
    const codec = options.codec ?? { name: 'PCMU' as const, payloadType: 0 };
    const endSpec = (legId: string, remote: RtpPortPair): LegSpec => ({
      legId,
      codec,
      telephoneEventPayloadType: 101,
      remote: { address: PIPE_ADDRESS, rtpPort: remote.rtp, rtcpPort: remote.rtcp },
      rtcpMux: false,
      srtp: null,
      webrtc: null,
      latch: false,
      direction: 'sendrecv',
    });
    const opened: PipeEnd[] = [];
    try {
      for (const [end, mine, theirs] of [[a, pa, pb], [b, pb, pa]] as const) {
        // The pipe's end takes the place of an endpoint of that name (the transferor's leg after an attended transfer).
        if (this.endpoints.get(end.container.id)?.has(end.endpointId)) await this.removeEndpoint(end.container, end.endpointId);
        await this.openEndpoint(end.container, endSpec(end.endpointId, theirs), PIPE_ADDRESS, pipe, mine);
        opened.push(end);
      }
    } catch (err) {
      for (const end of opened) {
        await this.channelOf(end.container).request('remove-endpoint', { containerId: end.container.id, endpointId: end.endpointId }).catch(() => undefined);
        this.endpoints.get(end.container.id)?.delete(end.endpointId);
      }
      this.ports.release(pa.rtp);
      this.ports.release(pb.rtp);
      throw err;
    }
    this.pipes.set(pipe.id, pipe);
    return pipe;
  }

  /** Removes both ends (from containers still open) and gives their ports back. */
  private async closePipe(pipe: MediaPipe): Promise<void> {
    if (pipe.closed) return;
    pipe.closed = true;
    try {
      await Promise.all(
        pipe.ends.map(async (end) => {
          const open = this.endpoints.get(end.container.id)?.get(end.endpointId);
          if (open?.pipe !== pipe) return;
          try {
            if (!this.stopped) await this.channelOf(end.container).request('remove-endpoint', { containerId: end.container.id, endpointId: end.endpointId });
          } finally {
            this.forgetEndpoint(end.container.id, end.endpointId);
          }
        }),
      );
    } finally {
      this.pipes.delete(pipe.id);
      pipe.emit('closed');
    }
  }

  request<K extends ContainerOp>(container: ContainerHandle, op: K, params: ContainerParams<K>): Promise<MediaWorkerApi['requests'][K]['result']> {
    if (container.closed) return Promise.reject(new Error(`${container.kind} ${container.id} is closed`));
    const full = { ...params, containerId: container.id } as MediaWorkerApi['requests'][K]['params'];
    return this.channelOf(container).request(op, full);
  }

  async closeContainer(container: ContainerHandle): Promise<void> {
    if (container.closed) return;
    container.closed = true;
    const slot = this.slots[container.workerIndex]!;
    try {
      // The cascade: its pipes first, so their other ends leave the containers they are in.
      for (const pipe of [...this.pipes.values()]) {
        if (pipe.ends.some((e) => e.container === container)) await this.closePipe(pipe).catch(() => undefined);
      }
      if (!this.stopped) await slot.channel.request('destroy-container', { containerId: container.id });
    } finally {
      for (const open of this.endpoints.get(container.id)?.values() ?? []) this.ports.release(open.ports.rtp);
      this.endpoints.delete(container.id);
      this.containers.delete(container.id);
      slot.containers--;
      container.emit('closed');
    }
  }

  /** Closes every container (and so every pipe and endpoint), then the workers. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    for (const container of [...this.containers.values()]) await this.closeContainer(container).catch(() => undefined);
    this.stopped = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        const exited = new Promise((resolve) => slot.worker.once('exit', resolve));
        await slot.channel.request('shutdown', null).catch(() => undefined);
        // A worker that does not leave within a second is stopped.
        const timer = setTimeout(() => void slot.worker.terminate(), 1000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  private channelOf(container: ContainerHandle): MediaChannel {
    return this.slots[container.workerIndex]!.channel;
  }

  private onEvent(event: MediaEvent): void {
    this.emit(event.type, event as never);
    this.containers.get(event.bridgeId)?.emit(event.type as keyof ContainerEvents, event as never);
  }

  private onWorkerFailure(err: Error): void {
    // The worker's channel has already failed every request waiting on it.
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

async function startWorker(data: MediaWorkerData, onEvent: (event: MediaEvent) => void): Promise<{ worker: Worker; channel: MediaChannel }> {
  const worker = new Worker(new URL('./media-worker.ts', import.meta.url), { workerData: data });
  const channel = workerChannel<MediaMainApi, MediaWorkerApi>(worker, { requests: {}, notices: { 'media-event': onEvent } });
  await channel.ready();
  return { worker, channel };
}
