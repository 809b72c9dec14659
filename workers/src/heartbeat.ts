import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from '@carillon/config';

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
const keyPrefix = (prefix: string) => `${prefix}:workers:heartbeat:`;

/** Live workers processes of the prefix, sorted by workerId. Values that don't parse are skipped. */
export async function readWorkersHeartbeats(redis: Pick<Redis, 'scan' | 'mget'>, prefix: string): Promise<WorkersHeartbeat[]> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${keyPrefix(prefix)}*`, 'COUNT', 100);
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

/** Bounds each step of `stop`: a BullMQ connection retries a command for as long as Redis is away. */
const STOP_STEP_MS = 1000;

/** Writes this process's heartbeat now (`first` settles once written) and every interval; `stop` removes it. */
export function startWorkersHeartbeat(redis: Redis, prefix: string, workerId: string, log: Logger): { first: Promise<void>; stop(): Promise<void> } {
  const key = `${keyPrefix(prefix)}${workerId}`;
  let inFlight: Promise<void> | undefined;
  let stopped = false;
  const beat = () => {
    // With a slow Redis, skip a beat rather than queue writes up behind each other.
    if (stopped || inFlight) return;
    const value: WorkersHeartbeat = { workerId, pid: process.pid, at: new Date().toISOString() };
    inFlight = redis
      .set(key, JSON.stringify(value), 'PX', WORKERS_HEARTBEAT_TTL_MS)
      .then(
        () => undefined,
        (err: unknown) => log.warn('heartbeat write failed', { error: err }),
      )
      .finally(() => (inFlight = undefined));
  };
  beat();
  const first = inFlight ?? Promise.resolve();
  const timer = setInterval(beat, WORKERS_HEARTBEAT_INTERVAL_MS);
  return {
    first,
    async stop() {
      stopped = true;
      clearInterval(timer);
      // A write still in flight would otherwise land after the DEL and resurrect the key.
      await Promise.race([inFlight, sleep(STOP_STEP_MS)]);
      await Promise.race([redis.del(key).catch(() => undefined), sleep(STOP_STEP_MS)]);
    },
  };
}
