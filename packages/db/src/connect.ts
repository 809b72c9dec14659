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

/**
 * Opens the embedded PGlite database in-process (one process owns it; others reach it by socket).
 * `null` is a private in-memory database; an image (a data directory dumped by `dumpDataDir`) opens an
 * in-memory copy of it, which skips creating the cluster (tests load one migrated image many times).
 */
export async function openPglite(dataDir: string | null | { image: Blob }): Promise<{ db: Db; pglite: PGlite }> {
  let pglite: PGlite;
  if (dataDir === null) {
    pglite = await PGlite.create();
  } else if (typeof dataDir === 'object') {
    pglite = await PGlite.create({ loadDataDir: dataDir.image });
  } else {
    const dir = path.join(dataDir, 'pglite');
    fs.mkdirSync(dir, { recursive: true });
    pglite = await PGlite.create(dir);
    // A new database is unpacked from PGlite's bundled image as 0666 files, whatever the umask; the files
    // PostgreSQL writes afterwards follow the umask (the product runs with 0o077).
    restrictToOwner(dir);
  }
  return { db: new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) }), pglite };
}

/** Files 0600 and directories 0700 under `dir`: the database is its owner's only. */
function restrictToOwner(dir: string): void {
  fs.chmodSync(dir, 0o700);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    if (entry.isDirectory()) fs.chmodSync(full, 0o700);
    else if (entry.isFile()) fs.chmodSync(full, 0o600);
  }
}

export async function openDatabase(target: DatabaseTarget): Promise<Db> {
  if (target.databaseUrl) return openPostgres(target.databaseUrl);
  return (await openPglite(target.dataDir)).db;
}
