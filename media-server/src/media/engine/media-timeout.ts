/**
 * The RTP inactivity timeout (rtpengine's `timeout` and `silent-timeout`):
 * a bridge or room whose peers have all stopped sending RTP and RTCP for
 * longer than the timeout is reported, so call control can end a call whose
 * phones vanished without a BYE (lost power, lost network, a gateway that
 * gave up). A peer on hold (our side of its SDP not sendrecv) may
 * legitimately send nothing, so it gets the longer held timeout.
 *
 * The container is the unit, as rtpengine's call is: one peer still sending
 * keeps it alive (a one-way stream, a listener whose phone sends nothing
 * during silence), and an application call's lone caller ends it alone.
 * Pipe ends (links between our own containers) are not peers and never
 * count. Runs on the worker's housekeeping tick (about once a second); the
 * receive path only writes Endpoint.lastMediaMs.
 */
import type { Endpoint } from '../endpoint/endpoint.ts';
import type { MediaEvent } from './control-messages.ts';

export interface MediaTimeouts {
  /** Silence after which a container is reported; 0 turns the timeout off. */
  activeMs: number;
  /** The same for a peer on hold; 0 turns it off for held peers. */
  heldMs: number;
}

export const DEFAULT_MEDIA_TIMEOUTS: Readonly<MediaTimeouts> = { activeMs: 60_000, heldMs: 3_600_000 };

export class MediaTimeoutWatch {
  private readonly timeouts: MediaTimeouts;
  /** When each silent container was last reported: it is reported again only after another timeout. */
  private readonly reported = new Map<string, number>();

  constructor(timeouts: MediaTimeouts) {
    this.timeouts = timeouts;
  }

  /**
   * The event to send for this container now, or null. A container still
   * silent is reported again every timeout, so call control that let it be
   * (a call still ringing) hears of it later.
   */
  check(containerId: string, endpoints: Iterable<Endpoint>, nowMs: number): Extract<MediaEvent, { type: 'media-timeout' }> | null {
    const legIds: string[] = [];
    let silentMs = Number.POSITIVE_INFINITY;
    for (const e of endpoints) {
      if (!e.facesPeer) continue;
      const limit = e.onHold ? this.timeouts.heldMs : this.timeouts.activeMs;
      const silent = nowMs - e.lastMediaMs;
      if (limit <= 0 || silent < limit) {
        this.reported.delete(containerId);
        return null;
      }
      legIds.push(e.legId);
      silentMs = Math.min(silentMs, silent);
    }
    if (legIds.length === 0) return null;
    const last = this.reported.get(containerId);
    if (last !== undefined && nowMs - last < Math.max(this.timeouts.activeMs, 1000)) return null;
    this.reported.set(containerId, nowMs);
    return { type: 'media-timeout', bridgeId: containerId, legIds, silentMs: Math.round(silentMs) };
  }

  forget(containerId: string): void {
    this.reported.delete(containerId);
  }
}
