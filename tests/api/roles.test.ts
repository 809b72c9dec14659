import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRoleIdFor, hashSecret } from '@carillon/core';
import { openPostgres, type Db } from '@carillon/db';
import { PERMISSIONS, PREDEFINED_ROLE_PERMISSIONS } from '@carillon/domain';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * Roles and permissions through the product (issue 5, deliverable 5): custom
 * roles from a base role, every permission enforced by the server, nobody
 * granting what they do not hold, the default role for new users, roles
 * given in bulk, site-scoped roles, and the audit rows of each change.
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
const ids: Record<string, string> = {};
const PASSWORD = 'Meadow5Lantern';

interface Role {
  id: string;
  key: string | null;
  name: string;
  type: 'predefined' | 'custom';
  baseRoleId: string | null;
  scope: string;
  siteIds: string[];
  permissions: string[];
  userCount: number;
  isDefault: boolean;
}

async function addUser(key: string, first: string, ext: string, role: string, site = mainSiteId) {
  const r = await db.selectFrom('roles').select('id').where('key', '=', role).executeTakeFirstOrThrow();
  const e = await db.insertInto('extensions').values({ account_id: accountId, site_id: site, number: ext, type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  const u = await db
    .insertInto('users')
    .values({ account_id: accountId, extension_id: e.id, role_id: r.id, first_name: first, last_name: 'Test', email: `${key}@acme.example`, setup_progress: JSON.stringify({}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('user_credentials').values({ user_id: u.id, password_hash: await hashSecret(PASSWORD) }).execute();
  ids[key] = u.id;
}

async function signIn(key: string): Promise<HttpClient> {
  const c = new HttpClient(product.url);
  expect((await c.form('/login', { identifier: `${key}@acme.example`, password: PASSWORD })).status).toBe(303);
  return c;
}

const roles = async (client = admin) => ((await (await client.get('/api/roles')).json()) as { items: Role[] }).items;
const roleByKey = async (key: string) => (await roles()).find((r) => r.key === key)!;
const createRole = (body: unknown, client = admin) => client.json('POST', '/api/roles', body);
const assign = (roleId: string, userIds: string[], client = admin) => client.json('POST', '/api/users/bulk', { action: 'assign_role', roleId, userIds });
const roleOf = async (userId: string) => (await db.selectFrom('users').select('role_id').where('id', '=', userId).executeTakeFirstOrThrow()).role_id;
const audits = (action: string) => db.selectFrom('audit_events').select(['target_id', 'before', 'after', 'actor_user_id']).where('account_id', '=', accountId).where('action', '=', action).orderBy('id').execute();

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'roles');
  product = await startProduct(scratch ? { DATABASE_URL: scratch.url } : {});
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  const me = (await (await admin.get('/api/me')).json()) as { id: string; accountId: string; siteId: string };
  adminId = me.id;
  accountId = me.accountId;
  mainSiteId = me.siteId;
  parisSiteId = (await db.insertInto('sites').values({ account_id: accountId, name: 'Paris', site_code: '33' }).returning('id').executeTakeFirstOrThrow()).id;
  await addUser('alice', 'Alice', '201', 'standard');
  await addUser('bob', 'Bob', '202', 'standard');
  await addUser('carl', 'Carl', '101', 'standard', parisSiteId);
  await addUser('claire', 'Claire', '102', 'standard', parisSiteId);
  await addUser('sam', 'Sam', '203', 'standard');
  await addUser('uma', 'Uma', '204', 'user_admin');

  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  other = new HttpClient(product.url);
  expect((await activate(other, created.link)).status).toBe(303);
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('roles', () => {
  it('lists the seven predefined roles, not editable, with Standard (International) as the default', async () => {
    const all = await roles();
    expect(all.map((r) => r.key)).toEqual(['super_admin', 'phone_system_admin', 'billing_admin', 'user_admin', 'manager', 'standard_international', 'standard']);
    expect(all.every((r) => r.type === 'predefined')).toBe(true);
    expect(all.filter((r) => r.isDefault).map((r) => r.key)).toEqual(['standard_international']);
    expect(all.find((r) => r.key === 'user_admin')!.permissions).toEqual(PERMISSIONS.filter((p) => PREDEFINED_ROLE_PERMISSIONS.user_admin.includes(p)));
    const res = await admin.json('PATCH', `/api/roles/${all[0]!.id}`, { name: 'Owner' });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ error: 'predefined_role' });
  });

  it('creates a custom role from a base role, copying its permissions, and audits it', async () => {
    const manager = await roleByKey('manager');
    const res = await createRole({ baseRoleId: manager.id, name: 'Analytics', description: 'Reports only' });
    expect(res.status).toBe(201);
    const role = (await res.json()) as Role;
    expect(role).toMatchObject({ name: 'Analytics', type: 'custom', baseRoleId: manager.id, scope: 'account', userCount: 0, isDefault: false });
    expect(role.permissions).toEqual(manager.permissions);
    expect((await roles()).map((r) => r.name)).toContain('Analytics');
    const [audit] = await audits('role.created');
    expect(audit).toMatchObject({ target_id: role.id, actor_user_id: adminId, after: { name: 'Analytics', baseRole: 'Manager', permissions: manager.permissions } });
    // The same name again is refused, whatever its case.
    expect((await createRole({ baseRoleId: manager.id, name: 'ANALYTICS' })).status).toBe(409);
  });

  it('refuses bad input with the field named, and creates nothing', async () => {
    const std = await roleByKey('standard');
    const before = (await roles()).length;
    const bad: [unknown, string][] = [
      [{ baseRoleId: std.id }, 'name'],
      [{ baseRoleId: std.id, name: 'X', permissions: ['users.view', 'fly'] }, 'permissions.1'],
      [{ baseRoleId: '00000000-0000-4000-8000-000000000000', name: 'X' }, 'baseRoleId'],
      [{ baseRoleId: std.id, name: 'X', scope: 'sites' }, 'siteIds'],
      [{ baseRoleId: std.id, name: 'X', scope: 'sites', siteIds: ['00000000-0000-4000-8000-000000000000'] }, 'siteIds'],
      [{ baseRoleId: std.id, name: 'X', colour: 'red' }, 'colour'],
    ];
    for (const [body, field] of bad) {
      const res = await createRole(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(Object.keys(((await res.json()) as { fields: Record<string, string> }).fields)).toContain(field);
    }
    expect((await roles()).length).toBe(before);
  });

  it('enforces a custom role without user management on the server: 403 on /api/users and the Users pages, no Users tab', async () => {
    const std = await roleByKey('standard_international');
    const res = await createRole({ baseRoleId: std.id, name: 'Front desk', permissions: [...std.permissions, 'admin.portal', 'reports.view'] });
    expect(res.status).toBe(201);
    const frontDesk = (await res.json()) as Role;
    expect(frontDesk.permissions).not.toContain('users.view');
    const bulk = await assign(frontDesk.id, [ids.alice!]);
    expect(await bulk.json()).toEqual({ results: [{ userId: ids.alice, result: 'changed' }] });
    const alice = await signIn('alice');
    expect((await alice.get('/api/users')).status).toBe(403);
    expect((await alice.get(`/api/users/${ids.bob}`)).status).toBe(403);
    expect((await alice.json('POST', '/api/users/bulk', { action: 'disable', userIds: [ids.bob] })).status).toBe(403);
    expect((await alice.get('/api/roles')).status).toBe(403);
    const page = await alice.request('GET', '/admin/users', undefined, { accept: 'text/html' });
    expect(page.status).toBe(403);
    const home = await alice.request('GET', '/admin', undefined, { accept: 'text/html' });
    expect(home.status).toBe(200);
    const html = await home.text();
    expect(html).not.toContain('href="/admin/users"');
    // Editing the role changes what its holders may do at their next request.
    expect((await admin.json('PATCH', `/api/roles/${frontDesk.id}`, { permissions: [...frontDesk.permissions, 'users.view'] })).status).toBe(200);
    expect((await alice.get('/api/users')).status).toBe(200);
    expect((await admin.json('PATCH', `/api/roles/${frontDesk.id}`, { permissions: frontDesk.permissions })).status).toBe(200);
    expect((await alice.get('/api/users')).status).toBe(403);
    const updates = await audits('role.updated');
    expect(updates.length).toBe(2);
    expect(updates[0]).toMatchObject({ target_id: frontDesk.id, after: { permissions: expect.arrayContaining(['users.view']) } });
  });

  it('lets nobody grant a permission they do not hold, in a role or by assigning one', async () => {
    const std = await roleByKey('standard_international');
    const mine = [...std.permissions, 'admin.portal', 'users.view', 'users.manage', 'roles.manage'];
    const roleAdmin = (await (await createRole({ baseRoleId: std.id, name: 'Role admin', permissions: mine })).json()) as Role;
    expect((await (await assign(roleAdmin.id, [ids.bob!])).json()) as unknown).toEqual({ results: [{ userId: ids.bob, result: 'changed' }] });
    const bob = await signIn('bob');
    // A role with billing: refused, naming what Bob lacks; nothing created.
    const res = await createRole({ baseRoleId: std.id, name: 'Billing clerk', permissions: [...std.permissions, 'billing.view', 'billing.manage'] }, bob);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: 'permission_not_held', permissions: ['billing.view', 'billing.manage'] });
    // Copying a richer base role is the same grant.
    expect((await createRole({ baseRoleId: (await roleByKey('super_admin')).id, name: 'Copy of owner' }, bob)).status).toBe(403);
    // Adding a permission to an existing role.
    const grow = await bob.json('PATCH', `/api/roles/${roleAdmin.id}`, { permissions: [...mine, 'audit.view'] });
    expect(grow.status).toBe(403);
    // Giving someone Super Admin, or a role holding more than Bob.
    const superAdmin = await roleByKey('super_admin');
    const given = await assign(superAdmin.id, [ids.sam!], bob);
    expect(given.status).toBe(403);
    expect(((await given.json()) as { error: string }).error).toBe('permission_not_held');
    expect(await roleOf(ids.sam!)).not.toBe(superAdmin.id);
    expect((await roles()).map((r) => r.name)).not.toContain('Billing clerk');
    // Within what he holds, Bob may.
    const ok = await createRole({ baseRoleId: std.id, name: 'Desk', permissions: [...std.permissions, 'users.view'] }, bob);
    expect(ok.status).toBe(201);
    // A User Admin does not manage roles at all.
    const uma = await signIn('uma');
    expect((await createRole({ baseRoleId: std.id, name: 'Nope' }, uma)).status).toBe(403);
  });

  it('sets the default role for new users, predefined or custom, and audits it', async () => {
    const standardIntl = await roleByKey('standard_international');
    expect(await defaultRoleIdFor(db, accountId)).toBe(standardIntl.id);
    const analytics = (await roles()).find((r) => r.name === 'Analytics')!;
    const res = await admin.json('PATCH', `/api/roles/${analytics.id}`, { isDefault: true });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Role).isDefault).toBe(true);
    expect(await defaultRoleIdFor(db, accountId)).toBe(analytics.id);
    expect((await roles()).filter((r) => r.isDefault).map((r) => r.name)).toEqual(['Analytics']);
    // The default cannot be deleted.
    expect(await (await admin.json('DELETE', `/api/roles/${analytics.id}`)).json()).toEqual({ error: 'role_is_default' });
    const standard = await roleByKey('standard');
    expect((await admin.json('PATCH', `/api/roles/${standard.id}`, { isDefault: true })).status).toBe(200);
    expect(await defaultRoleIdFor(db, accountId)).toBe(standard.id);
    // A user made on an unassigned extension gets the default role.
    const free = await db.insertInto('extensions').values({ account_id: accountId, site_id: mainSiteId, number: '299', type: 'user', status: 'unassigned' }).returning('id').executeTakeFirstOrThrow();
    const made = await admin.json('POST', `/api/extensions/${free.id}/assign`, { firstName: 'Newcomer', email: 'newcomer@acme.example' });
    expect(made.status).toBe(201);
    expect(await roleOf(((await made.json()) as { userId: string }).userId)).toBe(standard.id);
    const set = await audits('role.default_set');
    expect(set.map((a) => a.target_id)).toEqual([analytics.id, standard.id]);
    // The other account keeps its own default.
    const otherMe = (await (await other.get('/api/me')).json()) as { accountId: string };
    expect(await defaultRoleIdFor(db, otherMe.accountId)).toBe(standardIntl.id);
  });

  it('assigns a role in bulk, user by user; the last Super Admin keeps the role', async () => {
    const manager = await roleByKey('manager');
    const res = await assign(manager.id, [ids.carl!, ids.claire!, adminId]);
    expect(await res.json()).toEqual({
      results: [
        { userId: ids.carl, result: 'changed' },
        { userId: ids.claire, result: 'changed' },
        { userId: adminId, result: 'refused', reason: 'self' },
      ],
    });
    expect(await roleOf(ids.carl!)).toBe(manager.id);
    const changed = (await audits('user.role_changed')).filter((a) => a.target_id === ids.carl);
    expect(changed.at(-1)).toMatchObject({ before: { role: 'Standard' }, after: { role: 'Manager', roleId: manager.id } });
    // Sam holds every permission through a custom role, yet cannot take away the account's only Super Admin.
    const everything = (await (await createRole({ baseRoleId: (await roleByKey('super_admin')).id, name: 'Deputy' })).json()) as Role;
    expect(everything.permissions).toEqual([...PERMISSIONS]);
    await assign(everything.id, [ids.sam!]);
    const sam = await signIn('sam');
    const last = await assign(manager.id, [adminId], sam);
    expect(await last.json()).toEqual({ results: [{ userId: adminId, result: 'refused', reason: 'last_super_admin' }] });
    expect(await roleOf(adminId)).toBe((await roleByKey('super_admin')).id);
    // Unknown role: a 400 naming roleId; nobody changed.
    const unknown = await assign('00000000-0000-4000-8000-000000000000', [ids.carl!]);
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({ error: 'invalid_body', fields: { roleId: 'not_found' } });
    expect(await roleOf(ids.carl!)).toBe(manager.id);
  });

  it('limits a site-scoped role to the users of its sites', async () => {
    const userAdmin = await roleByKey('user_admin');
    const res = await createRole({ baseRoleId: userAdmin.id, name: 'Paris admin', scope: 'sites', siteIds: [parisSiteId] });
    expect(res.status).toBe(201);
    const paris = (await res.json()) as Role;
    expect(paris).toMatchObject({ scope: 'sites', siteIds: [parisSiteId] });
    await assign(paris.id, [ids.carl!]);
    const carl = await signIn('carl');
    const list = (await (await carl.get('/api/users')).json()) as { items: { firstName: string }[]; total: number };
    expect(list.items.map((u) => u.firstName).sort()).toEqual(['Carl', 'Claire']);
    expect(list.total).toBe(2);
    expect((await carl.get(`/api/users/${ids.claire}`)).status).toBe(200);
    expect((await carl.get(`/api/users/${ids.bob}`)).status).toBe(404);
    const csv = await (await carl.get('/api/users/export?format=csv')).text();
    expect(csv).toContain('Claire');
    expect(csv).not.toContain('Bob');
    const bulk = await carl.json('POST', '/api/users/bulk', { action: 'disable', userIds: [ids.bob, ids.claire] });
    expect(await bulk.json()).toEqual({
      results: [
        { userId: ids.bob, result: 'refused', reason: 'not_found' },
        { userId: ids.claire, result: 'changed' },
      ],
    });
    // Unassigned extensions too: only Paris's are listed, and a main-site one cannot be taken.
    const mainFree = await db.insertInto('extensions').values({ account_id: accountId, site_id: mainSiteId, number: '298', type: 'user', status: 'unassigned' }).returning('id').executeTakeFirstOrThrow();
    const parisFree = await db.insertInto('extensions').values({ account_id: accountId, site_id: parisSiteId, number: '198', type: 'user', status: 'unassigned' }).returning('id').executeTakeFirstOrThrow();
    const free = (await (await carl.get('/api/extensions/unassigned')).json()) as { id: string }[];
    expect(free.map((e) => e.id)).toEqual([parisFree.id]);
    expect((await carl.json('POST', `/api/extensions/${mainFree.id}/assign`, { firstName: 'X', email: 'x@acme.example' })).status).toBe(404);
    expect((await carl.json('DELETE', `/api/extensions/${mainFree.id}`)).status).toBe(404);
    expect((await carl.json('DELETE', `/api/extensions/${parisFree.id}`)).status).toBe(204);
    // A site-scoped admin cannot hand out a company-wide role, even one with fewer permissions.
    const refused = await carl.json('POST', '/api/users/bulk', { action: 'assign_role', roleId: (await roleByKey('standard')).id, userIds: [ids.claire] });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: 'scope_too_narrow' });
  });

  it('deletes a custom role only once nobody holds it, saying how many do', async () => {
    const frontDesk = (await roles()).find((r) => r.name === 'Front desk')!;
    const held = await admin.json('DELETE', `/api/roles/${frontDesk.id}`);
    expect(held.status).toBe(409);
    expect(await held.json()).toEqual({ error: 'role_in_use', userCount: 1 });
    await assign((await roleByKey('standard')).id, [ids.alice!]);
    expect((await admin.json('DELETE', `/api/roles/${frontDesk.id}`)).status).toBe(204);
    expect((await admin.get(`/api/roles/${frontDesk.id}`)).status).toBe(404);
    expect((await audits('role.deleted')).map((a) => a.target_id)).toEqual([frontDesk.id]);
    // Predefined roles cannot be deleted.
    expect((await admin.json('DELETE', `/api/roles/${(await roleByKey('manager')).id}`)).status).toBe(409);
  });

  it("answers 404 for another account's roles, and never lists them", async () => {
    const theirs = (await (await createRole({ baseRoleId: (await roleByKey('standard')).id, name: 'Beta role' }, other)).json()) as Role;
    expect((await roles()).map((r) => r.id)).not.toContain(theirs.id);
    expect((await admin.get(`/api/roles/${theirs.id}`)).status).toBe(404);
    expect((await admin.json('PATCH', `/api/roles/${theirs.id}`, { name: 'Mine' })).status).toBe(404);
    expect((await admin.json('DELETE', `/api/roles/${theirs.id}`)).status).toBe(404);
    expect((await assign(theirs.id, [ids.bob!])).status).toBe(400);
    expect((await createRole({ baseRoleId: theirs.id, name: 'Stolen' })).status).toBe(400);
    expect((await admin.get('/api/roles/not-a-uuid')).status).toBe(404);
  });

  it('shows in the audit trail (page, JSON, CSV) the role the actor held when they made the change, not the one they hold now', async () => {
    await addUser('ulla', 'Ulla', '205', 'user_admin');
    const ulla = await signIn('ulla');
    expect((await assign((await roleByKey('standard_international')).id, [ids.sam!], ulla)).status).toBe(200);
    // Promoted afterwards: her earlier change still reads as a User Admin's.
    expect((await admin.json('PATCH', `/api/users/${ids.ulla}`, { roleId: (await roleByKey('phone_system_admin')).id })).status).toBe(200);
    const events = (await (await admin.get(`/api/audit-events?actor=${ids.ulla}`)).json()) as { action: string; actorRole: string | null; targetId: string }[];
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.actorRole === 'User Admin')).toBe(true);
    const csv = await (await admin.get(`/api/audit-events/export?actor=${ids.ulla}`)).text();
    expect(csv.trim().split('\r\n').slice(1).every((line) => line.split(',')[2] === 'User Admin')).toBe(true);
    // The portal sends an admin to quick setup until it is done; this test does not walk through it.
    await db.updateTable('accounts').set({ setup_completed_at: new Date() }).where('id', '=', accountId).execute();
    const page = await (await admin.request('GET', '/admin/more/audit-trail?period=0', undefined, { accept: 'text/html' })).text();
    // The "Changed by" cell: her name, then the role she held.
    const cells = [...page.matchAll(/Ulla Test((?:(?!<\/td>).)*)<\/td>/g)].map((m) => m[1]!.match(/data-testid="audit-actor-role"[^>]*>([^<]*)</)?.[1]);
    expect(cells.length).toBeGreaterThan(0);
    expect(cells.every((role) => role === 'User Admin')).toBe(true);
    // The promotion itself was made by the Super Admin, as a Super Admin.
    const promotion = (await (await admin.get(`/api/audit-events?target=${ids.ulla}`)).json()) as { actorRole: string | null }[];
    expect(promotion[0]!.actorRole).toBe('Super Admin');
  });
});
