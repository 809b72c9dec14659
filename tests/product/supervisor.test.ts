import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueDeviceCredentials, predefinedRoleId } from '@carillon/core';
import { openPostgres, type Db } from '@carillon/db';
import { requestWorkersHealth } from '@carillon/core/jobs';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, startSipp } from '../../media-server/test/support/sipp.ts';
import { redisUrl } from '../support/env.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';

/**
 * `npm start` (scripts/run-all.ts) keeps the product up: a service that dies
 * is restarted (its pid is in the runtime file), and the product works again
 * through it: a call between two SIPp phones, a job through the workers,
 * a page from the app. The data it writes is for its own user only.
 */
const root = path.resolve(import.meta.dirname, '../..');
let product: RunningProduct;
let db: Db;
let sipPort: number;
const phones: { username: string; password: string; extension: string }[] = [];

const runtime = () =>
  JSON.parse(fs.readFileSync(path.join(product.dataDir, 'runtime.json'), 'utf8')) as { databaseUrl: string; services: Record<string, number> };

beforeAll(async () => {
  sipPort = await freeSipPort();
  product = await startProduct({ REDIS_URL: redisUrl(), SIP_UDP_PORT: String(sipPort) });
  db = openPostgres(runtime().databaseUrl, 2);
  // startProduct waits for the app; the SIP edge takes REGISTERs once media-server beats.
  await until('media-server to beat', () => (/heartbeat started/.test(product.output()) ? true : undefined));
  const admin = await db
    .selectFrom('users')
    .innerJoin('extensions', 'extensions.id', 'users.extension_id')
    .select(['users.account_id', 'extensions.site_id'])
    .where('users.email', '=', 'admin@demo.carillon.localhost')
    .executeTakeFirstOrThrow();
  for (const extension of ['301', '302', '303']) {
    const ext = await db.insertInto('extensions').values({ account_id: admin.account_id, site_id: admin.site_id, number: extension, type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
    await db
      .insertInto('users')
      .values({ account_id: admin.account_id, extension_id: ext.id, role_id: await predefinedRoleId(db, 'standard'), first_name: `Ext${extension}`, email: `e${extension}@demo.carillon.localhost`, setup_progress: '{}' })
      .execute();
    const creds = await issueDeviceCredentials(db, { userId: null, ip: null }, { accountId: admin.account_id, extensionId: ext.id, type: 'desk_phone', name: `Phone ${extension}`, realm: 'carillon.localhost' });
    phones.push({ username: creds.username, password: creds.password, extension });
  }
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  await product?.stop();
});

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${product.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const count = (pattern: RegExp) => product.output().match(new RegExp(pattern.source, 'g'))?.length ?? 0;

/** Kills a service with SIGKILL and waits until the supervisor has started a new process for it. */
async function killAndWaitForRestart(service: string): Promise<number> {
  const old = runtime().services[service]!;
  expect(old).toBeGreaterThan(0);
  process.kill(old, 'SIGKILL');
  return until(`${service} to be restarted`, () => {
    const pid = runtime().services[service];
    return pid && pid !== old ? pid : undefined;
  });
}

/** Phone 302 registers and answers; phone 301 calls it; both SIPp scenarios pass (RTP both ways). */
async function callBetweenPhones(): Promise<void> {
  const target = `127.0.0.1:${sipPort}`;
  const [caller, callee] = phones as [(typeof phones)[0], (typeof phones)[0]];
  const uas = await startRegisteredSipp({ target, credentials: callee, scenario: 'uas-answer.xml' });
  try {
    const uac = await runSipp({ scenario: 'uac-call.xml', target, localPort: await freeSipPort(), service: callee.extension, auth: caller, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await uas.done).code).toBe(0);
  } finally {
    uas.stop();
  }
}

describe('the supervisor of npm start', () => {
  it('writes the data directory for its own user only, and serves the database only with its password', async () => {
    expect(fs.statSync(product.dataDir).mode & 0o777).toBe(0o700);
    for (const file of ['runtime.json', 'database-password', 'secret.key']) {
      expect(fs.statSync(path.join(product.dataDir, file)).mode & 0o777, file).toBe(0o600);
    }
    // Every file the embedded database wrote is the product user's alone.
    const loose: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        const mode = fs.statSync(full).mode & 0o777;
        if (entry.isDirectory()) {
          if (mode & 0o077) loose.push(`${full} ${mode.toString(8)}`);
          walk(full);
        } else if (mode & 0o077) loose.push(`${full} ${mode.toString(8)}`);
      }
    };
    walk(path.join(product.dataDir, 'pglite'));
    expect(loose).toEqual([]);

    const url = new URL(runtime().databaseUrl);
    expect(url.password).toBe(fs.readFileSync(path.join(product.dataDir, 'database-password'), 'utf8').trim());
    url.password = '';
    const client = new pg.Client({ connectionString: url.toString() });
    await expect(client.connect()).rejects.toThrow(/password/);
    await client.end().catch(() => undefined);
  });

  it('restarts media-server after kill -9 mid-call, closes the call it left open, and phones call each other again', { timeout: 120_000 }, async () => {
    await callBetweenPhones();
    // A call that stays up (neither side hangs up) when media-server is killed.
    const target = `127.0.0.1:${sipPort}`;
    const [caller, , callee] = phones as [(typeof phones)[0], (typeof phones)[0], (typeof phones)[0]];
    const uas = await startRegisteredSipp({ target, credentials: callee, scenario: 'uas-answer.xml' });
    const uac = startSipp({ scenario: 'uac-wait-bye.xml', target, localPort: await freeSipPort(), service: callee.extension, auth: caller, timeoutSeconds: 60, extra: ['-mp', String(await freeMediaPort())] });
    try {
      const call = await until('the call to be answered', async () => {
        const row = await db.selectFrom('calls').select(['id', 'ended_at']).where('to_number', '=', callee.extension).where('answered_at', 'is not', null).executeTakeFirst();
        return row ?? undefined;
      });
      expect(call.ended_at).toBeNull();
      const ready = count(/heartbeat started/);
      await killAndWaitForRestart('media-server');
      await until('the new media-server to beat', () => (count(/heartbeat started/) > ready ? true : undefined));
      expect(product.output()).toMatch(/service stopped unexpectedly; restarting it[^\n]*media-server/);
      const closed = await db.selectFrom('calls').select(['result', 'ended_at']).where('id', '=', call.id).executeTakeFirstOrThrow();
      expect(closed.result).toBe('failed');
      expect(closed.ended_at).not.toBeNull();
      const legs = await db.selectFrom('call_legs').select(['result', 'ended_at']).where('call_id', '=', call.id).execute();
      expect(legs.length).toBeGreaterThan(0);
      for (const leg of legs) expect(leg).toMatchObject({ result: 'interrupted' });
    } finally {
      uac.stop();
      uas.stop();
    }
    await callBetweenPhones();
  });

  it('restarts the workers after kill -9, and they run a job again', { timeout: 90_000 }, async () => {
    const ready = count(/workers started/);
    await killAndWaitForRestart('workers');
    await until('the new workers to start', () => (count(/workers started/) > ready ? true : undefined));
    const health = await requestWorkersHealth(redisUrl(), 10_000, { prefix: product.queuePrefix });
    expect(health.ok, JSON.stringify(health)).toBe(true);
  });

  it('restarts the app after kill -9, and it answers HTTP again', { timeout: 90_000 }, async () => {
    const ready = count(/app listening/);
    await killAndWaitForRestart('app');
    await until('the new app to listen', () => (count(/app listening/) > ready ? true : undefined));
    const res = await fetch(`${product.url}/login`);
    expect(res.status).toBe(200);
  });

  it('answers the healthchecks docker-compose runs (scripts/healthcheck.ts) for each service, and refuses an unknown one', { timeout: 90_000 }, async () => {
    const tag = path.basename(product.dataDir).replace(/[^A-Za-z0-9]/g, '');
    const env = {
      PATH: process.env.PATH ?? '',
      DATA_DIR: product.dataDir,
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: product.queuePrefix,
      MEDIA_SERVER_NODE_ID: `ms-${tag}`,
      PORT: new URL(product.url).port,
    };
    const probe = (service: string) => spawnSync(process.execPath, [path.join(root, 'scripts/healthcheck.ts'), service], { env, encoding: 'utf8', timeout: 30_000 });
    for (const service of ['app', 'media-server', 'workers']) {
      const run = probe(service);
      expect(run.status, `${service}: ${run.stderr}`).toBe(0);
    }
    const other = probe('media-server-2');
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/usage: node scripts\/healthcheck\.ts/);
    const elsewhere = spawnSync(process.execPath, [path.join(root, 'scripts/healthcheck.ts'), 'media-server'], { env: { ...env, MEDIA_SERVER_NODE_ID: 'no-such-node' }, encoding: 'utf8', timeout: 30_000 });
    expect(elsewhere.status).toBe(1);
    expect(elsewhere.stderr).toMatch(/no heartbeat from media-server node no-such-node/);
  });
});
