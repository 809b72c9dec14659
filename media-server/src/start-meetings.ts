import type { Redis } from 'ioredis';
import type { Config, Logger } from '@carillon/config';
import { MeetingControlChannel } from './control/meeting-control-channel.ts';
import { SfuThread } from './sfu/index.ts';
import { MeetingRooms } from './meetings/meeting-rooms.ts';

/**
 * Video meetings on this node (issue 17, unreleased area `meetings`): an SFU worker thread with one
 * shared port set (WebRtcServer) on SIP_HOST, announced as SIP_PUBLIC_ADDRESS when set, the node's
 * MeetingRooms, and their signalling channel. The port set takes a free UDP port for now: a fixed
 * one (for firewalls) and TCP come with the rest of issue 17.
 */
export async function startMeetings({ config, redis, nodeId, log }: { config: Config; redis: Redis; nodeId: string; log: Logger }): Promise<{ stop(): Promise<void> }> {
  const sfu = await SfuThread.start({ packetIo: config.MEDIA_NATIVE });
  sfu.on('error', (err) => log.error('SFU worker failed', { error: err }));
  const anyAddress = config.SIP_HOST === '0.0.0.0' || config.SIP_HOST === '::';
  const announcedAddress = config.SIP_PUBLIC_ADDRESS ?? (anyAddress ? '127.0.0.1' : undefined);
  const server = await sfu.createWebRtcServer([{ ip: config.SIP_HOST, port: 0, ...(announcedAddress ? { announcedAddress } : {}) }]);
  const subscriber = redis.duplicate({ connectionName: `carillon:media-server:${nodeId}:meetings` });
  // Its errors are the main connection's (same server), logged there; ioredis resubscribes on reconnect.
  subscriber.on('error', () => undefined);
  const channel = await MeetingControlChannel.start({ subscriber, publisher: redis, nodeId, log: log.child('meetings') });
  const rooms = new MeetingRooms({
    sfu,
    webRtcServerId: server.id,
    log: log.child('meetings'),
    publish: (meetingId, accountId, change) => channel.publish(meetingId, accountId, change),
    ended: (meetingId, accountId) => channel.ended(meetingId, accountId),
  });
  channel.attach(rooms);
  log.info('meetings SFU listening', { candidates: server.iceCandidates.map((c) => `${c.address}:${c.port}`) });
  return {
    async stop() {
      await channel.stop();
      subscriber.disconnect();
      await rooms.closeAll().catch(() => undefined);
      await sfu.stop();
    },
  };
}
