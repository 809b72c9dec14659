/**
 * `node scripts/healthcheck.ts <app|media-server|workers>`: exit 0 when that
 * service, running in this container or host, answers; 1 otherwise, with the
 * reason on stderr. docker-compose.yml runs it as each service's healthcheck.
 *   app           GET /login on PORT answers 200
 *   media-server  this node's heartbeat is in Redis (refreshed every few seconds)
 *   workers       a workers process's heartbeat under QUEUE_PREFIX is in Redis
 */
import { Redis } from 'ioredis';
import { loadConfigOrExit } from '@carillon/config';
import { heartbeatKey, mediaServerNodeId } from '@carillon/contracts/media-server-heartbeat';
import { readWorkersHeartbeats, WORKERS_HEARTBEAT_TTL_MS } from '@carillon/contracts/workers-heartbeat';

const TIMEOUT_MS = 5000;
const service = process.argv[2];
const config = loadConfigOrExit();

async function withRedis(f: (redis: Redis) => Promise<string | null>): Promise<string | null> {
  if (!config.REDIS_URL) return 'REDIS_URL is not set';
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: TIMEOUT_MS, lazyConnect: true });
  try {
    await redis.connect();
    return await f(redis);
  } finally {
    redis.disconnect();
  }
}

async function check(): Promise<string | null> {
  switch (service) {
    case 'app': {
      const res = await fetch(`http://127.0.0.1:${config.PORT}/login`, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'manual' });
      return res.status === 200 ? null : `GET /login answered ${res.status}`;
    }
    case 'media-server':
      return withRedis(async (redis) => {
        const nodeId = mediaServerNodeId(config.MEDIA_SERVER_NODE_ID);
        return (await redis.exists(heartbeatKey(nodeId))) ? null : `no heartbeat from media-server node ${nodeId}`;
      });
    case 'workers':
      return withRedis(async (redis) =>
        (await readWorkersHeartbeats(redis, config.QUEUE_PREFIX)).length > 0 ? null : `no workers heartbeat in the last ${WORKERS_HEARTBEAT_TTL_MS / 1000} s`,
      );
    default:
      return `usage: node scripts/healthcheck.ts <app|media-server|workers> (got ${service ?? 'nothing'})`;
  }
}

const problem = await check().catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
if (problem) process.stderr.write(`${service ?? 'healthcheck'}: ${problem}\n`);
process.exit(problem ? 1 : 0);
