import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { SOCKET_EVENTS, SOCKET_LIMITS, type SocketEventName } from '../../app/src/lib/access-policy.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * Socket.io as an attacker uses it (issue 20, points 1, 3 and 10), against a
 * real product: every registered event with bad acknowledgements, payloads of
 * the wrong type or size, and floods; then the app must still answer.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let admin: HttpClient;

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'sockets');
  product = await startProduct(scratch ? { DATABASE_URL: scratch.url } : {});
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
});

afterAll(async () => {
  await product?.stop();
  await scratch?.drop();
});

const EVENTS = Object.keys(SOCKET_EVENTS) as SocketEventName[];
const ACK_WAIT_MS = 20_000;

function socketOf(client: HttpClient, headers: Record<string, string> = {}): Socket {
  return connectSocket(product.url, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: { cookie: `carillon_session=${client.cookie('carillon_session')}`, ...headers },
  });
}

/** A connected socket of the client; the connection error's message if it is refused. */
function connect(client: HttpClient, headers: Record<string, string> = {}): Promise<Socket> {
  const socket = socketOf(client, headers);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (e) => reject(e));
  });
}

/** The app answers both HTTP and socket.io: a page, and a fresh socket's acknowledged ping. */
async function expectAppAnswers(): Promise<void> {
  expect(product.output()).not.toMatch(/service stopped unexpectedly/);
  expect((await fetch(`${product.url}/login`)).status).toBe(200);
  const fresh = await connect(admin);
  expect(await fresh.timeout(ACK_WAIT_MS).emitWithAck('session:ping')).toHaveProperty('idleExpiresAt');
  fresh.close();
}

/** Arguments of the events that take some, well formed. */
const VALID_PAYLOADS: Partial<Record<SocketEventName, unknown[]>> = {
  'queues:supervise': [{ queueIds: ['00000000-0000-4000-8000-000000000001'] }],
  'conference:watch': [{ hostExtensionId: '00000000-0000-4000-8000-000000000001' }],
  'meeting:join': [{ joinToken: 'not-a-token' }],
  'meeting:signal': [{ type: 'create-transport', direction: 'send' }],
};
/** The gate's refusals, before any handler runs. */
const GATE_ERRORS = ['rate_limited', 'unauthenticated', 'unknown_event', 'forbidden', 'invalid_payload', 'internal'];

// Arguments sent before the acknowledgement; most events take none, so most of these are wrong for most.
const PAYLOADS: unknown[][] = [[1], ['text'], [null], [true], [{}], [[1, 2]], ['a', 2, { b: 3 }], [JSON.parse('{"__proto__":{"polluted":true}}')]];

