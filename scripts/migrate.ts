/** `npm run migrate`: applies the migrations to DATABASE_URL, or to the embedded PGlite under DATA_DIR. */
import { loadConfigOrExit } from '@carillon/config';
import { migrateToLatest, openDatabase } from '@carillon/db';

const config = loadConfigOrExit();
const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
const applied = await migrateToLatest(db);
process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
await db.destroy();
