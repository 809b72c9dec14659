import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach } from 'vitest';
import { freePort } from '../../scripts/lib/private-redis.ts';

const root = path.resolve(import.meta.dirname, '../..');

export interface RunningProduct {
  url: string;
  dataDir: string;
  /** The BullMQ prefix of this instance's queues. */
  queuePrefix: string;
  /** The first admin's activation link printed at first start. */
  activationLink: string;
  /** Everything the process tree printed so far (stdout and stderr). */
  output(): string;
  /** The database URL the product serves (PGlite on loopback, or the given Postgres). */
  databaseUrl(): string;
  /** Runs `npm run account:create` against this product and returns the activation link it prints. */
  createAccount(args: string[]): Promise<{ link: string; stdout: string }>;
  stop(): Promise<number | null>;
}

/**
 * Starts the product as `npm start` does (scripts/run-all.ts): embedded PGlite
 * and a private redis-server unless DATABASE_URL / REDIS_URL are given. Each
 * instance has its own data directory, port and queue prefix.
 */
export async function startProduct(env: Record<string, string> = {}): Promise<RunningProduct> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-tests', 'product-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const tag = path.basename(dataDir).replace(/[^A-Za-z0-9]/g, '');
  const childEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'debug',
    QUEUE_PREFIX: `carillon-${tag}`,
    MEDIA_SERVER_NODE_ID: `ms-${tag}`,
    // Ephemeral SIP ports and an RTP range of its own, so instances run side by side.
    SIP_UDP_PORT: '0',
    SIP_TCP_PORT: '0',
    SIP_WS_PORT: '0',
    RTP_PORT_MIN: String(30000 + (port % 250) * 100),
    RTP_PORT_MAX: String(30000 + (port % 250) * 100 + 99),
    ...env,
  };
  const child: ChildProcess = spawn(process.execPath, [path.join(root, 'scripts/run-all.ts')], {
    cwd: root,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve((exitCode = code))));

  // Ready when every service is: the app listens, and workers and media-server have written the
  // first heartbeat by which the app's health judges them (a test that reads the health or queues
  // a job must not race their start, which takes seconds on a loaded machine).
  const ready = [/app listening/, /activate\/[A-Za-z0-9_-]+/, /\[workers\] .*"msg":"workers started"/, /\[media-server\] .*"msg":"heartbeat started"/];
  // A readiness wait, not a timing check: on a loaded machine media-server's threads have taken over a minute to
  // start. Kept under the 120 s of the hooks that start a product, so that this error, which lists what is missing, is the one seen.
  const deadline = Date.now() + 110_000;
  while (!ready.every((r) => r.test(out))) {
    if (exitCode !== undefined) throw new Error(`product exited (${exitCode}) before it was ready:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`product was not ready within 110 s (waiting for ${ready.filter((r) => !r.test(out)).join(', ')}):\n${out}`);
    }
    await sleep(100);
  }
  const activationLink = out.match(/http:\/\/\S+\/activate\/[A-Za-z0-9_-]+/)![0];

  return {
    url,
    dataDir,
    queuePrefix: childEnv.QUEUE_PREFIX,
    activationLink,
    output: () => out,
    databaseUrl: () =>
      (JSON.parse(fs.readFileSync(path.join(dataDir, 'runtime.json'), 'utf8')) as { databaseUrl: string }).databaseUrl,
    createAccount: (args) =>
      new Promise((resolve, reject) => {
        const p = spawn(process.execPath, [path.join(root, 'scripts/account-create.ts'), ...args], {
          cwd: root,
          env: { ...childEnv },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        p.on('exit', (code) => {
          out += stdout + stderr;
          const link = stdout.match(/http:\/\/\S+\/activate\/[A-Za-z0-9_-]+/)?.[0];
          if (code === 0 && link) resolve({ link, stdout });
          else reject(new Error(`account:create exited ${code}: ${stderr || stdout}`));
        });
      }),
    async stop() {
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGINT');
      const code = await Promise.race([exited, sleep(30_000).then(() => 'timeout' as const)]);
      if (code === 'timeout') {
        child.kill('SIGKILL');
        throw new Error(`product did not stop within 30 s:\n${out.slice(-3000)}`);
      }
      return code;
    },
  };
}

/**
 * Where the product's media-server listens for SIP over UDP (`127.0.0.1:<port>`), once it has logged it
 * and its control channel listens too: media-server may finish starting after the app.
 */
export async function mediaServerSipTarget(product: RunningProduct, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const listening = /"msg":"SIP edge listening".*?"ports":\{[^}]*"UDP":(\d+)/.exec(product.output());
    if (listening && /control channel listening/.test(product.output())) return `127.0.0.1:${listening[1]}`;
    if (Date.now() > deadline) throw new Error(`media-server did not start listening:\n${product.output().slice(-3000)}`);
    await sleep(100);
  }
}

/**
 * After a failed test, prints what the product logged while it ran (warnings,
 * errors, and the lines that `also` matches), so that a CI failure says what
 * the services saw, not only what the test did. Register it at the top of a
 * test file that starts a product.
 */
export function printProductLogOnFailure(product: () => RunningProduct | undefined, also?: RegExp): void {
  let mark = 0;
  beforeEach(() => {
    mark = product()?.output().length ?? 0;
  });
  afterEach((ctx) => {
    const running = product();
    if (ctx.task.result?.state !== 'fail' || !running) return;
    const lines = running
      .output()
      .slice(mark)
      .split('\n')
      .filter((l) => /"level":"(warn|error)"|\bError\b/.test(l) || also?.test(l));
    console.error(`product log during "${ctx.task.name}" (${lines.length} lines, last 150):\n${lines.slice(-150).join('\n')}`);
  });
}
