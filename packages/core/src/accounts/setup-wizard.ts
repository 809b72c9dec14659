import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Database, SetupProgress } from '@carillon/db';
import { COUNTRY_CODES, LANGUAGES, TIME_FORMATS, isTimeZone, toE164 } from '@carillon/domain';
import { diffFields, recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { findExtensionId } from '../auth/identify-user.ts';
import { announceConfigChange } from './config-changes.ts';

/**
 * Quick setup after activation (seed 001, inventory-3 §1.4–1.13). Each stage is
 * saved to the real tables the moment it is completed and recorded in the
 * user's setup_progress, so leaving and coming back loses nothing.
 */
export const SETUP_STEPS = ['credentials', 'company', 'my_info', 'regional', 'emergency', 'review'] as const;
export type SetupStep = (typeof SETUP_STEPS)[number];

const trimmed = (max: number) => z.string().trim().max(max);
const required = (max: number) => trimmed(max).min(1, 'required');

export const stepSchemas = {
  company: z.object({
    /** 'custom' once a greeting was imported or recorded in the step (/api/ivr/greeting): the IVR settings hold which. */
    greetingMode: z.enum(['default', 'custom']),
    operatorExtension: z.string().trim().regex(/^[0-9]{1,9}$/, 'invalid_extension'),
  }),
  my_info: z.object({
    firstName: required(60),
    lastName: required(60),
    email: z.email('invalid_email').max(254),
    emailLogin: z.boolean(),
    contactPhone: trimmed(32).optional(),
  }),
  regional: z.object({
    country: z.enum(COUNTRY_CODES, 'required'),
    timeZone: z.string().refine(isTimeZone, 'invalid_time_zone'),
    timeFormat: z.enum(TIME_FORMATS),
    language: z.enum(LANGUAGES),
  }),
  emergency: z.object({
    name: required(100),
    country: z.enum(COUNTRY_CODES, 'required'),
    street: required(200),
    street2: trimmed(100).optional(),
    city: required(100),
    state: required(100),
    postalCode: required(20),
    acceptTerms: z.literal(true, 'terms_required'),
  }),
  review: z.object({ confirm: z.literal(true) }),
} as const;
export type DataStep = keyof typeof stepSchemas;
export type FieldErrors = Record<string, string>;
export type StepResult = { ok: true; next: SetupStep | 'done' } | { ok: false; errors: FieldErrors };

export function zodFieldErrors(error: z.ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? '_form');
    if (out[field]) continue;
    // Our own codes ('required', 'invalid_email'…) come through as the message; others map by kind.
    out[field] = /^[a-z_]+$/.test(issue.message) ? issue.message : issue.code === 'too_big' ? 'too_long' : 'invalid';
  }
  return out;
}

export async function readProgress(db: Kysely<Database>, accountId: string, userId: string): Promise<SetupProgress> {
  const row = await db
    .selectFrom('users')
    .select('setup_progress')
    .where('id', '=', userId)
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  return (typeof row.setup_progress === 'string' ? JSON.parse(row.setup_progress) : row.setup_progress) ?? {};
}

export function nextStep(progress: SetupProgress): SetupStep | 'done' {
  const done = new Set(progress.completed ?? []);
  return SETUP_STEPS.find((s) => !done.has(s)) ?? 'done';
}

export async function markStepComplete(
  db: Kysely<Database>,
  accountId: string,
  userId: string,
  step: SetupStep,
  values?: unknown,
): Promise<SetupProgress> {
  const progress = await readProgress(db, accountId, userId);
  const completed = new Set(progress.completed ?? []);
  completed.add(step);
  const updated: SetupProgress = { ...progress, completed: SETUP_STEPS.filter((s) => completed.has(s)) };
  if (values !== undefined) updated[step] = values;
  await db
    .updateTable('users')
    .set({ setup_progress: JSON.stringify(updated) })
    .where('id', '=', userId)
    .where('account_id', '=', accountId)
    .execute();
  return updated;
}

/** Values to prefill a step with: what was saved before, else what the account already holds. */
export async function stepDefaults(db: Kysely<Database>, accountId: string, userId: string): Promise<Record<DataStep, unknown>> {
  const progress = await readProgress(db, accountId, userId);
  const account = await db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirstOrThrow();
  const user = await db.selectFrom('users').selectAll().where('id', '=', userId).where('account_id', '=', accountId).executeTakeFirstOrThrow();
  const operator = account.operator_extension_id
    ? await db.selectFrom('extensions').select('number').where('id', '=', account.operator_extension_id).executeTakeFirst()
    : undefined;
  const address = await db
    .selectFrom('emergency_addresses')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  return {
    company: progress.company ?? { greetingMode: account.greeting_mode, operatorExtension: operator?.number ?? '101' },
    my_info: progress.my_info ?? {
      firstName: user.first_name,
      lastName: user.last_name,
      email: user.email,
      emailLogin: user.email_login,
      contactPhone: user.contact_phone ?? '',
    },
    regional: progress.regional ?? {
      country: account.country,
      timeZone: account.time_zone,
      timeFormat: account.time_format,
      language: account.language,
    },
    emergency: address
      ? {
          name: address.name,
          country: address.country,
          street: address.street,
          street2: address.street2 ?? '',
          city: address.city,
          state: address.state,
          postalCode: address.postal_code,
          acceptTerms: true,
        }
      : { name: `${user.first_name} ${user.last_name}`.trim(), country: account.country, street: '', street2: '', city: '', state: '', postalCode: '', acceptTerms: false },
    review: { confirm: false },
  };
}

