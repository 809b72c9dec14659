import { z } from 'zod';
import { accountInfoFor, announceConfigChange, recordAudit, storePassword, validatePassword, type AuditActor, type AuthenticatedSession } from '@carillon/core';
import { removeDataFiles, takeExtensionAudioFiles } from '@carillon/core/voicemail';
import { sql } from '@carillon/db';
import { PERMISSIONS, PREDEFINED_ROLE_PERMISSIONS } from '@carillon/domain';
import type { Runtime } from '../runtime.ts';
import { getRole, mayAssign, type RoleError } from '../roles/roles.ts';
import { inviteUser } from './invitations.ts';
import { userInScope, userScopeOf } from './scope.ts';
import { DialPlan, fullNumber } from '../sites/numbering.ts';

/**
 * The Users list's bulk actions (seed 000, the bar above the list: Delete,
 * Enable, Disable, Send Invite, Set Credentials, Change Site). Each user is changed in a transaction of its
 * own, so one refusal never undoes the others, and each change is one audit
 * event. The answer says, user by user, what happened and why not.
 */
export const BULK_ACTIONS = ['enable', 'disable', 'delete', 'change_site', 'send_invite', 'set_credentials', 'assign_role', 'apply_template'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];
/** Applying a template is one background job for all the users (templates/templates.ts), not a change per user here. */
type PerUserAction = Exclude<BulkAction, 'apply_template'>;

export const bulkRequest = z
  .object({
    action: z.enum(BULK_ACTIONS),
    userIds: z.array(z.uuid()).min(1).max(1000),
    siteId: z.uuid().optional(),
    /** Set Credentials: the new password of every selected user, checked against each one's own details. */
    password: z.string().max(200).optional(),
    passwordConfirm: z.string().max(200).optional(),
    roleId: z.uuid().optional(),
    /**
     * Moving to another site (seed 000 "Déplacement d'utilisateurs entre les sites"): a user keeps the
     * short extension when it is free there; otherwise "refuse" leaves the user where they are and
     * "next_free" gives the next free extension of the site. `extensions` types one per user instead.
     */
    renumber: z.enum(['refuse', 'next_free']).default('refuse'),
    extensions: z.record(z.uuid(), z.string().trim().regex(/^[0-9]{1,5}$/, '1 to 5 digits')).optional(),
    templateId: z.uuid().optional(),
  })
  .strict()
  .refine((b) => b.action !== 'change_site' || b.siteId !== undefined, { path: ['siteId'], message: 'required to change site' })
  .refine((b) => b.action !== 'set_credentials' || (b.password !== undefined && b.passwordConfirm !== undefined), { path: ['password'], message: 'required to set credentials' })
  .refine((b) => b.action !== 'assign_role' || b.roleId !== undefined, { path: ['roleId'], message: 'required to assign a role' })
  .refine((b) => b.action !== 'apply_template' || b.templateId !== undefined, { path: ['templateId'], message: 'required to apply a template' });
export type BulkRequest = z.output<typeof bulkRequest>;

export type BulkRefusal =
  | 'not_found'
  | 'self'
  | 'last_super_admin'
  | 'super_admin_protected'
  | 'operator_extension'
  | 'extension_conflict'
  | 'already_activated'
  | 'disabled'
  | 'email_not_unique'
  | 'invitation_not_queued'
  | 'password_rules'
  | 'group_manager'
  | 'extension_too_long'
  | 'no_free_extension';

export type BulkOutcome =
  | { userId: string; result: 'changed'; extension?: { from: string; to: string } }
  | { userId: string; result: 'unchanged' }
  | { userId: string; result: 'refused'; reason: BulkRefusal; rules?: string[] };

const AUDIT_ACTION: Record<PerUserAction, string> = {
  enable: 'user.enabled',
  disable: 'user.disabled',
  delete: 'user.deleted',
  change_site: 'user.site_changed',
  // The invitation is audited by inviteUser once it is queued.
  send_invite: 'user.invited',
  set_credentials: 'user.credentials_set',
  assign_role: 'user.role_changed',
};

