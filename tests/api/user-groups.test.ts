import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '@carillon/core';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * User groups through the product (issue 5, deliverable 6; seed 000 "Groupes
 * d'utilisateurs"): flat groups with several memberships per user, a manager
 * who is a member holding at least the User Admin role, and a manager whose
 * role is scoped to their groups sees only their members' users and calls.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let admin: HttpClient;
let other: HttpClient;
let accountId = '';
let mainSiteId = '';
const ids: Record<string, string> = {};
const exts: Record<string, string> = {};
const PASSWORD = 'Meadow5Lantern';

interface Group {
  id: string;
  name: string;
  description: string | null;
  managerId: string | null;
  managerName: string | null;
  members: { id: string; firstName: string }[];
}

async function addUser(key: string, first: string, ext: string, role: string) {
  const r = await db.selectFrom('roles').select('id').where('key', '=', role).executeTakeFirstOrThrow();
  const e = await db.insertInto('extensions').values({ account_id: accountId, site_id: mainSiteId, number: ext, type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  const u = await db
    .insertInto('users')
    .values({ account_id: accountId, extension_id: e.id, role_id: r.id, first_name: first, last_name: 'Test', email: `${key}@acme.example`, setup_progress: JSON.stringify({}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('user_credentials').values({ user_id: u.id, password_hash: await hashSecret(PASSWORD) }).execute();
  ids[key] = u.id;
  exts[key] = e.id;
}

async function signIn(key: string): Promise<HttpClient> {
  const c = new HttpClient(product.url);
  expect((await c.form('/login', { identifier: `${key}@acme.example`, password: PASSWORD })).status).toBe(303);
  return c;
}

async function call(from: string, to: string, fromNumber: string) {
  await db
    .insertInto('calls')
    .values({ account_id: accountId, sip_call_id: `c-${from}-${to}-${Math.random()}`, direction: 'internal', from_number: fromNumber, to_number: '000', caller_extension_id: exts[from]!, callee_extension_id: exts[to]!, started_at: new Date(), result: 'answered', duration_seconds: 5 })
    .execute();
}

const create = (body: unknown, client = admin) => client.json('POST', '/api/user-groups', body);
const audits = (action: string) => db.selectFrom('audit_events').select(['target_id', 'before', 'after']).where('account_id', '=', accountId).where('action', '=', action).orderBy('id').execute();

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'groups');
  product = await startProduct(scratch ? { DATABASE_URL: scratch.url } : {});
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  const me = (await (await admin.get('/api/me')).json()) as { accountId: string; siteId: string };
  accountId = me.accountId;
  mainSiteId = me.siteId;
  await addUser('gina', 'Gina', '301', 'user_admin');
  await addUser('hugo', 'Hugo', '302', 'standard');
  await addUser('ivan', 'Ivan', '303', 'standard');
  await addUser('jade', 'Jade', '304', 'standard');
  await addUser('kim', 'Kim', '305', 'standard');
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  other = new HttpClient(product.url);
  expect((await activate(other, created.link)).status).toBe(303);
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('user groups', () => {
  it('refuses a Standard user as manager, and a manager who is not a member, with a clear message', async () => {
    const standard = await create({ name: 'Sales', memberIds: [ids.hugo, ids.ivan], managerId: ids.hugo });
    expect(standard.status).toBe(409);
    expect(await standard.json()).toEqual({ error: 'manager_role_too_low', message: 'The group manager must hold at least the User Admin role.' });
    const outsider = await create({ name: 'Sales', memberIds: [ids.hugo, ids.ivan], managerId: ids.gina });
    expect(outsider.status).toBe(409);
    expect(await outsider.json()).toEqual({ error: 'manager_not_member', message: 'The group manager must be a member of the group.' });
    expect(((await (await admin.get('/api/user-groups')).json()) as { items: Group[] }).items).toEqual([]);
    const bad = await create({ name: '', memberIds: ['nope'] });
    expect(bad.status).toBe(400);
    expect(Object.keys(((await bad.json()) as { fields: Record<string, string> }).fields).sort()).toEqual(['memberIds.0', 'name']);
  });

  it('accepts a User Admin member as manager; a user may be in several groups; audited', async () => {
    const res = await create({ name: 'Sales', description: 'Team A', memberIds: [ids.gina, ids.hugo, ids.ivan], managerId: ids.gina });
    expect(res.status).toBe(201);
    const sales = (await res.json()) as Group;
    expect(sales).toMatchObject({ name: 'Sales', description: 'Team A', managerId: ids.gina, managerName: 'Gina Test' });
    expect(sales.members.map((m) => m.firstName)).toEqual(['Gina', 'Hugo', 'Ivan']);
    const all = await create({ name: 'Everyone', memberIds: [ids.gina, ids.hugo, ids.ivan, ids.jade] });
    expect(all.status).toBe(201);
    expect((await create({ name: 'sales' })).status).toBe(409);
    const [audit] = await audits('user_group.created');
    expect(audit).toMatchObject({ target_id: sales.id, after: { name: 'Sales', managerId: ids.gina } });
    // Nor can the manager's role drop below User Admin while they manage the group.
    const standardRole = ((await (await admin.get('/api/roles')).json()) as { items: { id: string; key: string | null }[] }).items.find((r) => r.key === 'standard')!;
    const demoted = await admin.json('POST', '/api/users/bulk', { action: 'assign_role', roleId: standardRole.id, userIds: [ids.gina] });
    expect(await demoted.json()).toEqual({ results: [{ userId: ids.gina, result: 'refused', reason: 'group_manager' }] });
    // Changing the manager to a Standard member is refused the same way.
    const patch = await admin.json('PATCH', `/api/user-groups/${sales.id}`, { managerId: ids.hugo });
    expect(patch.status).toBe(409);
    expect(((await patch.json()) as { error: string }).error).toBe('manager_role_too_low');
  });

  it('adds and removes members; the manager stays a member', async () => {
    const sales = ((await (await admin.get('/api/user-groups')).json()) as { items: Group[] }).items.find((g) => g.name === 'Sales')!;
    const added = await admin.json('POST', `/api/user-groups/${sales.id}/members`, { userIds: [ids.kim] });
    expect(added.status).toBe(200);
    expect(((await added.json()) as Group).members.map((m) => m.firstName)).toEqual(['Gina', 'Hugo', 'Ivan', 'Kim']);
    const removeManager = await admin.json('DELETE', `/api/user-groups/${sales.id}/members/${ids.gina}`);
    expect(removeManager.status).toBe(409);
    expect(await removeManager.json()).toEqual({ error: 'manager_is_member' });
    const removed = await admin.json('DELETE', `/api/user-groups/${sales.id}/members/${ids.kim}`);
    expect(((await removed.json()) as Group).members.map((m) => m.firstName)).toEqual(['Gina', 'Hugo', 'Ivan']);
    expect((await audits('user_group.member_added')).map((a) => a.after)).toEqual([{ userId: ids.kim, group: 'Sales' }]);
    expect((await audits('user_group.member_removed')).map((a) => a.before)).toEqual([{ userId: ids.kim, group: 'Sales' }]);
    expect((await admin.json('DELETE', `/api/user-groups/${sales.id}/members/${ids.jade}`)).status).toBe(404);
  });

  it("shows a manager whose role is scoped to their groups only their members' users and calls", async () => {
    const roles = ((await (await admin.get('/api/roles')).json()) as { items: { id: string; key: string | null; permissions: string[] }[] }).items;
    const userAdmin = roles.find((r) => r.key === 'user_admin')!;
    const lead = await admin.json('POST', '/api/roles', { baseRoleId: userAdmin.id, name: 'Team lead', scope: 'groups', permissions: [...userAdmin.permissions, 'reports.company_call_log'] });
    expect(lead.status).toBe(201);
    const leadId = ((await lead.json()) as { id: string }).id;
    expect(await (await admin.json('POST', '/api/users/bulk', { action: 'assign_role', roleId: leadId, userIds: [ids.gina] })).json()).toEqual({ results: [{ userId: ids.gina, result: 'changed' }] });
    await call('hugo', 'ivan', '302');
    await call('jade', 'kim', '304');
    await call('kim', 'hugo', '305');
    const gina = await signIn('gina');
    const users = (await (await gina.get('/api/users')).json()) as { items: { firstName: string }[]; total: number };
    expect(users.items.map((u) => u.firstName)).toEqual(['Gina', 'Hugo', 'Ivan']);
    expect((await gina.get(`/api/users/${ids.jade}`)).status).toBe(404);
    expect((await gina.get(`/api/users/${ids.hugo}`)).status).toBe(200);
    const calls = (await (await gina.get('/api/calls')).json()) as { from_number: string }[];
    expect(calls.map((c) => c.from_number).sort()).toEqual(['302', '305']);
    // The admin of the whole company still sees every call.
    expect(((await (await admin.get('/api/calls')).json()) as unknown[]).length).toBe(3);
    // She sees only the groups she manages, and cannot add someone outside them.
    const groups = ((await (await gina.get('/api/user-groups')).json()) as { items: Group[] }).items;
    expect(groups.map((g) => g.name)).toEqual(['Sales']);
    const everyone = ((await (await admin.get('/api/user-groups')).json()) as { items: Group[] }).items.find((g) => g.name === 'Everyone')!;
    expect((await gina.get(`/api/user-groups/${everyone.id}`)).status).toBe(404);
    const outside = await gina.json('POST', `/api/user-groups/${groups[0]!.id}/members`, { userIds: [ids.jade] });
    expect(outside.status).toBe(400);
    expect(await outside.json()).toEqual({ error: 'invalid_body', fields: { userIds: 'not_found' } });
    // Deleting the group takes the manager's view of its members away.
    expect((await admin.json('DELETE', `/api/user-groups/${groups[0]!.id}`)).status).toBe(204);
    expect(((await (await gina.get('/api/users')).json()) as { total: number }).total).toBe(0);
    expect(((await (await gina.get('/api/calls')).json()) as unknown[]).length).toBe(0);
    expect((await audits('user_group.deleted')).map((a) => a.target_id)).toEqual([groups[0]!.id]);
  });

  it('refuses a Standard user the groups API', async () => {
    const hugo = await signIn('hugo');
    expect((await hugo.get('/api/user-groups')).status).toBe(403);
    expect((await create({ name: 'Mine' }, hugo)).status).toBe(403);
  });

  it("answers 404 for another account's groups and users", async () => {
    const theirs = (await (await create({ name: 'Beta team' }, other)).json()) as Group;
    const everyone = ((await (await admin.get('/api/user-groups')).json()) as { items: Group[] }).items.find((g) => g.name === 'Everyone')!;
    expect((await admin.get(`/api/user-groups/${theirs.id}`)).status).toBe(404);
    expect((await admin.json('PATCH', `/api/user-groups/${theirs.id}`, { name: 'Mine' })).status).toBe(404);
    expect((await admin.json('DELETE', `/api/user-groups/${theirs.id}`)).status).toBe(404);
    expect((await admin.json('POST', `/api/user-groups/${theirs.id}/members`, { userIds: [ids.hugo] })).status).toBe(404);
    const foreignUser = ((await (await other.get('/api/me')).json()) as { id: string }).id;
    expect((await admin.json('POST', `/api/user-groups/${everyone.id}/members`, { userIds: [foreignUser] })).status).toBe(400);
    expect((await create({ name: 'Stolen', memberIds: [foreignUser] })).status).toBe(400);
  });
});
