import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@carillon/db';
import { startApiProduct, type ApiProduct } from '../support/api-product.ts';
import type { HttpClient } from '../support/http-client.ts';

/**
 * Paging-only groups through the API (issue 15 point 2; inventory 2 §11 PG-02, PG-03), on the
 * running product and real PostgreSQL with the unreleased area 'paging' shown: an administrator adds
 * a group with its receiving devices and the users allowed to page, edits and deletes it (audited);
 * a number taken, bad input, more receivers than a page reaches and another account's device or user
 * are refused; a standard user may change nothing; another account's group is not found.
 */
let ctx: ApiProduct;
let db: Db;
let admin: HttpClient;
let sam: HttpClient;
let other: HttpClient;
let accountId = '';
let users: { sam: string; tom: string };
let devices: { mine: string[]; theirs: string; theirExtension: string };
const PASSWORD = 'Meadow5Lantern';

interface Group {
  id: string;
  number: string;
  name: string;
  enabled: boolean;
  receiverDeviceIds: string[];
  pagerExtensionIds: string[];
}

async function addDevice(account: string, extensionId: string): Promise<string> {
  const row = await db
    .insertInto('devices')
    .values({ account_id: account, extension_id: extensionId, type: 'paging', name: 'Warehouse Paging Device', sip_username: `pg${randomBytes(6).toString('hex')}` })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

beforeAll(async () => {
  ctx = await startApiProduct({
    scratchName: 'paging_groups',
    env: { ENABLE_UNRELEASED: 'paging' },
    users: [
      { extension: '2101', name: 'sam' },
      { extension: '2102', name: 'tom' },
    ],
    signIn: ['sam'],
    password: PASSWORD,
  });
  ({ db, admin, other, accountId } = ctx);
  sam = ctx.users.sam!;
  users = { sam: ctx.extensions['2101']!, tom: ctx.extensions['2102']! };
  const otherAccount = ((await (await other.get('/api/me')).json()) as { accountId: string; extensionId?: string }).accountId;
  const theirExtension = (await db.selectFrom('extensions').select('id').where('account_id', '=', otherAccount).where('type', '=', 'user').executeTakeFirstOrThrow()).id;
  devices = { mine: [await addDevice(accountId, users.sam), await addDevice(accountId, users.tom)], theirs: await addDevice(otherAccount, theirExtension), theirExtension };
}, 120_000);

afterAll(async () => {
  expect(await ctx?.stop()).toBe(0);
});

describe('paging groups API', () => {
  let group: Group;

  it('adds a group with its receivers and pagers (audited); refuses a number taken and bad input', async () => {
    const res = await admin.json('POST', '/api/paging-groups', { name: 'Warehouse', number: '7100', receiverDeviceIds: devices.mine, pagerExtensionIds: [users.sam] });
    expect(res.status, await res.clone().text()).toBe(201);
    group = ((await res.json()) as { group: Group }).group;
    expect(group).toMatchObject({ number: '7100', name: 'Warehouse', enabled: true, pagerExtensionIds: [users.sam] });
    expect([...group.receiverDeviceIds].sort()).toEqual([...devices.mine].sort());
    // The group is an extension of type 'paging': the dial plan pages it with *84 + 7100.
    expect(await db.selectFrom('extensions').select(['type', 'status']).where('id', '=', group.id).executeTakeFirstOrThrow()).toEqual({ type: 'paging', status: 'activated' });

    expect((await admin.json('POST', '/api/paging-groups', { name: 'Clash', number: '2101' })).status).toBe(409);
    const bad = await admin.json('POST', '/api/paging-groups', { name: '', number: 'abc', receiverDeviceIds: ['x'] });
    expect(bad.status).toBe(400);
    expect(Object.keys(((await bad.json()) as { fields: Record<string, string> }).fields).sort()).toEqual(['name', 'number', 'receiverDeviceIds.0']);
    expect((await admin.json('POST', '/api/paging-groups', { name: 'Dup', number: '7101', pagerExtensionIds: [users.sam, users.sam] })).status).toBe(400);
    expect((await admin.json('POST', '/api/paging-groups', { name: 'Extra', number: '7102', colour: 'red' })).status).toBe(400);
    // More receivers than one page reaches (50).
    const many = Array.from({ length: 51 }, () => crypto.randomUUID());
    expect((await admin.json('POST', '/api/paging-groups', { name: 'Many', number: '7103', receiverDeviceIds: many })).status).toBe(400);

    const list = ((await (await admin.get('/api/paging-groups')).json()) as { groups: Group[] }).groups;
    expect(list.map((g) => g.number)).toEqual(['7100']);
    const audit = await db.selectFrom('audit_events').select(['action', 'target_id']).where('account_id', '=', accountId).where('action', 'like', 'paging_group.%').execute();
    expect(audit).toEqual([{ action: 'paging_group.create', target_id: group.id }]);
  });

  it("refuses another account's device as a receiver and another account's user as a pager, changing nothing", async () => {
    const device = await admin.json('POST', '/api/paging-groups', { name: 'Theirs', number: '7104', receiverDeviceIds: [devices.theirs] });
    expect(device.status).toBe(400);
    expect(((await device.json()) as { fields: Record<string, string> }).fields).toHaveProperty('receiverDeviceIds');
    const pager = await admin.json('PATCH', `/api/paging-groups/${group.id}`, { pagerExtensionIds: [devices.theirExtension] });
    expect(pager.status).toBe(400);
    expect(((await pager.json()) as { fields: Record<string, string> }).fields).toHaveProperty('pagerExtensionIds');
    // A paging group is not a user: it cannot page another group.
    expect((await admin.json('PATCH', `/api/paging-groups/${group.id}`, { pagerExtensionIds: [group.id] })).status).toBe(400);
    expect(((await (await admin.get('/api/paging-groups')).json()) as { groups: Group[] }).groups.map((g) => g.number)).toEqual(['7100']);
    expect(((await (await admin.get(`/api/paging-groups/${group.id}`)).json()) as { group: Group }).group).toEqual(group);
  });

  it('edits the name, number, status and lists; a field left out is kept', async () => {
    const res = await admin.json('PATCH', `/api/paging-groups/${group.id}`, { name: 'Dock', number: '7110', enabled: false, receiverDeviceIds: [devices.mine[0]], pagerExtensionIds: [users.sam, users.tom] });
    expect(res.status, await res.clone().text()).toBe(200);
    const saved = ((await res.json()) as { group: Group }).group;
    expect(saved).toMatchObject({ id: group.id, name: 'Dock', number: '7110', enabled: false, receiverDeviceIds: [devices.mine[0]] });
    expect([...saved.pagerExtensionIds].sort()).toEqual([users.sam, users.tom].sort());
    const again = await admin.json('PATCH', `/api/paging-groups/${group.id}`, { enabled: true });
    expect(((await again.json()) as { group: Group }).group).toEqual({ ...saved, enabled: true });
    expect((await admin.json('PATCH', `/api/paging-groups/${group.id}`, { number: '2102' })).status).toBe(409);
    expect((await admin.json('PATCH', `/api/paging-groups/${group.id}`, { enabled: 'yes' })).status).toBe(400);
    group = { ...saved, enabled: true };
  });

  it('lets a standard user read nothing and change nothing', async () => {
    expect((await sam.get('/api/paging-groups')).status).toBe(403);
    expect((await sam.json('POST', '/api/paging-groups', { name: 'Mine', number: '7200' })).status).toBe(403);
    expect((await sam.json('PATCH', `/api/paging-groups/${group.id}`, { name: 'Mine' })).status).toBe(403);
    expect((await sam.json('DELETE', `/api/paging-groups/${group.id}`)).status).toBe(403);
  });

  it("does not show another account's group, nor let it be changed or deleted", async () => {
    expect((await other.get(`/api/paging-groups/${group.id}`)).status).toBe(404);
    expect((await other.json('PATCH', `/api/paging-groups/${group.id}`, { name: 'Mallory' })).status).toBe(404);
    expect((await other.json('DELETE', `/api/paging-groups/${group.id}`)).status).toBe(404);
    expect(((await (await other.get('/api/paging-groups')).json()) as { groups: Group[] }).groups).toEqual([]);
    expect((await admin.get('/api/paging-groups/not-a-uuid')).status).toBe(404);
    expect(((await (await admin.get(`/api/paging-groups/${group.id}`)).json()) as { group: Group }).group.name).toBe('Dock');
  });

  it('deletes a group with its lists (audited)', async () => {
    expect((await admin.json('DELETE', `/api/paging-groups/${group.id}`)).status).toBe(204);
    expect((await admin.get(`/api/paging-groups/${group.id}`)).status).toBe(404);
    expect((await admin.json('DELETE', `/api/paging-groups/${group.id}`)).status).toBe(404);
    expect(await db.selectFrom('paging_group_receivers').select('device_id').where('paging_extension_id', '=', group.id).execute()).toEqual([]);
    expect(await db.selectFrom('paging_group_pagers').select('pager_extension_id').where('paging_extension_id', '=', group.id).execute()).toEqual([]);
    const actions = (await db.selectFrom('audit_events').select('action').where('account_id', '=', accountId).where('action', 'like', 'paging_group.%').orderBy('id').execute()).map((a) => a.action);
    expect(actions).toEqual(['paging_group.create', 'paging_group.update', 'paging_group.update', 'paging_group.delete']);
  });
});
