import type { Db, SmsRegistrationStatus } from '@carillon/db';
import type { SmsQuietHours } from '@carillon/domain';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { normaliseSmsNumber } from './sms-messages.ts';

/**
 * High-volume enablement (issue 18, deliverable 2; inventory 1 "High Volume
 * SMS": "you must first enable your number … through the registration
 * form"): a number sends A2P campaigns only once an admin approved its
 * registration. Submissions and reviews are audited.
 */

export interface SmsRegistrationInput {
  phoneNumber: string;
  businessName: string;
  useCase: string;
  sampleMessage: string;
  expectedDailyVolume: number;
}

export interface SmsRegistrationView {
  id: string;
  phoneNumber: string;
  businessName: string;
  useCase: string;
  sampleMessage: string;
  expectedDailyVolume: number;
  status: SmsRegistrationStatus;
  submittedAt: string;
  reviewedAt: string | null;
  reviewNote: string | null;
}

export type SmsRegistrationError = { code: 'not_account_number' } | { code: 'already_registered'; status: 'pending' | 'approved' } | { code: 'invalid_number' };

/** The account's numbers, in both stored forms of a number (with and without '+'). */
async function isAccountNumber(db: Db, accountId: string, e164: string): Promise<boolean> {
  const row = await db.selectFrom('phone_numbers').select('id').where('account_id', '=', accountId).where('e164', 'in', [e164, e164.slice(1)]).executeTakeFirst();
  return Boolean(row);
}

export async function submitSmsRegistration(
  db: Db,
  actor: AuditActor & { accountId: string },
  input: SmsRegistrationInput,
): Promise<{ ok: true; registration: SmsRegistrationView } | { ok: false; error: SmsRegistrationError }> {
  let phone: string;
  try {
    phone = normaliseSmsNumber(input.phoneNumber);
  } catch {
    return { ok: false, error: { code: 'invalid_number' } };
  }
  if (!(await isAccountNumber(db, actor.accountId, phone))) return { ok: false, error: { code: 'not_account_number' } };
  return db.transaction().execute(async (trx) => {
    const live = await trx
      .selectFrom('sms_number_registrations')
      .select('status')
      .where('account_id', '=', actor.accountId)
      .where('phone_number', '=', phone)
      .where('status', 'in', ['pending', 'approved'])
      .executeTakeFirst();
    if (live) return { ok: false as const, error: { code: 'already_registered' as const, status: live.status as 'pending' | 'approved' } };
    const row = await trx
      .insertInto('sms_number_registrations')
      .values({
        account_id: actor.accountId,
        phone_number: phone,
        business_name: input.businessName,
        use_case: input.useCase,
        sample_message: input.sampleMessage,
        expected_daily_volume: input.expectedDailyVolume,
        submitted_by: actor.userId,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      accountId: actor.accountId,
      action: 'sms_registration.submitted',
      targetType: 'sms_registration',
      targetId: row.id,
      after: { phoneNumber: phone, businessName: input.businessName, useCase: input.useCase, expectedDailyVolume: input.expectedDailyVolume },
    });
    return { ok: true as const, registration: viewOf(row) };
  });
}

export async function listSmsRegistrations(db: Db, accountId: string): Promise<SmsRegistrationView[]> {
  const rows = await db.selectFrom('sms_number_registrations').selectAll().where('account_id', '=', accountId).orderBy('submitted_at', 'desc').limit(500).execute();
  return rows.map(viewOf);
}

/** Whether the id names one of the account's registrations (asked before the body is read: another account's id is 404). */
export async function isOwnSmsRegistration(db: Db, accountId: string, id: string): Promise<boolean> {
  return Boolean(await db.selectFrom('sms_number_registrations').select('id').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst());
}

/**
 * An admin's answer to a pending registration. Undefined when the id is not
 * one of the account's; 'already_reviewed' when it is no longer pending.
 */
export async function reviewSmsRegistration(
  db: Db,
  actor: AuditActor & { accountId: string },
  id: string,
  decision: 'approve' | 'reject',
  note: string | null,
): Promise<SmsRegistrationView | 'already_reviewed' | undefined> {
  return db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('sms_number_registrations').selectAll().where('id', '=', id).where('account_id', '=', actor.accountId).forUpdate().executeTakeFirst();
    if (!before) return undefined;
    if (before.status !== 'pending') return 'already_reviewed' as const;
    const status = decision === 'approve' ? 'approved' : 'rejected';
    const after = await trx
      .updateTable('sms_number_registrations')
      .set({ status, reviewed_by: actor.userId, reviewed_at: new Date(), review_note: note })
      .where('id', '=', id)
      .where('account_id', '=', actor.accountId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      accountId: actor.accountId,
      action: decision === 'approve' ? 'sms_registration.approved' : 'sms_registration.rejected',
      targetType: 'sms_registration',
      targetId: id,
      before: { status: before.status },
      after: { status, phoneNumber: before.phone_number, note },
    });
    return viewOf(after);
  });
}

