import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';
import {
  canAddParkLocation,
  mayPickUp,
  parkLocationInput,
  parkLocationUpdate,
  pickupGroupInput,
  pickupGroupUpdate,
  queueMembersLeftOut,
  MAX_PARK_LOCATIONS,
  type ParkLocationInput,
  type ParkLocationUpdate,
  type PickupGroupInput,
  type PickupGroupUpdate,
} from '@carillon/domain';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { announceConfigChange } from '../accounts/config-changes.ts';

/**
 * Park locations (PK-01…PK-03) and directed call pickup groups (PU-01,
 * PU-02), stored: a park location is an extension of type 'park_location'
 * with members; a pickup group is a named set of extensions. Every query is
 * scoped to the account; whoever calls the writers has checked the right.
 */
type Db = Kysely<Database>;

/**
 * A refused change of a park location or a pickup group: a number taken, the
 * 100 locations reached (PK-01), a member or a site that is not the account's,
 * a call queue's user added without the queue's other members (PK-03).
 */
export class ParkError extends Error {
  readonly code: 'number_taken' | 'too_many_locations' | 'bad_member' | 'bad_site' | 'incomplete_queue';
  constructor(code: ParkError['code'], detail: string) {
    super(`${code}: ${detail}`);
    this.name = 'ParkError';
    this.code = code;
  }
}

/** Members must be extensions of users (or limited extensions) of the same account: anything else is refused, never stored. */
async function checkMembers(db: Db, accountId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const rows = await db.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('id', 'in', ids).where('type', 'in', ['user', 'limited']).execute();
  if (rows.length !== ids.length) throw new ParkError('bad_member', "a member is not a user's extension of this account");
}

async function numberTaken(db: Db, accountId: string, number: string, except: string | null): Promise<void> {
  let q = db.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('number', '=', number);
  if (except) q = q.where('id', '!=', except);
  if (await q.executeTakeFirst()) throw new ParkError('number_taken', `extension ${number} already exists`);
}

/** The site of the account named, or its main site when none is. */
async function siteOf(db: Db, accountId: string, siteId: string | null): Promise<string> {
  const site = siteId
    ? await db.selectFrom('sites').select('id').where('account_id', '=', accountId).where('id', '=', siteId).executeTakeFirst()
    : await db.selectFrom('sites').select('id').where('account_id', '=', accountId).where('is_main', '=', true).executeTakeFirst();
  if (!site) throw new ParkError('bad_site', 'not a site of this account');
  return site.id;
}

/** PK-03: a location that takes one user of a call queue takes all of them; the refusal names each queue and who is left out, by extension number. */
async function checkQueuesComplete(db: Db, accountId: string, members: readonly string[]): Promise<void> {
  if (members.length === 0) return;
  const rows = await db
    .selectFrom('call_queue_members as mine')
    .innerJoin('call_queue_members as all', (j) => j.onRef('all.queue_extension_id', '=', 'mine.queue_extension_id').onRef('all.account_id', '=', 'mine.account_id'))
    .innerJoin('extensions as q', (j) => j.onRef('q.id', '=', 'all.queue_extension_id').onRef('q.account_id', '=', 'all.account_id'))
    .innerJoin('extensions as m', (j) => j.onRef('m.id', '=', 'all.member_extension_id').onRef('m.account_id', '=', 'all.account_id'))
    .select(['q.number as queue', 'all.member_extension_id as member', 'm.number as memberNumber'])
    .where('mine.account_id', '=', accountId)
    .where('mine.member_extension_id', 'in', members)
    .distinct()
    .execute();
  const queues = new Map<string, string[]>();
  for (const r of rows) queues.set(r.queue, [...(queues.get(r.queue) ?? []), r.member]);
  const left = queueMembersLeftOut(members, [...queues].map(([queue, m]) => ({ queue, members: m })));
  if (left.length === 0) return;
  const numberOf = new Map(rows.map((r) => [r.member, r.memberNumber]));
  const detail = left.map((q) => `${q.queue}: ${q.missing.map((m) => numberOf.get(m)).sort().join(', ')}`).join('; ');
  throw new ParkError('incomplete_queue', detail);
}