describe('socket events under fuzzing', () => {
  it('refuses or drops every registered event sent with a bad acknowledgement or payload, and keeps answering', { timeout: 120_000 }, async () => {
    for (const event of EVENTS) {
      const socket = await connect(admin);
      socket.emit(event);
      // Not functions: socket.io passes them on as the last argument, where a handler would call them.
      for (const notAFunction of [1, 'ack', { ack: true }]) socket.emit(event, notAFunction);
      for (const payload of PAYLOADS) {
        const reply = await socket.timeout(ACK_WAIT_MS).emitWithAck(event, ...payload);
        if (!SOCKET_EVENTS[event].payload.safeParse(payload).success) expect(reply, `${event} ${JSON.stringify(payload)}`).toEqual({ error: 'invalid_payload' });
      }
      // Processed in order: the socket (and the app) survived what came before.
      expect(await socket.timeout(ACK_WAIT_MS).emitWithAck('session:ping')).toHaveProperty('idleExpiresAt');
      socket.close();
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectAppAnswers();
  });

  it('closes a socket that sends a 1 MB payload, and keeps answering', { timeout: 60_000 }, async () => {
    for (const event of EVENTS) {
      const socket = await connect(admin);
      const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
      socket.emit(event, 'x'.repeat(1024 * 1024), () => undefined);
      expect(await closed).toMatch(/transport close|transport error/);
    }
    // Over the limit though well under socket.io's default (1 MB): nothing a client sends needs that much.
    const socket = await connect(admin);
    const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    socket.emit('session:ping', 'x'.repeat(SOCKET_LIMITS.maxMessageBytes), () => undefined);
    expect(await closed).toMatch(/transport close|transport error/);
    await expectAppAnswers();
  });

  it('answers a burst of 500 of each event, limiting what one socket may ask', { timeout: 180_000 }, async () => {
    for (const event of EVENTS) {
      const socket = await connect(admin);
      const replies = (await Promise.all(Array.from({ length: 500 }, () => socket.timeout(ACK_WAIT_MS * 3).emitWithAck(event, ...(VALID_PAYLOADS[event] ?? []))))) as { error?: string }[];
      const limited = replies.filter((r) => r.error === 'rate_limited').length;
      expect(limited, event).toBeGreaterThanOrEqual(500 - SOCKET_LIMITS.eventBurst - 100);
      // Some went through the gate to the handler (whose own answer may be an error, as a hidden area's not_found).
      expect(replies.filter((r) => r.error === undefined || !GATE_ERRORS.includes(r.error)).length, event).toBeGreaterThan(0);
      socket.close();
    }
    await expectAppAnswers();
  });
});

describe('watches', () => {
  it('keeps one health watch per socket however often it is asked, and survives 1,000 of them', { timeout: 120_000 }, async () => {
    const socket = await connect(admin);
    let readings = 0;
    socket.on('health', () => readings++);
    const started = performance.now();
    const replies = (await Promise.all(Array.from({ length: 1000 }, () => socket.timeout(ACK_WAIT_MS * 3).emitWithAck('health:watch')))) as { ok?: boolean; error?: string }[];
    expect(replies.filter((r) => r.ok).length).toBeGreaterThan(0);
    expect(replies.every((r) => r.ok || r.error === 'rate_limited')).toBe(true);
    // One reading on the first watch, then one per broadcast interval (5 s) at most: not one per watch.
    const intervals = Math.ceil((performance.now() - started) / 5000);
    expect(readings).toBeGreaterThanOrEqual(1);
    expect(readings).toBeLessThanOrEqual(1 + intervals);
    await expectAppAnswers();

    // More sockets of the same user: only up to the per-user limit may watch.
    const others = await Promise.all(Array.from({ length: SOCKET_LIMITS.watchingSocketsPerUser + 2 }, () => connect(admin)));
    const answers = (await Promise.all(others.map((s) => s.timeout(ACK_WAIT_MS).emitWithAck('health:watch')))) as { ok?: boolean; error?: string }[];
    expect(answers.filter((r) => r.ok).length).toBe(SOCKET_LIMITS.watchingSocketsPerUser - 1);
    expect(answers.filter((r) => r.error === 'too_many_watches').length).toBe(3);
    for (const s of [socket, ...others]) s.close();
    await expectAppAnswers();
  });
});

describe('unreleased areas', () => {
  it('answers the call queues\' supervisor view as not found while the area is hidden', async () => {
    const socket = await connect(admin);
    expect(await socket.timeout(ACK_WAIT_MS).emitWithAck('queues:supervise', { queueIds: ['00000000-0000-4000-8000-000000000001'] })).toEqual({ error: 'not_found' });
    socket.close();
  });

  it('answers the conference console\'s watch as not found while the area is hidden', async () => {
    const socket = await connect(admin);
    expect(await socket.timeout(ACK_WAIT_MS).emitWithAck('conference:watch', { hostExtensionId: '00000000-0000-4000-8000-000000000001' })).toEqual({ error: 'not_found' });
    socket.close();
  });
});

describe('handshake', () => {
  it("refuses a socket opened from another site's page, and accepts the app's own origin", async () => {
    await expect(connect(admin, { origin: 'https://evil.example' })).rejects.toThrow();
    const own = await connect(admin, { origin: product.url });
    expect(await own.timeout(ACK_WAIT_MS).emitWithAck('session:ping')).toHaveProperty('idleExpiresAt');
    own.close();
  });
});

describe('HTTP hardening', () => {
  it('sends a Content-Security-Policy and anti-framing headers with every page', async () => {
    for (const [client, path] of [[new HttpClient(product.url), '/login'], [admin, '/setup/company']] as const) {
      const res = await client.get(path);
      expect(res.status, path).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toMatch(/frame-ancestors 'none'/);
      expect(csp, path).toMatch(/script-src 'self' 'nonce-/);
      // The softphone's SIP WebSocket is on the page's host, at the SIP edge's port.
      expect(csp, path).toMatch(/connect-src 'self' ws:\/\/127\.0\.0\.1:\* wss:\/\/127\.0\.0\.1:\*/);
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), path).toBe('same-origin');
    }
    expect((await admin.get('/api/me')).headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers 400 to a NUL byte in the query string or a JSON string', async () => {
    // Raw, as a scanner sends it: fetch would do the same, but this leaves no doubt about the bytes on the wire.
    const status = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(product.url);
        http
          .get({ host: url.hostname, port: url.port, path, headers: { cookie: `carillon_session=${admin.cookie('carillon_session')}` } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject);
      });
    expect(await status('/api/users?q=%00')).toBe(400);
    expect(await status('/admin/users?q=a%00b')).toBe(400);
    expect(await status('/api/users?q=a')).toBe(200);
    // The same byte in a JSON body would reach the same refusal from PostgreSQL.
    expect((await admin.json('POST', '/api/me/contacts', { firstName: 'a\u0000b', phone: '+33 1 23 45 67 89' })).status).toBe(400);
    expect((await admin.json('POST', '/api/me/contacts', { firstName: 'Ada', phone: '+33 1 23 45 67 89' })).status).toBe(201);
  });
});

