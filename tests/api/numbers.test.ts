import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalNumberPool, numberQuota, purchaseNumbers, reserveNumbers, RESERVATION_MINUTES } from '@carillon/core';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * Phone numbers through the product (issue 5, "Numbers"): the four views, assigning
 * with a nickname and unassigning, acquiring from the carrier pool with its 10-minute
 * reservation (seed 003) and quota (licences + 10 % + 10), two accounts racing for one
 * number, and another account's number answering 404.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let a: HttpClient;
let b: HttpClient;
const A = { accountId: '', extensionId: '', siteId: '' };
const B = { accountId: '', extensionId: '' };
const ids: Record<string, string> = {};
const system = { userId: null, ip: null };

interface NumberRow {
  id: string;
  e164: string;
  type: string;
  nickname: string | null;
  extensionId: string | null;
  extensionNumber: string | null;
  assignedTo: string | null;
  usage: string;
}
interface Held {
  e164: string;
  expiresAt: string;
}

const view = async (v: string, client = a): Promise<string[]> => {
  const res = await client.get(`/api/numbers?view=${v}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as NumberRow[]).map((n) => n.e164);
};
const poolSearch = async (client: HttpClient, query: string): Promise<string[]> => {
  const res = await client.get(`/api/numbers/pool?${query}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { e164: string }[]).map((n) => n.e164);
};
const reserve = (client: HttpClient, numbers: string[]) => client.json('POST', '/api/numbers/reservations', { numbers });
const auditActions = async (accountId: string, action: string) =>
  db.selectFrom('audit_events').select(['target_id', 'before', 'after']).where('account_id', '=', accountId).where('action', '=', action).execute();

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'numbers');
  product = await startProduct(scratch ? { DATABASE_URL: scratch.url } : {});
  db = openPostgres(product.databaseUrl(), 4);
  a = new HttpClient(product.url);
  expect((await activate(a, product.activationLink)).status).toBe(303);
  const meA = (await (await a.get('/api/me')).json()) as { accountId: string; extensionId: string; siteId: string };
  Object.assign(A, { accountId: meA.accountId, extensionId: meA.extensionId, siteId: meA.siteId });
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  b = new HttpClient(product.url);
  expect((await activate(b, created.link)).status).toBe(303);
  const meB = (await (await b.get('/api/me')).json()) as { accountId: string; extensionId: string };
  Object.assign(B, { accountId: meB.accountId, extensionId: meB.extensionId });

  // The demo account comes with a number: start A from known numbers only.
  await db.deleteFrom('phone_numbers').where('account_id', '=', A.accountId).execute();
  // A's existing numbers: its main number, a direct number in use, one in the inventory.
  const add = async (key: string, e164: string, type: 'main' | 'direct', extensionId: string | null, accountId = A.accountId) => {
    ids[key] = (await db.insertInto('phone_numbers').values({ account_id: accountId, e164, type, extension_id: extensionId }).returning('id').executeTakeFirstOrThrow()).id;
  };
  await add('main', '+14085550100', 'main', null);
  await add('direct', '+14085550101', 'direct', A.extensionId);
  await add('spare', '+14085550102', 'direct', null);
  await add('foreign', '+33155550100', 'direct', null, B.accountId);
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('views', () => {
  it('lists all numbers, those in use, the inventory and the forwarded ones, never another account\'s', async () => {
    // A forwarded number: kept at its carrier, calls forwarded to the receptionist.
    const fwd = await a.json('POST', '/api/numbers', { e164: '+1 (650) 555-0199', nickname: 'Old line' });
    expect(fwd.status).toBe(201);
    expect(await fwd.json()).toMatchObject({ e164: '+16505550199', type: 'forwarded', usage: 'forwarded', nickname: 'Old line' });
    // The same number twice, or one not in international form, is refused by field.
    expect(await (await a.json('POST', '/api/numbers', { e164: '+16505550199' })).json()).toMatchObject({ error: 'number_exists' });
    const bad = await a.json('POST', '/api/numbers', { e164: '650 555' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'invalid_body', fields: { e164: 'invalid_e164' } });

    expect((await view('all')).sort()).toEqual(['+14085550100', '+14085550101', '+14085550102', '+16505550199']);
    expect(await view('in_use')).toEqual(['+14085550100', '+14085550101']);
    expect(await view('inventory')).toEqual(['+14085550102']);
    expect(await view('forwarded')).toEqual(['+16505550199']);
    const bNumbers = await view('all', b);
    expect(bNumbers).toContain('+33155550100');
    expect(bNumbers.filter((n) => n.startsWith('+1408') || n === '+16505550199')).toEqual([]);
    // Searched by digits (any punctuation) or by nickname.
    expect(((await (await a.get('/api/numbers?q=(408)%20555-0102')).json()) as NumberRow[]).map((n) => n.e164)).toEqual(['+14085550102']);
    expect(((await (await a.get('/api/numbers?q=old')).json()) as NumberRow[]).map((n) => n.e164)).toEqual(['+16505550199']);
    expect((await a.get('/api/numbers?view=unknown')).status).toBe(400);
  });
});

