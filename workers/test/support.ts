import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const WORKERS_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** A BullMQ prefix no other test run uses, so parallel runs never see each other's jobs. */
export const uniquePrefix = (): string => `carillon-test-${randomUUID().slice(0, 8)}`;

export interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  waitForOutput: (pattern: RegExp, timeoutMs?: number) => Promise<void>;
}

/**
 * Runs a TypeScript entry point with the Node running the tests (Node 24,
 * which strips types). The environment is built from scratch so that a
 * REDIS_URL in the developer's shell can't leak into a test that unsets it.
 */
export function spawnNode(script: string, env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [script], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  });
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  // A readiness wait, not a timing check: a loaded machine may take many seconds to load a worker's modules.
  const waitForOutput = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(out)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${pattern} in output after ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`));
      }, timeoutMs);
      const onExit = () => {
        cleanup();
        reject(new Error(`process exited before printing ${pattern}\nstdout: ${out}\nstderr: ${err}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
        child.off('exit', onExit);
      };
      listeners.add(check);
      child.once('exit', onExit);
      check();
    });
  return { child, stdout: () => out, stderr: () => err, exited, waitForOutput };
}

export function spawnWorkers(prefix: string, extraEnv: Record<string, string> = {}): Spawned {
  return spawnNode(WORKERS_MAIN, { REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'info', ...extraEnv });
}

/** Kills a process a test left running (only ever our own child, by its pid). */
export function killIfRunning(s: Spawned | undefined): void {
  if (s && s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
}

/** Removes every key a test run created under its prefix. */
export async function deletePrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

export async function waitFor(
  condition: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A migrated database the spawned workers reach by URL: a scratch database on
 * the machine's PostgreSQL when the test run has one (TEST_POSTGRES_URL),
 * else an in-memory PGlite served on loopback.
 */
export async function startTestDatabase(): Promise<{ url: string; db: import('@carillon/db').Db; stop: () => Promise<void> }> {
  const { migrateToLatest, openPglite, openPostgres, servePglite } = await import('@carillon/db');
  const base = process.env.TEST_POSTGRES_URL;
  if (base) {
    const { createScratchDatabase } = await import('../../tests/support/postgres.ts');
    const scratch = await createScratchDatabase(base, 'workers');
    const db = openPostgres(scratch.url, 4);
    await migrateToLatest(db);
    return { url: scratch.url, db, stop: async () => { await db.destroy(); await scratch.drop(); } };
  }
  const { db: direct, pglite } = await openPglite(null);
  await migrateToLatest(direct);
  const served = await servePglite(pglite);
  const db = openPostgres(served.url, 2);
  return { url: served.url, db, stop: async () => { await db.destroy(); await served.stop(); await direct.destroy(); } };
}

export interface ReceivedMail {
  to: string[];
  raw: string;
  at: number;
}

/**
 * A real SMTP receiver on loopback. `refuse` decides, per attempt, whether the
 * message is refused with a 451 (temporary failure) after its DATA.
 */
export async function startSmtpReceiver(): Promise<{
  url: string;
  received: ReceivedMail[];
  attempts: number[];
  refuse: (fn: (attempt: number) => boolean) => void;
  stop: () => Promise<void>;
}> {
  const { SMTPServer } = await import('smtp-server');
  const received: ReceivedMail[] = [];
  const attempts: number[] = [];
  let refuseWhen: (attempt: number) => boolean = () => false;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        attempts.push(Date.now());
        if (refuseWhen(attempts.length)) {
          const err = Object.assign(new Error('451 4.3.0 mailbox temporarily unavailable, try again later'), { responseCode: 451 });
          callback(err);
          return;
        }
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as import('node:net').AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    attempts,
    refuse: (fn) => (refuseWhen = fn),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
