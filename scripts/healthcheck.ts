/**
 * `node scripts/healthcheck.ts <app|media-server|workers>`: exit 0 when that
 * service, running in this container or host, answers; 1 otherwise, with the
 * reason on stderr. docker-compose.yml runs it as each service's healthcheck.
 *   app           GET /login on PORT answers 200
 *   media-server  this node's heartbeat is in Redis (refreshed every few seconds)
 *   workers       a health job goes through the workers' queue and comes back
 */
import { Redis } from 'ioredis';
import { loadConfigOrExit } from '@carillon/config';
import { heartbeatKey, mediaServerNodeId } from '@carillon/media-server';
import { requestWorkersHealth } from '@carillon/workers';

const TIMEOUT_MS = 5000;
const service = process.argv[2];
const config = loadConfigOrExit();

async function check(): Promise<string | null> {
  switch (service) {
    case 'app': {
      const res = await fetch(`http://127.0.0.1:${config.PORT}/login`, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'manual' });
      return res.status === 200 ? null : `GET /login answered ${res.status}`;
    }
    case 'media-server': {
      if (!config.REDIS_URL) return 'REDIS_URL is not set';
      const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: TIMEOUT_MS, lazyConnect: true });
      try {
        await redis.connect();
        const nodeId = mediaServerNodeId(config.MEDIA_SERVER_NODE_ID);
        return (await redis.exists(heartbeatKey(nodeId))) ? null : `no heartbeat from media-server node ${nodeId}`;
      } finally {
        redis.disconnect();
      }
    }
    case 'workers': {
      if (!config.REDIS_URL) return 'REDIS_URL is not set';
      const health = await requestWorkersHealth(config.REDIS_URL, TIMEOUT_MS, { prefix: config.QUEUE_PREFIX });
      return health.ok ? null : `workers: ${health.reason}`;
    }
    default:
      return `usage: node scripts/healthcheck.ts <app|media-server|workers> (got ${service ?? 'nothing'})`;
  }
}

const problem = await check().catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
if (problem) process.stderr.write(`${service ?? 'healthcheck'}: ${problem}\n`);
process.exit(problem ? 1 : 0);