/** Whether the number may send campaigns (A2P): its registration was approved. */
export async function isHighVolumeNumber(db: Db, accountId: string, phoneNumber: string): Promise<boolean> {
  const row = await db
    .selectFrom('sms_number_registrations')
    .select('id')
    .where('account_id', '=', accountId)
    .where('phone_number', '=', normaliseSmsNumber(phoneNumber))
    .where('status', '=', 'approved')
    .executeTakeFirst();
  return Boolean(row);
}

/**
 * Quiet hours when the admin set none: 21:00–08:00 on the account's clock,
 * the calling-hours window of the US TCPA rules (47 CFR 64.1200(c)(1)).
 */
export const DEFAULT_SMS_QUIET_HOURS: SmsQuietHours = { start: '21:00', end: '08:00' };

/** The account's quiet hours: null when the admin turned them off. */
export async function smsQuietHours(db: Db, accountId: string): Promise<SmsQuietHours | null> {
  const row = await db.selectFrom('sms_campaign_settings').select(['quiet_start', 'quiet_end']).where('account_id', '=', accountId).executeTakeFirst();
  if (!row) return DEFAULT_SMS_QUIET_HOURS;
  return row.quiet_start && row.quiet_end ? { start: row.quiet_start, end: row.quiet_end } : null;
}

export async function setSmsQuietHours(db: Db, actor: AuditActor & { accountId: string }, quiet: SmsQuietHours | null): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const before = await smsQuietHours(trx, actor.accountId);
    await trx
      .insertInto('sms_campaign_settings')
      .values({ account_id: actor.accountId, quiet_start: quiet?.start ?? null, quiet_end: quiet?.end ?? null })
      .onConflict((oc) => oc.column('account_id').doUpdateSet({ quiet_start: quiet?.start ?? null, quiet_end: quiet?.end ?? null, updated_at: new Date() }))
      .execute();
    await recordAudit(trx, actor, { accountId: actor.accountId, action: 'sms_quiet_hours.updated', targetType: 'sms_campaign_settings', before, after: quiet });
  });
}

/** Whether the account refuses texts the content check warns about (shortened URLs, spam patterns). */
export async function smsRequiresCleanContent(db: Db, accountId: string): Promise<boolean> {
  const row = await db.selectFrom('sms_campaign_settings').select('require_clean_content').where('account_id', '=', accountId).executeTakeFirst();
  return row?.require_clean_content ?? false;
}

export async function setSmsRequireCleanContent(db: Db, actor: AuditActor & { accountId: string }, required: boolean): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const before = await smsRequiresCleanContent(trx, actor.accountId);
    await trx
      .insertInto('sms_campaign_settings')
      // A first row keeps the default quiet hours: absent settings mean those, a row with none means "off".
      .values({ account_id: actor.accountId, quiet_start: DEFAULT_SMS_QUIET_HOURS.start, quiet_end: DEFAULT_SMS_QUIET_HOURS.end, require_clean_content: required })
      .onConflict((oc) => oc.column('account_id').doUpdateSet({ require_clean_content: required, updated_at: new Date() }))
      .execute();
    await recordAudit(trx, actor, { accountId: actor.accountId, action: 'sms_content_policy.updated', targetType: 'sms_campaign_settings', before: { requireCleanContent: before }, after: { requireCleanContent: required } });
  });
}

function viewOf(r: {
  id: string;
  phone_number: string;
  business_name: string;
  use_case: string;
  sample_message: string;
  expected_daily_volume: number;
  status: SmsRegistrationStatus;
  submitted_at: Date;
  reviewed_at: Date | null;
  review_note: string | null;
}): SmsRegistrationView {
  return {
    id: r.id,
    phoneNumber: r.phone_number,
    businessName: r.business_name,
    useCase: r.use_case,
    sampleMessage: r.sample_message,
    expectedDailyVolume: r.expected_daily_volume,
    status: r.status,
    submittedAt: r.submitted_at.toISOString(),
    reviewedAt: r.reviewed_at?.toISOString() ?? null,
    reviewNote: r.review_note,
  };
}