async function replaceParkMembers(db: Db, accountId: string, parkExtensionId: string, members: readonly string[]): Promise<void> {
  await checkMembers(db, accountId, members);
  await checkQueuesComplete(db, accountId, members);
  await db.deleteFrom('park_location_members').where('account_id', '=', accountId).where('park_extension_id', '=', parkExtensionId).execute();
  if (members.length) await db.insertInto('park_location_members').values(members.map((m) => ({ account_id: accountId, park_extension_id: parkExtensionId, member_extension_id: m }))).execute();
}

async function replacePickupMembers(db: Db, accountId: string, groupId: string, members: readonly string[]): Promise<void> {
  await checkMembers(db, accountId, members);
  await db.deleteFrom('pickup_group_members').where('account_id', '=', accountId).where('group_id', '=', groupId).execute();
  if (members.length) await db.insertInto('pickup_group_members').values(members.map((m) => ({ group_id: groupId, account_id: accountId, extension_id: m }))).execute();
}

export interface ParkLocationView {
  id: string;
  number: string;
  name: string | null;
  enabled: boolean;
  siteId: string | null;
  memberExtensionIds: string[];
}

/**
 * PK-02: a new park location (an extension) with its members. The count and
 * the insert run under a lock on the account row, so two admins cannot both
 * create the 100th location.
 */
export async function createParkLocation(db: Db, actor: AuditActor, accountId: string, input: ParkLocationInput): Promise<string> {
  const data = parkLocationInput.parse(input);
  const id = await db.transaction().execute(async (trx) => {
    await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().executeTakeFirstOrThrow();
    const { count } = await trx.selectFrom('extensions').select((e) => e.fn.countAll<string>().as('count')).where('account_id', '=', accountId).where('type', '=', 'park_location').executeTakeFirstOrThrow();
    if (!canAddParkLocation(Number(count))) throw new ParkError('too_many_locations', `an account has at most ${MAX_PARK_LOCATIONS} park locations`);
    await numberTaken(trx, accountId, data.number, null);
    const siteId = await siteOf(trx, accountId, data.siteId);
    const ext = await trx
      .insertInto('extensions')
      .values({ account_id: accountId, site_id: siteId, number: data.number, type: 'park_location', status: data.enabled ? 'activated' : 'disabled', name: data.name })
      .returning('id')
      .executeTakeFirstOrThrow();
    await replaceParkMembers(trx, accountId, ext.id, data.memberExtensionIds);
    await recordAudit(trx, actor, { accountId, action: 'park_location.create', targetType: 'extension', targetId: ext.id, after: data });
    return ext.id;
  });
  await announceConfigChange(accountId, 'extensions');
  return id;
}

/** PK-02 Details (number, name, status) and PK-03 members. False when the location is not the account's. */
export async function updateParkLocation(db: Db, actor: AuditActor, accountId: string, parkExtensionId: string, input: ParkLocationUpdate): Promise<boolean> {
  const data = parkLocationUpdate.parse(input);
  const found = await db.transaction().execute(async (trx) => {
    const loc = await trx.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('id', '=', parkExtensionId).where('type', '=', 'park_location').forUpdate().executeTakeFirst();
    if (!loc) return false;
    const before = await loadParkLocation(trx, accountId, parkExtensionId);
    if (data.number !== undefined) await numberTaken(trx, accountId, data.number, parkExtensionId);
    const siteId = data.siteId !== undefined ? await siteOf(trx, accountId, data.siteId) : undefined;
    const set = {
      ...(data.number !== undefined ? { number: data.number } : {}),
      ...(data.name !== undefined ? { name: data.name } : {}),
      ...(data.enabled !== undefined ? { status: data.enabled ? ('activated' as const) : ('disabled' as const) } : {}),
      ...(siteId ? { site_id: siteId } : {}),
    };
    if (Object.keys(set).length) await trx.updateTable('extensions').set(set).where('account_id', '=', accountId).where('id', '=', parkExtensionId).execute();
    if (data.memberExtensionIds) await replaceParkMembers(trx, accountId, parkExtensionId, data.memberExtensionIds);
    await recordAudit(trx, actor, { accountId, action: 'park_location.update', targetType: 'extension', targetId: parkExtensionId, before, after: data });
    return true;
  });
  if (found) await announceConfigChange(accountId, 'extensions');
  return found;
}

