/**
 * The main thread's handle on a room living in a worker: N endpoints, each
 * hearing the loudest few of the others (see mixer/room.ts); its 'talkers'
 * event says who they are. Endpoints are added to it, or
 * moved in from a bridge of the same worker (`bridge.moveEndpoint(id, room)`)
 * and back, without the peer noticing.
 */
import { ContainerHandle, type ContainerEvents } from '../engine/container-handle.ts';
import type { MixerStats } from '../engine/control-messages.ts';

export type RoomEvents = ContainerEvents;

export class RoomHandle extends ContainerHandle {
  readonly kind = 'room' as const;

  /** What the mixer did so far: ticks, decodes per endpoint, encodes per codec. */
  mixerStats(): Promise<MixerStats> {
    return this.host.request(this, 'mixer-stats', {});
  }

  /**
   * Whom one member hears: the ids of other members, or null for everyone
   * (the default). Call monitoring gives each party of a monitored call its
   * own rule (a monitor who listens is heard by nobody; one who whispers
   * only by the monitored user).
   */
  async setHears(endpointId: string, hears: readonly string[] | null): Promise<void> {
    await this.host.request(this, 'set-hears', { endpointId, hears: hears ? [...hears] : null });
  }
}
