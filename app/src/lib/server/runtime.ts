import { Redis } from 'ioredis';
import { createLogger, loadConfig, type Config, type Logger } from '@carillon/config';
import { openDatabase, type Db } from '@carillon/db';
import { createMailer, installConfigChangeSink, loadSecretKey, redisRateLimiter, secretBox, type Mailer, type RateLimiter, type SecretBox, type SignInPolicy } from '@carillon/core';
import { CONFIG_CHANGES_CHANNEL } from '@carillon/contracts/config-changes';

/**
 * The app's long-lived resources. Kept on globalThis because the production
 * entry (server.ts, for socket.io) and the SvelteKit bundle load this module
 * separately; both must share one pool and one Redis client, and PGlite must
 * be opened once.
 */
export interface Runtime {
  config: Config;
  db: Db;
  redis: Redis;
  limiter: RateLimiter;
  mailer: Mailer;
  log: Logger;
  signInPolicy: SignInPolicy;
  secrets: SecretBox;
  /** The server key itself, read once: for keys derived from it (the browser softphone's SIP password). */
  secretKey: Buffer;
}

const KEY = Symbol.for('carillon.app.runtime');
type Holder = { [KEY]?: Promise<Runtime> };

export function getRuntime(): Promise<Runtime> {
  const g = globalThis as Holder;
  return (g[KEY] ??= createRuntime());
}

async function createRuntime(): Promise<Runtime> {
  const config = loadConfig();
  if (!config.REDIS_URL) throw new Error('REDIS_URL is required by the app (rate limits, live events, job queues)');
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, lazyConnect: false });
  const log = createLogger('app', config.LOG_LEVEL);
  reportRedisErrors(redis, log, 'runtime');
  const secretKey = loadSecretKey(config);
  // What the app changes of an account's configuration reaches media-server's caches at once.
  installConfigChangeSink((change) => redis.publish(CONFIG_CHANGES_CHANNEL, JSON.stringify(change)));
  return {
    config,
    db,
    redis,
    // Instances sharing a Redis (tests, staging beside production) each count their own sign-ins.
    limiter: redisRateLimiter(redis, `${config.QUEUE_PREFIX}:rl:`),
    mailer: createMailer(config),
    secrets: secretBox(secretKey),
    secretKey,
    log,
    signInPolicy: {
      maxFailures: config.LOGIN_MAX_FAILURES,
      lockoutMinutes: config.LOGIN_LOCKOUT_MINUTES,
      perIpPerMinute: config.LOGIN_IP_MAX_PER_MINUTE,
      perAccountPerMinute: Math.max(config.LOGIN_IP_MAX_PER_MINUTE, 60),
    },
  };
}

/**
 * Every ioredis client of the app gets an 'error' listener: without one, a
 * connection error (Redis restarting, max clients reached) is an unhandled
 * 'error' event. ioredis repeats the error on each reconnect attempt, so it is
 * logged once until the client is ready again. `duplicate()` does not copy
 * listeners: call this for each copy too.
 */
export function reportRedisErrors<C extends Pick<Redis, 'on'>>(client: C, log: Logger, name: string): C {
  let last = '';
  client.on('error', (err: Error) => {
    if (err.message !== last) log.warn('redis error', { client: name, error: err });
    last = err.message;
  });
  client.on('ready', () => (last = ''));
  return client;
}
