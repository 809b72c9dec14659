import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { smsContentWarningMessage, type SmsContentWarning } from '@carillon/domain';
import { campaignListErrorMessage, campaignRowErrorMessage, campaignStartInstant, isValidQuietHours, SMS_CAMPAIGN_MAX_CSV_BYTES, type CampaignRowError } from '@carillon/domain';
import { createSmsCampaign, type SmsCampaignCreateError, type SmsRegistrationError } from '@carillon/core/sms';
import type { AuditActor, AuthenticatedSession } from '@carillon/core';
import type { Runtime } from '../runtime.ts';

/**
 * High-volume SMS (issue 18, deliverable 2) behind the API: the bodies'
 * schemas and the sentences of each refusal. Unreleased: the routes answer
 * 404 unless ENABLE_UNRELEASED names `sms`.
 */

const e164 = z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'an E.164 number, such as +14155550100');

export const smsRegistrationSchema = z
  .object({
    phoneNumber: e164,
    businessName: z.string().trim().min(1).max(200),
    useCase: z.string().trim().min(1).max(2000),
    sampleMessage: z.string().trim().min(1).max(1600),
    expectedDailyVolume: z.number().int().min(1).max(250_000),
  })
  .strict();

export const smsRegistrationReviewSchema = z
  .object({ decision: z.enum(['approve', 'reject']), note: z.string().trim().max(1000).optional() })
  .strict();

export const smsQuietHoursSchema = z
  .object({
    quietHours: z
      .object({ start: z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/), end: z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/) })
      .strict()
      .refine(isValidQuietHours, 'start and end must differ')
      .nullable(),
  })
  .strict();

export const smsContentPolicySchema = z.object({ requireCleanContent: z.boolean() }).strict();

/** Content warnings as the API gives them: the code, its details, and the sentence. */
export const smsContentWarningsJson = (warnings: SmsContentWarning[]) => warnings.map((w) => ({ ...w, message: smsContentWarningMessage(w) }));

/** A text refused because the account requires clean content; the same answer for campaigns, the composer and the API. */
export const uncleanContentResponse = (warnings: SmsContentWarning[]): Response =>
  json(
    { error: 'unclean_content', message: `the account requires clean content: ${warnings.map(smsContentWarningMessage).join('; ')}`, warnings: smsContentWarningsJson(warnings) },
    { status: 400 },
  );

export const smsCampaignActionSchema = z.object({ action: z.enum(['pause', 'resume', 'cancel']) }).strict();

/** The form fields of a new campaign, beside its `file` (the CSV list). */
export const smsCampaignFormSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    from: e164,
    template: z.string().min(1).max(1600),
    /** On the account's wall clock; now when absent. */
    startAt: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, 'YYYY-MM-DDTHH:MM, in the account’s time zone')
      .optional(),
  })
  .strict();

export function smsRegistrationErrorResponse(error: SmsRegistrationError): Response {
  switch (error.code) {
    case 'invalid_number':
      return json({ error: 'invalid_number', message: 'not a phone number' }, { status: 400 });
    case 'not_account_number':
      return json({ error: 'not_account_number', message: 'this number is not one of the account’s numbers' }, { status: 400 });
    case 'already_registered':
      return json({ error: 'already_registered', message: error.status === 'approved' ? 'this number is already approved for high volume' : 'a registration of this number is already pending' }, { status: 409 });
  }
}

function campaignErrorResponse(error: SmsCampaignCreateError): Response {
  switch (error.code) {
    case 'invalid_number':
      return json({ error: 'invalid_number', message: 'not a phone number' }, { status: 400 });
    case 'not_high_volume':
      return json({ error: 'not_high_volume', message: `${error.number} is not approved for high volume: submit its registration first` }, { status: 400 });
    case 'unclean_content':
      return uncleanContentResponse(error.warnings);
    case 'list': {
      const status = error.error.code === 'too_large' ? 413 : 400;
      const errors = error.error.code === 'no_valid_row' ? error.error.errors.map((e) => ({ ...e, message: campaignRowErrorMessage(e) })) : undefined;
      return json({ error: error.error.code, message: campaignListErrorMessage(error.error), ...(errors ? { errors } : {}) }, { status });
    }
  }
}

const tooLarge = () =>
  json({ error: 'too_large', message: `the file is larger than ${SMS_CAMPAIGN_MAX_CSV_BYTES / 1048576} MiB`, maxBytes: SMS_CAMPAIGN_MAX_CSV_BYTES }, { status: 413 });

/**
 * A new campaign from multipart/form-data: the fields of
 * smsCampaignFormSchema and `file`, the CSV list. Answers 201 with the
 * campaign id, the lines accepted and each line refused with its reason.
 */
export async function createCampaignFromForm(rt: Runtime, auth: AuthenticatedSession, actor: AuditActor, request: Request): Promise<Response> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > SMS_CAMPAIGN_MAX_CSV_BYTES + 64 * 1024) return tooLarge();
  if (!(request.headers.get('content-type') ?? '').startsWith('multipart/form-data')) {
    return json({ error: 'expected_multipart', fields: { file: 'send the list as multipart/form-data, field "file"' } }, { status: 400 });
  }
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    return json({ error: 'invalid_body' }, { status: 400 });
  }
  const file = form.get('file');
  const fields = Object.fromEntries([...form.entries()].filter(([k, v]) => k !== 'file' && typeof v === 'string'));
  const parsed = smsCampaignFormSchema.safeParse(fields);
  if (!parsed.success || !(file instanceof File)) {
    const named = parsed.success ? {} : Object.fromEntries(parsed.error.issues.map((i) => [i.path.join('.') || ('keys' in i ? i.keys.join(',') : '_'), i.message]));
    return json({ error: 'invalid_body', fields: { ...named, ...(file instanceof File ? {} : { file: 'required' }) } }, { status: 400 });
  }
  if (file.size > SMS_CAMPAIGN_MAX_CSV_BYTES) return tooLarge();
  let startAt: Date | undefined;
  if (parsed.data.startAt) {
    try {
      startAt = campaignStartInstant(parsed.data.startAt, auth.account.time_zone);
    } catch {
      return json({ error: 'invalid_body', fields: { startAt: 'not a date and time' } }, { status: 400 });
    }
  }
  const csv = new TextDecoder('utf-8', { fatal: false }).decode(await file.arrayBuffer());
  const result = await createSmsCampaign(rt.db, { ...actor, accountId: auth.account.id }, { name: parsed.data.name, from: parsed.data.from, template: parsed.data.template, csv, ...(startAt ? { startAt } : {}) });
  if (!result.ok) return campaignErrorResponse(result.error);
  return json(
    { id: result.campaignId, accepted: result.accepted, rejected: result.errors.length, warnings: smsContentWarningsJson(result.warnings), errors: result.errors.slice(0, 1000).map((e: CampaignRowError) => ({ ...e, message: campaignRowErrorMessage(e) })) },
    { status: 201 },
  );
}
