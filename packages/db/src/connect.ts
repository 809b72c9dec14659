import fs from 'node:fs';
import path from 'node:path';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

export interface DatabaseTarget {
  /** A PostgreSQL URL; when absent, the embedded PGlite under `dataDir` is used. */
  databaseUrl?: string | undefined;
  dataDir: string;
}

// timestamptz and bigint arrive as strings from pg by default; Dates are easier to reason about.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

/** Opens PostgreSQL through a pool. */
export function openPostgres(databaseUrl: string, max = 10): Db {
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max }) }),
  });
}

/** Opens the embedded PGlite database in-process (one process owns it; others reach it by socket). */
export async function openPglite(dataDir: string | null): Promise<{ db: Db; pglite: PGlite }> {
  let pglite: PGlite;
  if (dataDir === null) {
    pglite = await PGlite.create();
  } else {
    const dir = path.join(dataDir, 'pglite');
    fs.mkdirSync(dir, { recursive: true });
    pglite = await PGlite.create(dir);
  }
  return { db: new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) }), pglite };
}

export async function openDatabase(target: DatabaseTarget): Promise<Db> {
  if (target.databaseUrl) return openPostgres(target.databaseUrl);
  return (await openPglite(target.dataDir)).db;
}
