import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallQueue } from '@carillon/core/queues';
import type { Db } from '@carillon/db';
import { startApiProduct, type ApiProduct } from '../support/api-product.ts';
import type { HttpClient } from '../support/http-client.ts';

/**
 * Park locations (PK-01…PK-03) and directed call pickup groups (PU-02) through the API, on the running
 * product and real PostgreSQL with the unreleased area 'park' shown: an administrator adds, edits and
 * deletes them (audited); a number taken, bad input, another account's user as a member and a 101st
 * location are refused; a standard user may change nothing; another account's ids are not found.
 */
let ctx: ApiProduct;
let db: Db;
let admin: HttpClient;
let sam: HttpClient;
let other: HttpClient;
let accountId = '';
let users: { sam: string; tom: string; theirs: string };
const PASSWORD = 'Meadow5Lantern';

interface Location {
  id: string;
  number: string;
  name: string;
  enabled: boolean;
  siteId: string | null;
  memberExtensionIds: string[];
}
interface Group {
  id: string;
  name: string;
  siteId: string | null;
  memberExtensionIds: string[];
}

beforeAll(async () => {
  ctx = await startApiProduct({
    scratchName: 'park_locations',
    env: { ENABLE_UNRELEASED: 'park' },
    users: [
      { extension: '2101', name: 'sam' },
      { extension: '2102', name: 'tom' },
    ],
    signIn: ['sam'],
    password: PASSWORD,
  });
  ({ db, admin, other, accountId } = ctx);
  sam = ctx.users.sam!;
  const otherAccount = ((await (await other.get('/api/me')).json()) as { accountId: string }).accountId;
  const theirs = (await db.selectFrom('extensions').select('id').where('account_id', '=', otherAccount).where('type', '=', 'user').executeTakeFirstOrThrow()).id;
  users = { sam: ctx.extensions['2101']!, tom: ctx.extensions['2102']!, theirs };
}, 120_000);

afterAll(async () => {
  expect(await ctx?.stop()).toBe(0);
});

const fieldsOf = async (res: Response) => Object.keys(((await res.json()) as { fields: Record<string, string> }).fields).sort();
const auditActions = async (like: string) => (await db.selectFrom('audit_events').select('action').where('account_id', '=', accountId).where('action', 'like', like).orderBy('id').execute()).map((a) => a.action);