describe('assign and unassign', () => {
  it('assigns an inventory number to an extension with a nickname, then unassigns it; both audited', async () => {
    const res = await a.json('PATCH', `/api/numbers/${ids.spare}`, { extensionId: A.extensionId, nickname: 'Sales line' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ extensionId: A.extensionId, nickname: 'Sales line', usage: 'extension', assignedTo: 'Demo Admin' });
    expect(await view('in_use')).toContain('+14085550102');
    expect(await view('inventory')).toEqual([]);
    const assigned = await auditActions(A.accountId, 'number.assigned');
    expect(assigned).toHaveLength(1);
    expect(assigned[0]).toMatchObject({ target_id: ids.spare, after: { e164: '+14085550102', nickname: 'Sales line' } });

    // A bad body changes nothing: an extension of another account, a nickname too long.
    const foreignExt = await a.json('PATCH', `/api/numbers/${ids.spare}`, { extensionId: B.extensionId });
    expect(foreignExt.status).toBe(400);
    expect(await foreignExt.json()).toEqual({ error: 'invalid_body', fields: { extensionId: 'extension_not_found' } });
    expect((await a.json('PATCH', `/api/numbers/${ids.spare}`, { nickname: 'x'.repeat(61) })).status).toBe(400);
    expect(((await (await a.get(`/api/numbers/${ids.spare}`)).json()) as NumberRow).nickname).toBe('Sales line');

    const un = await a.json('PATCH', `/api/numbers/${ids.spare}`, { extensionId: null });
    expect(await un.json()).toMatchObject({ extensionId: null, usage: 'inventory', nickname: 'Sales line' });
    expect(await view('inventory')).toEqual(['+14085550102']);
    expect(await auditActions(A.accountId, 'number.unassigned')).toHaveLength(1);
  });

  it('makes a number the main number: the former main stays a company number', async () => {
    const res = await a.json('PATCH', `/api/numbers/${ids.spare}`, { type: 'main' });
    expect(res.status).toBe(200);
    const all = (await (await a.get('/api/numbers')).json()) as NumberRow[];
    expect(all.find((n) => n.id === ids.spare)!.type).toBe('main');
    expect(all.find((n) => n.id === ids.main)!.type).toBe('additional_company');
    expect((await db.selectFrom('accounts').select('main_number').where('id', '=', A.accountId).executeTakeFirstOrThrow()).main_number).toBe('+14085550102');
    await a.json('PATCH', `/api/numbers/${ids.main}`, { type: 'main' });
  });
});