class Refused extends Error {
  readonly reason: BulkRefusal;
  readonly rules?: string[];
  constructor(reason: BulkRefusal, rules?: string[]) {
    super(reason);
    this.reason = reason;
    if (rules) this.rules = rules;
  }
}

export async function runBulkAction(
  rt: Runtime,
  auth: AuthenticatedSession,
  actor: AuditActor,
  req: BulkRequest & { action: PerUserAction },
): Promise<{ results: BulkOutcome[] } | { error: 'site_not_found' | 'role_not_found' } | { refused: RoleError }> {
  const db = rt.db;
  const accountId = auth.account.id;
  const site = req.siteId
    ? await db.selectFrom('sites').select(['id', 'name', 'site_code']).where('account_id', '=', accountId).where('id', '=', req.siteId).executeTakeFirst()
    : undefined;
  if (req.action === 'change_site' && !site) return { error: 'site_not_found' };
  const role = req.action === 'assign_role' ? await getRole(db, accountId, req.roleId!) : undefined;
  if (req.action === 'assign_role') {
    if (!role) return { error: 'role_not_found' };
    // Nobody hands out a permission they do not hold, nor a wider scope than their own.
    const refused = await mayAssign(db, auth, role);
    if (refused) return { refused };
  }
  // A site-scoped admin or a group manager changes only the users they administer; the others are not found.
  const inScope = userInScope(await userScopeOf(db, auth), accountId, sql.ref('users.id'));
  // Only someone holding every permission may change a Super Admin: a User Admin must not be able to lock the owners out.
  const callerIsSuperAdmin = PERMISSIONS.every((p) => auth.permissions.has(p));
  const results: BulkOutcome[] = [];
  const plan = req.action === 'change_site' ? await DialPlan.load(db, accountId) : null;
  for (const userId of [...new Set(req.userIds)]) {
    let moved: { extensionId: string; short: string; from: string; to: string; renumbered: boolean } | undefined;
    /** A deleted user's messages and greetings, removed from disk once the delete has committed. */
    let deletedFiles: string[] = [];
    try {
      const changed = await db.transaction().execute(async (trx) => {
        // Serialises bulk changes of one account, so that two admins cannot each disable "the other" last Super Admin.
        await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().executeTakeFirst();
        const target = await trx
          .selectFrom('users')
          .innerJoin('extensions', 'extensions.id', 'users.extension_id')
          .innerJoin('roles', 'roles.id', 'users.role_id')
          .leftJoin('user_credentials', 'user_credentials.user_id', 'users.id')
          .select(['users.id', 'users.first_name', 'users.last_name', 'users.email', 'users.extension_id', 'users.email_login', 'extensions.number', 'extensions.status', 'extensions.site_id', 'roles.key as role_key', 'roles.name as role_name', 'users.role_id', 'user_credentials.password_hash'])
          .where('users.account_id', '=', accountId)
          .where('extensions.account_id', '=', accountId)
          .where('users.id', '=', userId)
          .$if(inScope !== null, (q) => q.where(inScope!))
          .executeTakeFirst();
        if (!target) throw new Refused('not_found');
        if (target.id === auth.user.id && req.action !== 'enable') throw new Refused('self');
        const isSuperAdmin = target.role_key === 'super_admin';
        const removesAdmin = req.action === 'disable' || req.action === 'delete' || (req.action === 'assign_role' && role!.key !== 'super_admin');
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
        if (req.action === 'assign_role' && target.role_id === role!.id) return false;
        // A group manager must keep at least the User Admin role (seed 000 "Groupes d'utilisateurs"): change the group's manager first.
        if (req.action === 'assign_role' && !PREDEFINED_ROLE_PERMISSIONS.user_admin.every((p) => role!.permissions.includes(p))) {
          const manages = await trx.selectFrom('user_groups').select('id').where('account_id', '=', accountId).where('manager_user_id', '=', target.id).executeTakeFirst();
          if (manages) throw new Refused('group_manager');
        }
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
            deletedFiles = await takeExtensionAudioFiles(trx, accountId, target.extension_id);
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
            const typed = req.extensions?.[target.id];
            let short = typed ?? target.number;
            let why = plan!.problem(target.extension_id, site!.id, short);
            if (why && typed === undefined && req.renumber === 'next_free') {
              const free = plan!.nextFree(target.extension_id, site!.id, target.number);
              if (!free) throw new Refused('no_free_extension');
              short = free;
              why = null;
            }
            if (why === 'too_long') throw new Refused('extension_too_long');
            if (why) throw new Refused('extension_conflict');
            // Same site, same number (a site without code): the database's own check as well.
            const taken = await trx.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('site_id', '=', site!.id).where('number', '=', short).executeTakeFirst();
            if (taken) throw new Refused('extension_conflict');
            await trx.updateTable('extensions').set({ site_id: site!.id, number: short }).where('account_id', '=', accountId).where('id', '=', target.extension_id).execute();
            const from = fullNumber(plan!.sites.get(target.site_id)?.siteCode ?? null, target.number);
            const to = fullNumber(site!.site_code, short);
            // Renumbered means a new short number; the full one changes with any site code anyway.
            const renumbered = short !== target.number;
            moved = { extensionId: target.extension_id, short, from, to, renumbered };
            await audit({ siteId: target.site_id, ...(renumbered ? { extension: from } : {}) }, { siteId: site!.id, siteName: site!.name, ...(renumbered ? { extension: to } : {}) });
            return true;
          }
          case 'send_invite': {
            // Seed 000: an invitation activates; someone who already has a password signs in instead.
            if (target.password_hash) throw new Refused('already_activated');
            if (target.status === 'disabled') throw new Refused('disabled');
            if (!target.email_login) throw new Refused('email_not_unique');
            return 'invite' as const;
          }
          case 'set_credentials': {
            const rules = validatePassword(req.password!, req.passwordConfirm!, await accountInfoFor(trx, accountId, target.id));
            if (rules.length) throw new Refused('password_rules', rules);
            await storePassword(trx, target.id, req.password!);
            // "Activate by assigning credentials": a user waiting for activation is active at once; a disabled one stays disabled.
            const status = target.status === 'not_activated' || target.status === 'unassigned' ? 'activated' : target.status;
            if (status !== target.status) await trx.updateTable('extensions').set({ status }).where('account_id', '=', accountId).where('id', '=', target.extension_id).execute();
            // Whoever signed in with the old password is signed out.
            await trx.updateTable('sessions').set({ revoked_at: new Date() }).where('account_id', '=', accountId).where('user_id', '=', target.id).where('revoked_at', 'is', null).execute();
            await audit({ status: target.status }, { status });
            return true;
          }
          case 'assign_role': {
            await trx.updateTable('users').set({ role_id: role!.id }).where('account_id', '=', accountId).where('id', '=', target.id).execute();
            await audit({ roleId: target.role_id, role: target.role_name }, { roleId: role!.id, role: role!.name });
            return true;
          }
        }
      });
      await removeDataFiles(rt.config.dataDir, deletedFiles);
      if (changed === 'invite') {
        try {
          await inviteUser(rt, actor, accountId, userId);
        } catch (err) {
          rt.log.warn('invitation not queued', { error: err as Error, userId });
          throw new Refused('invitation_not_queued');
        }
      }
      // The plan follows what was committed, so the next users of the batch see this one's new number.
      if (changed && moved) plan!.move(moved.extensionId, site!.id, moved.short);
      results.push(
        changed && moved?.renumbered ? { userId, result: 'changed', extension: { from: moved.from, to: moved.to } } : { userId, result: changed ? 'changed' : 'unchanged' },
      );
    } catch (err) {
      if (err instanceof Refused) results.push({ userId, result: 'refused', reason: err.reason, ...(err.rules ? { rules: err.rules } : {}) });
      else throw err;
    }
  }
  // Extensions enabled, disabled, moved or deleted: media-server drops the credentials it cached.
  await announceConfigChange(auth.account.id, 'extensions');
  return { results };
}
