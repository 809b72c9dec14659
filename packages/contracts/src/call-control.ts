import { z } from 'zod';
import { parseChannelMessage } from './channel-message.ts';

/**
 * The control channel from the app to live calls (issue 19, deliverable 6),
 * over Redis pub/sub: the app reads which node owns a call (`callOwnerKey`,
 * written by that node when the call starts), publishes a command on that
 * node's channel, and awaits the answer on the events channel, where each
 * node publishes what happens to its calls. media-server's `control/` folder
 * subscribes; the app's `lib/server/call-control.ts` sends.
 */

/** Commands for the calls a node owns; `nodeId` is the node's MEDIA_SERVER_NODE_ID. */
export const callCommandChannel = (nodeId: string): string => `carillon:calls:commands:${nodeId}`;
/** Events of every node's calls, for the app (and later the call registry). */
export const CALL_EVENTS_CHANNEL = 'carillon:calls:events';

const commandBase = {
  /** Unique per command: the matching event carries it back, and a node ignores a repeat. */
  commandId: z.string().uuid(),
  accountId: z.string().uuid(),
  /** The caller's SIP Call-ID, which names the call on its node. */
  callId: z.string().min(1).max(256),
  /** Who asks, for the audit trail; the app checked the right before publishing. */
  requestedBy: z.object({ userId: z.string().uuid() }),
};
const side = z.enum(['a', 'b']);

/**
 * Where the owner node of a live call is written (by that node, when the call
 * starts; removed when it ends), keyed by the caller's SIP Call-ID. The TTL is
 * a ceiling for a node that died mid-call: its calls vanish with the key.
 */
export const callOwnerKey = (callId: string): string => `carillon:calls:owner:${callId}`;
export const CALL_OWNER_TTL_MS = 12 * 3600_000;
export const callOwner = z.object({ nodeId: z.string().min(1), accountId: z.string().uuid() });
export type CallOwner = z.infer<typeof callOwner>;

export function parseCallOwner(value: string | null): CallOwner | null {
  if (value === null) return null;
  try {
    const parsed = callOwner.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export const callCommand = z.discriminatedUnion('type', [
  z.object({ ...commandBase, type: z.literal('hangup') }),
  /**
   * A blind transfer: the party on `side` is put through to `target`, a number the dial plan routes
   * (an extension or an outside number), and the other party leaves once the target answers.
   */
  z.object({ ...commandBase, type: z.literal('transfer'), side, target: z.string().regex(/^\+?[0-9*#]{1,32}$/) }),
  z.object({ ...commandBase, type: z.literal('start-recording') }),
  z.object({ ...commandBase, type: z.literal('stop-recording') }),
]);
export type CallCommand = z.infer<typeof callCommand>;
/** A command as the app's API takes it: what to do, without the ids the app fills in. */
export const callCommandRequest = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hangup') }).strict(),
  z.object({ type: z.literal('transfer'), side, target: z.string().regex(/^\+?[0-9*#]{1,32}$/) }).strict(),
  z.object({ type: z.literal('start-recording') }).strict(),
  z.object({ type: z.literal('stop-recording') }).strict(),
]);
export type CallCommandRequest = z.infer<typeof callCommandRequest>;

export const callEvent = z.discriminatedUnion('type', [
  /** The answer to a command: done, or refused and why (`not_found`: no such call on that node). */
  z.object({
    type: z.literal('command-result'),
    commandId: z.string().uuid(),
    accountId: z.string().uuid(),
    callId: z.string(),
    outcome: z.enum(['done', 'not_found', 'refused', 'failed']),
    /** Why, in words, for anything but `done` (logged, and returned by the app's API). */
    reason: z.string().max(500).optional(),
  }),
  z.object({
    type: z.literal('state'),
    accountId: z.string().uuid(),
    callId: z.string(),
    nodeId: z.string(),
    state: z.enum(['Routing', 'Ringing', 'Answered', 'Ended']),
  }),
  z.object({ type: z.literal('recording'), accountId: z.string().uuid(), callId: z.string(), recording: z.boolean() }),
]);
export type CallEvent = z.infer<typeof callEvent>;

/** A message read off a channel: the command, or null when it is not one (a peer of another version, garbage). */
export function parseCallCommand(message: string): CallCommand | null {
  const read = readCallCommand(message);
  return read.ok ? read.command : null;
}

/**
 * A message read off a node's command channel, with why it is refused when it
 * is not a command, and its commandId when one can be read (so the refusal can
 * be answered to whoever sent it).
 */
export function readCallCommand(message: string): { ok: true; command: CallCommand } | { ok: false; reason: string; commandId: string | null; accountId: string | null; callId: string | null } {
  let raw: unknown;
  try {
    raw = JSON.parse(message);
  } catch {
    return { ok: false, reason: 'not JSON', commandId: null, accountId: null, callId: null };
  }
  const parsed = callCommand.safeParse(raw);
  if (parsed.success) return { ok: true, command: parsed.data };
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const id = z.string().uuid().safeParse(r.commandId);
  const account = z.string().uuid().safeParse(r.accountId);
  const call = z.string().min(1).max(256).safeParse(r.callId);
  const reason = parsed.error.issues.map((i) => `${i.path.join('.') || '(command)'}: ${i.message}`).join('; ');
  return { ok: false, reason: `invalid command: ${reason}`.slice(0, 500), commandId: id.success ? id.data : null, accountId: account.success ? account.data : null, callId: call.success ? call.data : null };
}

export const parseCallEvent = (message: string): CallEvent | null => parseChannelMessage(callEvent, message);