describe('service health', () => {
  it('reports the workers up through a pause shorter than their heartbeat window, and down once a paused process outlives it', { timeout: 90_000 }, async () => {
    const health = async () => (await (await admin.get('/api/health')).json()) as { workers: { ok: boolean }; mediaServer: { ok: boolean }; database: { ok: boolean } };
    // startProduct waited for every service: the first reading is all green.
    expect(await health()).toMatchObject({ database: { ok: true }, workers: { ok: true }, mediaServer: { ok: true } });

    // A stopped process stands for a machine too loaded to schedule it: a reading must not depend on its answering at once.
    const workersPid = Number(/\[workers\] .*"msg":"workers started".*"workerId":"[^"]*-(\d+)"/.exec(product.output())![1]);
    process.kill(workersPid, 'SIGSTOP');
    try {
      expect((await health()).workers.ok).toBe(true);
      // …but a process that stays silent past the window is reported down.
      const deadline = Date.now() + 40_000;
      while ((await health()).workers.ok) {
        expect(Date.now()).toBeLessThan(deadline);
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      process.kill(workersPid, 'SIGCONT');
    }
    const deadline = Date.now() + 40_000;
    while (!(await health()).workers.ok) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(execFileSync('ps', ['-o', 'stat=', '-p', String(workersPid)]).toString()).not.toMatch(/T/);
  });
});

// Last: the sockets it closes may still count for a moment after it ends.
describe('sockets per user', () => {
  it('refuses a user more sockets than the limit, and takes new ones as others close', { timeout: 60_000 }, async () => {
    // All at once: handshakes in parallel must not slip past the count together.
    const attempts = await Promise.allSettled(Array.from({ length: SOCKET_LIMITS.socketsPerUser + 5 }, () => connect(admin)));
    const open = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    expect(open).toHaveLength(SOCKET_LIMITS.socketsPerUser);
    expect(attempts.flatMap((a) => (a.status === 'rejected' ? [(a.reason as Error).message] : []))).toEqual(Array(5).fill('too_many_sockets'));
    const closing = open.pop()!;
    closing.close();
    // The server counts the socket gone once it has seen it close: wait for that, not a fixed time.
    const deadline = Date.now() + 20_000;
    let next: Socket | undefined;
    while (!next) {
      next = await connect(admin).catch((e: Error) => {
        expect(e.message).toBe('too_many_sockets');
        expect(Date.now()).toBeLessThan(deadline);
        return undefined;
      });
    }
    expect(await next.timeout(ACK_WAIT_MS).emitWithAck('session:ping')).toHaveProperty('idleExpiresAt');
    for (const s of [...open, next]) s.close();
    expect((await fetch(`${product.url}/login`)).status).toBe(200);
  });
});
