import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';
import { pagingGroupInput, pagingGroupUpdate, type PagingGroupInput, type PagingGroupUpdate } from '@carillon/domain';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { announceConfigChange } from '../accounts/config-changes.ts';

/**
 * Paging-only groups (PG-01…PG-03), stored: a group is an extension of type
 * 'paging' (number, name, status) with the devices that receive its pages and
 * the users' extensions allowed to page it (migration 0031). Every query is
 * scoped to the account; whoever calls the writers has checked the right.
 * Every change is audited and announced ('extensions') once committed, so
 * media-server's next page reads it.
 */
type Db = Kysely<Database>;

/** Paging groups of one account: a bound on what one account can create. */
export const MAX_PAGING_GROUPS = 200;

export class PagingGroupError extends Error {
  readonly code: 'not_found' | 'number_taken' | 'bad_site' | 'bad_receiver' | 'bad_pager' | 'too_many_groups';
  constructor(code: PagingGroupError['code'], detail?: string) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'PagingGroupError';
    this.code = code;
  }
}

export interface PagingGroupView {
  id: string;
  number: string;
  name: string | null;
  enabled: boolean;
  receiverDeviceIds: string[];
  pagerExtensionIds: string[];
}

/** The receivers must be devices of the account with an extension (a device is reached through its extension's registrations). */
async function checkReceivers(db: Db, accountId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const rows = await db.selectFrom('devices').select('id').where('account_id', '=', accountId).where('id', 'in', ids).where('extension_id', 'is not', null).execute();
  if (rows.length !== ids.length) throw new PagingGroupError('bad_receiver', 'a receiver is not a device of this account with an extension');
}

/** Who may page must be users' extensions (or limited extensions) of the account. */
async function checkPagers(db: Db, accountId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const rows = await db.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('id', 'in', ids).where('type', 'in', ['user', 'limited']).execute();
  if (rows.length !== ids.length) throw new PagingGroupError('bad_pager', "a pager is not a user's extension of this account");
}

async function replaceLists(db: Db, accountId: string, groupId: string, receivers: readonly string[] | undefined, pagers: readonly string[] | undefined): Promise<void> {
  if (receivers) {
    await checkReceivers(db, accountId, receivers);
    await db.deleteFrom('paging_group_receivers').where('account_id', '=', accountId).where('paging_extension_id', '=', groupId).execute();
    if (receivers.length) await db.insertInto('paging_group_receivers').values(receivers.map((d) => ({ account_id: accountId, paging_extension_id: groupId, device_id: d }))).execute();
  }
  if (pagers) {
    await checkPagers(db, accountId, pagers);
    await db.deleteFrom('paging_group_pagers').where('account_id', '=', accountId).where('paging_extension_id', '=', groupId).execute();
    if (pagers.length) await db.insertInto('paging_group_pagers').values(pagers.map((p) => ({ account_id: accountId, paging_extension_id: groupId, pager_extension_id: p }))).execute();
  }
}

async function numberTaken(db: Db, accountId: string, number: string, except: string | null): Promise<boolean> {
  let q = db.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('number', '=', number);
  if (except) q = q.where('id', '!=', except);
  return (await q.executeTakeFirst()) !== undefined;
}

/**
 * PG-02: a new paging group (an extension) with its receivers and pagers. The count and the insert
 * run under a lock on the account row, so that two admins cannot pass the bound or take one number.
 */
export async function createPagingGroup(db: Db, actor: AuditActor, accountId: string, input: PagingGroupInput): Promise<string> {
  const data = pagingGroupInput.parse(input);
  const id = await db.transaction().execute(async (trx) => {
    await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().executeTakeFirstOrThrow();
    const { count } = await trx.selectFrom('extensions').select((e) => e.fn.countAll<string>().as('count')).where('account_id', '=', accountId).where('type', '=', 'paging').executeTakeFirstOrThrow();
    if (Number(count) >= MAX_PAGING_GROUPS) throw new PagingGroupError('too_many_groups', `an account has at most ${MAX_PAGING_GROUPS} paging groups`);
    if (await numberTaken(trx, accountId, data.number, null)) throw new PagingGroupError('number_taken', `extension ${data.number} already exists`);
    const site = data.siteId
      ? await trx.selectFrom('sites').select('id').where('account_id', '=', accountId).where('id', '=', data.siteId).executeTakeFirst()
      : await trx.selectFrom('sites').select('id').where('account_id', '=', accountId).where('is_main', '=', true).executeTakeFirst();
    if (!site) throw new PagingGroupError('bad_site', 'not a site of this account');
    const ext = await trx
      .insertInto('extensions')
      .values({ account_id: accountId, site_id: site.id, number: data.number, type: 'paging', status: data.enabled ? 'activated' : 'disabled', name: data.name })
      .returning('id')
      .executeTakeFirstOrThrow();
    await replaceLists(trx, accountId, ext.id, data.receiverDeviceIds, data.pagerExtensionIds);
    await recordAudit(trx, actor, { accountId, action: 'paging_group.create', targetType: 'extension', targetId: ext.id, after: data });
    return ext.id;
  });
  await announceConfigChange(accountId, 'extensions');
  return id;
}

