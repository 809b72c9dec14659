import type { Kysely, Transaction } from 'kysely';
import type { Database, MonitoringRole } from '@carillon/db';
import { mayMonitor, monitoringGroupInput, type MonitoringGroupInput } from '@carillon/domain';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';

/**
 * Call monitoring groups (MON-01, MON-02), stored: a named group of the users
 * that can monitor and the users that can be monitored. Every query is scoped
 * to the account; whoever calls the writers has checked the right.
 */
type Db = Kysely<Database>;

/** A member that is not a user's extension of the account: refused with the ids, never stored or dropped silently. */
export class MonitoringMemberError extends Error {
  readonly extensionIds: string[];
  constructor(extensionIds: string[]) {
    super(`not users' extensions of this account: ${extensionIds.join(', ')}`);
    this.name = 'MonitoringMemberError';
    this.extensionIds = extensionIds;
  }
}

export interface MonitoringGroupView {
  id: string;
  name: string;
  monitorExtensionIds: string[];
  monitoredExtensionIds: string[];
  createdAt: string;
}

/** Monitors and monitored users are users' extensions (or limited ones) of the same account. */
async function checkMembers(db: Db | Transaction<Database>, accountId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const rows = await db.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('id', 'in', ids).where('type', 'in', ['user', 'limited']).execute();
  const found = new Set(rows.map((r) => r.id));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length) throw new MonitoringMemberError([...new Set(missing)]);
}

async function writeMembers(trx: Transaction<Database>, accountId: string, groupId: string, monitors: readonly string[], monitored: readonly string[]): Promise<void> {
  const rows = [
    ...monitors.map((id) => ({ group_id: groupId, account_id: accountId, extension_id: id, role: 'monitor' as MonitoringRole })),
    ...monitored.map((id) => ({ group_id: groupId, account_id: accountId, extension_id: id, role: 'monitored' as MonitoringRole })),
  ];
  if (rows.length) await trx.insertInto('monitoring_group_members').values(rows).execute();
}

/** MON-02: a new group with its monitors and monitored users; audited. */
export async function createMonitoringGroup(db: Db, actor: AuditActor, accountId: string, input: MonitoringGroupInput): Promise<MonitoringGroupView> {
  const data = monitoringGroupInput.parse(input);
  const id = await db.transaction().execute(async (trx) => {
    await checkMembers(trx, accountId, [...data.monitorExtensionIds, ...data.monitoredExtensionIds]);
    const group = await trx.insertInto('monitoring_groups').values({ account_id: accountId, name: data.name }).returning('id').executeTakeFirstOrThrow();
    await writeMembers(trx, accountId, group.id, data.monitorExtensionIds, data.monitoredExtensionIds);
    await recordAudit(trx, actor, { accountId, action: 'monitoring_group.create', targetType: 'monitoring_group', targetId: group.id, after: data });
    return group.id;
  });
  return (await loadMonitoringGroup(db, accountId, id))!;
}

/** Replaces a group's name and both lists; null when the group is not the account's. Audited with before and after. */
export async function saveMonitoringGroup(db: Db, actor: AuditActor, accountId: string, groupId: string, input: MonitoringGroupInput): Promise<MonitoringGroupView | null> {
  const data = monitoringGroupInput.parse(input);
  const saved = await db.transaction().execute(async (trx) => {
    const group = await trx.selectFrom('monitoring_groups').select(['id', 'name']).where('account_id', '=', accountId).where('id', '=', groupId).forUpdate().executeTakeFirst();
    if (!group) return false;
    const before = await loadMonitoringGroup(trx, accountId, groupId);
    await checkMembers(trx, accountId, [...data.monitorExtensionIds, ...data.monitoredExtensionIds]);
    await trx.updateTable('monitoring_groups').set({ name: data.name }).where('account_id', '=', accountId).where('id', '=', groupId).execute();
    await trx.deleteFrom('monitoring_group_members').where('account_id', '=', accountId).where('group_id', '=', groupId).execute();
    await writeMembers(trx, accountId, groupId, data.monitorExtensionIds, data.monitoredExtensionIds);
    await recordAudit(trx, actor, {
      accountId,
      action: 'monitoring_group.update',
      targetType: 'monitoring_group',
      targetId: groupId,
      before: before && { name: before.name, monitorExtensionIds: before.monitorExtensionIds, monitoredExtensionIds: before.monitoredExtensionIds },
      after: data,
    });
    return true;
  });
  return saved ? loadMonitoringGroup(db, accountId, groupId) : null;
}

