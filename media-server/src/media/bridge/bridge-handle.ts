/**
 * The main thread's handle on a bridge living in a worker: the two-party
 * fast path as call control sees it. Legs are the bridge's endpoints (the
 * `*Leg` names are the endpoint methods under the names calls/ uses), and a
 * bridge can record the call.
 */
import { resolve } from 'node:path';
import type { LegSpec, LegUpdate, LocalMediaAddress, RecordingOptions, RecordingResult } from '../engine/control-messages.ts';
import { ContainerHandle, type ContainerEvents } from '../engine/container-handle.ts';

export type BridgeEvents = ContainerEvents;

export class BridgeHandle extends ContainerHandle {
  readonly kind = 'bridge' as const;

  /** Opens the leg's sockets on ports from the engine's range; answer the SDP with the result. */
  addLeg(spec: LegSpec): Promise<LocalMediaAddress> {
    return this.addEndpoint(spec);
  }

  /** After a re-INVITE or the answer to our offer: new remote, codec, keys or direction. */
  updateLeg(legId: string, update: LegUpdate): Promise<void> {
    return this.updateEndpoint(legId, update);
  }

  removeLeg(legId: string): Promise<void> {
    return this.removeEndpoint(legId);
  }

  /**
   * Records the call to a new file at `path` (relative to the working
   * directory; missing directories are created, an existing file is refused
   * with EEXIST): 16-bit PCM WAV, 8 kHz, stereo, channel 1 what the first leg
   * sends into the bridge, channel 2 what the second sends, in step on the
   * 20 ms media clock. Prompts played to the legs are not recorded. Resolves
   * once the file exists and frames are being taken.
   */
  async startRecording(path: string, options: RecordingOptions = {}): Promise<void> {
    if (options.format !== undefined && options.format !== 'wav') {
      throw new RangeError(`unsupported recording format ${JSON.stringify(options.format)} (supported: wav)`);
    }
    await this.host.request(this, 'start-recording', { path: resolve(path), options });
  }

  /**
   * Ends the recording and finalizes the file; rejects when none is running.
   * Closing the bridge ends it too. Either way 'recording-stopped' follows.
   */
  stopRecording(): Promise<RecordingResult> {
    return this.host.request(this, 'stop-recording', {});
  }
}
