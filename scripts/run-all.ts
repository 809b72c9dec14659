/**
 * Runs the whole product as one process tree: the database (PGlite served on
 * loopback, or DATABASE_URL), Redis (a private redis-server when REDIS_URL is
 * unset), then app, media-server and workers as child processes. Ctrl-C or
 * SIGTERM stops the children first, then Redis and the database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfigOrExit, createLogger } from '@carillon/config';
import { createAccount } from '@carillon/core';
import { openServedDatabase, runtimeFile } from './lib/database.ts';
import { startPrivateRedis, type PrivateRedis } from './lib/private-redis.ts';

const root = path.resolve(import.meta.dirname, '..');
const config = loadConfigOrExit();
const log = createLogger('carillon', config.LOG_LEVEL);

const database = await openServedDatabase(config.DATABASE_URL, config.dataDir);
if (database.applied.length) log.info('migrations applied', { migrations: database.applied });

let redis: PrivateRedis | null = null;
let redisUrl = config.REDIS_URL;
if (!redisUrl) {
  redis = await startPrivateRedis(path.join(config.dataDir, 'redis'));
  redisUrl = redis.url;
  log.info('private redis-server started', { url: redisUrl });
}

const accounts = await database.db.selectFrom('accounts').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
if (Number(accounts.n) === 0 && config.DEMO_ACCOUNT) {
  const demo = await createAccount(
    database.db,
    { company: 'Carillon Demo', email: 'admin@demo.carillon.localhost', firstName: 'Demo', lastName: 'Admin' },
    { activationTtlHours: config.ACTIVATION_TTL_HOURS },
  );
  // Printed for the operator on purpose (not through the logger): it is how the first admin gets in.
  process.stdout.write(
    `\n  Demo company created. Activate its first admin (valid ${config.ACTIVATION_TTL_HOURS} h):\n  ${config.publicUrl}/activate/${demo.activationToken}\n` +
      `  Main number ${demo.mainNumber}, extension ${demo.extension}, e-mail admin@demo.carillon.localhost\n\n`,
  );
}

fs.writeFileSync(runtimeFile(config.dataDir), JSON.stringify({ pid: process.pid, databaseUrl: database.url }), { mode: 0o600 });

const childEnv = { ...process.env, DATABASE_URL: database.url, REDIS_URL: redisUrl, DATA_DIR: config.dataDir };
const node = process.execPath;
const services: Record<string, string[]> = {
  app: [path.join(root, 'app/server.ts')],
  'media-server': [path.join(root, 'media-server/src/main.ts')],
  workers: [path.join(root, 'workers/src/main.ts')],
};

const children = new Map<string, ChildProcess>();
let stopping = false;

function prefix(name: string, stream: NodeJS.ReadableStream, out: NodeJS.WritableStream) {
  let buf = '';
  stream.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      out.write(`[${name}] ${buf.slice(0, i)}\n`);
      buf = buf.slice(i + 1);
    }
  });
}

for (const [name, args] of Object.entries(services)) {
  // Own process group: a Ctrl-C reaches only this supervisor, which then stops each service once, in order.
  const child = spawn(node, args, { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  prefix(name, child.stdout!, process.stdout);
  prefix(name, child.stderr!, process.stderr);
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      log.error('service stopped unexpectedly; stopping the product', { service: name, code, signal });
      void shutdown(1);
    }
  });
  children.set(name, child);
}
log.info('Carillon is starting', { url: config.publicUrl });

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  log.info('stopping');
  const exits = [...children.values()].map((c) => new Promise((r) => c.once('exit', r)));
  for (const c of children.values()) c.kill('SIGTERM');
  await Promise.race([Promise.all(exits), sleep(15_000)]);
  for (const c of children.values()) c.kill('SIGKILL');
  await redis?.stop();
  await database.close();
  fs.rmSync(runtimeFile(config.dataDir), { force: true });
  log.info('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
