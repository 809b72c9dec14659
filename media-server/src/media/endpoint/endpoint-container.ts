/**
 * What holds endpoints inside a worker: a two-party Bridge (the fast path,
 * packets relayed as they come) or a Room (N endpoints mixed on the media
 * clock). The worker speaks to both through this one shape, so an endpoint
 * can move from one to the other (`release` here, `take` there).
 */
import type { ContainerKind, LegConfig, LegStats, LegUpdate, RecordingOptions, RecordingResult } from '../engine/control-messages.ts';
import type { Endpoint, EndpointSink } from './endpoint.ts';

export interface EndpointContainer extends EndpointSink {
  readonly kind: ContainerKind;
  readonly endpointCount: number;
  /** Opens a new endpoint's sockets and takes it in. */
  addEndpoint(config: LegConfig): Promise<void>;
  /** Takes in an endpoint that is already open (moved from another container), under `id`. */
  take(endpoint: Endpoint, id: string): void;
  /** Lets an endpoint go without closing it (it is moving); throws when there is none by that id. */
  release(id: string): Endpoint;
  updateEndpoint(id: string, update: LegUpdate): void;
  /** Closes the endpoint and forgets it. */
  removeEndpoint(id: string): void;
  endpoint(id: string): Endpoint;
  /** Every endpoint it holds now (the media timeout reads when each last heard its peer). */
  allEndpoints(): Iterable<Endpoint>;
  /** Whether `id` is free, and whether one more endpoint fits. */
  canTake(id: string): string | null;
  housekeeping(nowMs: number): void;
  stats(): LegStats[];
  /** Records to a new WAV at `path` (a bridge: its two legs in stereo; a room: its mix in mono); one recording at a time. */
  startRecording(path: string, options: RecordingOptions): Promise<void>;
  /** Ends the recording and finalizes the file; rejects when none is running. */
  stopRecording(): Promise<RecordingResult>;
  /** Closes every endpoint (the cascade), then anything it still writes. Idempotent. */
  close(): Promise<void>;
}
