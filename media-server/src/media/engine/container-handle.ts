/**
 * The main thread's handle on an endpoint container living in a worker (a
 * bridge or a room): what call control calls. Every method is one request to
 * the worker; events for this container are re-emitted here.
 */
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { isDtmfDigit } from '../dtmf/dtmf-digits.ts';
import type {
  ContainerKind,
  LegCodecName,
  LegSpec,
  LegStats,
  LegUpdate,
  LocalMediaAddress,
  MediaDirection,
  MediaEvent,
  MediaWorkerApi,
  PlaybackOptions,
  PlaybackSource,
  RecordingOptions,
  RecordingResult,
} from './control-messages.ts';
import type { MediaPipe } from './media-pipe.ts';

export type ContainerEvents = {
  [K in MediaEvent['type']]: [Extract<MediaEvent, { type: K }>];
} & { closed: [] };

type Requests = MediaWorkerApi['requests'];
/** The requests that name one container and that a handle may send as they are. */
export type ContainerOp = 'update-endpoint' | 'play' | 'stop-playback' | 'send-dtmf' | 'get-stats' | 'mixer-stats' | 'set-hears' | 'start-recording' | 'stop-recording';
export type ContainerParams<K extends ContainerOp> = Omit<Requests[K]['params'], 'containerId'>;

export interface PipeOptions {
  /** The codec on the pipe; PCMU by default (8 kHz both ways, so nothing is resampled). */
  codec?: { name: LegCodecName; payloadType: number };
}

/** What a handle needs from the engine: kept narrow so the two stay decoupled. */
export interface ContainerHost {
  addEndpoint(container: ContainerHandle, spec: LegSpec): Promise<LocalMediaAddress>;
  removeEndpoint(container: ContainerHandle, endpointId: string): Promise<void>;
  moveEndpoint(from: ContainerHandle, endpointId: string, to: ContainerHandle, as: string): Promise<void>;
  request<K extends ContainerOp>(container: ContainerHandle, op: K, params: ContainerParams<K>): Promise<Requests[K]['result']>;
  pipe(a: { container: ContainerHandle; endpointId: string }, b: { container: ContainerHandle; endpointId: string }, options: PipeOptions): Promise<MediaPipe>;
  closeContainer(container: ContainerHandle): Promise<void>;
}

export abstract class ContainerHandle extends EventEmitter<ContainerEvents> {
  abstract readonly kind: ContainerKind;
  readonly id: string;
  readonly workerIndex: number;
  protected readonly host: ContainerHost;
  closed = false;

  constructor(id: string, workerIndex: number, host: ContainerHost) {
    super();
    this.id = id;
    this.workerIndex = workerIndex;
    this.host = host;
  }

  /** Opens an endpoint's sockets on ports from the engine's range; answer the SDP with the result. */
  addEndpoint(spec: LegSpec): Promise<LocalMediaAddress> {
    return this.host.addEndpoint(this, spec);
  }

  /** After a re-INVITE or the answer to our offer: new remote, codec, keys or direction. */
  async updateEndpoint(endpointId: string, update: LegUpdate): Promise<void> {
    await this.host.request(this, 'update-endpoint', { endpointId, update });
  }

  /** Mute (sendonly) or hold (recvonly/inactive) one endpoint, in SDP terms of our side. */
  setDirection(endpointId: string, direction: MediaDirection): Promise<void> {
    return this.updateEndpoint(endpointId, { direction });
  }

  /** Closes the endpoint and releases its ports (a pipe end closes its whole pipe). */
  removeEndpoint(endpointId: string): Promise<void> {
    return this.host.removeEndpoint(this, endpointId);
  }

  /**
   * Moves an endpoint to `to` (a bridge or a room of the same worker: create
   * it `near` this one), under the id `as`. Its sockets, keys and RTP stream
   * stay, so the peer needs no re-INVITE.
   */
  moveEndpoint(endpointId: string, to: ContainerHandle, as = endpointId): Promise<void> {
    return this.host.moveEndpoint(this, endpointId, to, as);
  }

  /**
   * Joins this container to `other` with a pipe: an endpoint here named
   * `endpointId` and one there named `otherEndpointId`, carrying media both
   * ways, wherever the two containers live (the same worker or two). An
   * endpoint already under either name is closed and replaced by the pipe's
   * end. Closing either container closes the pipe and removes its other end.
   */
  pipeTo(endpointId: string, other: ContainerHandle, otherEndpointId: string, options: PipeOptions = {}): Promise<MediaPipe> {
    return this.host.pipe({ container: this, endpointId }, { container: other, endpointId: otherEndpointId }, options);
  }

  /** Plays a prompt to the endpoint instead of what it would hear; resolves with the playback id. */
  async play(endpointId: string, source: PlaybackSource, options: PlaybackOptions = {}): Promise<number> {
    return (await this.host.request(this, 'play', { endpointId, source, options })).playbackId;
  }

  async stopPlayback(endpointId: string): Promise<void> {
    await this.host.request(this, 'stop-playback', { endpointId });
  }

  /** Sends digits to the endpoint (RFC 4733 if negotiated, in-band tones otherwise); 'dtmf-sent' follows. */
  async sendDtmf(endpointId: string, digits: string, options: { durationMs?: number } = {}): Promise<void> {
    const upper = digits.toUpperCase();
    if (upper.length === 0 || ![...upper].every(isDtmfDigit)) throw new RangeError(`not DTMF digits: ${JSON.stringify(digits)}`);
    await this.host.request(this, 'send-dtmf', { endpointId, digits: upper, durationMs: options.durationMs ?? 100 });
  }

  stats(): Promise<LegStats[]> {
    return this.host.request(this, 'get-stats', {});
  }

  /**
   * Records to a new file at `path` (relative to the working directory;
   * missing directories are created, an existing file is refused with
   * EEXIST): 16-bit PCM WAV at 8 kHz on the 20 ms media clock. A bridge
   * records in stereo, channel 1 what its first leg sends into it, channel 2
   * what the second sends; a room records its mix in mono (every talker, as
   * the listeners hear it). Prompts played to endpoints are not recorded.
   * Resolves once the file exists and frames are being taken.
   */
  async startRecording(path: string, options: RecordingOptions = {}): Promise<void> {
    if (options.format !== undefined && options.format !== 'wav') {
      throw new RangeError(`unsupported recording format ${JSON.stringify(options.format)} (supported: wav)`);
    }
    await this.host.request(this, 'start-recording', { path: resolve(path), options });
  }

  /**
   * Ends the recording and finalizes the file; rejects when none is running.
   * Closing the container ends it too. Either way 'recording-stopped' follows.
   */
  stopRecording(): Promise<RecordingResult> {
    return this.host.request(this, 'stop-recording', {});
  }

  /** Closes its pipes, then every endpoint in it, releasing their ports. */
  close(): Promise<void> {
    return this.host.closeContainer(this);
  }
}
