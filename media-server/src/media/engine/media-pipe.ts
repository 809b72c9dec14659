/**
 * Media between two containers (bridges or rooms), in the manner of
 * mediasoup's `pipeToRouter`: an explicit object with an end in each
 * container, whichever workers they live on. Each end is an endpoint of its
 * container, bound on loopback, sending plain RTP to the other end only
 * (no latching, no SRTP: both ends are ours). The engine owns the ends'
 * ports; closing the pipe removes both ends, and closing either container
 * closes the pipe.
 */
import { EventEmitter } from 'node:events';
import type { ContainerHandle } from './container-handle.ts';

export interface PipeEnd {
  readonly container: ContainerHandle;
  readonly endpointId: string;
}

export class MediaPipe extends EventEmitter<{ closed: [] }> {
  readonly id: string;
  readonly ends: readonly [PipeEnd, PipeEnd];
  private readonly closer: (pipe: MediaPipe) => Promise<void>;
  closed = false;

  constructor(id: string, ends: readonly [PipeEnd, PipeEnd], closer: (pipe: MediaPipe) => Promise<void>) {
    super();
    this.id = id;
    this.ends = ends;
    this.closer = closer;
  }

  /** Whether the two ends live on different workers (packets cross between threads through the kernel). */
  get spansWorkers(): boolean {
    return this.ends[0].container.workerIndex !== this.ends[1].container.workerIndex;
  }

  close(): Promise<void> {
    return this.closer(this);
  }
}