/** Deletes a group (its members go with it); false when it is not the account's. Audited. */
export async function deleteMonitoringGroup(db: Db, actor: AuditActor, accountId: string, groupId: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const before = await loadMonitoringGroup(trx, accountId, groupId);
    if (!before) return false;
    await trx.deleteFrom('monitoring_groups').where('account_id', '=', accountId).where('id', '=', groupId).execute();
    await recordAudit(trx, actor, { accountId, action: 'monitoring_group.delete', targetType: 'monitoring_group', targetId: groupId, before });
    return true;
  });
}

export async function listMonitoringGroups(db: Db, accountId: string): Promise<MonitoringGroupView[]> {
  const groups = await db.selectFrom('monitoring_groups').select(['id', 'name', 'created_at']).where('account_id', '=', accountId).orderBy('name').orderBy('id').execute();
  const members = await db.selectFrom('monitoring_group_members').select(['group_id', 'extension_id', 'role']).where('account_id', '=', accountId).execute();
  return groups.map((g) => viewOf(g, members));
}

export async function loadMonitoringGroup(db: Db | Transaction<Database>, accountId: string, groupId: string): Promise<MonitoringGroupView | null> {
  const group = await db.selectFrom('monitoring_groups').select(['id', 'name', 'created_at']).where('account_id', '=', accountId).where('id', '=', groupId).executeTakeFirst();
  if (!group) return null;
  const members = await db.selectFrom('monitoring_group_members').select(['group_id', 'extension_id', 'role']).where('account_id', '=', accountId).where('group_id', '=', groupId).execute();
  return viewOf(group, members);
}

function viewOf(g: { id: string; name: string; created_at: Date | string }, members: readonly { group_id: string; extension_id: string; role: MonitoringRole }[]): MonitoringGroupView {
  const of = (role: MonitoringRole) => members.filter((m) => m.group_id === g.id && m.role === role).map((m) => m.extension_id).sort();
  return { id: g.id, name: g.name, monitorExtensionIds: of('monitor'), monitoredExtensionIds: of('monitored'), createdAt: new Date(g.created_at).toISOString() };
}

/**
 * MON-01: whether `monitor` may monitor the calls of `target`: the groups
 * where the first monitors and the second is monitored, in one statement,
 * judged by the domain rule. media-server asks at each monitoring code.
 */
export async function monitoringAllowed(db: Db, accountId: string, monitorExtensionId: string, targetExtensionId: string): Promise<boolean> {
  const rows = await db
    .selectFrom('monitoring_group_members as mine')
    .innerJoin('monitoring_group_members as theirs', (j) => j.onRef('theirs.group_id', '=', 'mine.group_id').onRef('theirs.account_id', '=', 'mine.account_id'))
    .select('mine.group_id')
    .where('mine.account_id', '=', accountId)
    .where('mine.extension_id', '=', monitorExtensionId)
    .where('mine.role', '=', 'monitor')
    .where('theirs.extension_id', '=', targetExtensionId)
    .where('theirs.role', '=', 'monitored')
    .execute();
  // Each row is a group where the one monitors the other.
  return mayMonitor(
    rows.map(() => ({ monitors: [monitorExtensionId], monitored: [targetExtensionId] })),
    monitorExtensionId,
    targetExtensionId,
  );
}
