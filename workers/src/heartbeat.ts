import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from '@carillon/config';
import {
  WORKERS_HEARTBEAT_INTERVAL_MS,
  WORKERS_HEARTBEAT_TTL_MS,
  workersHeartbeatKeyPrefix,
  type WorkersHeartbeat,
} from '@carillon/contracts/workers-heartbeat';

/** Bounds each step of `stop`: a BullMQ connection retries a command for as long as Redis is away. */
const STOP_STEP_MS = 1000;

/** Writes this process's heartbeat now (`first` settles once written) and every interval; `stop` removes it. */
export function startWorkersHeartbeat(redis: Redis, prefix: string, workerId: string, log: Logger): { first: Promise<void>; stop(): Promise<void> } {
  const key = `${workersHeartbeatKeyPrefix(prefix)}${workerId}`;
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
