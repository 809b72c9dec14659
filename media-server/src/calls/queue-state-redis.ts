import type { Redis } from 'ioredis';
import {
  QUEUE_ENTRY_TTL_MS,
  QUEUE_IDLE_TTL_MS,
  QUEUE_CALLBACK_SERVING_TTL_MS,
  QUEUE_CALLBACKS_KEY,
  QUEUE_MEMBER_BUSY_TTL_MS,
  QUEUE_CHANGES_CHANNEL,
  QUEUE_DAY_TTL_MS,
  queueCallbackKey,
  queueCallersKey,
  queueDayKey,
  type QueueLeaveOutcome,
  queueEntryKey,
  type QueueCallbackEntry,
  queueHandleTimeKey,
  queueMemberKey,
  queueRotorKey,
  queueWaitingKey,
  type QueueMemberMark,
} from '@carillon/contracts/call-queues';
import { HANDLE_TIME_WEIGHT } from '@carillon/domain';
import type { QueueState } from '../apps/queue/queue-ports.ts';

/**
 * Joins a queue atomically: drops entries whose node stopped keeping them alive, refuses past the
 * maximum (CQ-01), then adds the entry last, ordered by a per-queue counter (arrival order across
 * nodes, whatever their clocks). KEYS: waiting set, counter, callers (the supervisor view's, whose
 * dropped entries go too). ARGV: entry id, max callers, entry key prefix, entry TTL, idle TTL. Returns
 * the position (0 first), or -1 when full.
 */
const JOIN = `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, id in ipairs(ids) do
  if redis.call('EXISTS', ARGV[3] .. id) == 0 then
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[3], id)
  end
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return -1 end
local seq = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], seq, ARGV[1])
redis.call('SET', ARGV[3] .. ARGV[1], 'waiting', 'PX', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return redis.call('ZRANK', KEYS[1], ARGV[1])
`;

/**
 * Whether no live entry ahead of ARGV[1] still waits: a caller on the line ('waiting') or a callback
 * whose turn has not been served yet ('callback'), so that callers behind a callback are not served
 * first. KEYS: waiting set. ARGV: entry id, entry key prefix.
 */
const IS_NEXT = `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, id in ipairs(ids) do
  if id == ARGV[1] then return 1 end
  local st = redis.call('GET', ARGV[2] .. id)
  if st == 'waiting' or st == 'callback' then return 0 end
end
return 0
`;

/**
 * The caller hangs up and keeps its place: its entry becomes a callback (only if it is still in the
 * queue), with who to call back. KEYS: entry, callback data. ARGV: data JSON, TTL.
 */
const HOLD_FOR_CALLBACK = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[1], 'callback', 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
`;

/**
 * The first callback of a queue whose turn has come (no caller on the line or callback ahead of it
 * still waits), or nil. KEYS: waiting set. ARGV: entry key prefix.
 */
const DUE_CALLBACK = `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, id in ipairs(ids) do
  local st = redis.call('GET', ARGV[1] .. id)
  if st == 'waiting' then return false end
  if st == 'callback' then return id end
