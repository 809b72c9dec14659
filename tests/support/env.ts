import fs from 'node:fs';
import { inject } from 'vitest';
import { Redis } from 'ioredis';
import type { PGlite } from '@electric-sql/pglite';
import { migrateToLatest, openPglite, type Db } from '@carillon/db';

export const redisUrl = (): string => process.env.REDIS_URL ?? inject('redisUrl');

export function redisClient(): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: 2 });
}

/**
 * A migrated, in-memory PGlite database: real Postgres semantics, private to one test file. Under vitest
 * it is a copy of the run's migrated image (tests/support/global-setup.ts); elsewhere (benches) it is
 * created and migrated here.
 */
export async function freshDb(): Promise<Db> {
  return (await freshPglite()).db;
}

/** `freshDb` with its PGlite instance, for a test that serves it over the wire. */
export async function freshPglite(): Promise<{ db: Db; pglite: PGlite }> {
  const image = migratedImage();
  if (image) return openPglite({ image: new Blob([fs.readFileSync(image)]) });
  const opened = await openPglite(null);
  await migrateToLatest(opened.db);
  return opened;
}

function migratedImage(): string | undefined {
  try {
    return inject('pgliteImage');
  } catch {
    // Not under vitest (a bench starting the edge harness): no run, no image.
    return undefined;
  }
}

/** A prefix unique to this run, for Redis keys and rate-limit buckets. */
export const runId = () => `t${process.pid}${Date.now().toString(36)}`;
