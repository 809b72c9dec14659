import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { migrateToLatest, openPglite, openPostgres, servePglite, type Db } from '@carillon/db';

export interface ServedDatabase {
  url: string;
  db: Db;
  /** Names of the migrations applied by this start. */
  applied: string[];
  close(): Promise<void>;
}

/**
 * The database for a run of the product: PostgreSQL when a URL is given,
 * otherwise PGlite under DATA_DIR, served on loopback so that every process
 * of the tree reaches it with an ordinary DATABASE_URL. Migrations run first.
 */
export async function openServedDatabase(databaseUrl: string | undefined, dataDir: string): Promise<ServedDatabase> {
  if (databaseUrl) {
    const db = openPostgres(databaseUrl, 4);
    const applied = await migrateToLatest(db);
    return { url: databaseUrl, db, applied, close: () => db.destroy() };
  }
  const { db: direct, pglite } = await openPglite(dataDir);
  const applied = await migrateToLatest(direct);
  const server = await servePglite(pglite, { password: databasePassword(dataDir) });
  // From here on, even this process goes through the socket: the server gives the single PGlite
  // session to one connection per exchange and per transaction, so clients never interleave.
  const db = openPostgres(server.url, 2);
  return {
    url: server.url,
    db,
    applied,
    close: async () => {
      await db.destroy();
      await server.stop();
      await pglite.close();
    },
  };
}

/**
 * The password of the served PGlite: generated at the first start and kept in
 * DATA_DIR (mode 0600), so only the product's own user can read it.
 */
function databasePassword(dataDir: string): string {
  const file = path.join(dataDir, 'database-password');
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const password = randomBytes(24).toString('base64url');
  fs.writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/**
 * DATA_DIR holds the database, recordings, faxes and secrets: created (or
 * tightened) to 0700. The caller's umask 0o077 makes what is written in it 0600.
 */
export function prepareDataDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o700);
}

/** Written while the product runs, so `npm run account:create` can reach the same database. */
export const runtimeFile = (dataDir: string) => path.join(dataDir, 'runtime.json');