end
return false
`;

/** Takes a callback to serve (one node does): 'callback' becomes 'serving'; its data, or nil. KEYS: entry, data. ARGV: serving TTL. */
const TAKE_CALLBACK = `
if redis.call('GET', KEYS[1]) ~= 'callback' then return false end
redis.call('SET', KEYS[1], 'serving', 'PX', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return redis.call('GET', KEYS[2])
`;

/** A callback not served this time keeps its place for a later try. KEYS: entry, data. ARGV: data JSON, TTL. */
const RETURN_CALLBACK = `
if redis.call('GET', KEYS[1]) ~= 'serving' then return 0 end
redis.call('SET', KEYS[1], 'callback', 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** Sets or deletes a member's mark only if ARGV[1] owns it. KEYS: member key. ARGV: owner, new mark or '' (delete), TTL. */
const RELEASE = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local sep = string.find(v, ':', 1, true)
if not sep or string.sub(v, sep + 1) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2] .. ':' .. ARGV[1], 'PX', ARGV[3]) end
return 1
`;

/**
 * Moves the running handle time towards a sample (domain nextHandleTimeMs, done in Redis so that two
 * nodes' calls ending at once both count). KEYS: handle time. ARGV: sample ms, weight, idle TTL.
 */
const HANDLE_TIME = `
local prev = tonumber(redis.call('GET', KEYS[1]))
local sample = tonumber(ARGV[1])
local next = sample
if prev then next = math.floor(prev + tonumber(ARGV[2]) * (sample - prev) + 0.5) end
redis.call('SET', KEYS[1], next, 'PX', ARGV[3])
return next
`;

/**
 * Counts a caller who left in the day's figures: its outcome, its wait in the sum, the longest wait.
 * KEYS: day hash. ARGV: outcome counter ('' for none), wait ms, TTL.
 */
const LEFT = `
if ARGV[1] ~= '' then redis.call('HINCRBY', KEYS[1], ARGV[1], 1) end
redis.call('HINCRBY', KEYS[1], 'waitMs', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'waited', 1)
local longest = tonumber(redis.call('HGET', KEYS[1], 'longestMs') or '0')
if tonumber(ARGV[2]) > longest then redis.call('HSET', KEYS[1], 'longestMs', ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/** The counter of the day's figures each outcome adds to ('sent_on' counts in the waits only). */
const OUTCOME_COUNTER: Record<QueueLeaveOutcome, string> = { answered: 'answered', abandoned: 'abandoned', callback: 'callbacks', sent_on: '' };

const mark = (m: QueueMemberMark, owner: string) => `${m}:${owner}`;

/** `QueueState` in Redis (keys: @carillon/contracts/call-queues), shared by every media-server node. */
export class RedisQueueState implements QueueState {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  async join(queueId: string, entryId: string, maxCallers: number): Promise<number | 'full'> {
    const position = (await this.redis.eval(JOIN, 3, queueWaitingKey(queueId), `${queueWaitingKey(queueId)}:seq`, queueCallersKey(queueId), entryId, String(maxCallers), queueEntryKey(queueId, ''), String(QUEUE_ENTRY_TTL_MS), String(QUEUE_IDLE_TTL_MS))) as number;
    return position < 0 ? 'full' : position;
  }

  async keepAlive(queueId: string, entryId: string, status: 'waiting' | 'offering'): Promise<void> {
    // XX: an entry that has left (or expired) is not brought back.
    await this.redis.set(queueEntryKey(queueId, entryId), status, 'PX', QUEUE_ENTRY_TTL_MS, 'XX');
  }

  async leave(queueId: string, entryId: string): Promise<void> {
    await this.redis.multi().zrem(queueWaitingKey(queueId), entryId).del(queueEntryKey(queueId, entryId)).del(queueCallbackKey(queueId, entryId)).exec();
  }

  async holdForCallback(entry: QueueCallbackEntry, ttlMs: number): Promise<boolean> {
    const { queueId, entryId } = entry;
    const ttl = Math.max(1, Math.round(ttlMs));
    const held = ((await this.redis.eval(HOLD_FOR_CALLBACK, 2, queueEntryKey(queueId, entryId), queueCallbackKey(queueId, entryId), JSON.stringify(entry), String(ttl))) as number) === 1;
    // The queue is looked at until its last callback may have expired (GT: a later callback only lengthens it).
    // A separate command: the set is not in the queue's hash slot.
    if (held) await this.redis.zadd(QUEUE_CALLBACKS_KEY, 'GT', Date.now() + ttl, queueId);
    return held;
  }

  async dueCallbacks(): Promise<{ queueId: string; entryId: string; accountId: string }[]> {
    // Queues whose callbacks have all expired leave the set; nothing else removes one, so a callback held meanwhile is never missed.
    await this.redis.zremrangebyscore(QUEUE_CALLBACKS_KEY, '-inf', Date.now());
    const due: { queueId: string; entryId: string; accountId: string }[] = [];
    for (const queueId of await this.redis.zrange(QUEUE_CALLBACKS_KEY, 0, -1)) {
      const entryId = (await this.redis.eval(DUE_CALLBACK, 1, queueWaitingKey(queueId), queueEntryKey(queueId, ''))) as string | null;
      if (!entryId) continue;
      const raw = await this.redis.get(queueCallbackKey(queueId, entryId));
      const accountId = raw ? (JSON.parse(raw) as QueueCallbackEntry).accountId : null;
      if (accountId) due.push({ queueId, entryId, accountId });
    }
    return due;
  }

  async takeCallback(queueId: string, entryId: string): Promise<QueueCallbackEntry | null> {
    const raw = (await this.redis.eval(TAKE_CALLBACK, 2, queueEntryKey(queueId, entryId), queueCallbackKey(queueId, entryId), String(QUEUE_CALLBACK_SERVING_TTL_MS))) as string | null;
    return raw ? (JSON.parse(raw) as QueueCallbackEntry) : null;
  }

  async keepServing(queueId: string, entryId: string): Promise<void> {
    await this.redis.multi().set(queueEntryKey(queueId, entryId), 'serving', 'PX', QUEUE_CALLBACK_SERVING_TTL_MS, 'XX').pexpire(queueCallbackKey(queueId, entryId), QUEUE_CALLBACK_SERVING_TTL_MS).exec();
  }

  async returnCallback(entry: QueueCallbackEntry, ttlMs: number): Promise<boolean> {
    const { queueId, entryId } = entry;
    return ((await this.redis.eval(RETURN_CALLBACK, 2, queueEntryKey(queueId, entryId), queueCallbackKey(queueId, entryId), JSON.stringify(entry), String(Math.max(1, Math.round(ttlMs))))) as number) === 1;
  }

  async isNext(queueId: string, entryId: string): Promise<boolean> {
    return ((await this.redis.eval(IS_NEXT, 1, queueWaitingKey(queueId), entryId, queueEntryKey(queueId, ''))) as number) === 1;
  }

  waiting(queueId: string): Promise<number> {
    return this.redis.zcard(queueWaitingKey(queueId));
  }

  position(queueId: string, entryId: string): Promise<number | null> {
    return this.redis.zrank(queueWaitingKey(queueId), entryId);
  }

  async handleTime(queueId: string): Promise<number | null> {
    const raw = await this.redis.get(queueHandleTimeKey(queueId));
    return raw === null ? null : Number(raw);
  }

  async recordHandleTime(queueId: string, ms: number): Promise<void> {
    await this.redis.eval(HANDLE_TIME, 1, queueHandleTimeKey(queueId), String(Math.max(0, Math.round(ms))), String(HANDLE_TIME_WEIGHT), String(QUEUE_IDLE_TTL_MS));
  }

  rotor(queueId: string): Promise<string | null> {
    return this.redis.get(queueRotorKey(queueId));
  }

  async setRotor(queueId: string, memberId: string): Promise<void> {
    await this.redis.set(queueRotorKey(queueId), memberId, 'PX', QUEUE_IDLE_TTL_MS);
  }

  async takenMembers(accountId: string, extensionIds: readonly string[]): Promise<Set<string>> {
    if (extensionIds.length === 0) return new Set();
    const marks = await this.redis.mget(extensionIds.map((id) => queueMemberKey(accountId, id)));
    return new Set(extensionIds.filter((_, i) => marks[i] !== null));
  }

  async claim(accountId: string, extensionId: string, owner: string, ttlMs: number): Promise<boolean> {
    const taken = (await this.redis.set(queueMemberKey(accountId, extensionId), mark('offered', owner), 'PX', ttlMs, 'NX')) === 'OK';
    if (taken) await this.changed(accountId);
    return taken;
  }

  async markBusy(accountId: string, extensionId: string, owner: string): Promise<void> {
    // Refreshed while the call lasts: only the change from 'offered' is told.
    const was = await this.redis.get(queueMemberKey(accountId, extensionId));
    await this.redis.eval(RELEASE, 1, queueMemberKey(accountId, extensionId), owner, 'busy', String(QUEUE_MEMBER_BUSY_TTL_MS));
    if (was?.startsWith('offered:')) await this.changed(accountId);
  }

  async release(accountId: string, extensionId: string, owner: string, wrapUpMs: number): Promise<void> {
    await this.redis.eval(RELEASE, 1, queueMemberKey(accountId, extensionId), owner, wrapUpMs > 0 ? 'wrap-up' : '', String(Math.max(1, Math.round(wrapUpMs))));
    await this.changed(accountId);
  }

  async entered(accountId: string, queueId: string, entryId: string, caller: { number: string | null; name: string | null }, day: string): Promise<void> {
    const info = JSON.stringify({ number: caller.number, name: caller.name, joinedAt: Date.now() });
    await this.redis
      .multi()
      .hset(queueCallersKey(queueId), entryId, info)
      .pexpire(queueCallersKey(queueId), QUEUE_IDLE_TTL_MS)
      .hincrby(queueDayKey(queueId, day), 'entered', 1)
      .pexpire(queueDayKey(queueId, day), QUEUE_DAY_TTL_MS)
      .exec();
    await this.changed(accountId);
  }

  async left(accountId: string, queueId: string, entryId: string, outcome: QueueLeaveOutcome, waitMs: number, day: string): Promise<void> {
    await this.redis.hdel(queueCallersKey(queueId), entryId);
    await this.redis.eval(LEFT, 1, queueDayKey(queueId, day), OUTCOME_COUNTER[outcome], String(Math.max(0, Math.round(waitMs))), String(QUEUE_DAY_TTL_MS));
    await this.changed(accountId);
  }

  /** Tells the app's supervisor views that a queue of the account changed. */
  private async changed(accountId: string): Promise<void> {
    await this.redis.publish(QUEUE_CHANGES_CHANNEL, accountId);
  }
}
