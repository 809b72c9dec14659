import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '@carillon/core';
import { openPostgres, type Db, type ExtensionStatus } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * The admin Users list through the product (issue 5, "Users list"): search,
 * filters, sorting and pages of GET /api/users, and the bulk actions of
 * POST /api/users/bulk with their per-user answers and audit rows.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let admin: HttpClient;
let other: HttpClient;
let accountId = '';
let mainSiteId = '';
let parisSiteId = '';
let adminId = '';
let foreignUserId = '';
const ids: Record<string, string> = {};
const PASSWORD = 'Meadow5Lantern';

interface Row {
  id: string;
  firstName: string;
  lastName: string;
  email: string;
  department: string | null;
  extension: string;
  fullExtension: string;
  status: string;
  siteId: string;
  roleKey: string | null;
  numbers: string[];
}
interface Page {
  items: Row[];
  total: number;
  limit: number;
  offset: number;
}

async function addUser(u: {
  key: string;
  first: string;
  last: string;
  email: string;
  ext: string;
  site?: string;
  status: ExtensionStatus;
  role: string;
  department?: string;
  password?: boolean;
  number?: string;
}) {
  const role = await db.selectFrom('roles').select('id').where('key', '=', u.role).executeTakeFirstOrThrow();
  const ext = await db.insertInto('extensions').values({ account_id: accountId, site_id: u.site ?? mainSiteId, number: u.ext, type: 'user', status: u.status }).returning('id').executeTakeFirstOrThrow();
  const user = await db
    .insertInto('users')
    .values({ account_id: accountId, extension_id: ext.id, role_id: role.id, first_name: u.first, last_name: u.last, email: u.email, department: u.department ?? null, setup_progress: JSON.stringify({}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('user_credentials').values({ user_id: user.id, password_hash: u.password ? await hashSecret(PASSWORD) : null }).execute();
  if (u.number) await db.insertInto('phone_numbers').values({ account_id: accountId, e164: u.number, type: 'direct', extension_id: ext.id }).execute();
  ids[u.key] = user.id;
}

const list = async (query: string, client = admin): Promise<Page> => {
  const res = await client.get(`/api/users${query ? `?${query}` : ''}`);
  expect(res.status, query).toBe(200);
  return (await res.json()) as Page;
};
const names = (p: Page) => p.items.map((u) => u.firstName).sort();
const bulk = async (body: unknown, client = admin) => client.json('POST', '/api/users/bulk', body);

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'users');
  product = await startProduct(scratch ? { DATABASE_URL: scratch.url } : {});
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  const me = (await (await admin.get('/api/me')).json()) as { id: string; accountId: string; siteId: string };
  adminId = me.id;
  accountId = me.accountId;
  mainSiteId = me.siteId;
  parisSiteId = (await db.insertInto('sites').values({ account_id: accountId, name: 'Paris', site_code: '33' }).returning('id').executeTakeFirstOrThrow()).id;

  await addUser({ key: 'alice', first: 'Alice', last: 'Martin', email: 'alice.martin@acme.example', ext: '201', status: 'activated', role: 'standard', department: 'Sales', password: true, number: '+14155550123' });
  await addUser({ key: 'albert', first: 'Albert', last: 'Durand', email: 'albert@acme.example', ext: '202', status: 'not_activated', role: 'standard', department: 'Support' });
  await addUser({ key: 'bob', first: 'Bob', last: 'Alison', email: 'bob@other.example', ext: '203', status: 'disabled', role: 'user_admin', department: 'sales', password: true });
  await addUser({ key: 'claire', first: 'Claire', last: 'Dupont', email: 'claire@acme.example', ext: '101', site: parisSiteId, status: 'activated', role: 'manager', department: 'Support', password: true });
  await addUser({ key: 'dan', first: 'Dan', last: 'Under', email: 'd_n@acme.example', ext: '204', status: 'activated', role: 'standard' });
  await addUser({ key: 'dxn', first: 'Dxn', last: 'Wild', email: 'dxn@acme.example', ext: '205', status: 'activated', role: 'standard' });
  await addUser({ key: 'uma', first: 'Uma', last: 'Useradmin', email: 'uma@acme.example', ext: '206', status: 'activated', role: 'user_admin', password: true });

  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  other = new HttpClient(product.url);
  expect((await activate(other, created.link)).status).toBe(303);
  foreignUserId = ((await (await other.get('/api/me')).json()) as { id: string }).id;
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('GET /api/users', () => {
  it('lists the account by page with a total, and never another account', async () => {
    const all = await list('');
    expect(all.total).toBe(8);
    expect(all.items.map((u) => u.id)).not.toContain(foreignUserId);
    expect(names(all)).toEqual(['Albert', 'Alice', 'Bob', 'Claire', 'Dan', 'Demo', 'Dxn', 'Uma']);
    // Pages of 3 cover every user once, in name order.
    const seen: string[] = [];
    for (let offset = 0; offset < 8; offset += 3) {
      const page = await list(`limit=3&offset=${offset}`);
      expect(page.total).toBe(8);
      expect(page.items.length).toBe(Math.min(3, 8 - offset));
      seen.push(...page.items.map((u) => u.firstName));
    }
    expect(seen).toEqual(['Albert', 'Alice', 'Bob', 'Claire', 'Dan', 'Demo', 'Dxn', 'Uma']);
    expect((await list('offset=50')).items).toEqual([]);
    expect((await list('offset=50')).total).toBe(8);
  });

  it('searches by name, e-mail prefix, extension (short and with the site code) and phone digits', async () => {
    expect(names(await list('q=al'))).toEqual(['Albert', 'Alice', 'Bob']); // Bob Alison by last name
    expect(names(await list('q=ALICE%20MAR'))).toEqual(['Alice']);
    expect(names(await list('q=alice.martin%40acme'))).toEqual(['Alice']);
    // The e-mail domain alone finds nothing (seed 000: search is by the start of the address).
    expect((await list('q=acme.example')).total).toBe(0);
    // LIKE's wildcards are literal: "d_n" is not "dxn".
    expect(names(await list('q=d_n'))).toEqual(['Dan']);
    expect(names(await list('q=20'))).toEqual(['Albert', 'Alice', 'Bob', 'Dan', 'Dxn', 'Uma']);
    expect(names(await list('q=101'))).toEqual(['Claire', 'Demo']);
    expect(names(await list('q=33101'))).toEqual(['Claire']);
    const claire = (await list('q=33101')).items[0]!;
    expect(claire.fullExtension).toBe('33101');
    expect(names(await list(`q=${encodeURIComponent('(415) 555-0123')}`))).toEqual(['Alice']);
    expect(names(await list('q=5550123'))).toEqual(['Alice']);
    expect((await list('q=5550123')).items[0]!.numbers).toEqual(['+14155550123']);
  });

  it('filters by status, role, department and site, alone and together', async () => {
    expect(names(await list('status=disabled'))).toEqual(['Bob']);
    expect(names(await list('status=not_activated'))).toEqual(['Albert']);
    const userAdmin = await db.selectFrom('roles').select('id').where('key', '=', 'user_admin').executeTakeFirstOrThrow();
    expect(names(await list(`role=${userAdmin.id}`))).toEqual(['Bob', 'Uma']);
    // Departments are matched without regard to case: "Sales" and "sales" are one department.
    expect(names(await list('department=SALES'))).toEqual(['Alice', 'Bob']);
    expect(names(await list(`site=${parisSiteId}`))).toEqual(['Claire']);
    expect(names(await list(`department=Support&site=${mainSiteId}`))).toEqual(['Albert']);
    expect((await list(`department=Sales&status=activated&q=ali`)).items.map((u) => u.firstName)).toEqual(['Alice']);
  });

  it('sorts by the chosen column in either order', async () => {
    const byExt = (await list('sort=extension&order=desc')).items.map((u) => u.fullExtension);
    expect(byExt).toEqual(['33101', '206', '205', '204', '203', '202', '201', '101']);
    // (Only the ends are checked: where "." and "_" sort depends on the database's collation.)
    expect((await list('sort=email')).items[0]!.email).toBe('admin@demo.carillon.localhost');
    expect((await list('sort=email&order=desc')).items[0]!.email).toBe('uma@acme.example');
    expect((await list('sort=department&limit=2')).items.map((u) => u.department?.toLowerCase())).toEqual(['sales', 'sales']);
  });

  it('exports every user of a search as CSV and as an Excel workbook, in the list\'s order', async () => {
    const csv = await admin.get('/api/users/export?format=csv&department=SALES');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('First name,Last name,E-mail,Extension,Status,Role,Department,Site,Numbers,User ID');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(names(await list('department=SALES')));
    expect(lines.find((l) => l.startsWith('Alice,'))).toContain('+14155550123');
    // Not a page: all of them, whatever the list's page size.
    const all = (await (await admin.get('/api/users/export')).text()).trim().split('\r\n');
    expect(all).toHaveLength((await list('')).total + 1);

    const xlsx = await admin.get('/api/users/export?format=xlsx&q=al');
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-users-')), 'users.xlsx');
    fs.writeFileSync(file, Buffer.from(await xlsx.arrayBuffer()));
    const entries = execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(entries).toEqual(['[Content_Types].xml', '_rels/.rels', 'xl/_rels/workbook.xml.rels', 'xl/workbook.xml', 'xl/worksheets/sheet1.xml']);
    const sheet = execFileSync('unzip', ['-p', file, 'xl/worksheets/sheet1.xml'], { encoding: 'utf8' });
    const firstCells = [...sheet.matchAll(/<row r="(\d+)"><c t="inlineStr"><is><t xml:space="preserve">([^<]*)<\/t>/g)].map((m) => m[2]);
    expect(firstCells).toEqual(['First name', ...names(await list('q=al'))]);
    // The bad format and the list's page parameters are refused by name.
    expect((await admin.get('/api/users/export?format=pdf')).status).toBe(400);
    expect((await admin.get('/api/users/export?limit=5')).status).toBe(400);
  });

  it('refuses bad parameters with a 400 naming the field', async () => {
    for (const [query, field] of [
      ['status=sleeping', 'status'],
      ['limit=0', 'limit'],
      ['limit=5000', 'limit'],
      ['offset=-1', 'offset'],
      ['sort=password', 'sort'],
      ['role=admin', 'role'],
      ['site=not-a-uuid', 'site'],
      ['colour=blue', 'colour'],
    ] as const) {
      const res = await admin.get(`/api/users?${query}`);
      expect(res.status, query).toBe(400);
      const body = (await res.json()) as { error: string; fields: Record<string, string> };
      expect(body.error).toBe('invalid_query');
      expect(Object.keys(body.fields), query).toContain(field);
    }
  });
});

describe('POST /api/users/bulk', () => {
  const auditOf = (userId: string) =>
    db.selectFrom('audit_events').select(['action', 'before', 'after', 'actor_user_id']).where('account_id', '=', accountId).where('target_id', '=', userId).orderBy('id').execute();

  it('disables, answering user by user: yourself, another account and unknown ids are refused with the reason', async () => {
    const alice = new HttpClient(product.url);
    expect((await alice.form('/login', { identifier: 'alice.martin@acme.example', password: PASSWORD })).status).toBe(303);
    expect((await alice.get('/api/me')).status).toBe(200);
    const unknown = '00000000-0000-4000-8000-000000000000';
    const res = await bulk({ action: 'disable', userIds: [ids.alice, adminId, foreignUserId, unknown, ids.bob] });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { results: unknown[] }).results).toEqual([
      { userId: ids.alice, result: 'changed' },
      { userId: adminId, result: 'refused', reason: 'self' },
      { userId: foreignUserId, result: 'refused', reason: 'not_found' },
      { userId: unknown, result: 'refused', reason: 'not_found' },
      { userId: ids.bob, result: 'unchanged' },
    ]);
    expect(names(await list('status=disabled'))).toEqual(['Alice', 'Bob']);
    // Signed out at once, and one audit event for the one change.
    expect((await alice.get('/api/me')).status).toBe(401);
    expect(await auditOf(ids.alice!)).toEqual([{ action: 'user.disabled', before: { status: 'activated' }, after: { status: 'disabled' }, actor_user_id: adminId }]);
    expect(await auditOf(ids.bob!)).toEqual([]);
    expect((await other.get('/api/me')).status).toBe(200);
  });

  it('enables back to activated, or to not activated for someone who never set a password', async () => {
    await db.updateTable('extensions').set({ status: 'disabled' }).where('number', '=', '202').where('account_id', '=', accountId).execute();
    const res = await bulk({ action: 'enable', userIds: [ids.alice, ids.albert, ids.claire] });
    expect(((await res.json()) as { results: unknown[] }).results).toEqual([
      { userId: ids.alice, result: 'changed' },
      { userId: ids.albert, result: 'changed' },
      { userId: ids.claire, result: 'unchanged' },
    ]);
    const status = async (key: string) => (await list(`q=${encodeURIComponent((await db.selectFrom('users').select('email').where('id', '=', ids[key]!).executeTakeFirstOrThrow()).email)}`)).items[0]!.status;
    expect(await status('alice')).toBe('activated');
    expect(await status('albert')).toBe('not_activated');
    expect((await auditOf(ids.albert!)).map((e) => e.action)).toEqual(['user.enabled']);
  });

  it('changes site, refusing an extension number already used there', async () => {
    // Claire is 101 in Paris; the admin is 101 on the main site: moving Claire there would collide.
    const res = await bulk({ action: 'change_site', siteId: mainSiteId, userIds: [ids.claire, ids.dan] });
    expect(((await res.json()) as { results: unknown[] }).results).toEqual([{ userId: ids.claire, result: 'refused', reason: 'extension_conflict' }, { userId: ids.dan, result: 'unchanged' }]);
    const moved = await bulk({ action: 'change_site', siteId: parisSiteId, userIds: [ids.dan] });
    expect(((await moved.json()) as { results: unknown[] }).results).toEqual([{ userId: ids.dan, result: 'changed' }]);
    expect((await list('q=33204')).items.map((u) => u.firstName)).toEqual(['Dan']);
    expect((await auditOf(ids.dan!)).map((e) => [e.action, e.after])).toEqual([['user.site_changed', { siteId: parisSiteId, siteName: 'Paris' }]]);
    // Another account's site is not a site of this account.
    const foreignSite = ((await (await other.get('/api/me')).json()) as { siteId: string }).siteId;
    const bad = await bulk({ action: 'change_site', siteId: foreignSite, userIds: [ids.dxn] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'invalid_body', fields: { siteId: 'not_found' } });
  });

  it('deletes a user with their extension; the number goes back to the inventory', async () => {
    const number = await db.selectFrom('phone_numbers').select(['id', 'extension_id']).where('e164', '=', '+14155550123').executeTakeFirstOrThrow();
    const res = await bulk({ action: 'delete', userIds: [ids.alice] });
    expect(((await res.json()) as { results: unknown[] }).results).toEqual([{ userId: ids.alice, result: 'changed' }]);
    expect((await list('q=alice')).total).toBe(0);
    expect(await db.selectFrom('extensions').select('id').where('id', '=', number.extension_id!).executeTakeFirst()).toBeUndefined();
    expect((await db.selectFrom('phone_numbers').select('extension_id').where('id', '=', number.id).executeTakeFirstOrThrow()).extension_id).toBeNull();
    const audit = await auditOf(ids.alice!);
    expect(audit.at(-1)).toMatchObject({ action: 'user.deleted', after: null, before: { email: 'alice.martin@acme.example', extension: '201' } });
    expect((await list('')).total).toBe(7);
  });

  it('keeps the Super Admin safe from User Admins and keeps one enabled Super Admin', async () => {
    const uma = new HttpClient(product.url);
    expect((await uma.form('/login', { identifier: 'uma@acme.example', password: PASSWORD })).status).toBe(303);
    // A User Admin may list and act on users…
    expect((await list('', uma)).total).toBe(7);
    // …but not remove the only Super Admin,
    const only = await bulk({ action: 'disable', userIds: [adminId] }, uma);
    expect(((await only.json()) as { results: unknown[] }).results).toEqual([{ userId: adminId, result: 'refused', reason: 'last_super_admin' }]);
    // nor any Super Admin when there are several.
    await addUser({ key: 'second', first: 'Second', last: 'Owner', email: 'second@acme.example', ext: '207', status: 'activated', role: 'super_admin', password: true });
    const protectedOne = await bulk({ action: 'delete', userIds: [ids.second, ids.dxn] }, uma);
    expect(((await protectedOne.json()) as { results: unknown[] }).results).toEqual([
      { userId: ids.second, result: 'refused', reason: 'super_admin_protected' },
      { userId: ids.dxn, result: 'changed' },
    ]);
    expect((await list('q=second')).items[0]!.status).toBe('activated');
    // The Super Admin may disable the other one.
    const byOwner = await bulk({ action: 'disable', userIds: [ids.second] });
    expect(((await byOwner.json()) as { results: unknown[] }).results).toEqual([{ userId: ids.second, result: 'changed' }]);
  });

  it('refuses a bad body by field, and users without users.manage', async () => {
    for (const [body, field] of [
      [{ action: 'explode', userIds: [ids.dan] }, 'action'],
      [{ action: 'disable', userIds: [] }, 'userIds'],
      [{ action: 'disable', userIds: ['nope'] }, 'userIds.0'],
      [{ action: 'change_site', userIds: [ids.dan] }, 'siteId'],
    ] as const) {
      const res = await bulk(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(Object.keys(((await res.json()) as { fields: Record<string, string> }).fields)).toContain(field);
    }
    expect((await admin.request('POST', '/api/users/bulk', '{oops')).status).toBe(400);
    const claire = new HttpClient(product.url);
    expect((await claire.form('/login', { identifier: 'claire@acme.example', password: PASSWORD })).status).toBe(303);
    expect((await claire.get('/api/users')).status).toBe(403);
    expect((await bulk({ action: 'disable', userIds: [ids.dan] }, claire)).status).toBe(403);
    expect((await list('q=dan')).items[0]!.status).toBe('activated');
  });
});

describe('unassigned extensions', () => {
  const unassigned = async (accountOf: string, number: string, e164?: string) => {
    const site = await db.selectFrom('sites').select('id').where('account_id', '=', accountOf).where('is_main', '=', true).executeTakeFirstOrThrow();
    const ext = await db.insertInto('extensions').values({ account_id: accountOf, site_id: site.id, number, type: 'user', status: 'unassigned', name: 'Ext. with no device assigned' }).returning('id').executeTakeFirstOrThrow();
    if (e164) await db.insertInto('phone_numbers').values({ account_id: accountOf, e164, type: 'direct', extension_id: ext.id }).execute();
    return ext.id;
  };

  it('lists, assigns (activated later) and deletes them, audited; another account\'s are not found', async () => {
    const free = await unassigned(accountId, '301', '+14155550301');
    const spare = await unassigned(accountId, '302');
    const foreignAccount = (await db.selectFrom('users').select('account_id').where('id', '=', foreignUserId).executeTakeFirstOrThrow()).account_id;
    const foreign = await unassigned(foreignAccount, '301');

    const listed = (await (await admin.get('/api/extensions/unassigned')).json()) as { id: string; fullExtension: string; numbers: string[] }[];
    expect(listed.map((e) => [e.fullExtension, e.numbers])).toEqual([['301', ['+14155550301']], ['302', []]]);
    // The users list does not show them.
    expect((await list('q=30')).total).toBe(0);

    // Assign: a bad body keeps nothing and names the field; then the user exists, not activated, with the extension's number.
    const bad = await admin.json('POST', `/api/extensions/${free}/assign`, { firstName: 'Eve', email: 'not-an-email' });
    expect(bad.status).toBe(400);
    expect(Object.keys(((await bad.json()) as { fields: object }).fields)).toEqual(['email']);
    const ok = await admin.json('POST', `/api/extensions/${free}/assign`, { firstName: 'Eve', lastName: 'Newcomer', email: 'eve@acme.example' });
    expect(ok.status).toBe(201);
    const { userId } = (await ok.json()) as { userId: string };
    const eve = (await list('q=eve')).items;
    expect(eve.map((u) => [u.id, u.extension, u.status, u.numbers])).toEqual([[userId, '301', 'not_activated', ['+14155550301']]]);
    expect((await admin.json('POST', `/api/extensions/${free}/assign`, { firstName: 'Again', email: 'again@acme.example' })).status).toBe(404);
    expect((await auditOfTarget(userId)).map((e) => e.action)).toEqual(['extension.assigned']);

    // Delete: only an unassigned extension of this account.
    expect((await admin.request('DELETE', `/api/extensions/${foreign}`)).status).toBe(404);
    expect((await admin.json('POST', `/api/extensions/${foreign}/assign`, { firstName: 'Mallory', email: 'm@evil.example' })).status).toBe(404);
    expect((await admin.request('DELETE', `/api/extensions/${free}`)).status).toBe(404);
    expect((await admin.request('DELETE', `/api/extensions/${spare}`)).status).toBe(204);
    expect(await db.selectFrom('extensions').select('id').where('id', 'in', [spare]).execute()).toEqual([]);
    expect(await db.selectFrom('extensions').select('id').where('id', '=', foreign).execute()).toHaveLength(1);
    expect((await auditOfTarget(spare)).map((e) => e.action)).toEqual(['extension.deleted']);
    expect((await (await admin.get('/api/extensions/unassigned')).json()) as unknown[]).toEqual([]);
  });
});

const auditOfTarget = (id: string) => db.selectFrom('audit_events').select(['action']).where('account_id', '=', accountId).where('target_id', '=', id).orderBy('id').execute();
