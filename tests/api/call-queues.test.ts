import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createStandardUsers } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * Call queues through the API (issue 15), on the running product and real PostgreSQL with the
 * unreleased area 'queues' shown: an administrator adds a queue and saves its settings and members
 * (validated by field, audited); a number already taken, a member that is not a user and 26 callers
 * are refused; a standard user may not change queues; another account's queue is not found.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let admin: HttpClient;
let sam: HttpClient;
let other: HttpClient;
let accountId = '';
const PASSWORD = 'Meadow5Lantern';

interface Queue {
  extensionId: string;
  number: string;
  name: string;
  settings: Record<string, unknown> & { distribution: string; maxCallers: number };
  members: { number: string; position: number; accepting: boolean }[];
}

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'call_queues');
  product = await startProduct({ ENABLE_UNRELEASED: 'queues', ...(scratch ? { DATABASE_URL: scratch.url } : {}) });
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  accountId = ((await (await admin.get('/api/me')).json()) as { accountId: string }).accountId;
  await createStandardUsers(db, [
    { extension: '2101', name: 'sam', password: PASSWORD },
    { extension: '2102', name: 'tom', password: PASSWORD },
  ]);
  sam = new HttpClient(product.url);
  expect((await sam.form('/login', { identifier: 'sam@demo.carillon.localhost', password: PASSWORD })).status).toBe(303);
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  other = new HttpClient(product.url);
  expect((await activate(other, created.link)).status).toBe(303);
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('call queues API', () => {
  let queue: Queue;

  it('adds a queue with the default settings (Rotating, 25 callers at most); a number already taken is refused', async () => {
    const res = await admin.json('POST', '/api/call-queues', { number: '6100', name: 'Sales' });
    expect(res.status, await res.clone().text()).toBe(201);
    queue = ((await res.json()) as { queue: Queue }).queue;
    expect(queue).toMatchObject({ number: '6100', name: 'Sales', settings: { distribution: 'rotating', maxCallers: 25 }, members: [] });
    expect((await admin.json('POST', '/api/call-queues', { number: '2101', name: 'Clash' })).status).toBe(409);
    expect((await admin.json('POST', '/api/call-queues', { number: 'abc', name: 'Bad' })).status).toBe(400);
    const list = ((await (await admin.get('/api/call-queues')).json()) as { queues: Queue[] }).queues;
    expect(list.map((q) => q.number)).toEqual(['6100']);
  });

  it('saves settings and members in order, audited; refuses 26 callers and a member that is not a user', async () => {
    const settings = { ...queue.settings, distribution: 'sequential', maxCallers: 10, wrapUpSeconds: 30 };
    const put = await admin.json('PUT', `/api/call-queues/${queue.extensionId}`, {
      settings,
      members: [
        { extension: '2102', accepting: true },
        { extension: '2101', accepting: false },
      ],
    });
    expect(put.status, await put.clone().text()).toBe(200);
    const saved = ((await put.json()) as { queue: Queue }).queue;
    expect(saved.settings).toMatchObject({ distribution: 'sequential', maxCallers: 10, wrapUpSeconds: 30 });
    expect(saved.members.map((m) => [m.number, m.position, m.accepting])).toEqual([
      ['2102', 0, true],
      ['2101', 1, false],
    ]);
    expect(((await (await admin.get(`/api/call-queues/${queue.extensionId}`)).json()) as { queue: Queue }).queue).toEqual(saved);
    const audit = await db.selectFrom('audit_events').select(['action', 'target_id']).where('account_id', '=', accountId).where('action', 'in', ['call_queue.created', 'call_queue.updated']).orderBy('id').execute();
    expect(audit).toEqual([
      { action: 'call_queue.created', target_id: queue.extensionId },
      { action: 'call_queue.updated', target_id: queue.extensionId },
    ]);

    const tooMany = await admin.json('PUT', `/api/call-queues/${queue.extensionId}`, { settings: { ...settings, maxCallers: 26 }, members: [] });
    expect(tooMany.status).toBe(400);
    const notUser = await admin.json('PUT', `/api/call-queues/${queue.extensionId}`, { settings, members: [{ extension: '6100', accepting: true }] });
    expect(notUser.status).toBe(409);
    expect(((await notUser.json()) as { error: string }).error).toBe('not_a_user');
    // Nothing changed by the refusals.
    expect(((await (await admin.get(`/api/call-queues/${queue.extensionId}`)).json()) as { queue: Queue }).queue).toEqual(saved);
  });

  it('lets a standard user change nothing', async () => {
    expect((await sam.json('POST', '/api/call-queues', { number: '6200', name: 'Mine' })).status).toBe(403);
    expect((await sam.json('PUT', `/api/call-queues/${queue.extensionId}`, { settings: queue.settings, members: [] })).status).toBe(403);
  });

  it('lets an agent log in and out of their queue, or all of them, and of no other', async () => {
    const mine = async () => ((await (await sam.get('/api/me/call-queues')).json()) as { queues: { queueExtensionId: string; number: string; accepting: boolean }[] }).queues;
    expect(await mine()).toEqual([{ queueExtensionId: queue.extensionId, number: '6100', name: 'Sales', accepting: false }]);
    const login = await sam.json('PUT', '/api/me/call-queues', { queueId: queue.extensionId, accepting: true });
    expect(login.status, await login.clone().text()).toBe(200);
    expect((await mine())[0]!.accepting).toBe(true);
    expect((await sam.json('PUT', '/api/me/call-queues', { queueId: null, accepting: false })).status).toBe(200);
    expect((await mine())[0]!.accepting).toBe(false);
    // The administrator sees it in the queue's members.
    const members = ((await (await admin.get(`/api/call-queues/${queue.extensionId}`)).json()) as { queue: Queue }).queue.members;
    expect(members.find((m) => m.number === '2101')?.accepting).toBe(false);
    expect(await db.selectFrom('audit_events').select('action').where('account_id', '=', accountId).where('action', 'like', 'call_queue.member%').execute()).toHaveLength(2);
    // A queue they do not belong to, another account's, or a bad body.
    const otherQueue = ((await (await admin.json('POST', '/api/call-queues', { number: '6101', name: 'Support' })).json()) as { queue: Queue }).queue;
    expect((await sam.json('PUT', '/api/me/call-queues', { queueId: otherQueue.extensionId, accepting: true })).status).toBe(404);
    expect((await sam.json('PUT', '/api/me/call-queues', { queueId: 'x', accepting: true })).status).toBe(400);
    expect(((await (await other.get('/api/me/call-queues')).json()) as { queues: unknown[] }).queues).toEqual([]);
    expect((await other.json('PUT', '/api/me/call-queues', { queueId: queue.extensionId, accepting: true })).status).toBe(404);
  });

  it("does not show another account's queue, nor let it be changed", async () => {
    expect((await other.get(`/api/call-queues/${queue.extensionId}`)).status).toBe(404);
    expect((await other.json('PUT', `/api/call-queues/${queue.extensionId}`, { settings: queue.settings, members: [] })).status).toBe(404);
    expect(((await (await other.get('/api/call-queues')).json()) as { queues: Queue[] }).queues).toEqual([]);
    expect((await admin.get('/api/call-queues/not-a-uuid')).status).toBe(404);
  });
});
