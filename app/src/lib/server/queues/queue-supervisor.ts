import { managedQueues } from '@carillon/core/queues';
import type { AuthenticatedSession } from '@carillon/core';
import { queueCallersKey, queueDay, queueDayFigures, queueDayKey, queueEntryKey, queueMemberKey, queueWaitingKey, type QueueCallerInfo } from '@carillon/contracts/call-queues';
import type { AgentState, SupervisedAgent, SupervisedCaller, SupervisorSnapshot } from '#lib/queue-supervisor.ts';
import { accountPresence, type PresenceState } from '../presence.ts';
import type { Runtime } from '../runtime.ts';

/** Queues one view shows at most (an account's queues fit; a socket asks for no more). */
export const SUPERVISED_QUEUES_MAX = 50;

/**
 * The queues the user may supervise: every queue of the account with phone_system.view (the admins'
 * reading right), otherwise the queues the user manages, whatever the manager's permission (Full
 * Access or Members Only: both watch their own queues, and only those).
 */
export async function supervisableQueues(rt: Runtime, auth: AuthenticatedSession): Promise<{ id: string; number: string; name: string }[]> {
  const accountId = auth.account.id;
  if (auth.permissions.has('phone_system.view')) {
    const rows = await rt.db
      .selectFrom('extensions')
      .select(['id', 'number', 'name'])
      .where('account_id', '=', accountId)
      .where('type', '=', 'call_queue')
      .orderBy('number')
      .limit(SUPERVISED_QUEUES_MAX)
      .execute();
    return rows.map((r) => ({ id: r.id, number: r.number, name: r.name ?? '' }));
  }
  return (await managedQueues(rt.db, accountId, auth.user.id)).slice(0, SUPERVISED_QUEUES_MAX).map((q) => ({ id: q.queueExtensionId, number: q.number, name: q.name ?? '' }));
}

/**
 * The supervisor view of some queues of the account (ids the caller checked with supervisableQueues):
 * the callers waiting, read from the state media-server keeps in Redis (only entries still kept alive
 * and still waiting or being offered, so a dead node's callers do not show); each member's state, from
 * its calls and phones (presence), the queues' marks (offered, on a queue call, wrap-up), its log-in
 * and its DND; and today's figures on the account's wall clock. `nextChangeMs`: when a mark runs out
 * by itself (a wrap-up ends), so that the view is sent again then.
 */
export async function supervisorSnapshot(rt: Runtime, accountId: string, queueIds: readonly string[]): Promise<SupervisorSnapshot & { nextChangeMs: number | null }> {
  const serverNow = Date.now();
  if (queueIds.length === 0) return { serverNow, queues: [], nextChangeMs: null };
  const [account, queues, members, presence] = await Promise.all([
    rt.db.selectFrom('accounts').select('time_zone').where('id', '=', accountId).executeTakeFirstOrThrow(),
    rt.db.selectFrom('extensions').select(['id', 'number', 'name']).where('account_id', '=', accountId).where('type', '=', 'call_queue').where('id', 'in', queueIds).orderBy('number').execute(),
    rt.db
      .selectFrom('call_queue_members as m')
      .innerJoin('extensions as e', (j) => j.onRef('e.id', '=', 'm.member_extension_id').on('e.account_id', '=', accountId))
      .select(['m.queue_extension_id', 'm.member_extension_id', 'm.accepting', 'e.number', 'e.dnd_status'])
      .where('m.account_id', '=', accountId)
      .where('m.queue_extension_id', 'in', queueIds)
      .orderBy('m.position')
      .execute(),
    accountPresence(rt, accountId),
  ]);
  const byExtension = new Map(presence.map((p) => [p.extensionId, p]));
  const memberIds = [...new Set(members.map((m) => m.member_extension_id))];
  const markKeys = memberIds.map((id) => queueMemberKey(accountId, id));
  const marks = new Map<string, { mark: string; ttlMs: number }>();
  if (markKeys.length) {
    const replies = (await rt.redis.pipeline([...markKeys.map((k) => ['get', k]), ...markKeys.map((k) => ['pttl', k])]).exec()) ?? [];
    memberIds.forEach((id, i) => {
      const value = replies[i]?.[1] as string | null;
      if (value) marks.set(id, { mark: value.split(':')[0]!, ttlMs: Number(replies[i + memberIds.length]?.[1] ?? -1) });
    });
  }
  const nextChangeMs = Math.min(...[...marks.values()].filter((m) => m.mark === 'wrap-up' && m.ttlMs > 0).map((m) => m.ttlMs));
  const day = queueDay(new Date(serverNow), account.time_zone);

  const result = await Promise.all(
    queues.map(async (q) => {
      const [order, callers, figures] = await Promise.all([rt.redis.zrange(queueWaitingKey(q.id), 0, -1), rt.redis.hgetall(queueCallersKey(q.id)), rt.redis.hgetall(queueDayKey(q.id, day))]);
      const statuses = order.length ? await rt.redis.mget(order.map((id) => queueEntryKey(q.id, id))) : [];
      const waiting: SupervisedCaller[] = [];
      order.forEach((entryId, i) => {
        const raw = callers[entryId];
        if (!raw || (statuses[i] !== 'waiting' && statuses[i] !== 'offering')) return;
        try {
          const info = JSON.parse(raw) as QueueCallerInfo;
          waiting.push({ entryId, number: info.number ?? null, name: info.name ?? null, joinedAt: Number(info.joinedAt) || serverNow });
        } catch {
          // Not an entry media-server wrote: not shown.
        }
      });
      const agents: SupervisedAgent[] = members
        .filter((m) => m.queue_extension_id === q.id)
        .map((m) => {
          const p = byExtension.get(m.member_extension_id);
          return { extensionId: m.member_extension_id, extension: m.number, name: p?.name ?? m.number, state: agentState(p?.state ?? 'offline', marks.get(m.member_extension_id)?.mark ?? null, m.accepting, m.dnd_status) };
        });
      return { id: q.id, number: q.number, name: q.name ?? '', waiting, agents, today: queueDayFigures(figures) };
    }),
  );
  return { serverNow, queues: result, nextChangeMs: Number.isFinite(nextChangeMs) ? nextChangeMs : null };
}

/**
 * A member's state as a supervisor reads it: what it does now first (a call, ringing, wrap-up, from
 * its own calls or a queue's mark), then why it takes no queue call (logged out of this queue, Do Not
 * Disturb for queue calls or all calls, no phone registered), else available.
 */
export function agentState(presence: PresenceState, mark: string | null, accepting: boolean, dnd: string): AgentState {
  // A call the agent holds is still their call: busy for the queue.
  if (presence === 'on_call' || presence === 'on_hold' || mark === 'busy') return 'on_call';
  if (presence === 'ringing' || mark === 'offered') return 'ringing';
  if (mark === 'wrap-up') return 'wrap_up';
  if (!accepting) return 'logged_out';
  if (dnd !== 'take_all_calls') return 'dnd';
  if (presence === 'offline') return 'offline';
  return 'available';
}
