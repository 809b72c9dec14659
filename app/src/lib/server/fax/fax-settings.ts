import { z } from 'zod';
import { recordAudit, type AuditActor, type AuthenticatedSession } from '@carillon/core';
import type { Runtime } from '../runtime.ts';

/** Seed 000 "Faxes Sent via Email": addresses besides the login one that may send faxes as this user. */
export const MAX_FAX_EMAIL_SENDERS = 10;

export const faxSettingsUpdate = z.object({
  allowedSenders: z
    .array(z.string().trim().toLowerCase().pipe(z.email('not an e-mail address')))
    .max(MAX_FAX_EMAIL_SENDERS, `at most ${MAX_FAX_EMAIL_SENDERS} addresses`)
    .transform((list) => [...new Set(list)]),
});

export interface FaxSettingsView {
  /** Where to send a fax by e-mail: `<fax number>@` this domain. */
  emailDomain: string;
  loginEmail: string;
  allowedSenders: string[];
}

export async function faxSettings(rt: Runtime, auth: AuthenticatedSession): Promise<FaxSettingsView> {
  const rows = await rt.db
    .selectFrom('fax_email_senders')
    .select('email')
    .where('account_id', '=', auth.account.id)
    .where('user_id', '=', auth.user.id)
    .orderBy('email')
    .execute();
  return { emailDomain: rt.config.FAX_EMAIL_DOMAIN, loginEmail: auth.user.email, allowedSenders: rows.map((r) => r.email) };
}

export type UpdateOutcome = { ok: true; settings: FaxSettingsView } | { ok: false; taken: string[] };

/** Replaces the caller's extra addresses. An address already allowed for someone else is refused: a mail must name one sender. */
export async function updateFaxSettings(rt: Runtime, auth: AuthenticatedSession, actor: AuditActor, update: z.output<typeof faxSettingsUpdate>): Promise<UpdateOutcome> {
  const before = (await faxSettings(rt, auth)).allowedSenders;
  const emails = update.allowedSenders;
  if (emails.length > 0) {
    const taken = await rt.db.selectFrom('fax_email_senders').select('email').where('email', 'in', emails).where('user_id', '<>', auth.user.id).execute();
    if (taken.length > 0) return { ok: false, taken: taken.map((t) => t.email) };
  }
  await rt.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('fax_email_senders').where('account_id', '=', auth.account.id).where('user_id', '=', auth.user.id).execute();
    if (emails.length > 0) {
      await trx.insertInto('fax_email_senders').values(emails.map((email) => ({ account_id: auth.account.id, user_id: auth.user.id, email }))).execute();
    }
  });
  // Who may send faxes in someone's name is worth a trace.
  await recordAudit(rt.db, actor, { accountId: auth.account.id, action: 'fax_email_senders.updated', targetType: 'user', targetId: auth.user.id, before: { allowedSenders: before }, after: { allowedSenders: emails } });
  return { ok: true, settings: await faxSettings(rt, auth) };
}
