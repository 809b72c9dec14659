import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import { loadCallQueue, setQueueMemberAccepting } from '@carillon/core/queues';
import { isTimeZone } from '@carillon/domain';
import type { Database } from '@carillon/db';
import { readMediaServerHeartbeats } from '@carillon/contracts/media-server-heartbeat';
import { presenceField, presenceKey, type CallActivity } from '@carillon/contracts/presence';
import { staticAudioPath } from '../media/index.ts';
import type { PromptLibrary } from './prompt-library.ts';
import type { CallPresenceTracker } from '../presence/call-presence.ts';
import type { AccountConfigCache } from '../routing/account-config-cache.ts';
import { extensionByTypedNumber } from '../routing/account-config.ts';
import type { ExtensionDestination } from '../routing/destination.ts';
import type { AgentLoginResult, MemberPresence, QueueAgents, QueueConfig, QueueDirectory } from '../apps/queue/queue-ports.ts';

/** Queues' configurations held at once; past it the cache starts again (bounded memory). */
const MAX_CACHED_QUEUES = 2_000;

export interface QueueDirectoryDeps {
  db: Kysely<Database>;
  redis: Redis;
  accounts: AccountConfigCache;
  /** The registrar's bindings: an extension's phones registered now (BindingStore.list). */
  bindings: { list(extensionId: string): Promise<readonly unknown[]> };
  /** This node's calls, exact and at once; other nodes' calls are read from their presence hashes. */
  presence: CallPresenceTracker | null;
  nodeId: string;
  /** The account's prompts library (the call engine's, dropped on the same changes). */
  prompts: PromptLibrary;
}

/**
 * Queues for the queue application: each queue's settings and members read with core's
 * `loadCallQueue` and kept in memory (the app announces every change as config subject 'queues'; the
 * call engine drops the account on any change), and the members' state now: Do Not Disturb from the
 * routing snapshot, phones from the registrar's bindings, calls from this node's tracker and the other
 * live nodes' presence hashes (the app's presence reads the same).
 */
export class QueueDirectorySource implements QueueDirectory, QueueAgents {
  private readonly deps: QueueDirectoryDeps;
  private readonly queues = new Map<string, Promise<QueueConfig | null>>();
  readonly defaultHoldMusic = staticAudioPath('hold-music.wav');

  constructor(deps: QueueDirectoryDeps) {
    this.deps = deps;
  }

  ofQueue(accountId: string, queueExtensionId: string): Promise<QueueConfig | null> {
    const key = `${accountId}:${queueExtensionId}`;
    const cached = this.queues.get(key);
    if (cached) return cached;
    if (this.queues.size >= MAX_CACHED_QUEUES) this.queues.clear();
    const loading = Promise.all([loadCallQueue(this.deps.db, accountId, queueExtensionId), this.timeZone(accountId)]).then(([q, timeZone]) =>
      q ? { extensionId: q.extensionId, number: q.number, settings: q.settings, timeZone, members: q.members.map((m) => ({ extensionId: m.extensionId, number: m.number, position: m.position, accepting: m.accepting })) } : null,
    );
    this.queues.set(key, loading);
    // A failed read is not kept: the next call tries again.
    loading.catch(() => this.queues.get(key) === loading && this.queues.delete(key));
    return loading;
  }

  async queueByNumber(accountId: string, number: string): Promise<QueueConfig | null> {
    const config = await this.deps.accounts.get(accountId);
    const ext = config ? extensionByTypedNumber(config, number) : null;
    if (!ext || ext.type !== 'call_queue' || ext.status === 'disabled') return null;
    return this.ofQueue(accountId, ext.id);
  }

  /** The account's regional time zone; a zone this runtime does not know reads as UTC rather than failing every call (as the IVR's hours). */
  private async timeZone(accountId: string): Promise<string> {
    const row = await this.deps.db.selectFrom('accounts').select('time_zone').where('id', '=', accountId).executeTakeFirst();
    return row && isTimeZone(row.time_zone) ? row.time_zone : 'UTC';
  }

