import { z } from 'zod';

/**
 * The control channel from the app to live calls (issue 19, deliverable 6),
 * over Redis pub/sub: the app publishes a command on the channel of the node
 * that owns the call, and each node publishes what happens to its calls on
 * one events channel. Only the contract exists so far: nothing publishes or
 * subscribes yet (ARCHITECTURE.md, target).
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

export const callCommand = z.discriminatedUnion('type', [
  z.object({ ...commandBase, type: z.literal('hangup') }),
  /** A blind transfer of one side to a number the dial plan routes (an extension or an outside number). */
  z.object({ ...commandBase, type: z.literal('transfer'), side, target: z.string().regex(/^\+?[0-9*#]{1,32}$/) }),
  z.object({ ...commandBase, type: z.literal('start-recording') }),
  z.object({ ...commandBase, type: z.literal('stop-recording') }),
]);
export type CallCommand = z.infer<typeof callCommand>;

export const callEvent = z.discriminatedUnion('type', [
  /** The answer to a command: done, or refused and why (`not_found`: no such call on that node). */
  z.object({
    type: z.literal('command-result'),
    commandId: z.string().uuid(),
    accountId: z.string().uuid(),
    callId: z.string(),
    outcome: z.enum(['done', 'not_found', 'refused', 'failed']),
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
  try {
    const parsed = callCommand.safeParse(JSON.parse(message));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function parseCallEvent(message: string): CallEvent | null {
  try {
    const parsed = callEvent.safeParse(JSON.parse(message));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
