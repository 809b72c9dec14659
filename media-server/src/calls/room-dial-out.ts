import { randomUUID } from 'node:crypto';
import type { BridgeHandle, LegCodecName, MediaEngine, RoomHandle } from '../media/index.ts';
import { PLAIN_RTP_CODECS, TELEPHONE_EVENT } from '../sdp/negotiate-codecs.ts';
import { CallEndedError, type BridgeOutcome, type RoomRef, type RoomRole } from '../apps/call-handle.ts';
import { CalleeForks, type CalleeForksContext, type CalleeTarget } from './app-call-bridge.ts';
import type { RoomRegistry, RoomSeat } from './room-registry.ts';

/** What a dial-out needs beyond what ringing needs: the media engine and the node's rooms. */
export interface RoomDialOutContext extends CalleeForksContext {
  media: Pick<MediaEngine, 'createBridge'>;
  rooms: Pick<RoomRegistry, 'enter'>;
}

export interface RoomDialOutRequest {
  /** The call the leg belongs to: its record gets the leg (role callee). */
  recordId: string;
  accountId: string;
  targets: CalleeTarget[];
  room: RoomRef;
  role: RoomRole;
  ringSeconds: number;
  /** Aborts when the leg must go: the owning call ended, or the application hung it up. */
  stop: AbortSignal;
  /** The forks exist: their Call-IDs must reach them from now on (the party's BYE, a retransmitted 2xx). */
  onForks(forks: CalleeForks): void;
  /**
   * The party is in the room; `play` plays to it alone (instead of the room) and resolves at the audio's end;
   * `setMute` drops or lets through what it says (a listener stays unheard).
   */
  onJoined?: (party: { play(file: string): Promise<void>; setMute(muted: boolean): Promise<void> }) => void;
  /** Played to the party alone once it answers, before it joins the room (a queue's agent hears who it calls back). */
  announce?: { file: string };
}

/** The bridge's end of the pipe to a room on another worker (as for AppCall.joinRoom). */
const ROOM_PIPE_LEG = 'room';
const PARTY_LEG = 'b';

/**
 * An outbound leg into a room (CallHandle.dialOut): the call layer's "originate". The room's seat is
 * taken first (its capacity is checked before anything rings, and the room stays open while the
 * party rings); then a bridge near the room holds the party's endpoint while the INVITEs fork to its
 * devices (calls/app-call-bridge.ts, the same forking, offers, CANCELs and records as bridgeTo); the
 * first to answer has its endpoint moved into the room (same worker: no pipe, no re-INVITE), muted
 * for a listener. Resolves when the leg is over; whatever happens, the room member, the seat and
 * the bridge are released before it settles, so the live counts return to zero with the calls.
 *
 *   seat --> bridge + ring --> answered: in the room --> party's BYE / stop --> released
 *                    \--> no answer, busy, unavailable, stop while ringing --> released
 */