describe('park locations API', () => {
  let location: Location;

  it('adds a location with its members (an extension of type park_location, audited); refuses a number taken and bad input', async () => {
    const res = await admin.json('POST', '/api/park-locations', { name: 'Front desk', number: '801', memberExtensionIds: [users.sam, users.tom] });
    expect(res.status, await res.clone().text()).toBe(201);
    location = ((await res.json()) as { location: Location }).location;
    expect(location).toMatchObject({ number: '801', name: 'Front desk', enabled: true });
    expect([...location.memberExtensionIds].sort()).toEqual([users.sam, users.tom].sort());
    expect(await db.selectFrom('extensions').select(['type', 'status']).where('id', '=', location.id).executeTakeFirstOrThrow()).toEqual({ type: 'park_location', status: 'activated' });

    const taken = await admin.json('POST', '/api/park-locations', { name: 'Clash', number: '2101' });
    expect(taken.status).toBe(409);
    expect(await taken.json()).toMatchObject({ error: 'number_taken' });
    const bad = await admin.json('POST', '/api/park-locations', { name: '', number: '8a', memberExtensionIds: ['x'] });
    expect(bad.status).toBe(400);
    expect(await fieldsOf(bad)).toEqual(['memberExtensionIds.0', 'name', 'number']);
    expect((await admin.json('POST', '/api/park-locations', { name: 'Dup', number: '802', memberExtensionIds: [users.sam, users.sam] })).status).toBe(400);
    expect((await admin.json('POST', '/api/park-locations', { name: 'Extra', number: '803', colour: 'red' })).status).toBe(400);
    // Another account's user cannot be a member: refused whole, nothing created.
    const theirs = await admin.json('POST', '/api/park-locations', { name: 'Theirs', number: '804', memberExtensionIds: [users.sam, users.theirs] });
    expect(theirs.status).toBe(400);
    expect(await fieldsOf(theirs)).toEqual(['memberExtensionIds']);
    // A park location is not a user: it cannot be a member of another.
    expect((await admin.json('POST', '/api/park-locations', { name: 'Nested', number: '805', memberExtensionIds: [location.id] })).status).toBe(400);

    const list = ((await (await admin.get('/api/park-locations')).json()) as { locations: Location[] }).locations;
    expect(list.map((l) => l.number)).toEqual(['801']);
    expect(await auditActions('park_location.%')).toEqual(['park_location.create']);
  });

  it('edits the name, number, status and members; a field left out is kept', async () => {
    const res = await admin.json('PATCH', `/api/park-locations/${location.id}`, { name: 'Lobby', number: '810', enabled: false, memberExtensionIds: [users.tom] });
    expect(res.status, await res.clone().text()).toBe(200);
    const saved = ((await res.json()) as { location: Location }).location;
    expect(saved).toMatchObject({ id: location.id, name: 'Lobby', number: '810', enabled: false, memberExtensionIds: [users.tom] });
    const again = await admin.json('PATCH', `/api/park-locations/${location.id}`, { enabled: true });
    expect(((await again.json()) as { location: Location }).location).toEqual({ ...saved, enabled: true });
    expect((await admin.json('PATCH', `/api/park-locations/${location.id}`, { number: '2102' })).status).toBe(409);
    expect((await admin.json('PATCH', `/api/park-locations/${location.id}`, { enabled: 'yes' })).status).toBe(400);
    expect((await admin.json('PATCH', `/api/park-locations/${location.id}`, { memberExtensionIds: [users.theirs] })).status).toBe(400);
    location = ((await (await admin.get(`/api/park-locations/${location.id}`)).json()) as { location: Location }).location;
    expect(location).toEqual({ ...saved, enabled: true });
  });

  it("PK-03: takes a call queue's user only with all the queue's members, and says who is missing", async () => {
    const queue = await createCallQueue(db, { userId: null, ip: null }, accountId, { number: '600', name: 'Sales' });
    await db
      .insertInto('call_queue_members')
      .values([users.sam, users.tom].map((m, position) => ({ account_id: accountId, queue_extension_id: queue.extensionId, member_extension_id: m, position })))
      .execute();
    const partial = await admin.json('PATCH', `/api/park-locations/${location.id}`, { memberExtensionIds: [users.sam] });
    expect(partial.status).toBe(400);
    expect(await partial.json()).toMatchObject({ error: 'incomplete_queue', detail: 'incomplete_queue: 600: 2102' });
    expect(((await (await admin.get(`/api/park-locations/${location.id}`)).json()) as { location: Location }).location).toEqual(location);
    const whole = await admin.json('PATCH', `/api/park-locations/${location.id}`, { memberExtensionIds: [users.sam, users.tom] });
    expect(whole.status, await whole.clone().text()).toBe(200);
    location = ((await whole.json()) as { location: Location }).location;
    await db.deleteFrom('extensions').where('id', '=', queue.extensionId).execute();
  });

  it('refuses the 101st park location of an account with a clear error', async () => {
    // 99 more through the route (it counts under a lock on the account), then the 101st.
    for (let i = 1; i < 100; i++) {
      const res = await admin.json('POST', '/api/park-locations', { name: `P${i}`, number: String(8100 + i) });
      expect(res.status, `location ${i + 1}`).toBe(201);
    }
    const refused = await admin.json('POST', '/api/park-locations', { name: 'P101', number: '8300' });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toEqual({ error: 'too_many_locations', detail: 'too_many_locations: an account has at most 100 park locations' });
    expect(((await (await admin.get('/api/park-locations')).json()) as { locations: Location[] }).locations).toHaveLength(100);
    // Another account has its own 100.
    expect((await other.json('POST', '/api/park-locations', { name: 'Theirs', number: '8300' })).status).toBe(201);
    for (const l of ((await (await admin.get('/api/park-locations')).json()) as { locations: Location[] }).locations) {
      if (l.id !== location.id) expect((await admin.json('DELETE', `/api/park-locations/${l.id}`)).status).toBe(204);
    }
  }, 120_000);

  it('lets a standard user read nothing and change nothing', async () => {
    expect((await sam.get('/api/park-locations')).status).toBe(403);
    expect((await sam.json('POST', '/api/park-locations', { name: 'Mine', number: '8400' })).status).toBe(403);
    expect((await sam.json('PATCH', `/api/park-locations/${location.id}`, { name: 'Mine' })).status).toBe(403);
    expect((await sam.json('DELETE', `/api/park-locations/${location.id}`)).status).toBe(403);
  });

  it("does not show another account's location, nor let it be changed or deleted", async () => {
    expect((await other.get(`/api/park-locations/${location.id}`)).status).toBe(404);
    expect((await other.json('PATCH', `/api/park-locations/${location.id}`, { name: 'Mallory' })).status).toBe(404);
    expect((await other.json('DELETE', `/api/park-locations/${location.id}`)).status).toBe(404);
    expect(((await (await other.get('/api/park-locations')).json()) as { locations: Location[] }).locations.map((l) => l.number)).toEqual(['8300']);
    expect((await admin.get('/api/park-locations/not-a-uuid')).status).toBe(404);
    expect(((await (await admin.get(`/api/park-locations/${location.id}`)).json()) as { location: Location }).location.name).toBe('Lobby');
  });

  it('deletes a location with its members (audited)', async () => {
    expect((await admin.json('DELETE', `/api/park-locations/${location.id}`)).status).toBe(204);
    expect((await admin.get(`/api/park-locations/${location.id}`)).status).toBe(404);
    expect((await admin.json('DELETE', `/api/park-locations/${location.id}`)).status).toBe(404);
    expect(await db.selectFrom('park_location_members').select('member_extension_id').where('park_extension_id', '=', location.id).execute()).toEqual([]);
    const mine = (await db.selectFrom('audit_events').select('action').where('account_id', '=', accountId).where('target_id', '=', location.id).orderBy('id').execute()).map((a) => a.action);
    expect(mine).toEqual(['park_location.create', 'park_location.update', 'park_location.update', 'park_location.update', 'park_location.delete']);
  });
});

