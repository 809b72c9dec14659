import { z } from 'zod';
import { parseChannelMessage } from './channel-message.ts';

/**
 * The host's moderator console (issue 16) over Redis, in the shape of the call control channel
 * (call-control.ts): the node where a conference runs writes that it owns it
 * (`conferenceOwnerKey`); the app reads it, publishes a command on that node's conference command
 * channel, and awaits the answer on `CONFERENCE_EVENTS_CHANNEL`, where every node also publishes
 * what happens in its conferences (members joining, leaving, muted; the lock; the end) for the
 * app to relay to the host's console over socket.io.
 *
 * A conference is named by its account and its host's extension (one conference per host: the
 * host's access codes lead to it).
 */

export const conferenceCommandChannel = (nodeId: string): string => `carillon:conferences:commands:${nodeId}`;
export const CONFERENCE_EVENTS_CHANNEL = 'carillon:conferences:events';

/** Where the owner node of a conference in progress is written (value: call-control's `callOwner`), removed when it ends. */
export const conferenceOwnerKey = (accountId: string, hostExtensionId: string): string => `carillon:conferences:owner:${accountId}:${hostExtensionId}`;
export const CONFERENCE_OWNER_TTL_MS = 12 * 3600_000;

/** The number a host dials out to: an extension of the account (the app resolves it before it sends). */
export const dialOutNumber = z.string().regex(/^[0-9]{2,8}$/, 'an extension number (2 to 8 digits)');
const memberId = z.string().uuid();

/** A command as the app's API takes it from the host. */
export const conferenceCommandRequest = z.discriminatedUnion('type', [
  /** One member muted or unmuted (the same as its own `*6`; a participant muted may unmute itself unless listen-only). */
  z.object({ type: z.literal('mute'), memberId, muted: z.boolean() }).strict(),
  /** Every member but the host muted or unmuted. */
  z.object({ type: z.literal('mute-all'), muted: z.boolean() }).strict(),
  /** The lock (the same as the host's `*7`): a joiner is refused with an announcement. */
  z.object({ type: z.literal('lock'), locked: z.boolean() }).strict(),
  /** The member is taken out of the conference: its call ends (BYE). */
  z.object({ type: z.literal('remove'), memberId }).strict(),
  /** An extension of the account is called into the room as a participant. */
  z.object({ type: z.literal('dial-out'), number: dialOutNumber }).strict(),
]);
export type ConferenceCommandRequest = z.infer<typeof conferenceCommandRequest>;

const commandBase = {
  commandId: z.string().uuid(),
  accountId: z.string().uuid(),
  hostExtensionId: z.string().uuid(),
  /** Who asks, for the node's log; the app checked that it is the host. */
  requestedBy: z.object({ userId: z.string().uuid() }),
};

export const conferenceCommand = z.discriminatedUnion('type', [
  z.object({ ...commandBase, type: z.literal('mute'), memberId, muted: z.boolean() }),
  z.object({ ...commandBase, type: z.literal('mute-all'), muted: z.boolean() }),
  z.object({ ...commandBase, type: z.literal('lock'), locked: z.boolean() }),
  z.object({ ...commandBase, type: z.literal('remove'), memberId }),
  /** The app resolved the number to the account's extension: the node rings its devices. */
  z.object({ ...commandBase, type: z.literal('dial-out'), extension: z.object({ id: z.string().uuid(), number: dialOutNumber }) }),
  /** The roster now (the console's first view): answered in the command result. */
  z.object({ ...commandBase, type: z.literal('roster') }),
]);
export type ConferenceCommand = z.infer<typeof conferenceCommand>;

export const conferenceMember = z.object({
  id: memberId,
  role: z.enum(['host', 'participant']),
  /** The caller's number (an extension or an outside number), null when withheld. */
  number: z.string().max(64).nullable(),
  name: z.string().max(200).nullable(),
  muted: z.boolean(),
  /** Called in from the console rather than dialled in. */
  dialledOut: z.boolean(),
});
export type ConferenceMemberView = z.infer<typeof conferenceMember>;

export const conferenceRoster = z.object({ locked: z.boolean(), members: z.array(conferenceMember).max(1000) });
export type ConferenceRoster = z.infer<typeof conferenceRoster>;

const eventBase = { accountId: z.string().uuid(), hostExtensionId: z.string().uuid() };

export const conferenceEvent = z.discriminatedUnion('type', [
  z.object({
    ...eventBase,
    type: z.literal('command-result'),
    commandId: z.string().uuid(),
    /** `not_found`: no such conference in progress on that node; `no_member`: the conference has no such member now. */
    outcome: z.enum(['done', 'not_found', 'no_member', 'refused', 'failed']),
    reason: z.string().max(500).optional(),
    /** For `roster`. */
    roster: conferenceRoster.optional(),
  }),
  z.object({ ...eventBase, type: z.literal('member-joined'), member: conferenceMember }),
  z.object({ ...eventBase, type: z.literal('member-left'), memberId }),
  z.object({ ...eventBase, type: z.literal('member-muted'), memberId, muted: z.boolean() }),
  z.object({ ...eventBase, type: z.literal('locked'), locked: z.boolean() }),
  /** A console's dial-out that never joined, and why (busy, no answer, no registered phone, declined, failed). */
  z.object({ ...eventBase, type: z.literal('dial-out-failed'), number: dialOutNumber, outcome: z.enum(['busy', 'no-answer', 'unavailable', 'rejected', 'failed']) }),
  /** The host ended it (`*3`), or its last member left. */
  z.object({ ...eventBase, type: z.literal('ended') }),
]);
export type ConferenceEvent = z.infer<typeof conferenceEvent>;
/** What a conference publishes of itself (everything but command results). */
export type ConferenceLiveEvent = Exclude<ConferenceEvent, { type: 'command-result' }>;
/** A live event as a conference tells it, before the node names the conference. */
export type ConferenceChange = ConferenceLiveEvent extends infer E ? (E extends ConferenceLiveEvent ? Omit<E, 'accountId' | 'hostExtensionId'> : never) : never;

export const parseConferenceEvent = (message: string): ConferenceEvent | null => parseChannelMessage(conferenceEvent, message);

/** A message read off a node's conference command channel, or why it is refused (with what can be read to answer the sender). */
export function readConferenceCommand(message: string): { ok: true; command: ConferenceCommand } | { ok: false; reason: string; commandId: string | null; accountId: string | null; hostExtensionId: string | null } {
  let raw: unknown;
  try {
    raw = JSON.parse(message);
  } catch {
    return { ok: false, reason: 'not JSON', commandId: null, accountId: null, hostExtensionId: null };
  }
  const parsed = conferenceCommand.safeParse(raw);
  if (parsed.success) return { ok: true, command: parsed.data };
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const uuid = (v: unknown) => {
    const p = z.string().uuid().safeParse(v);
    return p.success ? p.data : null;
  };
  const reason = parsed.error.issues.map((i) => `${i.path.join('.') || '(command)'}: ${i.message}`).join('; ');
  return { ok: false, reason: `invalid command: ${reason}`.slice(0, 500), commandId: uuid(r.commandId), accountId: uuid(r.accountId), hostExtensionId: uuid(r.hostExtensionId) };
}
