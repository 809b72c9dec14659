import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { heartbeatKey, HEARTBEAT_TTL_MS, readMediaServerHeartbeats } from '@carillon/contracts/media-server-heartbeat';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs main.ts with the test's Node (24) and a clean environment, so no REDIS_URL leaks in from the shell. */
function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      // Its own data, ephemeral SIP ports and a private RTP range, so it runs beside anything else.
      DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-ms-')),
      SIP_UDP_PORT: '0',
      SIP_TCP_PORT: '0',
      SIP_WS_PORT: '0',
      RTP_PORT_MIN: String(40000 + (process.pid % 200) * 50),
      RTP_PORT_MAX: String(40000 + (process.pid % 200) * 50 + 49),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

describe('media-server heartbeat', () => {
  let redis: Redis;
  let running: ReturnType<typeof start> | undefined;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterEach(() => {
    // Only ever our own child, by its pid.
    if (running && running.child.exitCode === null) running.child.kill('SIGKILL');
    running = undefined;
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('appears while the process runs and disappears after SIGTERM', { timeout: 150_000 }, async () => {
    const nodeId = `test-${randomUUID().slice(0, 8)}`;
    running = start({ REDIS_URL, MEDIA_SERVER_NODE_ID: nodeId });
    const { child } = running;

    let mine;
    // A readiness wait, not a timing check: start-up includes migrations and the media workers, and a
    // loaded machine has been seen to take 54 s.
    const until = Date.now() + 120_000;
    while (!mine && Date.now() < until) {
      mine = (await readMediaServerHeartbeats(redis)).find((h) => h.nodeId === nodeId);
      if (!mine) await new Promise((r) => setTimeout(r, 50));
    }
    expect(mine, running.stderr()).toMatchObject({ nodeId, pid: child.pid });
    expect(Date.parse(mine!.startedAt)).not.toBeNaN();
    expect(Date.parse(mine!.at)).toBeGreaterThanOrEqual(Date.parse(mine!.startedAt));
    // What the idle node holds open: nothing.
    expect(mine!.live).toEqual({ calls: 0, legs: 0, bridges: 0, endpoints: 0, rooms: 0, pipes: 0 });
    const ttl = await redis.pttl(heartbeatKey(nodeId));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(HEARTBEAT_TTL_MS);

    child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expect(await redis.exists(heartbeatKey(nodeId))).toBe(0);
    expect((await readMediaServerHeartbeats(redis)).some((h) => h.nodeId === nodeId)).toBe(false);
  });

  it('skips values that are not heartbeats', async () => {
    const key = heartbeatKey(`test-garbage-${randomUUID().slice(0, 8)}`);
    await redis.set(key, 'not json', 'PX', 5000);
    try {
      const heartbeats = await readMediaServerHeartbeats(redis);
      expect(heartbeats.every((h) => typeof h.pid === 'number')).toBe(true);
      expect(heartbeats.some((h) => key.endsWith(h.nodeId))).toBe(false);
    } finally {
      await redis.del(key);
    }
  });

  it('reads live counts: a node of the previous version (no pipes) counts 0 pipes, and malformed counts are left out', async () => {
    const ids = [`test-old-${randomUUID().slice(0, 8)}`, `test-bad-${randomUUID().slice(0, 8)}`];
    const base = { pid: 1, startedAt: new Date().toISOString(), at: new Date().toISOString() };
    await redis.set(heartbeatKey(ids[0]!), JSON.stringify({ ...base, nodeId: ids[0], live: { calls: 1, legs: 2, bridges: 1, endpoints: 2, rooms: 0 } }), 'PX', 5000);
    await redis.set(heartbeatKey(ids[1]!), JSON.stringify({ ...base, nodeId: ids[1], live: { calls: 'many', legs: 2, bridges: 1, endpoints: 2, rooms: 0, pipes: 0 } }), 'PX', 5000);
    try {
      const heartbeats = await readMediaServerHeartbeats(redis);
      expect(heartbeats.find((h) => h.nodeId === ids[0])?.live).toEqual({ calls: 1, legs: 2, bridges: 1, endpoints: 2, rooms: 0, pipes: 0 });
      const bad = heartbeats.find((h) => h.nodeId === ids[1]);
      expect(bad).toBeDefined();
      expect(bad!.live).toBeUndefined();
    } finally {
      await redis.del(...ids.map(heartbeatKey));
    }
  });

  it('refuses to start without REDIS_URL, naming it', { timeout: 60_000 }, async () => {
    running = start({});
    expect(await running.exited).toBe(78);
    expect(running.stderr()).toContain('REDIS_URL');
  });
});