export async function dialIntoRoom(ctx: RoomDialOutContext, req: RoomDialOutRequest): Promise<BridgeOutcome> {
  if (req.stop.aborted) return STOPPED;
  const seat: RoomSeat = await ctx.rooms.enter(req.room, undefined);
  let bridge: BridgeHandle | null = null;
  let member: { room: RoomHandle; endpointId: string; placed: 'moved' | 'piped' } | null = null;
  try {
    if (req.stop.aborted) return STOPPED;
    const room = seat.room;
    bridge = await ctx.media.createBridge({ near: room });
    const codec = PLAIN_RTP_CODECS[0]!;
    const local = await bridge.addLeg({ legId: PARTY_LEG, codec: { name: codec.name.toUpperCase() as LegCodecName, payloadType: codec.payloadType }, telephoneEventPayloadType: TELEPHONE_EVENT.payloadType, remote: null });
    if (req.stop.aborted) return STOPPED;
    const held = bridge;
    let joined: Promise<void> = Promise.resolve();
    const forks = new CalleeForks(
      {
        ...ctx,
        // The call was answered before its dial-outs: a party's answer does not move the call's answer time.
        records: { addLeg: (l) => ctx.records.addLeg(l), legEnded: (...a) => ctx.records.legEnded(...a), answered: (id, legs) => ctx.records.answered(id, legs, undefined, { keepCallAnswer: true }) },
      },
      held,
      {
        recordId: req.recordId,
        accountId: req.accountId,
        callerCodec: codec,
        onAnswered: () => {
          // The party's endpoint has its answer (CalleeForks updated the leg first): its announcement, then into the room.
          joined = playTo(held, PARTY_LEG, req.announce, req.stop).then(() => join(held, room, req.role)).then(
            (m) => {
              member = m;
              if (!req.stop.aborted) {
                req.onJoined?.({
                  play: (file) => playTo(m.room, m.endpointId, { file }, req.stop),
                  setMute: async (muted) => {
                    if (!m.room.closed) await m.room.setDirection(m.endpointId, muted || req.role === 'listener' ? 'sendonly' : 'sendrecv');
                  },
                });
              }
            },
            (err: unknown) => {
              // A party that cannot be put in the room would hear nothing: it is hung up.
              ctx.log.warn('dial-out party not joined to its room; hanging up', { error: err });
              forks.callerLeft(new CallEndedError());
            },
          );
          return joined;
        },
      },
    );
    forks.outcome.catch(() => undefined);
    req.onForks(forks);
    const stop = () => forks.callerLeft(new CallEndedError());
    req.stop.addEventListener('abort', stop, { once: true });
    try {
      await forks.ring(req.targets, local, req.ringSeconds);
      const outcome = await forks.outcome.catch((err: unknown) => {
        // Stopped while it rang: the forks were CANCELled.
        if (err instanceof CallEndedError) return STOPPED;
        throw err;
      });
      await joined.catch(() => undefined);
      return outcome;
    } finally {
      req.stop.removeEventListener('abort', stop);
    }
  } finally {
    const m = member as { room: RoomHandle; endpointId: string; placed: 'moved' | 'piped' } | null;
    // A moved endpoint lives in the room now: it goes before the seat (the last seat closes the room).
    if (m?.placed === 'moved' && !m.room.closed) await m.room.removeEndpoint(m.endpointId).catch(() => undefined);
    // Closing the bridge closes a pipe and its end in the room.
    if (bridge && !bridge.closed) await bridge.close().catch(() => undefined);
    await seat.leave();
  }
}

const STOPPED: BridgeOutcome = { outcome: 'no-answer', status: 487 };

/** Plays to one endpoint of a bridge or a room and waits for the audio's end (or the leg's stop). */
async function playTo(container: BridgeHandle | RoomHandle, endpointId: string, what: { file: string } | undefined, stop: AbortSignal): Promise<void> {
  if (!what || stop.aborted) return;
  let endedId: number | null = null;
  const finished = new Set<number>();
  let wake: (() => void) | null = null;
  const onEnded = (e: { playbackId: number }) => {
    finished.add(e.playbackId);
    if (e.playbackId === endedId) wake?.();
  };
  container.on('playback-ended', onEnded);
  const abort = () => wake?.();
  stop.addEventListener('abort', abort, { once: true });
  try {
    endedId = await container.play(endpointId, { file: what.file });
    if (!finished.has(endedId) && !stop.aborted) await new Promise<void>((resolve) => (wake = resolve));
  } finally {
    container.off('playback-ended', onEnded);
    stop.removeEventListener('abort', abort);
  }
}

/** The party's endpoint from the bridge into the room (or piped to it on another worker), muted for a listener. */
async function join(bridge: BridgeHandle, room: RoomHandle, role: RoomRole): Promise<{ room: RoomHandle; endpointId: string; placed: 'moved' | 'piped' }> {
  const endpointId = `dial-out-${randomUUID()}`;
  let placed: 'moved' | 'piped';
  if (room.workerIndex === bridge.workerIndex) {
    await bridge.moveEndpoint(PARTY_LEG, room, endpointId);
    placed = 'moved';
  } else {
    await bridge.pipeTo(ROOM_PIPE_LEG, room, endpointId);
    placed = 'piped';
  }
  // A listener hears the room and is never heard: what it sends is dropped after the header.
  if (role === 'listener') await room.setDirection(endpointId, 'sendonly');
  return { room, endpointId, placed };
}
