import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AuditActor, AuthenticatedSession } from '@carillon/core';
import { recordAudit } from '@carillon/core';
import {
  CALL_EVENTS_CHANNEL,
  callCommandChannel,
  callOwnerKey,
  parseCallEvent,
  parseCallOwner,
  type CallCommand,
  type CallCommandRequest,
  type CallEvent,
} from '@carillon/contracts/call-control';
import type { Db } from '@carillon/db';
import type { Runtime } from './runtime.ts';

type CommandResult = Extract<CallEvent, { type: 'command-result' }>;

/** How long the API waits for the owner node's answer: a node that is up answers in milliseconds. */
export const COMMAND_TIMEOUT_MS = 5000;

export type CallCommandOutcome =
  | { status: 'done' }
  | { status: 'forbidden' }
  /** The call is over (or its node is gone): nothing to act on. */
  | { status: 'ended'; reason: string }
  | { status: 'refused' | 'failed'; reason: string }
  | { status: 'timeout' };

/** A user acts on the calls of their own extension; someone who manages the phone system, on any call of the account. */
export function mayControlCall(auth: AuthenticatedSession, call: { caller_extension_id: string | null; callee_extension_id: string | null }): boolean {
  const ext = auth.user.extension_id;
  const own = ext !== null && (call.caller_extension_id === ext || call.callee_extension_id === ext);
  return (own && auth.permissions.has('self.calls')) || auth.permissions.has('phone_system.manage');
}

/** A call of the caller's account by its call-log id, with what a command needs; null for another account's or none. */
export function callForControl(db: Db, auth: AuthenticatedSession, callRecordId: string) {
  return db
    .selectFrom('calls')
    .select(['id', 'sip_call_id', 'caller_extension_id', 'callee_extension_id', 'ended_at'])
    .where('account_id', '=', auth.account.id)
    .where('id', '=', callRecordId)
    .executeTakeFirst();
}
type ControlledCallRow = NonNullable<Awaited<ReturnType<typeof callForControl>>>;

/**
 * Sends a command to a live call through the control channel
 * (contracts/call-control.ts) and awaits its owner node's answer. The call
 * (found by `callForControl`, so of the caller's account) must be one the
 * caller may act on (`mayControlCall`). The command goes to the audit trail.
 */
export async function sendCallCommand(rt: Runtime, auth: AuthenticatedSession, actor: AuditActor, call: ControlledCallRow, request: CallCommandRequest, timeoutMs = COMMAND_TIMEOUT_MS): Promise<CallCommandOutcome> {
  if (!mayControlCall(auth, call)) return { status: 'forbidden' };
  if (call.ended_at) return { status: 'ended', reason: 'the call has ended' };
  const owner = parseCallOwner(await rt.redis.get(callOwnerKey(call.sip_call_id)));
  if (!owner || owner.accountId !== auth.account.id) return { status: 'ended', reason: 'the call has ended or its media server is gone' };

  const command: CallCommand = { ...request, commandId: randomUUID(), accountId: auth.account.id, callId: call.sip_call_id, requestedBy: { userId: auth.user.id } };
  const result = await (await commandResults(rt)).send(callCommandChannel(owner.nodeId), command, timeoutMs);
  await recordAudit(rt.db, actor, {
    accountId: auth.account.id,
    action: `call.${request.type}`,
    targetType: 'call',
    targetId: call.id,
    after: { ...request, outcome: result?.outcome ?? 'timeout', nodeId: owner.nodeId },
  });
  if (!result) return { status: 'timeout' };
  if (result.outcome === 'done') return { status: 'done' };
  if (result.outcome === 'not_found') return { status: 'ended', reason: result.reason ?? 'the call has ended' };
  return { status: result.outcome, reason: result.reason ?? result.outcome };
}

/**
 * The app's one subscription to an events channel of the control channel (calls', conferences'),
 * shared by every request: each pending command waits for the result that carries its id. Kept on
 * globalThis like the runtime (server.ts and the SvelteKit bundle load this module separately).
 */
export class CommandResults<R extends { commandId: string }> {
  private readonly pending = new Map<string, (result: R) => void>();
  private readonly redis: Redis;

  constructor(redis: Redis, subscriber: Redis, channel: string, read: (message: string) => R | null) {
    this.redis = redis;
    subscriber.on('message', (from: string, message: string) => {
      if (from !== channel) return;
      const result = read(message);
      if (result) this.pending.get(result.commandId)?.(result);
    });
  }

  /** Publishes the command on `commandChannel` and waits for its result; null when nobody listens there or it does not come in time. */
  async send(commandChannel: string, command: { commandId: string }, timeoutMs: number): Promise<R | null> {
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<R | null>((resolve) => {
      this.pending.set(command.commandId, resolve);
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    try {
      // Nobody subscribed: the node is gone (its heartbeat will say so); no need to wait.
      if ((await this.redis.publish(commandChannel, JSON.stringify(command))) === 0) return null;
      return await answered;
    } finally {
      clearTimeout(timer);
      this.pending.delete(command.commandId);
    }
  }
}

type Holder = Record<symbol, Promise<unknown> | undefined>;

/** The shared results of one events channel, subscribed at first use. */
export function commandResultsOn<R extends { commandId: string }>(rt: Runtime, channel: string, read: (message: string) => R | null): Promise<CommandResults<R>> {
  const g = globalThis as unknown as Holder;
  const key = Symbol.for(`carillon.app.command-results:${channel}`);
  const existing = g[key] as Promise<CommandResults<R>> | undefined;
  if (existing) return existing;
  const made = (async () => {
    const subscriber = rt.redis.duplicate();
    subscriber.on('error', (err: Error) => rt.log.warn('control events subscriber error', { channel, error: err }));
    await subscriber.subscribe(channel);
    return new CommandResults<R>(rt.redis, subscriber, channel, read);
  })().catch((err: unknown) => {
    delete g[key];
    throw err;
  });
  g[key] = made;
  return made;
}

const commandResults = (rt: Runtime) =>
  commandResultsOn(rt, CALL_EVENTS_CHANNEL, (message): CommandResult | null => {
    const event = parseCallEvent(message);
    return event?.type === 'command-result' ? event : null;
  });