/** PK-03: replaces a location's members. False when the location is not the account's. */
export async function setParkLocationMembers(db: Db, actor: AuditActor, accountId: string, parkExtensionId: string, memberExtensionIds: readonly string[]): Promise<boolean> {
  return updateParkLocation(db, actor, accountId, parkExtensionId, { memberExtensionIds: [...memberExtensionIds] });
}

/** Deletes a park location: its extension goes, its members with it (cascade). A call parked there stays until retrieved, recalled or hung up. */
export async function deleteParkLocation(db: Db, actor: AuditActor, accountId: string, parkExtensionId: string): Promise<boolean> {
  const found = await db.transaction().execute(async (trx) => {
    const before = await loadParkLocation(trx, accountId, parkExtensionId);
    if (!before) return false;
    await trx.deleteFrom('extensions').where('account_id', '=', accountId).where('id', '=', parkExtensionId).where('type', '=', 'park_location').execute();
    await recordAudit(trx, actor, { accountId, action: 'park_location.delete', targetType: 'extension', targetId: parkExtensionId, before });
    return true;
  });
  if (found) await announceConfigChange(accountId, 'extensions');
  return found;
}

type ExtensionRow = { id: string; number: string; name: string | null; status: string; site_id: string | null };
const parkView = (l: ExtensionRow, members: readonly { park_extension_id: string; member_extension_id: string }[]): ParkLocationView => ({
  id: l.id,
  number: l.number,
  name: l.name,
  enabled: l.status !== 'disabled',
  siteId: l.site_id,
  memberExtensionIds: members.filter((m) => m.park_extension_id === l.id).map((m) => m.member_extension_id),
});

/** One park location of the account; null when the extension is not a park location of this account. */
export async function loadParkLocation(db: Db, accountId: string, parkExtensionId: string): Promise<ParkLocationView | null> {
  const loc = await db.selectFrom('extensions').select(['id', 'number', 'name', 'status', 'site_id']).where('account_id', '=', accountId).where('id', '=', parkExtensionId).where('type', '=', 'park_location').executeTakeFirst();
  if (!loc) return null;
  const members = await db.selectFrom('park_location_members').select(['park_extension_id', 'member_extension_id']).where('account_id', '=', accountId).where('park_extension_id', '=', parkExtensionId).orderBy('member_extension_id').execute();
  return parkView(loc, members);
}

export async function listParkLocations(db: Db, accountId: string): Promise<ParkLocationView[]> {
  const locations = await db.selectFrom('extensions').select(['id', 'number', 'name', 'status', 'site_id']).where('account_id', '=', accountId).where('type', '=', 'park_location').orderBy('number').execute();
  const members = await db.selectFrom('park_location_members').select(['park_extension_id', 'member_extension_id']).where('account_id', '=', accountId).orderBy('member_extension_id').execute();
  return locations.map((l) => parkView(l, members));
}

/** The members of one park location (media-server reads them for each park and retrieval). */
export async function parkLocationMembers(db: Db, accountId: string, parkExtensionId: string): Promise<string[]> {
  const rows = await db.selectFrom('park_location_members').select('member_extension_id').where('account_id', '=', accountId).where('park_extension_id', '=', parkExtensionId).execute();
  return rows.map((r) => r.member_extension_id);
}

export interface PickupGroupView {
  id: string;
  name: string;
  siteId: string | null;
  memberExtensionIds: string[];
}

/** PU-02: a pickup group with its members (from any site). */
export async function createPickupGroup(db: Db, actor: AuditActor, accountId: string, input: PickupGroupInput): Promise<string> {
  const data = pickupGroupInput.parse(input);
  const id = await db.transaction().execute(async (trx) => {
    if (data.siteId) await siteOf(trx, accountId, data.siteId);
    const group = await trx.insertInto('pickup_groups').values({ account_id: accountId, site_id: data.siteId, name: data.name }).returning('id').executeTakeFirstOrThrow();
    await replacePickupMembers(trx, accountId, group.id, data.memberExtensionIds);
    await recordAudit(trx, actor, { accountId, action: 'pickup_group.create', targetType: 'pickup_group', targetId: group.id, after: data });
    return group.id;
  });
  await announceConfigChange(accountId, 'extensions');
  return id;
}

