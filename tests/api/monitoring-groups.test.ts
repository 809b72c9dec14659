import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@carillon/db';
import { startApiProduct, type ApiProduct } from '../support/api-product.ts';
import type { HttpClient } from '../support/http-client.ts';

/**
 * Call monitoring groups through the API (issue 15 point 6, MON-02), on the running product and real
 * PostgreSQL with the unreleased area 'monitoring' shown: an administrator adds a group of monitors
 * and monitored users, saves and deletes it (audited); bad input and users that are not the
 * account's are refused with a clear error; a standard user may not read or change groups; another
 * account's group is not found.
 */
let ctx: ApiProduct;
let db: Db;
let admin: HttpClient;
let sam: HttpClient;
let other: HttpClient;
let accountId = '';
const PASSWORD = 'Meadow5Lantern';
const ext: Record<string, string> = {};

interface Group {
  id: string;
  name: string;
  monitorExtensionIds: string[];
  monitoredExtensionIds: string[];
}

beforeAll(async () => {
  ctx = await startApiProduct({
    scratchName: 'monitoring_groups',
    env: { ENABLE_UNRELEASED: 'monitoring' },
    users: [
      { extension: '2101', name: 'sam' },
      { extension: '2102', name: 'tom' },
      { extension: '2103', name: 'ann' },
    ],
    signIn: ['sam'],
    password: PASSWORD,
  });
  ({ db, admin, other, accountId } = ctx);
  sam = ctx.users.sam!;
  Object.assign(ext, ctx.extensions);
}, 120_000);

afterAll(async () => {
  expect(await ctx?.stop()).toBe(0);
});

