import { z } from 'zod';
import { announceConfigChange, defaultRoleIdFor, recordAudit, refuseGrant, type AuditActor, type Granter } from '@carillon/core';
import { removeDataFiles, takeExtensionAudioFiles } from '@carillon/core/voicemail';
import { sql, type Db } from '@carillon/db';
import type { UserScope } from './scope.ts';

/**
 * Users → User List → Unassigned Extensions (seed 000 "Affichage des
 * extensions non attribuées"): user extensions that no user holds, with their
 * numbers and phones; each can be assigned to a new user or deleted.
 */
export const unassignedQuery = z
  .object({
    q: z.string().trim().max(100).optional(),
    site: z.uuid().optional(),
  })
  .strict();

const likePrefix = (s: string) => `${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function unassigned(db: Db, accountId: string) {
  return db
    .selectFrom('extensions')
    .innerJoin('sites', 'sites.id', 'extensions.site_id')
    .where('extensions.account_id', '=', accountId)
    .where('extensions.type', 'in', ['user', 'limited'])
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('users').select('users.id').whereRef('users.extension_id', '=', 'extensions.id'))));
}

export async function listUnassignedExtensions(db: Db, accountId: string, f: z.output<typeof unassignedQuery>, scope: UserScope = { kind: 'account' }) {
  let q = unassigned(db, accountId);
  // A site-scoped admin sees their sites' extensions; a group manager none.
  if (scope.kind === 'groups') return [];
  if (scope.kind === 'sites') q = scope.siteIds.length ? q.where('extensions.site_id', 'in', scope.siteIds) : q.where(sql<boolean>`false`);
  if (f.site) q = q.where('extensions.site_id', '=', f.site);
  if (f.q) {
    const text = f.q.toLowerCase();
    q = q.where((eb) => eb.or([eb('extensions.number', 'like', likePrefix(text)), eb(sql`lower(coalesce(extensions.name, ''))`, 'like', likePrefix(text))]));
  }
  const rows = await q
    .select([
      'extensions.id',
      'extensions.number as extension',
      'extensions.name',
      'extensions.status',
      'sites.id as siteId',
      'sites.name as siteName',
      'sites.site_code as siteCode',
      sql<string[]>`(select coalesce(json_agg(pn.e164 order by pn.e164), '[]'::json) from phone_numbers pn where pn.extension_id = extensions.id and pn.account_id = ${accountId})`.as('numbers'),
      sql<string[]>`(select coalesce(json_agg(d.mac order by d.mac), '[]'::json) from devices d where d.extension_id = extensions.id and d.account_id = ${accountId} and d.mac is not null)`.as('serials'),
    ])
    .orderBy(sql`lpad(coalesce(sites.site_code, '') || extensions.number, 9, '0')`)
    .limit(500)
    .execute();
  return rows.map((r) => ({ ...r, fullExtension: `${r.siteCode ?? ''}${r.extension}` }));
}

export const assignRequest = z
  .object({
    firstName: z.string().trim().min(1).max(60),
    lastName: z.string().trim().max(60).default(''),
    email: z.email().max(254),
  })
  .strict();

/** An unassigned extension of the account, or undefined (another account's, a user's, or none). */
export async function findUnassigned(db: Db, accountId: string, id: string) {
  return unassigned(db, accountId).select(['extensions.id', 'extensions.number', 'extensions.site_id', 'extensions.name']).where('extensions.id', '=', id).executeTakeFirst();
}

/**
 * "Activate later": the user exists, holds the extension and its numbers and
 * phones, and is not activated until they get credentials (invitations are
 * the Add Users wizard's).
 */
export async function assignExtension(db: Db, granter: Granter, actor: AuditActor, id: string, body: z.output<typeof assignRequest>) {
  const accountId = granter.accountId;
  const assigned = await db.transaction().execute(async (trx) => {
    const ext = await findUnassigned(trx, accountId, id);
    if (!ext) return { error: 'not_found' as const };
    const clash = await trx.selectFrom('users').select('id').where(sql`lower(email)`, '=', body.email.toLowerCase()).where('email_login', '=', true).executeTakeFirst();
    if (clash) return { error: 'email_taken' as const };
    const roleId = await defaultRoleIdFor(trx, accountId);
    // The new user gets the account's default role: nobody grants a right they do not hold.
    const refused = await refuseGrant(trx, granter, { roleId });
    if (refused) return { error: 'role_refused' as const, refused };
    const user = await trx
      .insertInto('users')
      .values({ account_id: accountId, extension_id: ext.id, role_id: roleId, first_name: body.firstName, last_name: body.lastName, email: body.email, setup_progress: JSON.stringify({}) })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx.insertInto('user_credentials').values({ user_id: user.id }).execute();
    await trx.updateTable('extensions').set({ status: 'not_activated' }).where('account_id', '=', accountId).where('id', '=', ext.id).execute();
    await recordAudit(trx, actor, { accountId, action: 'extension.assigned', targetType: 'user', targetId: user.id, after: { extension: ext.number, firstName: body.firstName, lastName: body.lastName, email: body.email } });
    return { userId: user.id };
  });
  if ('userId' in assigned) await announceConfigChange(accountId, 'extensions');
  return assigned;
}

/** Deletes an unused extension; its numbers go back to the inventory and its phones become unassigned. */
export async function deleteUnassignedExtension(db: Db, dataDir: string, accountId: string, actor: AuditActor, id: string): Promise<'deleted' | 'not_found' | 'operator_extension'> {
  let files: string[] = [];
  const deleted = await db.transaction().execute(async (trx) => {
    const ext = await findUnassigned(trx, accountId, id);
    if (!ext) return 'not_found';
    const account = await trx.selectFrom('accounts').select('operator_extension_id').where('id', '=', accountId).executeTakeFirstOrThrow();
    if (account.operator_extension_id === ext.id) return 'operator_extension';
    // Messages left on it while it had no user (its mailbox still answered) go with it.
    files = await takeExtensionAudioFiles(trx, accountId, ext.id);
    await trx.deleteFrom('extensions').where('account_id', '=', accountId).where('id', '=', ext.id).execute();
    await recordAudit(trx, actor, { accountId, action: 'extension.deleted', targetType: 'extension', targetId: ext.id, before: { number: ext.number, name: ext.name, siteId: ext.site_id } });
    return 'deleted';
  });
  await removeDataFiles(dataDir, files);
  // Its phones became unassigned: they stop registering at once.
  if (deleted === 'deleted') await announceConfigChange(accountId, 'extensions', 'devices');
  return deleted;
}
