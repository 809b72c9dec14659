import { randomUUID } from 'node:crypto';
import type { Server as SocketServer } from 'socket.io';
import type { AuditActor, AuthenticatedSession } from '@carillon/core';
import { recordAudit } from '@carillon/core';
import { conferenceCodesOf } from '@carillon/core/conference';
import { parseCallOwner } from '@carillon/contracts/call-control';
import {
  CONFERENCE_EVENTS_CHANNEL,
  conferenceCommandChannel,
  conferenceOwnerKey,
  parseConferenceEvent,
  type ConferenceCommand,
  type ConferenceCommandRequest,
  type ConferenceEvent,
  type ConferenceLiveEvent,
  type ConferenceRoster,
} from '@carillon/contracts/conference-control';
import { commandResultsOn, COMMAND_TIMEOUT_MS } from './call-control.ts';
import { reportRedisErrors, type Runtime } from './runtime.ts';

type CommandResult = Extract<ConferenceEvent, { type: 'command-result' }>;

export type ConsoleOutcome =
  | { status: 'done'; roster?: ConferenceRoster }
  /** The caller has no conference (no extension, or no codes). */
  | { status: 'no_conference' }
  /** Their conference is not in progress (no member), or its node is gone. */
  | { status: 'not_live' }
  /** The command named a member the conference does not have now. */
  | { status: 'unknown_member'; reason: string }
  /** The number to dial out to is not a user's extension of the account. */
  | { status: 'unknown_extension' }
  | { status: 'refused' | 'failed'; reason: string }
  | { status: 'timeout' };

/**
 * The host's conference: the caller's own (their extension's codes lead to it). A console only ever
 * acts on its own host's conference; there is no way to name another's.
 */
export async function hostedConference(rt: Runtime, auth: AuthenticatedSession): Promise<{ accountId: string; hostExtensionId: string } | null> {
  const extensionId = auth.user.extension_id;
  if (!extensionId || !auth.permissions.has('self.calls')) return null;
  if (!(await conferenceCodesOf(rt.db, auth.account.id, extensionId))) return null;
  return { accountId: auth.account.id, hostExtensionId: extensionId };
}

const results = (rt: Runtime) =>
  commandResultsOn(rt, CONFERENCE_EVENTS_CHANNEL, (message): CommandResult | null => {
    const event = parseConferenceEvent(message);
    return event?.type === 'command-result' ? event : null;
  });

/**
 * Sends a command of the host's console (or `roster`, the console's first view) to the node that
 * holds the caller's conference (contracts/conference-control.ts), and awaits its answer. A dial-out's
 * number is resolved here to a user's extension of the account. Every command but `roster` goes to
 * the audit trail.
 */
export async function sendConferenceCommand(rt: Runtime, auth: AuthenticatedSession, actor: AuditActor, request: ConferenceCommandRequest | { type: 'roster' }, timeoutMs = COMMAND_TIMEOUT_MS): Promise<ConsoleOutcome> {
  const conference = await hostedConference(rt, auth);
  if (!conference) return { status: 'no_conference' };
  const base = { commandId: randomUUID(), ...conference, requestedBy: { userId: auth.user.id } };
  let command: ConferenceCommand;
  if (request.type === 'dial-out') {
    const extension = await rt.db
      .selectFrom('extensions')
      .select(['id', 'number'])
      .where('account_id', '=', auth.account.id)
      .where('number', '=', request.number)
      .where('type', '=', 'user')
      .where('status', 'in', ['activated', 'not_activated'])
      .executeTakeFirst();
    if (!extension) return { status: 'unknown_extension' };
    command = { ...base, type: 'dial-out', extension };
  } else {
    command = { ...base, ...request };
  }
  const owner = parseCallOwner(await rt.redis.get(conferenceOwnerKey(conference.accountId, conference.hostExtensionId)));
  if (!owner || owner.accountId !== auth.account.id) return { status: 'not_live' };
  const result = await (await results(rt)).send(conferenceCommandChannel(owner.nodeId), command, timeoutMs);
  if (request.type !== 'roster') {
    await recordAudit(rt.db, actor, {
      accountId: auth.account.id,
      action: `conference.${request.type}`,
      targetType: 'extension',
      targetId: conference.hostExtensionId,
      after: { ...request, outcome: result?.outcome ?? 'timeout', nodeId: owner.nodeId },
    });
  }
  if (!result) return { status: 'timeout' };
  if (result.outcome === 'done') return result.roster ? { status: 'done', roster: result.roster } : { status: 'done' };
  if (result.outcome === 'not_found') return { status: 'not_live' };
  if (result.outcome === 'no_member') return { status: 'unknown_member', reason: result.reason ?? 'no such member' };
  return { status: result.outcome, reason: result.reason ?? result.outcome };
}

/** The socket.io room of one host's console; the account in the name keeps tenants apart. */
export const conferenceRoom = (accountId: string, hostExtensionId: string) => `conference:${accountId}:${hostExtensionId}`;

type Emitter = SocketServer<Record<string, never>, { conference: (e: ConferenceLiveEvent) => void }>;

/**
 * Relays what the nodes' conferences tell (CONFERENCE_EVENTS_CHANNEL: members joining, leaving,
 * muted; the lock; the end) to the sockets of that conference's host console, on this node only
 * (io.local): each app node has its own subscription. Nothing is relayed while the area is hidden.
 */
export async function relayConferenceEvents(io: SocketServer, rt: Runtime): Promise<() => Promise<void>> {
  if (!rt.config.ENABLE_UNRELEASED.includes('conference') || !rt.config.REDIS_URL) return async () => undefined;
  const emitter = io as unknown as Emitter;
  const sub = reportRedisErrors(rt.redis.duplicate(), rt.log, 'conference-events-sub');
  await sub.subscribe(CONFERENCE_EVENTS_CHANNEL);
  sub.on('message', (_channel: string, message: string) => {
    const event = parseConferenceEvent(message);
    if (!event || event.type === 'command-result') return;
    emitter.local.to(conferenceRoom(event.accountId, event.hostExtensionId)).emit('conference', event);
  });
  return async () => {
    await sub.quit().catch(() => undefined);
  };
}