describe('call monitoring groups API', () => {
  let group: Group;

  it('adds a group of monitors and monitored users (a user may be in both), audited', async () => {
    const res = await admin.json('POST', '/api/monitoring-groups', { name: 'Support coaching', monitorExtensionIds: [ext['2101'], ext['2103']], monitoredExtensionIds: [ext['2102'], ext['2103']] });
    expect(res.status, await res.clone().text()).toBe(201);
    group = ((await res.json()) as { group: Group }).group;
    expect(group).toMatchObject({ name: 'Support coaching', monitorExtensionIds: [ext['2101'], ext['2103']].sort(), monitoredExtensionIds: [ext['2102'], ext['2103']].sort() });
    const list = ((await (await admin.get('/api/monitoring-groups')).json()) as { groups: Group[] }).groups;
    expect(list.map((g) => g.id)).toEqual([group.id]);
    expect(((await (await admin.get(`/api/monitoring-groups/${group.id}`)).json()) as { group: Group }).group).toEqual(group);
    const audit = await db.selectFrom('audit_events').select(['action', 'target_id']).where('account_id', '=', accountId).where('action', '=', 'monitoring_group.create').execute();
    expect(audit).toEqual([{ action: 'monitoring_group.create', target_id: group.id }]);
  });

  it('refuses bad input by field, and users that are not the account\'s by id', async () => {
    const bad = async (body: unknown) => {
      const res = await admin.json('POST', '/api/monitoring-groups', body);
      return { status: res.status, body: (await res.json()) as { error: string; fields?: Record<string, string>; extensionIds?: string[] } };
    };
    const noName = await bad({ name: '  ', monitorExtensionIds: [] });
    expect(noName).toMatchObject({ status: 400, body: { error: 'invalid_body' } });
    expect(Object.keys(noName.body.fields!)).toEqual(['name']);
    expect((await bad({ name: 'X', monitorExtensionIds: ['2101'] })).body.fields).toHaveProperty('monitorExtensionIds.0');
    expect((await bad({ name: 'X', monitoredExtensionIds: [ext['2101'], ext['2101']] })).body.fields).toHaveProperty('monitoredExtensionIds');
    expect((await bad({ name: 'X', members: [] })).status).toBe(400);
    expect((await bad({ name: 'x'.repeat(61) })).body.fields).toHaveProperty('name');
    const broken = await admin.json('POST', '/api/monitoring-groups', '{nope');
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual({ error: 'invalid_json' });
    // Another account's user, and an id that is nobody's: named, nothing stored.
    const stranger = (await db.selectFrom('extensions').select('id').where('account_id', '!=', accountId).executeTakeFirstOrThrow()).id;
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(await bad({ name: 'Y', monitorExtensionIds: [ext['2101']], monitoredExtensionIds: [stranger, unknown] })).toEqual({ status: 400, body: { error: 'unknown_users', extensionIds: [stranger, unknown] } });
    const names = ((await (await admin.get('/api/monitoring-groups')).json()) as { groups: Group[] }).groups.map((g) => g.name);
    expect(names).toEqual(['Support coaching']);
  });

  it('saves a group whole (name and both lists), audited with before and after', async () => {
    const put = await admin.json('PUT', `/api/monitoring-groups/${group.id}`, { name: 'Sales QA', monitorExtensionIds: [ext['2103']], monitoredExtensionIds: [ext['2101'], ext['2102']] });
    expect(put.status, await put.clone().text()).toBe(200);
    const saved = ((await put.json()) as { group: Group }).group;
    expect(saved).toMatchObject({ id: group.id, name: 'Sales QA', monitorExtensionIds: [ext['2103']], monitoredExtensionIds: [ext['2101'], ext['2102']].sort() });
    const audit = await db.selectFrom('audit_events').select(['before', 'after']).where('account_id', '=', accountId).where('action', '=', 'monitoring_group.update').executeTakeFirstOrThrow();
    expect(audit.before).toMatchObject({ name: 'Support coaching' });
    expect(audit.after).toMatchObject({ name: 'Sales QA' });
    expect((await admin.json('PUT', `/api/monitoring-groups/${group.id}`, { name: '' })).status).toBe(400);
  });

  it('a standard user may not read or change groups', async () => {
    expect((await sam.get('/api/monitoring-groups')).status).toBe(403);
    expect((await sam.json('POST', '/api/monitoring-groups', { name: 'Mine', monitorExtensionIds: [ext['2101']], monitoredExtensionIds: [ext['2102']] })).status).toBe(403);
    expect((await sam.json('PUT', `/api/monitoring-groups/${group.id}`, { name: 'Mine' })).status).toBe(403);
    expect((await sam.json('DELETE', `/api/monitoring-groups/${group.id}`)).status).toBe(403);
  });

  it('another account does not see or reach the group (404), nor a malformed id', async () => {
    expect(((await (await other.get('/api/monitoring-groups')).json()) as { groups: Group[] }).groups).toEqual([]);
    expect((await other.get(`/api/monitoring-groups/${group.id}`)).status).toBe(404);
    expect((await other.json('PUT', `/api/monitoring-groups/${group.id}`, { name: 'Taken' })).status).toBe(404);
    expect((await other.json('DELETE', `/api/monitoring-groups/${group.id}`)).status).toBe(404);
    expect((await admin.get('/api/monitoring-groups/not-a-uuid')).status).toBe(404);
    const still = ((await (await admin.get(`/api/monitoring-groups/${group.id}`)).json()) as { group: Group }).group;
    expect(still.name).toBe('Sales QA');
  });

  it('deletes a group, audited; it is gone', async () => {
    expect((await admin.json('DELETE', `/api/monitoring-groups/${group.id}`)).status).toBe(204);
    expect((await admin.get(`/api/monitoring-groups/${group.id}`)).status).toBe(404);
    expect(await db.selectFrom('monitoring_group_members').select('group_id').where('group_id', '=', group.id).execute()).toEqual([]);
    const audit = await db.selectFrom('audit_events').select('action').where('account_id', '=', accountId).where('action', '=', 'monitoring_group.delete').execute();
    expect(audit).toHaveLength(1);
  });
});
