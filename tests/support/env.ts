import { inject } from 'vitest';
import { Redis } from 'ioredis';
import { migrateToLatest, openPglite, type Db } from '@carillon/db';

export const redisUrl = (): string => process.env.REDIS_URL ?? inject('redisUrl');

export function redisClient(): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: 2 });
}

/** A migrated, in-memory PGlite database: real Postgres semantics, private to one test file. */
export async function freshDb(): Promise<Db> {
  const { db } = await openPglite(null);
  await migrateToLatest(db);
  return db;
}

/** A prefix unique to this run, for Redis keys and rate-limit buckets. */
export const runId = () => `t${process.pid}${Date.now().toString(36)}`;