/** PG-03: edits a group (number, name, status, lists). False when the group is not the account's. */
export async function updatePagingGroup(db: Db, actor: AuditActor, accountId: string, groupId: string, input: PagingGroupUpdate): Promise<boolean> {
  const data = pagingGroupUpdate.parse(input);
  const found = await db.transaction().execute(async (trx) => {
    const ext = await trx.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('id', '=', groupId).where('type', '=', 'paging').forUpdate().executeTakeFirst();
    if (!ext) return false;
    const before = await loadPagingGroup(trx, accountId, groupId);
    if (data.number !== undefined && (await numberTaken(trx, accountId, data.number, groupId))) throw new PagingGroupError('number_taken', `extension ${data.number} already exists`);
    let siteId: string | undefined;
    if (data.siteId) {
      const site = await trx.selectFrom('sites').select('id').where('account_id', '=', accountId).where('id', '=', data.siteId).executeTakeFirst();
      if (!site) throw new PagingGroupError('bad_site', 'not a site of this account');
      siteId = site.id;
    }
    const set = {
      ...(data.number !== undefined ? { number: data.number } : {}),
      ...(data.name !== undefined ? { name: data.name } : {}),
      ...(data.enabled !== undefined ? { status: data.enabled ? ('activated' as const) : ('disabled' as const) } : {}),
      ...(siteId ? { site_id: siteId } : {}),
    };
    if (Object.keys(set).length) await trx.updateTable('extensions').set(set).where('account_id', '=', accountId).where('id', '=', groupId).execute();
    await replaceLists(trx, accountId, groupId, data.receiverDeviceIds, data.pagerExtensionIds);
    await recordAudit(trx, actor, { accountId, action: 'paging_group.update', targetType: 'extension', targetId: groupId, before, after: data });
    return true;
  });
  if (found) await announceConfigChange(accountId, 'extensions');
  return found;
}

/** PG-03 "Delete Group": the extension goes, and its lists with it (cascade). False when the group is not the account's. */
export async function deletePagingGroup(db: Db, actor: AuditActor, accountId: string, groupId: string): Promise<boolean> {
  const found = await db.transaction().execute(async (trx) => {
    const before = await loadPagingGroup(trx, accountId, groupId);
    if (!before) return false;
    await trx.deleteFrom('extensions').where('account_id', '=', accountId).where('id', '=', groupId).where('type', '=', 'paging').execute();
    await recordAudit(trx, actor, { accountId, action: 'paging_group.delete', targetType: 'extension', targetId: groupId, before });
    return true;
  });
  if (found) await announceConfigChange(accountId, 'extensions');
  return found;
}

/** One group of the account, null when the extension is not a paging group of this account. */
export async function loadPagingGroup(db: Db, accountId: string, groupId: string): Promise<PagingGroupView | null> {
  const ext = await db.selectFrom('extensions').select(['id', 'number', 'name', 'status']).where('account_id', '=', accountId).where('id', '=', groupId).where('type', '=', 'paging').executeTakeFirst();
  if (!ext) return null;
  const [receivers, pagers] = await Promise.all([
    db.selectFrom('paging_group_receivers').select('device_id').where('account_id', '=', accountId).where('paging_extension_id', '=', groupId).orderBy('device_id').execute(),
    db.selectFrom('paging_group_pagers').select('pager_extension_id').where('account_id', '=', accountId).where('paging_extension_id', '=', groupId).orderBy('pager_extension_id').execute(),
  ]);
  return { id: ext.id, number: ext.number, name: ext.name, enabled: ext.status !== 'disabled', receiverDeviceIds: receivers.map((r) => r.device_id), pagerExtensionIds: pagers.map((p) => p.pager_extension_id) };
}

export async function listPagingGroups(db: Db, accountId: string): Promise<PagingGroupView[]> {
  const groups = await db.selectFrom('extensions').select(['id', 'number', 'name', 'status']).where('account_id', '=', accountId).where('type', '=', 'paging').orderBy('number').execute();
  const [receivers, pagers] = await Promise.all([
    db.selectFrom('paging_group_receivers').select(['paging_extension_id', 'device_id']).where('account_id', '=', accountId).execute(),
    db.selectFrom('paging_group_pagers').select(['paging_extension_id', 'pager_extension_id']).where('account_id', '=', accountId).execute(),
  ]);
  return groups.map((g) => ({
    id: g.id,
    number: g.number,
    name: g.name,
    enabled: g.status !== 'disabled',
    receiverDeviceIds: receivers.filter((r) => r.paging_extension_id === g.id).map((r) => r.device_id),
    pagerExtensionIds: pagers.filter((p) => p.paging_extension_id === g.id).map((p) => p.pager_extension_id),
  }));
}

/** What a page needs (media-server reads it for each page): who may page, and the receiving devices with their extensions. */
export interface PagingTargets {
  pagerExtensionIds: string[];
  receivers: { deviceId: string; extensionId: string; extensionNumber: string }[];
}

export async function pagingTargets(db: Db, accountId: string, groupId: string): Promise<PagingTargets | null> {
  const group = await db.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('id', '=', groupId).where('type', '=', 'paging').executeTakeFirst();
  if (!group) return null;
  const [pagers, receivers] = await Promise.all([
    db.selectFrom('paging_group_pagers').select('pager_extension_id').where('account_id', '=', accountId).where('paging_extension_id', '=', groupId).execute(),
    db
      .selectFrom('paging_group_receivers as r')
      .innerJoin('devices as d', (j) => j.onRef('d.id', '=', 'r.device_id').onRef('d.account_id', '=', 'r.account_id'))
      .innerJoin('extensions as e', (j) => j.onRef('e.id', '=', 'd.extension_id').onRef('e.account_id', '=', 'd.account_id'))
      .select(['d.id as deviceId', 'e.id as extensionId', 'e.number as extensionNumber'])
      .where('r.account_id', '=', accountId)
      .where('r.paging_extension_id', '=', groupId)
      .orderBy('e.number')
      .execute(),
  ]);
  return { pagerExtensionIds: pagers.map((p) => p.pager_extension_id), receivers };
}
