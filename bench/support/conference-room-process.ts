/**
 * One conference room alone in a process, for bench/conference-mixer.ts: a
 * MediaEngine with one worker thread (a room lives on one worker), driven
 * over the IPC channel, so that the process's CPU time (all threads, from
 * /proc) is the mixer's and nothing else's.
 *
 * Messages in:  { type: 'room', members, talkers, mutedListeners } → { type: 'room', ports }  (each member's RTP port;
 *                 with mutedListeners, every member but the first `talkers` is muted: direction sendonly)
 *               { type: 'stats' }                  → { type: 'stats', mixer, receivedPackets, droppedPackets, sentPackets, rssBytes }
 *               { type: 'close' }                  → { type: 'close' }
 *               { type: 'stop' }
 * Ready:        { type: 'ready', pid }
 * Members have no remote address: each latches to where its first packet
 * comes from (the load generator), so no mix is sent before the load starts.
 */
import { MediaEngine } from '../../media-server/src/media/engine/media-engine.ts';
import type { MixerStats } from '../../media-server/src/media/engine/control-messages.ts';
import type { RoomHandle } from '../../media-server/src/media/mixer/room-handle.ts';

export type RoomRequest = { type: 'room'; members: number; talkers: number; mutedListeners: boolean } | { type: 'stats' } | { type: 'close' } | { type: 'stop' };
export type RoomReply =
  | { type: 'ready'; pid: number }
  | { type: 'room'; ports: number[] }
  | { type: 'stats'; mixer: MixerStats; receivedPackets: number; droppedPackets: number; sentPackets: number; rssBytes: number }
  | { type: 'close' }
  | { type: 'error'; message: string };

const engine = await MediaEngine.start({ workers: 1, portRange: { min: 50000, max: 52999 }, bindAddress: '127.0.0.1', rtcpIntervalMs: 60_000 });
let room: RoomHandle | null = null;
const reply = (message: RoomReply): boolean => process.send!(message);

process.on('message', (message: RoomRequest) => {
  void handle(message).catch((err: unknown) => reply({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
});
process.on('disconnect', () => void engine.stop());
reply({ type: 'ready', pid: process.pid });

async function handle(message: RoomRequest): Promise<void> {
  switch (message.type) {
    case 'room': {
      room = await engine.createRoom({ talkers: message.talkers });
      const ports: number[] = [];
      for (let i = 0; i < message.members; i++) {
        const direction = message.mutedListeners && i >= message.talkers ? 'sendonly' : 'sendrecv';
        const local = await room.addEndpoint({ legId: `m${i}`, codec: { name: 'PCMU', payloadType: 0 }, direction });
        ports.push(local.rtpPort);
      }
      reply({ type: 'room', ports });
      return;
    }
    case 'stats': {
      const mixer = await room!.mixerStats();
      let receivedPackets = 0;
      let droppedPackets = 0;
      let sentPackets = 0;
      for (const leg of await room!.stats()) {
        receivedPackets += leg.received.packets;
        droppedPackets += leg.dropped;
        sentPackets += leg.sent.packets;
      }
      reply({ type: 'stats', mixer, receivedPackets, droppedPackets, sentPackets, rssBytes: process.memoryUsage.rss() });
      return;
    }
    case 'close':
      await room?.close();
      room = null;
      reply({ type: 'close' });
      return;
    case 'stop':
      process.disconnect();
      return;
  }
}
