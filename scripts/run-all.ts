/**
 * Runs the whole product as one process tree: the database (PGlite served on
 * loopback, or DATABASE_URL), Redis (a private redis-server when REDIS_URL is
 * unset), then app, media-server and workers as child processes, each
 * restarted if it dies (scripts/lib/supervisor.ts). Ctrl-C or SIGTERM stops
 * the children first, then Redis and the database.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfigOrExit, createLogger } from '@carillon/config';
import { openServedDatabase, prepareDataDir, runtimeFile } from './lib/database.ts';
import { createDemoAccountIfEmpty } from './lib/first-admin.ts';
import { startPrivateRedis, type PrivateRedis } from './lib/private-redis.ts';
import { Supervisor } from './lib/supervisor.ts';

const root = path.resolve(import.meta.dirname, '..');
const config = loadConfigOrExit();
const log = createLogger('carillon', config.LOG_LEVEL);

// Everything the product writes (database, recordings, faxes, secrets) is for its own user only:
// files 0600 and directories 0700, in this process and in the services it starts (they inherit the umask).
process.umask(0o077);
prepareDataDir(config.dataDir);

const database = await openServedDatabase(config.DATABASE_URL, config.dataDir);
if (database.applied.length) log.info('migrations applied', { migrations: database.applied });

let redis: PrivateRedis | null = null;
let redisUrl = config.REDIS_URL;
if (!redisUrl) {
  redis = await startPrivateRedis(path.join(config.dataDir, 'redis'));
  redisUrl = redis.url;
  log.info('private redis-server started', { url: redisUrl });
}

await createDemoAccountIfEmpty(database.db, config);

let stopping = false;
const runtime = { pid: process.pid, databaseUrl: database.url, services: {} as Record<string, number> };
// Written whole or not at all (a new file renamed over the old): a reader never sees it half written.
const writeRuntime = () => {
  const file = runtimeFile(config.dataDir);
  fs.writeFileSync(`${file}.new`, JSON.stringify(runtime), { mode: 0o600 });
  fs.renameSync(`${file}.new`, file);
};
writeRuntime();

const supervisor = new Supervisor({
  command: process.execPath,
  cwd: root,
  env: { ...process.env, DATABASE_URL: database.url, REDIS_URL: redisUrl, DATA_DIR: config.dataDir },
  log,
  output: (name, line, stream) => (stream === 'stdout' ? process.stdout : process.stderr).write(`[${name}] ${line}\n`),
  // The runtime file lists each service's pid, so an operator (or a test) can find the process of a service.
  onChange: (pids) => {
    if (stopping) return;
    runtime.services = pids;
    writeRuntime();
  },
});
supervisor.start([
  { name: 'app', args: [path.join(root, 'app/server.ts')] },
  { name: 'media-server', args: [path.join(root, 'media-server/src/main.ts')] },
  { name: 'workers', args: [path.join(root, 'workers/src/main.ts')] },
]);
log.info('Carillon is starting', { url: config.publicUrl });

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  log.info('stopping');
  await supervisor.stop();
  await redis?.stop();
  await database.close();
  fs.rmSync(runtimeFile(config.dataDir), { force: true });
  log.info('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