describe('acquiring numbers from the pool', () => {
  it('reserves a number for 10 minutes (hidden from other accounts), then purchases it into the account', async () => {
    const offered = await poolSearch(a, 'country=US&areaCode=415');
    expect(offered.length).toBe(10);
    expect(offered.every((n) => n.startsWith('+1415555'))).toBe(true);
    const [first, second] = offered as [string, string];
    const before = Date.now();
    const res = await reserve(a, [first, second]);
    expect(res.status).toBe(201);
    const held = ((await res.json()) as { reservations: Held[] }).reservations;
    expect(held.map((h) => h.e164)).toEqual([first, second]);
    const minutes = (new Date(held[0]!.expiresAt).getTime() - before) / 60_000;
    expect(minutes).toBeGreaterThan(RESERVATION_MINUTES - 0.5);
    expect(minutes).toBeLessThanOrEqual(RESERVATION_MINUTES + 0.1);

    // Not offered to another account, and refused if it asks anyway.
    expect(await poolSearch(b, 'country=US&areaCode=415&limit=50')).not.toContain(first);
    expect(await poolSearch(a, 'country=US&areaCode=415&limit=50')).toContain(first);
    const clash = await reserve(b, [first]);
    expect(clash.status).toBe(409);
    expect(await clash.json()).toEqual({ error: 'number_taken', numbers: [first] });

    // Purchase one to an extension with a nickname; release the other.
    const bought = await a.json('POST', '/api/numbers/purchase', { numbers: [first], extensionId: A.extensionId, nickname: 'Front desk' });
    expect(bought.status).toBe(201);
    expect(await bought.json()).toMatchObject([{ e164: first, type: 'direct', nickname: 'Front desk', extensionId: A.extensionId, usage: 'extension' }]);
    expect(await view('in_use')).toContain(first);
    expect(await db.selectFrom('number_pool').select('id').where('e164', '=', first).executeTakeFirst()).toBeUndefined();
    expect(await auditActions(A.accountId, 'number.purchased')).toMatchObject([{ after: { e164: first, nickname: 'Front desk' } }]);
    const released = await a.json('DELETE', '/api/numbers/reservations', { numbers: [second] });
    expect(await released.json()).toEqual({ released: [second] });
    expect(await poolSearch(b, 'country=US&areaCode=415&limit=50')).toContain(second);

    // Buying without a live reservation is refused, and buys nothing.
    const unheld = await a.json('POST', '/api/numbers/purchase', { numbers: [second] });
    expect(unheld.status).toBe(409);
    expect(await unheld.json()).toEqual({ error: 'reservation_expired', numbers: [second] });
    expect(await view('all')).not.toContain(second);
    // Toll-free numbers come as toll-free numbers.
    const tollFree = (await poolSearch(a, 'country=US&kind=toll_free&limit=1'))[0]!;
    expect(tollFree).toMatch(/^\+1800/);
    expect((await reserve(a, [tollFree])).status).toBe(201);
    expect(await (await a.json('POST', '/api/numbers/purchase', { numbers: [tollFree] })).json()).toMatchObject([{ type: 'toll_free', usage: 'inventory' }]);
  });

  it('lets a reservation lapse after 10 minutes, by an injected clock: the number goes back to the pool', async () => {
    let now = new Date();
    const t0 = now;
    const pool = new LocalNumberPool(db, () => now);
    const [x, y] = (await pool.search(A.accountId, { country: 'US', areaCode: '212', kind: 'local', limit: 2 })).map((n) => n.e164) as [string, string];
    const held = await reserveNumbers(db, pool, system, A.accountId, [x, y], now);
    expect(held.ok).toBe(true);

    // 9 minutes 59 seconds later: still A's.
    now = new Date(t0.getTime() + (RESERVATION_MINUTES * 60 - 1) * 1000);
    expect((await pool.search(B.accountId, { country: 'US', areaCode: '212', kind: 'local', limit: 50 })).map((n) => n.e164)).not.toContain(x);
    expect(await reserveNumbers(db, pool, system, B.accountId, [x], now)).toMatchObject({ ok: false, error: 'number_taken' });
    // Within the 10 minutes, A can buy.
    expect(await purchaseNumbers(db, pool, system, A.accountId, { numbers: [y] }, now)).toMatchObject({ ok: true, value: [{ e164: y }] });

    // At 10 minutes: back in the pool; B may take it and A can no longer buy it.
    now = new Date(t0.getTime() + RESERVATION_MINUTES * 60_000);
    expect((await pool.search(B.accountId, { country: 'US', areaCode: '212', kind: 'local', limit: 50 })).map((n) => n.e164)).toContain(x);
    expect(await purchaseNumbers(db, pool, system, A.accountId, { numbers: [x] }, now)).toMatchObject({ ok: false, status: 409, error: 'reservation_expired' });
    expect(await reserveNumbers(db, pool, system, B.accountId, [x], now)).toMatchObject({ ok: true });
    expect(await pool.reservations(A.accountId)).toEqual([]);
    expect((await pool.reservations(B.accountId)).map((h) => h.e164)).toEqual([x]);
  });

  it('offers again through the API a number whose reservation lapsed on the real clock', async () => {
    const longAgo = new Date(Date.now() - (RESERVATION_MINUTES + 1) * 60_000);
    const pool = new LocalNumberPool(db, () => longAgo);
    const z = (await pool.search(A.accountId, { country: 'CA', kind: 'local', limit: 1 }))[0]!.e164;
    expect((await reserveNumbers(db, pool, system, A.accountId, [z], longAgo)).ok).toBe(true);
    expect(await poolSearch(b, 'country=CA&limit=50')).toContain(z);
    expect((await reserve(b, [z])).status).toBe(201);
    expect(await (await a.json('POST', '/api/numbers/purchase', { numbers: [z] })).json()).toEqual({ error: 'reservation_expired', numbers: [z] });
  });
});

