import { z } from 'zod';
import { parseChannelMessage } from './channel-message.ts';

/**
 * Video meetings' signalling (issue 17) between the app and the media-server node that hosts a
 * meeting's SFU Router, over Redis in the shape of the conference control channel
 * (conference-control.ts). The browser talks socket.io to the app (`meeting:*` events); the app
 * forwards each request as a command and awaits its result on `MEETING_EVENTS_CHANNEL`, where the
 * nodes also publish what happens in their meetings (a peer's new producer, a producer closed, a
 * peer gone) for the app to relay to the meeting's sockets.
 *
 * Where a meeting runs: the node that holds its Router writes `meetingOwnerKey` (value: call-control's
 * `callOwner`). A `join` for a meeting without an owner goes to `MEETING_CLAIM_CHANNEL`, heard by every
 * node with the meetings area: the first to write the owner key (SET NX) hosts it and answers; the
 * others stay silent. Every other command goes to the owner's `meetingCommandChannel`.
 *
 * The media parameters follow mediasoup's (and the SFU's, media-server/src/sfu/): a transport's ICE
 * (ICE-lite) and DTLS parameters, a producer's RTP parameters, a consumer's.
 */

export const meetingCommandChannel = (nodeId: string): string => `carillon:meetings:commands:${nodeId}`;
export const MEETING_CLAIM_CHANNEL = 'carillon:meetings:claims';
export const MEETING_EVENTS_CHANNEL = 'carillon:meetings:events';
export const meetingOwnerKey = (meetingId: string): string => `carillon:meetings:owner:${meetingId}`;
export const MEETING_OWNER_TTL_MS = 24 * 3600_000;

/** Seats of a meeting (inventory 3 §8.4: 100 on the base edition); the 101st joiner is refused `meeting_full`. */
export const MEETING_MAX_PEERS = 100;
/** Tracks one peer may publish at once: a microphone, a camera, later a screen and its audio. */
export const MEETING_MAX_PRODUCERS_PER_PEER = 4;
/** Transports of one peer: one to send, one to receive. */
export const MEETING_MAX_TRANSPORTS_PER_PEER = 2;

const uuid = z.string().uuid();
const kind = z.enum(['audio', 'video']);

const fingerprint = z.object({ algorithm: z.literal('sha-256'), value: z.string().regex(/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/) }).strict();
export const dtlsParameters = z.object({ role: z.enum(['auto', 'client', 'server']).optional(), fingerprints: z.array(fingerprint).min(1).max(4) }).strict();

const rtcpFeedback = z.object({ type: z.string().regex(/^[a-z-]{1,32}$/), parameter: z.string().regex(/^[a-z-]{0,32}$/).optional() }).strict();
const codec = z
  .object({
    mimeType: z.string().regex(/^(audio|video)\/[A-Za-z0-9.-]{1,32}$/),
    payloadType: z.number().int().min(0).max(127),
    clockRate: z.number().int().min(1000).max(200_000),
    channels: z.number().int().min(1).max(8).optional(),
    parameters: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,40}$/), z.union([z.string().max(200), z.number()])).optional(),
    rtcpFeedback: z.array(rtcpFeedback).max(16).optional(),
  })
  .strict();
const uint32 = z.number().int().min(0).max(0xffffffff);
export const rtpParameters = z
  .object({
    mid: z.string().min(1).max(32).optional(),
    codecs: z.array(codec).min(1).max(16),
    encodings: z.array(z.object({ ssrc: uint32.optional(), rid: z.string().regex(/^[A-Za-z0-9]{1,16}$/).optional(), rtx: z.object({ ssrc: uint32 }).strict().optional() }).strict()).min(1).max(3),
    rtcp: z.object({ cname: z.string().max(256).optional() }).strict().optional(),
  })
  .strict();
export type MeetingRtpParameters = z.infer<typeof rtpParameters>;

/** The codecs a meeting's Router forwards (the browser offers these and the SFU answers with them). */
export const MEETING_CODECS = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
] as const;

/** What the browser asks of its meeting, as the app's `meeting:*` socket events take it (after `meeting:join`). */
export const meetingRequest = z.discriminatedUnion('type', [
  z.object({ type: z.literal('create-transport'), direction: z.enum(['send', 'recv']) }).strict(),
  z.object({ type: z.literal('connect-transport'), transportId: uuid, dtlsParameters }).strict(),
  z.object({ type: z.literal('produce'), transportId: uuid, kind, rtpParameters }).strict(),
  z.object({ type: z.literal('consume'), transportId: uuid, producerId: uuid }).strict(),
  z.object({ type: z.literal('close-producer'), producerId: uuid }).strict(),
  z.object({ type: z.literal('leave') }).strict(),
]);
export type MeetingRequest = z.infer<typeof meetingRequest>;

