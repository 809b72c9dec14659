import { z } from 'zod';
import { recordAudit, type AuditActor, type AuthenticatedSession } from '@carillon/core';
import type { Db } from '@carillon/db';
import { PERMISSIONS } from '@carillon/domain';

/**
 * The Users list's bulk actions (seed 000, the bar above the list: Delete,
 * Enable, Disable, Change Site). Each user is changed in a transaction of its
 * own, so one refusal never undoes the others, and each change is one audit
 * event. The answer says, user by user, what happened and why not.
 */
export const BULK_ACTIONS = ['enable', 'disable', 'delete', 'change_site', 'apply_template'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];
/** Applying a template is one background job for all the users (templates/templates.ts), not a change per user here. */
type PerUserAction = Exclude<BulkAction, 'apply_template'>;

export const bulkRequest = z
  .object({
    action: z.enum(BULK_ACTIONS),
    userIds: z.array(z.uuid()).min(1).max(1000),
    siteId: z.uuid().optional(),
    templateId: z.uuid().optional(),
  })
  .strict()
  .refine((b) => b.action !== 'change_site' || b.siteId !== undefined, { path: ['siteId'], message: 'required to change site' })
  .refine((b) => b.action !== 'apply_template' || b.templateId !== undefined, { path: ['templateId'], message: 'required to apply a template' });
export type BulkRequest = z.output<typeof bulkRequest>;

export type BulkRefusal =
  | 'not_found'
  | 'self'
  | 'last_super_admin'
  | 'super_admin_protected'
  | 'operator_extension'
  | 'extension_conflict';

export type BulkOutcome = { userId: string; result: 'changed' } | { userId: string; result: 'unchanged' } | { userId: string; result: 'refused'; reason: BulkRefusal };

const AUDIT_ACTION: Record<PerUserAction, string> = {
  enable: 'user.enabled',
  disable: 'user.disabled',
  delete: 'user.deleted',
  change_site: 'user.site_changed',
};

class Refused extends Error {
  readonly reason: BulkRefusal;
  constructor(reason: BulkRefusal) {
    super(reason);
    this.reason = reason;
  }
}

export async function runBulkAction(db: Db, auth: AuthenticatedSession, actor: AuditActor, req: BulkRequest & { action: PerUserAction }): Promise<{ results: BulkOutcome[] } | { error: 'site_not_found' }> {
  const accountId = auth.account.id;
  const site = req.siteId
    ? await db.selectFrom('sites').select(['id', 'name']).where('account_id', '=', accountId).where('id', '=', req.siteId).executeTakeFirst()
    : undefined;
  if (req.action === 'change_site' && !site) return { error: 'site_not_found' };
  // Only someone holding every permission may change a Super Admin: a User Admin must not be able to lock the owners out.
  const callerIsSuperAdmin = PERMISSIONS.every((p) => auth.permissions.has(p));
  const results: BulkOutcome[] = [];
  for (const userId of [...new Set(req.userIds)]) {
    try {
      const changed = await db.transaction().execute(async (trx) => {
        // Serialises bulk changes of one account, so that two admins cannot each disable "the other" last Super Admin.
        await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().executeTakeFirst();
        const target = await trx
          .selectFrom('users')
          .innerJoin('extensions', 'extensions.id', 'users.extension_id')
          .innerJoin('roles', 'roles.id', 'users.role_id')
          .leftJoin('user_credentials', 'user_credentials.user_id', 'users.id')
          .select(['users.id', 'users.first_name', 'users.last_name', 'users.email', 'users.extension_id', 'extensions.number', 'extensions.status', 'extensions.site_id', 'roles.key as role_key', 'user_credentials.password_hash'])
          .where('users.account_id', '=', accountId)
          .where('extensions.account_id', '=', accountId)
          .where('users.id', '=', userId)
          .executeTakeFirst();
        if (!target) throw new Refused('not_found');
        if (target.id === auth.user.id && req.action !== 'enable') throw new Refused('self');
        const isSuperAdmin = target.role_key === 'super_admin';
        const removesAdmin = req.action === 'disable' || req.action === 'delete';
        if (removesAdmin && isSuperAdmin && target.status !== 'disabled') {
          const others = await trx
            .selectFrom('users')
            .innerJoin('extensions', 'extensions.id', 'users.extension_id')
            .innerJoin('roles', 'roles.id', 'users.role_id')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('users.account_id', '=', accountId)
            .where('roles.key', '=', 'super_admin')
            .where('extensions.status', '!=', 'disabled')
            .where('users.id', '!=', target.id)
            .executeTakeFirstOrThrow();
          if (Number(others.n) === 0) throw new Refused('last_super_admin');
        }
        if (isSuperAdmin && !callerIsSuperAdmin) throw new Refused('super_admin_protected');
        const audit = (before: unknown, after: unknown) =>
          recordAudit(trx, actor, { accountId, action: AUDIT_ACTION[req.action], targetType: 'user', targetId: target.id, before, after });

        switch (req.action) {
          case 'enable': {
            if (target.status !== 'disabled') return false;
            // Enabled again means as before: activated if they ever set a password, otherwise still waiting for activation.
            const status = target.password_hash ? 'activated' : 'not_activated';
            await trx.updateTable('extensions').set({ status }).where('account_id', '=', accountId).where('id', '=', target.extension_id).execute();
            await audit({ status: target.status }, { status });
            return true;
          }
          case 'disable': {
            if (target.status === 'disabled') return false;
            await trx.updateTable('extensions').set({ status: 'disabled' }).where('account_id', '=', accountId).where('id', '=', target.extension_id).execute();
            // Signed out at once; sign-in already refuses a disabled extension.
            await trx.updateTable('sessions').set({ revoked_at: new Date() }).where('account_id', '=', accountId).where('user_id', '=', target.id).where('revoked_at', 'is', null).execute();
            await audit({ status: target.status }, { status: 'disabled' });
            return true;
          }
          case 'delete': {
            const account = await trx.selectFrom('accounts').select('operator_extension_id').where('id', '=', accountId).executeTakeFirstOrThrow();
            if (account.operator_extension_id === target.extension_id) throw new Refused('operator_extension');
            // Numbers go back to the inventory and phones become unassigned (their foreign keys set null); sessions, tokens and contacts go with the user.
            await trx.deleteFrom('users').where('account_id', '=', accountId).where('id', '=', target.id).execute();
            await trx.deleteFrom('extensions').where('account_id', '=', accountId).where('id', '=', target.extension_id).execute();
            await audit(
              { firstName: target.first_name, lastName: target.last_name, email: target.email, extension: target.number, status: target.status, role: target.role_key },
              null,
            );
            return true;
          }
          case 'change_site': {
            if (target.site_id === site!.id) return false;
            const taken = await trx.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('site_id', '=', site!.id).where('number', '=', target.number).executeTakeFirst();
            if (taken) throw new Refused('extension_conflict');
            await trx.updateTable('extensions').set({ site_id: site!.id }).where('account_id', '=', accountId).where('id', '=', target.extension_id).execute();
            await audit({ siteId: target.site_id }, { siteId: site!.id, siteName: site!.name });
            return true;
          }
        }
      });
      results.push({ userId, result: changed ? 'changed' : 'unchanged' });
    } catch (err) {
      if (err instanceof Refused) results.push({ userId, result: 'refused', reason: err.reason });
      else throw err;
    }
  }
  return { results };
}