/** Validates and saves one stage; returns the next stage or field errors. */
export async function saveSetupStep(
  db: Kysely<Database>,
  who: { accountId: string; userId: string },
  actor: AuditActor,
  step: DataStep,
  raw: unknown,
): Promise<StepResult> {
  const parsed = stepSchemas[step].safeParse(raw);
  if (!parsed.success) return { ok: false, errors: zodFieldErrors(parsed.error) };
  const { accountId, userId } = who;
  const result = await db.transaction().execute(async (trx): Promise<StepResult> => {
    // Inside the transaction: the audit entry commits or rolls back with the change it describes.
    const audit = (action: string, targetType: string, targetId: string, diff: { before: unknown; after: unknown } | null) =>
      diff ? recordAudit(trx, actor, { accountId, action, targetType, targetId, ...diff }) : Promise.resolve();
    const account = await trx.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirstOrThrow();
    switch (step) {
      case 'company': {
        const v = stepSchemas.company.parse(raw);
        const extId = await findExtensionId(trx, accountId, v.operatorExtension);
        if (!extId) return { ok: false, errors: { operatorExtension: 'extension_not_found' } };
        // The greeting callers hear is the IVR settings' (single-level company greeting); the step names the one it showed.
        const ivr = await trx.selectFrom('ivr_settings').select('settings').where('account_id', '=', accountId).executeTakeFirst();
        const custom = (ivr?.settings as { singleLevel?: { greeting?: { mode?: unknown } } } | undefined)?.singleLevel?.greeting?.mode === 'audio';
        if (v.greetingMode === 'custom' && !custom) return { ok: false, errors: { greetingMode: 'no_custom_greeting' } };
        const change = { greeting_mode: custom ? ('custom' as const) : ('default' as const), operator_extension_id: extId };
        await trx.updateTable('accounts').set(change).where('id', '=', accountId).execute();
        await audit('company.updated', 'account', accountId, diffFields(account, change));
        break;
      }
      case 'my_info': {
        const v = stepSchemas.my_info.parse(raw);
        const contact = v.contactPhone ? toE164(v.contactPhone, account.country as never) : null;
        if (v.contactPhone && !contact) return { ok: false, errors: { contactPhone: 'invalid_phone' } };
        if (v.emailLogin) {
          const taken = await trx
            .selectFrom('users')
            .select('id')
            .where(sql<boolean>`lower(email) = ${v.email.toLowerCase()}`)
            .where('email_login', '=', true)
            .where('id', '!=', userId)
            .executeTakeFirst();
          if (taken) return { ok: false, errors: { email: 'email_taken' } };
        }
        const user = await trx.selectFrom('users').selectAll().where('id', '=', userId).where('account_id', '=', accountId).executeTakeFirstOrThrow();
        const change = {
          first_name: v.firstName,
          last_name: v.lastName,
          email: v.email.toLowerCase(),
          email_login: v.emailLogin,
          contact_phone: contact,
        };
        await trx.updateTable('users').set(change).where('id', '=', userId).where('account_id', '=', accountId).execute();
        await audit('user.updated', 'user', userId, diffFields(user, change));
        break;
      }
      case 'regional': {
        const v = stepSchemas.regional.parse(raw);
        const change = { country: v.country, time_zone: v.timeZone, time_format: v.timeFormat, language: v.language };
        await trx.updateTable('accounts').set(change).where('id', '=', accountId).execute();
        await audit('company.regional_settings_updated', 'account', accountId, diffFields(account, change));
        break;
      }
      case 'emergency': {
        const v = stepSchemas.emergency.parse(raw);
        const row = {
          account_id: accountId,
          user_id: userId,
          name: v.name,
          country: v.country,
          street: v.street,
          street2: v.street2 || null,
          city: v.city,
          state: v.state,
          postal_code: v.postalCode,
          terms_accepted_at: new Date(),
        };
        const saved = await trx.insertInto('emergency_addresses').values(row).returning('id').executeTakeFirstOrThrow();
        await audit('emergency_address.registered', 'emergency_address', saved.id, { before: null, after: { ...row, terms_accepted_at: undefined } });
        break;
      }
      case 'review': {
        const progress = await readProgress(trx, accountId, userId);
        const missing = SETUP_STEPS.filter((s) => s !== 'review' && !progress.completed?.includes(s));
        if (missing.length) return { ok: false, errors: { _form: `incomplete:${missing.join(',')}` } };
        await trx.updateTable('accounts').set({ setup_completed_at: new Date() }).where('id', '=', accountId).execute();
        await audit('company.setup_completed', 'account', accountId, { before: null, after: { setupCompleted: true } });
        break;
      }
    }
    const progress = await markStepComplete(trx, accountId, userId, step, step === 'review' ? undefined : parsed.data);
    return { ok: true, next: nextStep(progress) };
  });
  // The regional step moves the country, which routing reads.
  if (result.ok) await announceConfigChange(accountId, 'account');
  return result;
}