const commandBase = {
  commandId: uuid,
  accountId: uuid,
  meetingId: uuid,
  /** The joiner's peer in the meeting (one per browser tab that joined). */
  peerId: uuid,
};

export const meetingCommand = z.discriminatedUnion('type', [
  z.object({ ...commandBase, type: z.literal('join'), userId: uuid, displayName: z.string().max(200) }),
  z.object({ ...commandBase, type: z.literal('create-transport'), direction: z.enum(['send', 'recv']) }),
  z.object({ ...commandBase, type: z.literal('connect-transport'), transportId: uuid, dtlsParameters }),
  z.object({ ...commandBase, type: z.literal('produce'), transportId: uuid, kind, rtpParameters }),
  z.object({ ...commandBase, type: z.literal('consume'), transportId: uuid, producerId: uuid }),
  z.object({ ...commandBase, type: z.literal('close-producer'), producerId: uuid }),
  z.object({ ...commandBase, type: z.literal('leave') }),
]);
export type MeetingCommand = z.infer<typeof meetingCommand>;

const iceCandidate = z.object({ foundation: z.string().max(64), priority: z.number().int(), address: z.string().max(64), port: z.number().int().min(1).max(65535), protocol: z.literal('udp'), type: z.literal('host') });
export const transportInfo = z.object({
  id: uuid,
  iceParameters: z.object({ usernameFragment: z.string().max(256), password: z.string().max(256), iceLite: z.literal(true) }),
  iceCandidates: z.array(iceCandidate).max(16),
  dtlsParameters,
});
export type MeetingTransportInfo = z.infer<typeof transportInfo>;
export const consumerInfo = z.object({ id: uuid, producerId: uuid, peerId: uuid, kind, rtpParameters });
export type MeetingConsumerInfo = z.infer<typeof consumerInfo>;
export const meetingPeer = z.object({ peerId: uuid, userId: uuid, displayName: z.string().max(200), producers: z.array(z.object({ producerId: uuid, kind })).max(MEETING_MAX_PRODUCERS_PER_PEER) });
export type MeetingPeer = z.infer<typeof meetingPeer>;

const eventBase = { accountId: uuid, meetingId: uuid };

export const meetingEvent = z.discriminatedUnion('type', [
  z.object({
    ...eventBase,
    type: z.literal('command-result'),
    commandId: uuid,
    /** `not_found`: no such meeting, peer, transport or producer on that node; `meeting_full`: the seats are taken; `refused`: a bound or a bad parameter. */
    outcome: z.enum(['done', 'not_found', 'meeting_full', 'refused', 'failed']),
    reason: z.string().max(500).optional(),
    /** join: the other peers now, with their producers. */
    peers: z.array(meetingPeer).max(MEETING_MAX_PEERS).optional(),
    transport: transportInfo.optional(),
    producerId: uuid.optional(),
    consumer: consumerInfo.optional(),
  }),
  z.object({ ...eventBase, type: z.literal('peer-joined'), peer: meetingPeer }),
  z.object({ ...eventBase, type: z.literal('new-producer'), peerId: uuid, producerId: uuid, kind }),
  z.object({ ...eventBase, type: z.literal('producer-closed'), peerId: uuid, producerId: uuid }),
  z.object({ ...eventBase, type: z.literal('peer-left'), peerId: uuid }),
]);
export type MeetingEvent = z.infer<typeof meetingEvent>;
export type MeetingCommandResult = Extract<MeetingEvent, { type: 'command-result' }>;
export type MeetingLiveEvent = Exclude<MeetingEvent, { type: 'command-result' }>;

export const parseMeetingEvent = (message: string): MeetingEvent | null => parseChannelMessage(meetingEvent, message);

/** A message read off a node's meeting command channel, or why it is refused (with what can be read to answer the sender). */
export function readMeetingCommand(message: string): { ok: true; command: MeetingCommand } | { ok: false; reason: string; commandId: string | null; accountId: string | null; meetingId: string | null } {
  let raw: unknown;
  try {
    raw = JSON.parse(message);
  } catch {
    return { ok: false, reason: 'not JSON', commandId: null, accountId: null, meetingId: null };
  }
  const parsed = meetingCommand.safeParse(raw);
  if (parsed.success) return { ok: true, command: parsed.data };
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const id = (v: unknown) => (uuid.safeParse(v).success ? (v as string) : null);
  const reason = parsed.error.issues.map((i) => `${i.path.join('.') || '(command)'}: ${i.message}`).join('; ');
  return { ok: false, reason: `invalid command: ${reason}`.slice(0, 500), commandId: id(r.commandId), accountId: id(r.accountId), meetingId: id(r.meetingId) };
}
