import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '@carillon/db';
import { COUNTRY_CODES } from '@carillon/domain';
import { diffFields, recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { announceConfigChange } from './config-changes.ts';

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, 'too_long')
    .transform((v) => (v === '' ? null : v))
    .nullable()
    .optional();

/** Company info (seed 000 "Adresse de l'entreprise"): name and address. */
export const companyInfoInput = z.object({
  companyName: z.string().trim().min(1, 'required').max(120, 'too_long'),
  street: optionalText(200),
  street2: optionalText(100),
  city: optionalText(100),
  state: optionalText(100),
  postalCode: optionalText(20),
  addressCountry: z.enum(COUNTRY_CODES).nullable().optional(),
  /** F000 12.9: what callers see as the company's name, at most 15 characters; absent leaves it as it is. */
  callerIdName: optionalText(15),
});
export type CompanyInfoInput = z.infer<typeof companyInfoInput>;

/** Idle intervals offered for the session timeout; the guide leaves the list to the product. */
export const SESSION_TIMEOUT_CHOICES = [5, 10, 15, 30, 60, 120, 240, 480] as const;
/** The longest voicemail retention an account may set: ten years (the database checks it too). */
export const MAX_VOICEMAIL_RETENTION_DAYS = 3650;

export const accountSettingsInput = z.object({
  sessionTimeoutMinutes: z.coerce
    .number()
    .int()
    .refine((n) => (SESSION_TIMEOUT_CHOICES as readonly number[]).includes(n), 'invalid'),
  /** "Enable On-demand Call Recording": users start and stop recording with *9. */
  onDemandRecording: z.boolean().optional(),
  /** Days voicemail messages are kept (issue 13, default 365); absent: unchanged (a form without the field). */
  voicemailRetentionDays: z.coerce.number().int().min(1).max(MAX_VOICEMAIL_RETENTION_DAYS).optional(),
});

export async function updateCompanyInfo(
  db: Kysely<Database>,
  accountId: string,
  actor: AuditActor,
  input: CompanyInfoInput,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirstOrThrow();
    const change = {
      company_name: input.companyName,
      street: input.street ?? null,
      street2: input.street2 ?? null,
      city: input.city ?? null,
      state: input.state ?? null,
      postal_code: input.postalCode ?? null,
      address_country: input.addressCountry ?? null,
      ...(input.callerIdName !== undefined ? { caller_id_name: input.callerIdName } : {}),
    };
    const diff = diffFields(before, change);
    if (!diff) return;
    await trx.updateTable('accounts').set(change).where('id', '=', accountId).execute();
    await recordAudit(trx, actor, { accountId, action: 'company.updated', targetType: 'account', targetId: accountId, ...diff });
  });
  await announceConfigChange(accountId, 'account');
}

export async function updateAccountSettings(
  db: Kysely<Database>,
  accountId: string,
  actor: AuditActor,
  input: z.infer<typeof accountSettingsInput>,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirstOrThrow();
    const change = {
      session_timeout_minutes: input.sessionTimeoutMinutes,
      ...(input.onDemandRecording !== undefined ? { on_demand_recording: input.onDemandRecording } : {}),
      ...(input.voicemailRetentionDays !== undefined ? { voicemail_retention_days: input.voicemailRetentionDays } : {}),
    };
    const diff = diffFields(before, change);
    if (!diff) return;
    await trx.updateTable('accounts').set(change).where('id', '=', accountId).execute();
    const action = Object.keys(diff.after).every((k) => k === 'session_timeout_minutes') ? 'security.session_timeout_updated' : 'account.settings_updated';
    await recordAudit(trx, actor, { accountId, action, targetType: 'account', targetId: accountId, ...diff });
  });
  await announceConfigChange(accountId, 'account');
}