describe('pickup groups API', () => {
  let group: Group;

  it('adds a group with members of any site (audited); refuses bad input and another account’s user or site', async () => {
    const site = await admin.json('POST', '/api/sites', { name: 'Lyon' });
    expect(site.status, await site.clone().text()).toBe(201);
    const lyon = ((await site.json()) as { id: string }).id;
    // Tom moves to Lyon: a group of the main site still takes him (PU-02: members from other sites).
    await db.updateTable('extensions').set({ site_id: lyon }).where('id', '=', users.tom).execute();
    const res = await admin.json('POST', '/api/pickup-groups', { name: 'Emerald', memberExtensionIds: [users.sam, users.tom] });
    expect(res.status, await res.clone().text()).toBe(201);
    group = ((await res.json()) as { group: Group }).group;
    expect(group).toMatchObject({ name: 'Emerald', siteId: null });
    expect([...group.memberExtensionIds].sort()).toEqual([users.sam, users.tom].sort());

    const bad = await admin.json('POST', '/api/pickup-groups', { name: ' ', memberExtensionIds: 'all' });
    expect(bad.status).toBe(400);
    expect(await fieldsOf(bad)).toEqual(['memberExtensionIds', 'name']);
    const theirs = await admin.json('POST', '/api/pickup-groups', { name: 'Theirs', memberExtensionIds: [users.theirs] });
    expect(theirs.status).toBe(400);
    expect(await fieldsOf(theirs)).toEqual(['memberExtensionIds']);
    const theirSite = (await (await other.get('/api/me')).json()) as { siteId: string };
    const badSite = await admin.json('POST', '/api/pickup-groups', { name: 'Elsewhere', siteId: theirSite.siteId });
    expect(badSite.status).toBe(400);
    expect(await fieldsOf(badSite)).toEqual(['siteId']);
    expect(((await (await admin.get('/api/pickup-groups')).json()) as { groups: Group[] }).groups.map((g) => g.name)).toEqual(['Emerald']);

    const edited = await admin.json('PATCH', `/api/pickup-groups/${group.id}`, { name: 'Ruby', siteId: lyon, memberExtensionIds: [users.tom] });
    expect(edited.status, await edited.clone().text()).toBe(200);
    group = ((await edited.json()) as { group: Group }).group;
    expect(group).toEqual({ id: group.id, name: 'Ruby', siteId: lyon, memberExtensionIds: [users.tom] });
    expect(((await (await admin.json('PATCH', `/api/pickup-groups/${group.id}`, { name: 'Jade' })).json()) as { group: Group }).group).toEqual({ ...group, name: 'Jade' });
    group = { ...group, name: 'Jade' };
  });

  it('is the account’s own: a standard user changes nothing, another account finds nothing', async () => {
    expect((await sam.get('/api/pickup-groups')).status).toBe(403);
    expect((await sam.json('POST', '/api/pickup-groups', { name: 'Mine' })).status).toBe(403);
    expect((await sam.json('PATCH', `/api/pickup-groups/${group.id}`, { name: 'Mine' })).status).toBe(403);
    expect((await sam.json('DELETE', `/api/pickup-groups/${group.id}`)).status).toBe(403);
    expect((await other.get(`/api/pickup-groups/${group.id}`)).status).toBe(404);
    expect((await other.json('PATCH', `/api/pickup-groups/${group.id}`, { name: 'Mallory' })).status).toBe(404);
    expect((await other.json('DELETE', `/api/pickup-groups/${group.id}`)).status).toBe(404);
    expect(((await (await other.get('/api/pickup-groups')).json()) as { groups: Group[] }).groups).toEqual([]);
    expect(((await (await admin.get(`/api/pickup-groups/${group.id}`)).json()) as { group: Group }).group).toEqual(group);
  });

  it('deletes a group with its members (audited)', async () => {
    expect((await admin.json('DELETE', `/api/pickup-groups/${group.id}`)).status).toBe(204);
    expect((await admin.get(`/api/pickup-groups/${group.id}`)).status).toBe(404);
    expect(await db.selectFrom('pickup_group_members').select('extension_id').where('group_id', '=', group.id).execute()).toEqual([]);
    expect(await auditActions('pickup_group.%')).toEqual(['pickup_group.create', 'pickup_group.update', 'pickup_group.update', 'pickup_group.delete']);
  });
});