  /**
   * An agent's keypad log-in or log-out, through core as the web app's toggle (audited as the user,
   * announced to every node); this node's cached queues of the account are dropped at once, so its next
   * offer already sees it.
   */
  async setAccepting(accountId: string, memberExtensionId: string, queueNumber: string | null, accepting: boolean): Promise<AgentLoginResult> {
    const { db } = this.deps;
    let queueId: string | null = null;
    if (queueNumber !== null) {
      const queue = await this.queueByNumber(accountId, queueNumber);
      if (!queue || !queue.members.some((m) => m.extensionId === memberExtensionId)) return 'not_a_member';
      queueId = queue.extensionId;
    }
    const memberships = await db
      .selectFrom('call_queue_members')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('account_id', '=', accountId)
      .where('member_extension_id', '=', memberExtensionId)
      .executeTakeFirstOrThrow();
    const user = await db.selectFrom('users').select('id').where('account_id', '=', accountId).where('extension_id', '=', memberExtensionId).executeTakeFirst();
    const changed = await setQueueMemberAccepting(db, { userId: user?.id ?? null, ip: null }, accountId, memberExtensionId, queueId, accepting);
    this.invalidate(accountId);
    return { changed, queues: queueId ? 1 : Number(memberships.n) };
  }

  invalidate(accountId: string): void {
    for (const key of this.queues.keys()) if (key.startsWith(`${accountId}:`)) this.queues.delete(key);
  }

  async memberPresence(accountId: string, extensionIds: readonly string[]): Promise<Map<string, MemberPresence>> {
    const config = await this.deps.accounts.get(accountId);
    const [bindings, others] = await Promise.all([Promise.all(extensionIds.map((id) => this.deps.bindings.list(id))), this.otherNodesActivity(accountId, extensionIds)]);
    const result = new Map<string, MemberPresence>();
    extensionIds.forEach((id, i) => {
      const here = this.deps.presence?.activity(accountId, id) ?? { ringing: 0, onCall: 0 };
      const there = others.get(id);
      const onCall = here.onCall + here.ringing + (there?.onCall ?? 0) + (there?.ringing ?? 0) > 0;
      result.set(id, { dnd: config?.extensions.get(id)?.dndStatus ?? 'take_all_calls', online: (bindings[i] ?? []).length > 0, onCall });
    });
    return result;
  }

  /** Calls on the other live nodes (their presence hashes). */
  private async otherNodesActivity(accountId: string, extensionIds: readonly string[]): Promise<Map<string, CallActivity>> {
    const result = new Map<string, CallActivity>();
    if (extensionIds.length === 0) return result;
    const nodes = (await readMediaServerHeartbeats(this.deps.redis)).filter((n) => n.nodeId !== this.deps.nodeId);
    const fields = extensionIds.map((id) => presenceField(accountId, id));
    for (const node of nodes) {
      const values = await this.deps.redis.hmget(presenceKey(node.nodeId), ...fields);
      values.forEach((raw, i) => {
        if (!raw) return;
        try {
          const v = JSON.parse(raw) as CallActivity;
          const sum = result.get(extensionIds[i]!) ?? { ringing: 0, onCall: 0 };
          result.set(extensionIds[i]!, { ringing: sum.ringing + (v.ringing || 0), onCall: sum.onCall + (v.onCall || 0) });
        } catch {
          // Not ours to read: skipped.
        }
      });
    }
    return result;
  }

  async userExtension(accountId: string, number: string): Promise<ExtensionDestination | null> {
    const config = await this.deps.accounts.get(accountId);
    const ext = config ? extensionByTypedNumber(config, number) : null;
    if (!ext || ext.type !== 'user' || ext.status === 'disabled') return null;
    return { kind: 'extension', accountId, extensionId: ext.id, extensionNumber: ext.number, direction: 'inbound' };
  }

  promptFile(accountId: string, name: string): Promise<string | null> {
    return this.deps.prompts.file(accountId, name);
  }
}
