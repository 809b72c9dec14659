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
  const result = await (await commandResults(rt)).send(owner.nodeId, command, timeoutMs);
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
 * The app's one subscription to the call events channel, shared by every
 * request: each pending command waits for the result that carries its id.
 * Kept on globalThis like the runtime (server.ts and the SvelteKit bundle
 * load this module separately).
 */
class CommandResults {
  private readonly pending = new Map<string, (result: CommandResult) => void>();
  private readonly redis: Redis;

  constructor(redis: Redis, subscriber: Redis) {
    this.redis = redis;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== CALL_EVENTS_CHANNEL) return;
      const event = parseCallEvent(message);
      if (event?.type === 'command-result') this.pending.get(event.commandId)?.(event);
    });
  }

  async send(nodeId: string, command: CallCommand, timeoutMs: number): Promise<CommandResult | null> {
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<CommandResult | null>((resolve) => {
      this.pending.set(command.commandId, resolve);
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    try {
      // Nobody subscribed: the node is gone (its heartbeat will say so); no need to wait.
      if ((await this.redis.publish(callCommandChannel(nodeId), JSON.stringify(command))) === 0) return null;
      return await answered;
    } finally {
      clearTimeout(timer);
      this.pending.delete(command.commandId);
    }
  }
}

const KEY = Symbol.for('carillon.app.call-command-results');
type Holder = { [KEY]?: Promise<CommandResults> };

function commandResults(rt: Runtime): Promise<CommandResults> {
  const g = globalThis as Holder;
  return (g[KEY] ??= (async () => {
    const subscriber = rt.redis.duplicate();
    subscriber.on('error', (err: Error) => rt.log.warn('call events subscriber error', { error: err }));
    await subscriber.subscribe(CALL_EVENTS_CHANNEL);
    return new CommandResults(rt.redis, subscriber);
  })().catch((err: unknown) => {
    delete g[KEY];
    throw err;
  }));
}
