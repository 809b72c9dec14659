import { z } from 'zod';
import { announceConfigChange, DEFAULT_CALL_HANDLING, DEFAULT_NOTIFICATIONS, recordAudit, type AuditActor, type AuthenticatedSession } from '@carillon/core';
import type { Db } from '@carillon/db';
import type { UserDetails } from './user-settings.ts';

/**
 * "Réinitialiser et attribuer" (seed 000): only a deactivated extension can be
 * reset and given to a new person. The settings ticked go back to their
 * defaults (those not ticked stay as they are); whatever belonged to the former
 * person always goes: password and PIN, sessions, links, personal contacts and
 * e-mail-to-fax senders. The extension then waits for the new user's
 * activation ("Activer ultérieurement").
 */
export const RESET_SECTIONS = ['callHandling', 'callRules', 'callerId', 'notifications', 'userHours', 'regional'] as const;
export type ResetSection = (typeof RESET_SECTIONS)[number];

export const resetAssignRequest = z
  .object({
    reset: z.array(z.enum(RESET_SECTIONS)).max(RESET_SECTIONS.length).default([]),
    user: z
      .object({
        firstName: z.string().trim().min(1).max(60),
        lastName: z.string().trim().min(1).max(60),
        email: z.email().max(254),
        department: z.string().trim().max(60).nullable().default(null),
        jobTitle: z.string().trim().max(60).nullable().default(null),
        contactPhone: z.string().trim().regex(/^\+?[0-9 ()./-]{3,25}$/, 'a phone number such as +1 415 555 0100').nullable().default(null),
      })
      .strict(),
  })
  .strict();
export type ResetAssignRequest = z.output<typeof resetAssignRequest>;

export type ResetAssignRefusal = { status: 409; error: 'extension_not_deactivated' | 'email_taken' };

export async function resetAndAssign(db: Db, auth: AuthenticatedSession, actor: AuditActor, before: UserDetails, req: ResetAssignRequest): Promise<ResetAssignRefusal | null> {
  const accountId = auth.account.id;
  try {
    const refused = await db.transaction().execute(async (trx) => {
      // Read again under a lock: an extension enabled meanwhile is not reset.
      const ext = await trx.selectFrom('extensions').select('status').where('account_id', '=', accountId).where('id', '=', before.extensionId).forUpdate().executeTakeFirst();
      if (ext?.status !== 'disabled') return { status: 409 as const, error: 'extension_not_deactivated' as const };
      const reset = new Set(req.reset);
      const change: Record<string, unknown> = {
        first_name: req.user.firstName,
        last_name: req.user.lastName,
        email: req.user.email.toLowerCase(),
        email_login: true,
        department: req.user.department || null,
        job_title: req.user.jobTitle || null,
        contact_phone: req.user.contactPhone || null,
        setup_progress: JSON.stringify({}),
      };
      if (reset.has('callHandling')) change.call_handling = JSON.stringify(DEFAULT_CALL_HANDLING);
      if (reset.has('callRules')) change.call_rules = JSON.stringify([]);
      if (reset.has('callerId')) change.caller_id_settings = JSON.stringify({});
      if (reset.has('notifications')) change.notification_settings = JSON.stringify(DEFAULT_NOTIFICATIONS);
      if (reset.has('userHours')) change.user_hours = JSON.stringify({ mode: '24h' });
      if (reset.has('regional')) Object.assign(change, { language: null, time_zone: null, time_format: null });
      await trx.updateTable('users').set(change).where('account_id', '=', accountId).where('id', '=', before.id).execute();
      if (reset.has('callerId')) await trx.updateTable('devices').set({ caller_id_number_id: null }).where('account_id', '=', accountId).where('extension_id', '=', before.extensionId).execute();
      await trx.deleteFrom('user_credentials').where('user_id', '=', before.id).execute();
      await trx.insertInto('user_credentials').values({ user_id: before.id }).execute();
      await trx.updateTable('sessions').set({ revoked_at: new Date() }).where('account_id', '=', accountId).where('user_id', '=', before.id).where('revoked_at', 'is', null).execute();
      await trx.deleteFrom('user_tokens').where('account_id', '=', accountId).where('user_id', '=', before.id).execute();
      await trx.deleteFrom('contacts').where('account_id', '=', accountId).where('owner_user_id', '=', before.id).execute();
      await trx.deleteFrom('fax_email_senders').where('account_id', '=', accountId).where('user_id', '=', before.id).execute();
      await trx.updateTable('extensions').set({ status: 'not_activated', name: `${req.user.firstName} ${req.user.lastName}`.trim() }).where('account_id', '=', accountId).where('id', '=', before.extensionId).execute();
      await recordAudit(trx, actor, {
        accountId,
        action: 'user.reset_assigned',
        targetType: 'user',
        targetId: before.id,
        before: { firstName: before.firstName, lastName: before.lastName, email: before.email, extension: before.extension, status: 'disabled' },
        after: { firstName: req.user.firstName, lastName: req.user.lastName, email: req.user.email.toLowerCase(), extension: before.extension, status: 'not_activated', reset: [...reset] },
      });
      return null;
    });
    if (!refused) await announceConfigChange(accountId, 'extensions', 'devices');
    return refused;
  } catch (err) {
    if ((err as { code?: string }).code === '23505') return { status: 409, error: 'email_taken' };
    throw err;
  }
}
