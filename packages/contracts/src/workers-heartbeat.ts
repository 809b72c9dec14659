import type { HeartbeatReader } from './media-server-heartbeat.ts';

/**
 * Each workers process, once every queue's worker is connected, announces
 * itself with a Redis key that it refreshes well within the key's TTL. The app
 * judges the service by these keys: a reading does not depend on a job making
 * a round trip through a loaded machine within a few seconds, and a process
 * that dies or hangs disappears once its key expires.
 */
export const WORKERS_HEARTBEAT_INTERVAL_MS = 5000;
/** Three intervals: a slow write or a busy moment of the machine doesn't make a process look dead. */
export const WORKERS_HEARTBEAT_TTL_MS = 15_000;

export interface WorkersHeartbeat {
  workerId: string;
  pid: number;
  at: string;
}

/** Under the BullMQ prefix, so instances sharing a Redis each see their own workers. */
export const workersHeartbeatKeyPrefix = (prefix: string): string => `${prefix}:workers:heartbeat:`;

/** Live workers processes of the prefix, sorted by workerId. Values that don't parse are skipped. */
export async function readWorkersHeartbeats(redis: HeartbeatReader, prefix: string): Promise<WorkersHeartbeat[]> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${workersHeartbeatKeyPrefix(prefix)}*`, 'COUNT', 100);
    for (const key of batch) keys.add(key);
    cursor = next;
  } while (cursor !== '0');
  if (keys.size === 0) return [];
  const beats: WorkersHeartbeat[] = [];
  for (const value of await redis.mget(...keys)) {
    // A key can expire between SCAN and MGET.
    const beat = value === null ? undefined : parseHeartbeat(value);
    if (beat) beats.push(beat);
  }
  return beats.sort((a, b) => a.workerId.localeCompare(b.workerId));
}

function parseHeartbeat(value: string): WorkersHeartbeat | undefined {
  try {
    const v = JSON.parse(value) as Partial<Record<keyof WorkersHeartbeat, unknown>>;
    if (typeof v.workerId === 'string' && typeof v.pid === 'number' && typeof v.at === 'string') return { workerId: v.workerId, pid: v.pid, at: v.at };
  } catch {
    // Not JSON: written by something else.
  }
  return undefined;
}