describe('quota (seed 003: licences + 10 % + 10)', () => {
  it('computes the seed example: 100 licences, 120 numbers', async () => {
    const c = await db.insertInto('accounts').values({ company_name: 'Hundred Inc' }).returning('id').executeTakeFirstOrThrow();
    const site = await db.insertInto('sites').values({ account_id: c.id, name: 'HQ', is_main: true }).returning('id').executeTakeFirstOrThrow();
    const role = await db.selectFrom('roles').select('id').where('key', '=', 'standard').executeTakeFirstOrThrow();
    const exts = await db
      .insertInto('extensions')
      .values(Array.from({ length: 100 }, (_, i) => ({ account_id: c.id, site_id: site.id, number: String(1000 + i), type: 'user' as const })))
      .returning('id')
      .execute();
    await db
      .insertInto('users')
      .values(exts.map((e, i) => ({ account_id: c.id, extension_id: e.id, role_id: role.id, first_name: `U${i}`, email: `u${i}@hundred.example`, setup_progress: JSON.stringify({}) })))
      .execute();
    expect(await numberQuota(db, c.id)).toMatchObject({ licences: 100, limit: 120, used: 0, reserved: 0 });
  });

  it('refuses a reservation beyond the quota with a clear error, holding nothing', async () => {
    const status = (await (await a.get('/api/numbers/reservations')).json()) as { quota: { licences: number; limit: number; used: number; reserved: number } };
    const { licences, limit, used, reserved } = status.quota;
    expect(licences).toBe(1);
    expect(limit).toBe(licences + Math.floor(licences / 10) + 10);
    const room = limit - used - reserved;
    expect(room).toBeGreaterThan(0);
    const offered = await poolSearch(a, `country=FR&areaCode=1&limit=${room + 1}`);
    expect(offered).toHaveLength(room + 1);
    const over = await reserve(a, offered);
    expect(over.status).toBe(409);
    expect(await over.json()).toEqual({ error: 'quota_exceeded', limit, licences, used, reserved, asked: room + 1 });
    expect(((await (await a.get('/api/numbers/reservations')).json()) as { reservations: Held[] }).reservations).toHaveLength(reserved);
    // Exactly up to the quota is fine; one more is refused.
    expect((await reserve(a, offered.slice(0, room))).status).toBe(201);
    expect(await (await reserve(a, offered.slice(room))).json()).toMatchObject({ error: 'quota_exceeded' });
    await a.json('DELETE', '/api/numbers/reservations', { numbers: offered });
  });
});

describe('concurrency', () => {
  it('lets only one of two accounts reserving the same number at once win', async () => {
    const candidates = await poolSearch(a, 'country=US&areaCode=650&limit=5');
    for (const n of candidates) {
      const results = await Promise.all([reserve(a, [n]), reserve(b, [n])]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      const holders = await db
        .selectFrom('number_reservations')
        .innerJoin('number_pool', 'number_pool.id', 'number_reservations.pool_number_id')
        .select('number_reservations.account_id')
        .where('number_pool.e164', '=', n)
        .execute();
      expect(holders).toHaveLength(1);
    }
    await a.json('DELETE', '/api/numbers/reservations', { numbers: candidates });
    await b.json('DELETE', '/api/numbers/reservations', { numbers: candidates });
  });
});

describe('another account', () => {
  it("answers 404 for another account's number, and leaves it untouched", async () => {
    expect((await a.get(`/api/numbers/${ids.foreign}`)).status).toBe(404);
    expect((await a.json('PATCH', `/api/numbers/${ids.foreign}`, { nickname: 'Mallory', extensionId: null })).status).toBe(404);
    expect((await a.json('PATCH', `/api/numbers/${ids.foreign}`, { bogus: true })).status).toBe(404);
    expect(((await (await b.get(`/api/numbers/${ids.foreign}`)).json()) as NumberRow).nickname).toBeNull();
  });

  it('refuses numbers changes to a role without numbers.manage', async () => {
    const role = await db.selectFrom('roles').select('id').where('key', '=', 'standard').executeTakeFirstOrThrow();
    await db.updateTable('users').set({ role_id: role.id }).where('account_id', '=', B.accountId).execute();
    expect((await b.json('PATCH', `/api/numbers/${ids.foreign}`, { nickname: 'x' })).status).toBe(403);
    expect((await b.get('/api/numbers/pool?country=US')).status).toBe(403);
  });
});
