import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';
import { canAddParkLocation, mayPickUp, parkLocationInput, pickupGroupInput, MAX_PARK_LOCATIONS, type ParkLocationInput, type PickupGroupInput } from '@carillon/domain';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { announceConfigChange } from '../accounts/config-changes.ts';

/**
 * Park locations (PK-01…PK-03) and directed call pickup groups (PU-01,
 * PU-02), stored: a park location is an extension of type 'park_location'
 * with members; a pickup group is a named set of extensions. Every query is
 * scoped to the account; whoever calls the writers has checked the right.
 */
type Db = Kysely<Database>;

export class ParkLocationLimitError extends Error {
  constructor() {
    super(`an account has at most ${MAX_PARK_LOCATIONS} park locations`);
    this.name = 'ParkLocationLimitError';
  }
}

export class ExtensionNumberTakenError extends Error {
  constructor(number: string) {
    super(`extension ${number} already exists`);
    this.name = 'ExtensionNumberTakenError';
  }
}

/** Members must be extensions of users (or limited extensions) of the same account: anything else is dropped, never stored. */
async function userExtensions(db: Db, accountId: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('id', 'in', ids).where('type', 'in', ['user', 'limited']).execute();
  const found = new Set(rows.map((r) => r.id));
  return ids.filter((id) => found.has(id));
}

export interface ParkLocationView {
  id: string;
  number: string;
  name: string | null;
  status: string;
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
    if (!canAddParkLocation(Number(count))) throw new ParkLocationLimitError();
    const taken = await trx.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('number', '=', data.number).executeTakeFirst();
    if (taken) throw new ExtensionNumberTakenError(data.number);
    const site = data.siteId
      ? await trx.selectFrom('sites').select('id').where('account_id', '=', accountId).where('id', '=', data.siteId).executeTakeFirstOrThrow()
      : await trx.selectFrom('sites').select('id').where('account_id', '=', accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
    const ext = await trx.insertInto('extensions').values({ account_id: accountId, site_id: site.id, number: data.number, type: 'park_location', status: 'activated', name: data.name }).returning('id').executeTakeFirstOrThrow();
    const members = await userExtensions(trx, accountId, data.memberExtensionIds);
    if (members.length) await trx.insertInto('park_location_members').values(members.map((m) => ({ account_id: accountId, park_extension_id: ext.id, member_extension_id: m }))).execute();
    await recordAudit(trx, actor, { accountId, action: 'park_location.create', targetType: 'extension', targetId: ext.id, after: { ...data, memberExtensionIds: members } });
    return ext.id;
  });
  await announceConfigChange(accountId, 'extensions');
  return id;
}

/** PK-03: replaces a location's members. False when the location is not the account's. */
export async function setParkLocationMembers(db: Db, actor: AuditActor, accountId: string, parkExtensionId: string, memberExtensionIds: readonly string[]): Promise<boolean> {
  const ids = parkLocationInput.shape.memberExtensionIds.parse(memberExtensionIds);
  return db.transaction().execute(async (trx) => {
    const loc = await trx.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('id', '=', parkExtensionId).where('type', '=', 'park_location').forUpdate().executeTakeFirst();
    if (!loc) return false;
    const before = await parkLocationMembers(trx, accountId, parkExtensionId);
    const members = await userExtensions(trx, accountId, ids);
    await trx.deleteFrom('park_location_members').where('account_id', '=', accountId).where('park_extension_id', '=', parkExtensionId).execute();
    if (members.length) await trx.insertInto('park_location_members').values(members.map((m) => ({ account_id: accountId, park_extension_id: parkExtensionId, member_extension_id: m }))).execute();
    await recordAudit(trx, actor, { accountId, action: 'park_location.members', targetType: 'extension', targetId: parkExtensionId, before, after: members });
    return true;
  });
}

export async function listParkLocations(db: Db, accountId: string): Promise<ParkLocationView[]> {
  const locations = await db.selectFrom('extensions').select(['id', 'number', 'name', 'status']).where('account_id', '=', accountId).where('type', '=', 'park_location').orderBy('number').execute();
  const members = await db.selectFrom('park_location_members').select(['park_extension_id', 'member_extension_id']).where('account_id', '=', accountId).execute();
  return locations.map((l) => ({ ...l, memberExtensionIds: members.filter((m) => m.park_extension_id === l.id).map((m) => m.member_extension_id) }));
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
  return db.transaction().execute(async (trx) => {
    if (data.siteId) await trx.selectFrom('sites').select('id').where('account_id', '=', accountId).where('id', '=', data.siteId).executeTakeFirstOrThrow();
    const group = await trx.insertInto('pickup_groups').values({ account_id: accountId, site_id: data.siteId, name: data.name }).returning('id').executeTakeFirstOrThrow();
    const members = await userExtensions(trx, accountId, data.memberExtensionIds);
    if (members.length) await trx.insertInto('pickup_group_members').values(members.map((m) => ({ group_id: group.id, account_id: accountId, extension_id: m }))).execute();
    await recordAudit(trx, actor, { accountId, action: 'pickup_group.create', targetType: 'pickup_group', targetId: group.id, after: { ...data, memberExtensionIds: members } });
    return group.id;
  });
}

/** Replaces a pickup group's members. False when the group is not the account's. */
export async function setPickupGroupMembers(db: Db, actor: AuditActor, accountId: string, groupId: string, memberExtensionIds: readonly string[]): Promise<boolean> {
  const ids = pickupGroupInput.shape.memberExtensionIds.parse(memberExtensionIds);
  return db.transaction().execute(async (trx) => {
    const group = await trx.selectFrom('pickup_groups').select('id').where('account_id', '=', accountId).where('id', '=', groupId).forUpdate().executeTakeFirst();
    if (!group) return false;
    const members = await userExtensions(trx, accountId, ids);
    await trx.deleteFrom('pickup_group_members').where('account_id', '=', accountId).where('group_id', '=', groupId).execute();
    if (members.length) await trx.insertInto('pickup_group_members').values(members.map((m) => ({ group_id: groupId, account_id: accountId, extension_id: m }))).execute();
    await recordAudit(trx, actor, { accountId, action: 'pickup_group.members', targetType: 'pickup_group', targetId: groupId, after: members });
    return true;
  });
}

export async function listPickupGroups(db: Db, accountId: string): Promise<PickupGroupView[]> {
  const groups = await db.selectFrom('pickup_groups').select(['id', 'name', 'site_id']).where('account_id', '=', accountId).orderBy('name').execute();
  const members = await db.selectFrom('pickup_group_members').select(['group_id', 'extension_id']).where('account_id', '=', accountId).execute();
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
