/**
 * The main thread's handle on a bridge living in a worker: the two-party
 * fast path as call control sees it. Legs are the bridge's endpoints (the
 * `*Leg` names are the endpoint methods under the names calls/ uses), and a
 * bridge can record the call (ContainerHandle.startRecording: stereo, channel
 * 1 what the first leg sends into the bridge, channel 2 what the second sends).
 */
import type { LegSpec, LegUpdate, LocalMediaAddress } from '../engine/control-messages.ts';
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
}
