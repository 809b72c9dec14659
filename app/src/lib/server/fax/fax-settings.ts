import { z } from 'zod';
import { recordAudit, type AuditActor, type AuthenticatedSession } from '@carillon/core';
import { FAX_COVER_CHOICES, type FaxCoverChoice, type FaxCoverInfo } from '@carillon/domain';
import { faxCoverSettingsOf } from '@carillon/core/fax';
import type { Runtime } from '../runtime.ts';

/** Seed 000 "Faxes Sent via Email": addresses besides the login one that may send faxes as this user. */
export const MAX_FAX_EMAIL_SENDERS = 10;

const line = (max: number) => z.string().trim().max(max, `at most ${max} characters`);

/** "Cover Page Info — printed on your fax cover page"; the two numbers must be the account's. */
const coverInfo = z
  .object({
    company: line(100),
    street: line(100),
    street2: line(100),
    city: line(60),
    state: line(60),
    postalCode: line(20),
    country: line(60),
    phoneNumber: z.string().trim(),
    faxNumber: z.string().trim(),
  })
  .strict();

/** Every part is optional: a PUT changes what it names and keeps the rest. */
export const faxSettingsUpdate = z
  .object({
    allowedSenders: z
      .array(z.string().trim().toLowerCase().pipe(z.email('not an e-mail address')))
      .max(MAX_FAX_EMAIL_SENDERS, `at most ${MAX_FAX_EMAIL_SENDERS} addresses`)
      .transform((list) => [...new Set(list)])
      .optional(),
    coverTemplate: z.enum(FAX_COVER_CHOICES).optional(),
    omitCoverWhenSubjectBlank: z.boolean().optional(),
    coverInfo: coverInfo.optional(),
  })
  .strict();

export interface FaxSettingsView {
  /** Where to send a fax by e-mail: `<fax number>@` this domain. */
  emailDomain: string;
  loginEmail: string;
  allowedSenders: string[];
  coverTemplate: FaxCoverChoice;
  omitCoverWhenSubjectBlank: boolean;
  coverInfo: FaxCoverInfo;
  /** The account's numbers, for the Phone Number and Fax Number choices. */
  accountNumbers: { e164: string; nickname: string | null; faxCapable: boolean }[];
}

export async function faxSettings(rt: Runtime, auth: AuthenticatedSession): Promise<FaxSettingsView> {
  const rows = await rt.db
    .selectFrom('fax_email_senders')
    .select('email')
    .where('account_id', '=', auth.account.id)
    .where('user_id', '=', auth.user.id)
    .orderBy('email')
    .execute();
  const cover = await faxCoverSettingsOf(rt.db, auth.account.id, auth.user.id);
  const numbers = await rt.db
    .selectFrom('phone_numbers')
    .select(['e164', 'nickname', 'fax_capable'])
    .where('account_id', '=', auth.account.id)
    .orderBy('e164')
    .execute();
  return {
    emailDomain: rt.config.FAX_EMAIL_DOMAIN,
    loginEmail: auth.user.email,
    allowedSenders: rows.map((r) => r.email),
    ...cover,
    accountNumbers: numbers.map((n) => ({ e164: n.e164, nickname: n.nickname, faxCapable: n.fax_capable })),
  };
}

export type UpdateOutcome = { ok: true; settings: FaxSettingsView } | { ok: false; taken: string[] } | { ok: false; fields: Record<string, string> };

/**
 * Saves what the update names. Extra sender addresses replace the caller's list; an address already allowed
 * for someone else is refused, as a mail must name one sender. Cover page numbers must be the account's.
 */
export async function updateFaxSettings(rt: Runtime, auth: AuthenticatedSession, actor: AuditActor, update: z.output<typeof faxSettingsUpdate>): Promise<UpdateOutcome> {
  const before = await faxSettings(rt, auth);
  const emails = update.allowedSenders;
  if (emails && emails.length > 0) {
    const taken = await rt.db.selectFrom('fax_email_senders').select('email').where('email', 'in', emails).where('user_id', '<>', auth.user.id).execute();
    if (taken.length > 0) return { ok: false, taken: taken.map((t) => t.email) };
  }
  if (update.coverInfo) {
    const owned = new Set(before.accountNumbers.map((n) => n.e164));
    const fields: Record<string, string> = {};
    for (const key of ['phoneNumber', 'faxNumber'] as const) {
      const value = update.coverInfo[key];
      if (value !== '' && !owned.has(value)) fields[`coverInfo.${key}`] = `${value.slice(0, 20)} is not a number of this account`;
    }
    if (Object.keys(fields).length > 0) return { ok: false, fields };
  }
  const cover = {
    cover_template: update.coverTemplate ?? before.coverTemplate,
    omit_cover_when_subject_blank: update.omitCoverWhenSubjectBlank ?? before.omitCoverWhenSubjectBlank,
    cover_info: JSON.stringify(update.coverInfo ?? before.coverInfo),
    updated_at: new Date(),
  };
  await rt.db.transaction().execute(async (trx) => {
    if (emails) {
      await trx.deleteFrom('fax_email_senders').where('account_id', '=', auth.account.id).where('user_id', '=', auth.user.id).execute();
      if (emails.length > 0) {
        await trx.insertInto('fax_email_senders').values(emails.map((email) => ({ account_id: auth.account.id, user_id: auth.user.id, email }))).execute();
      }
    }
    if (update.coverTemplate !== undefined || update.omitCoverWhenSubjectBlank !== undefined || update.coverInfo !== undefined) {
      await trx
        .insertInto('fax_cover_settings')
        .values({ user_id: auth.user.id, account_id: auth.account.id, ...cover })
        .onConflict((oc) => oc.column('user_id').doUpdateSet(cover))
        .execute();
    }
  });
  const after = await faxSettings(rt, auth);
  // Who may send faxes in someone's name, and what their cover page says, are worth a trace.
  const traced = ({ allowedSenders, coverTemplate, omitCoverWhenSubjectBlank, coverInfo }: FaxSettingsView) => ({ allowedSenders, coverTemplate, omitCoverWhenSubjectBlank, coverInfo });
  if (emails) {
    await recordAudit(rt.db, actor, { accountId: auth.account.id, action: 'fax_email_senders.updated', targetType: 'user', targetId: auth.user.id, before: { allowedSenders: before.allowedSenders }, after: { allowedSenders: after.allowedSenders } });
  }
  if (update.coverTemplate !== undefined || update.omitCoverWhenSubjectBlank !== undefined || update.coverInfo !== undefined) {
    const { allowedSenders: _b, ...was } = traced(before);
    const { allowedSenders: _a, ...now } = traced(after);
    await recordAudit(rt.db, actor, { accountId: auth.account.id, action: 'fax_settings.updated', targetType: 'user', targetId: auth.user.id, before: was, after: now });
  }
  return { ok: true, settings: after };
}
