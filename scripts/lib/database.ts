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
  fs.mkdirSync(dataDir, { recursive: true });
  const { db: direct, pglite } = await openPglite(dataDir);
  const applied = await migrateToLatest(direct);
  const server = await servePglite(pglite);
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

/** Written while the product runs, so `npm run account:create` can reach the same database. */
export const runtimeFile = (dataDir: string) => path.join(dataDir, 'runtime.json');
