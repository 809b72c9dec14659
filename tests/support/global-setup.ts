import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import type { TestProject } from 'vitest/node';
import { migrateToLatest, openPglite, openPostgres } from '@carillon/db';
import { createMigratedTemplate } from './postgres.ts';
import { startPrivateRedis, type PrivateRedis } from '../../scripts/lib/private-redis.ts';

/**
 * Tests use the machine's Redis when REDIS_URL says so (scripts/test.sh sets it
 * when 127.0.0.1:6379 answers); otherwise one private redis-server serves the run.
 */
let redis: PrivateRedis | null = null;
let imageDir: string | null = null;
let template: { name: string; drop: () => Promise<void> } | null = null;

export async function setup(project: TestProject) {
  if (!process.env.REDIS_URL) {
    redis = await startPrivateRedis(null);
    process.env.REDIS_URL = redis.url;
  }
  project.provide('redisUrl', process.env.REDIS_URL);
  fs.mkdirSync(path.join(os.tmpdir(), 'carillon-tests'), { recursive: true });
  project.provide('pgliteImage', await migratedPgliteImage());
  // Scratch databases on the machine's PostgreSQL are copies of one migrated template (createScratchDatabase):
  // the products and workers started on them find nothing to migrate.
  if (process.env.TEST_POSTGRES_URL) {
    template = await createMigratedTemplate(process.env.TEST_POSTGRES_URL, async (url) => {
      const db = openPostgres(url, 1);
      try {
        await migrateToLatest(db);
      } finally {
        await db.destroy();
      }
    });
  }
  project.provide('postgresTemplate', template?.name ?? null);
}

/**
 * One migrated PGlite data directory, dumped once for the run: `freshDb` loads a copy of it instead of
 * creating a cluster and migrating it in every test file (about 4 s quiet, over 10 s on a loaded machine,
 * in some sixty files). Built from this checkout's migrations at each run, so it is never stale.
 */
async function migratedPgliteImage(): Promise<string> {
  imageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-tests', 'pglite-image-'));
  const { db, pglite } = await openPglite(null);
  await migrateToLatest(db);
  const image = await pglite.dumpDataDir('none');
  await db.destroy();
  const file = path.join(imageDir, 'migrated.tar');
  fs.writeFileSync(file, Buffer.from(await image.arrayBuffer()));
  return file;
}

export async function teardown() {
  await redis?.stop();
  if (imageDir) fs.rmSync(imageDir, { recursive: true, force: true });
  await template?.drop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** A migrated PGlite data directory (tar) that `freshDb` opens copies of. */
    pgliteImage: string;
    /** The migrated database that scratch databases on TEST_POSTGRES_URL copy, when there is one. */
    postgresTemplate: string | null;
  }
}