/** Edits a pickup group's name, site or members. False when the group is not the account's. */
export async function updatePickupGroup(db: Db, actor: AuditActor, accountId: string, groupId: string, input: PickupGroupUpdate): Promise<boolean> {
  const data = pickupGroupUpdate.parse(input);
  const found = await db.transaction().execute(async (trx) => {
    const group = await trx.selectFrom('pickup_groups').select('id').where('account_id', '=', accountId).where('id', '=', groupId).forUpdate().executeTakeFirst();
    if (!group) return false;
    const before = await loadPickupGroup(trx, accountId, groupId);
    if (data.siteId) await siteOf(trx, accountId, data.siteId);
    const set = { ...(data.name !== undefined ? { name: data.name } : {}), ...(data.siteId !== undefined ? { site_id: data.siteId } : {}) };
    if (Object.keys(set).length) await trx.updateTable('pickup_groups').set(set).where('account_id', '=', accountId).where('id', '=', groupId).execute();
    if (data.memberExtensionIds) await replacePickupMembers(trx, accountId, groupId, data.memberExtensionIds);
    await recordAudit(trx, actor, { accountId, action: 'pickup_group.update', targetType: 'pickup_group', targetId: groupId, before, after: data });
    return true;
  });
  if (found) await announceConfigChange(accountId, 'extensions');
  return found;
}

/** Replaces a pickup group's members. False when the group is not the account's. */
export async function setPickupGroupMembers(db: Db, actor: AuditActor, accountId: string, groupId: string, memberExtensionIds: readonly string[]): Promise<boolean> {
  return updatePickupGroup(db, actor, accountId, groupId, { memberExtensionIds: [...memberExtensionIds] });
}

export async function deletePickupGroup(db: Db, actor: AuditActor, accountId: string, groupId: string): Promise<boolean> {
  const found = await db.transaction().execute(async (trx) => {
    const before = await loadPickupGroup(trx, accountId, groupId);
    if (!before) return false;
    await trx.deleteFrom('pickup_groups').where('account_id', '=', accountId).where('id', '=', groupId).execute();
    await recordAudit(trx, actor, { accountId, action: 'pickup_group.delete', targetType: 'pickup_group', targetId: groupId, before });
    return true;
  });
  if (found) await announceConfigChange(accountId, 'extensions');
  return found;
}

/** One pickup group of the account; null when it is not the account's. */
export async function loadPickupGroup(db: Db, accountId: string, groupId: string): Promise<PickupGroupView | null> {
  const g = await db.selectFrom('pickup_groups').select(['id', 'name', 'site_id']).where('account_id', '=', accountId).where('id', '=', groupId).executeTakeFirst();
  if (!g) return null;
  const members = await db.selectFrom('pickup_group_members').select('extension_id').where('account_id', '=', accountId).where('group_id', '=', groupId).orderBy('extension_id').execute();
  return { id: g.id, name: g.name, siteId: g.site_id, memberExtensionIds: members.map((m) => m.extension_id) };
}

export async function listPickupGroups(db: Db, accountId: string): Promise<PickupGroupView[]> {
  const groups = await db.selectFrom('pickup_groups').select(['id', 'name', 'site_id']).where('account_id', '=', accountId).orderBy('name').execute();
  const members = await db.selectFrom('pickup_group_members').select(['group_id', 'extension_id']).where('account_id', '=', accountId).orderBy('extension_id').execute();
  return groups.map((g) => ({ id: g.id, name: g.name, siteId: g.site_id, memberExtensionIds: members.filter((m) => m.group_id === g.id).map((m) => m.extension_id) }));
}

/**
 * PU-01: whether `dialler` may pick up a call ringing on `target`: the groups
 * the dialler is in, with their members, read in one statement and judged by
 * the domain rule.
 */
export async function pickupAllowed(db: Db, accountId: string, diallerExtensionId: string, targetExtensionId: string): Promise<boolean> {
  const rows = await db
    .selectFrom('pickup_group_members as mine')
    .innerJoin('pickup_group_members as other', (j) => j.onRef('other.group_id', '=', 'mine.group_id').onRef('other.account_id', '=', 'mine.account_id'))
    .select('mine.group_id')
    .where('mine.account_id', '=', accountId)
    .where('mine.extension_id', '=', diallerExtensionId)
    .where('other.extension_id', '=', targetExtensionId)
    .execute();
  // Each row is a group holding both extensions.
  const groups = rows.map(() => ({ members: [diallerExtensionId, targetExtensionId] }));
  return mayPickUp(groups, diallerExtensionId, targetExtensionId);
}
