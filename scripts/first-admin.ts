/**
 * For a deployment without `npm start` (docker-compose): on an empty database,
 * creates the demo company and prints its first admin's activation link, as
 * `npm start` does at its first start. Does nothing once an account exists.
 */
import { loadConfigOrExit } from '@carillon/config';
import { openDatabase } from '@carillon/db';
import { createDemoAccountIfEmpty } from './lib/first-admin.ts';

const config = loadConfigOrExit();
const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
await createDemoAccountIfEmpty(db, config);
await db.destroy();
