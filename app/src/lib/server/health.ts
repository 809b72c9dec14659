import { sql } from '@carillon/db';
import { requestWorkersHealth } from '@carillon/core/jobs';
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

/** Asks each service to prove it is alive: a query, a PING, a real job through the workers, the media-server heartbeats. */
export async function checkServiceHealth(rt: Runtime): Promise<ServiceHealth> {
  const [database, redis, workers, heartbeats] = await Promise.all([
    timed(() => sql`select 1`.execute(rt.db)),
    timed(() => rt.redis.ping()),
    requestWorkersHealth(rt.config.REDIS_URL!, 5000, { prefix: rt.config.QUEUE_PREFIX }).catch((e: unknown) => ({ ok: false as const, reason: String(e) })),
    readMediaServerHeartbeats(rt.redis).catch(() => []),
  ]);
  return {
    database,
    redis,
    workers: workers.ok ? { ok: true, latencyMs: workers.latencyMs } : { ok: false, reason: workers.reason },
    mediaServer: { ok: heartbeats.length > 0, nodes: heartbeats.length },
    at: new Date().toISOString(),
  };
}
