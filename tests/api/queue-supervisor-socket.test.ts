import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { createCallQueue, saveCallQueue, saveQueueManagers } from '@carillon/core/queues';
import { DEFAULT_QUEUE_SETTINGS } from '@carillon/domain';
import { startApiProduct, type ApiProduct } from '../support/api-product.ts';
import type { HttpClient } from '../support/http-client.ts';

/**
 * The supervisor view's socket event (issue 15, `queues:supervise`), against a real product with the
 * area 'queues' enabled: a payload of the wrong shape is refused; another account's queue and a queue
 * the user neither administers nor manages are named as not found and nothing is watched; the
 * administrator and a Members Only manager get their queues' snapshot (callers, agents, today's figures).
 */
const PASSWORD = 'Meadow5Lantern';
let p: ApiProduct;
let salesId = '';
let supportId = '';
let betaQueueId = '';

beforeAll(async () => {
  p = await startApiProduct({
    scratchName: 'queuesupervise',
    env: { ENABLE_UNRELEASED: 'queues' },
    users: [
      { extension: '201', name: 'alice' },
      { extension: '202', name: 'bob' },
    ],
    signIn: ['alice', 'bob'],
    password: PASSWORD,
  });
  const system = { userId: null, ip: null };
  salesId = (await createCallQueue(p.db, system, p.accountId, { number: '600', name: 'Sales' })).extensionId;
  supportId = (await createCallQueue(p.db, system, p.accountId, { number: '601', name: 'Support' })).extensionId;
  await saveCallQueue(p.db, system, p.accountId, salesId, { settings: DEFAULT_QUEUE_SETTINGS, members: [{ extension: '201', accepting: false }] });
  // Bob manages Sales (Members Only) and nothing else.
  await saveQueueManagers(p.db, system, p.accountId, salesId, { pin: '482915', pinConfirm: '482915', managers: [{ extension: '201', permission: 'full' }, { extension: '202', permission: 'members_only' }] });
  const betaAccountId = ((await (await p.other.get('/api/me')).json()) as { accountId: string }).accountId;
  betaQueueId = (await createCallQueue(p.db, system, betaAccountId, { number: '600', name: 'Beta Sales' })).extensionId;
}, 180_000);

afterAll(async () => {
  expect(await p?.stop()).toBe(0);
});

function connect(client: HttpClient): Promise<Socket> {
  const socket = connectSocket(p.product.url, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { cookie: `carillon_session=${client.cookie('carillon_session')}` } });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (e) => reject(e));
  });
}

const supervise = (socket: Socket, ...args: unknown[]) => socket.timeout(20_000).emitWithAck('queues:supervise', ...args) as Promise<Record<string, unknown>>;

describe('queues:supervise', () => {
  it('refuses a payload of the wrong shape', async () => {
    const socket = await connect(p.admin);
    try {
      for (const bad of [[], [salesId], [{ queueIds: salesId }], [{ queueIds: [] }], [{ queueIds: ['not-a-uuid'] }], [{ queueIds: [salesId], extra: 1 }], [{ queueIds: Array.from({ length: 51 }, () => salesId) }]]) {
        expect(await supervise(socket, ...bad), JSON.stringify(bad)).toEqual({ error: 'invalid_payload' });
      }
    } finally {
      socket.close();
    }
  });

  it("names another account's queue, or one the user does not manage, as not found", async () => {
    const admin = await connect(p.admin);
    const bob = await connect(p.users.bob!);
    try {
      expect(await supervise(admin, { queueIds: [salesId, betaQueueId] })).toEqual({ error: 'not_found', queueIds: [betaQueueId] });
      expect(await supervise(bob, { queueIds: [supportId] })).toEqual({ error: 'not_found', queueIds: [supportId] });
      expect(await supervise(bob, { queueIds: [betaQueueId] })).toEqual({ error: 'not_found', queueIds: [betaQueueId] });
    } finally {
      admin.close();
      bob.close();
    }
  });

  it("gives the administrator every queue, and a Members Only manager their own, with agents and today's figures", async () => {
    const admin = await connect(p.admin);
    const bob = await connect(p.users.bob!);
    try {
      const all = await supervise(admin, { queueIds: [salesId, supportId] });
      expect(all).toMatchObject({ ok: true, serverNow: expect.any(Number) as number });
      expect((all.queues as { number: string }[]).map((q) => q.number)).toEqual(['600', '601']);
      const mine = await supervise(bob, { queueIds: [salesId] });
      expect(mine).toMatchObject({
        ok: true,
        queues: [
          {
            id: salesId,
            number: '600',
            name: 'Sales',
            waiting: [],
            // Alice is a member who does not accept the queue's calls.
            agents: [{ extension: '201', state: 'logged_out' }],
            today: { entered: 0, answered: 0, abandoned: 0, callbacks: 0, averageWaitSeconds: null, longestWaitSeconds: null },
          },
        ],
      });
    } finally {
      admin.close();
      bob.close();
    }
  });

  it('lists on the page only the queues the user may supervise', async () => {
    const bobPage = await (await p.users.bob!.get('/me/call-queues/supervisor')).text();
    expect(bobPage).toContain('Sales (ext. 600)');
    expect(bobPage).not.toContain('Support (ext. 601)');
    const alicePage = await (await p.users.alice!.get('/me/call-queues/supervisor')).text();
    expect(alicePage).toContain('Sales (ext. 600)');
  });

  it('pushes each change to the queues\' supervisors, and stops when a manager is removed', { timeout: 60_000 }, async () => {
    const admin = await connect(p.admin);
    const bob = await connect(p.users.bob!);
    const pushes = (socket: Socket) => {
      const got: { queues: { agents: { extension: string; state: string }[] }[] }[] = [];
      socket.on('queue-supervisor', (s: (typeof got)[number]) => got.push(s));
      return got;
    };
    const toAdmin = pushes(admin);
    const toBob = pushes(bob);
    const aliceState = (got: typeof toAdmin) => got.at(-1)?.queues[0]?.agents.find((a) => a.extension === '201')?.state;
    try {
      expect(await supervise(admin, { queueIds: [salesId] })).toMatchObject({ ok: true });
      expect(await supervise(bob, { queueIds: [salesId] })).toMatchObject({ ok: true });
      // Alice logs in: both are told (she has no phone: offline).
      expect((await p.users.alice!.json('PUT', '/api/me/call-queues', { queueId: salesId, accepting: true })).status).toBe(200);
      await expect.poll(() => aliceState(toAdmin)).toBe('offline');
      await expect.poll(() => aliceState(toBob)).toBe('offline');
      // Bob is no longer a manager of Sales: the next change reaches the administrator only.
      expect((await p.admin.json('PUT', `/api/call-queues/${salesId}/managers`, { managers: [{ extension: '201', permission: 'full' }] })).status).toBe(200);
      const bobHad = toBob.length;
      const adminHad = toAdmin.length;
      // Once the removal is taken in (Bob's subscription is refused now), Alice logs out.
      await expect.poll(async () => (await supervise(bob, { queueIds: [salesId] })).error).toBe('not_found');
      expect((await p.users.alice!.json('PUT', '/api/me/call-queues', { queueId: salesId, accepting: false })).status).toBe(200);
      await expect.poll(() => toAdmin.length > adminHad && aliceState(toAdmin)).toBe('logged_out');
      // Anything sent to Bob before the answer to his ping has arrived by then (one ordered connection).
      expect(await bob.timeout(20_000).emitWithAck('session:ping')).toHaveProperty('idleExpiresAt');
      expect(toBob.length).toBe(bobHad);
    } finally {
      admin.close();
      bob.close();
    }
  });
});
