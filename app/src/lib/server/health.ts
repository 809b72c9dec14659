import { sql } from '@carillon/db';
import { readWorkersHeartbeats, WORKERS_HEARTBEAT_TTL_MS } from '@carillon/contracts/workers-heartbeat';
import { readMediaServerHeartbeats } from '@carillon/contracts/media-server-heartbeat';
import type { Runtime } from './runtime.ts';
import type { ServiceHealth } from '../service-health.ts';

export type { ServiceHealth };

async function timed<T>(f: () => Promise<T>): Promise<{ ok: boolean; latencyMs: number }> {
  const start = performance.now();
  try {
    await f();
    return { ok: true, latencyMs: Math.round(performance.now() - start) };
  } catch {
    return { ok: false, latencyMs: Math.round(performance.now() - start) };
  }
}

/**
 * Each service's state: a query to the database, a PING to Redis, and the
 * heartbeats that workers and media-server processes keep in Redis. A
 * heartbeat lives for three of its intervals, so a process that is slow for a
 * moment (a loaded machine, a process still starting its queues) is not
 * reported down, while one that died or hangs is, once its key expires.
 * Reading keys opens no connection and queues no job, however often it runs.
 */
export async function checkServiceHealth(rt: Runtime): Promise<ServiceHealth> {
  const [database, redis, workers, heartbeats] = await Promise.all([
    timed(() => sql`select 1`.execute(rt.db)),
    timed(() => rt.redis.ping()),
    readWorkersHeartbeats(rt.redis, rt.config.QUEUE_PREFIX).catch(() => []),
    readMediaServerHeartbeats(rt.redis).catch(() => []),
  ]);
  return {
    database,
    redis,
    workers: workers.length > 0 ? { ok: true, nodes: workers.length } : { ok: false, nodes: 0, reason: `no workers heartbeat in the last ${WORKERS_HEARTBEAT_TTL_MS / 1000} s` },
    mediaServer: { ok: heartbeats.length > 0, nodes: heartbeats.length },
    at: new Date().toISOString(),
  };
}
