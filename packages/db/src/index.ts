export * from './schema.ts';
export { openDatabase, openPostgres, openPglite, type Db, type DatabaseTarget } from './connect.ts';
export { migrateToLatest, migrationNames } from './migrator.ts';
export { servePglite } from './pglite-server.ts';
export { sql } from 'kysely';
