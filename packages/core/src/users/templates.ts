import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database, TemplateKind } from '@carillon/db';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { granterNow, refuseGrant } from '../accounts/role-grants.ts';
import {
  callerIdByFeatureSchema,
  callHandlingSchema,
  notificationsSchema,
  regionalSchema,
  userHoursSchema,
} from './user-settings.ts';

/**
 * Templates (seed 000 "Gestion des modèles"). A user-settings template groups
 * settings in sections, each with its own "Remplacer les paramètres
 * utilisateur" switch: only sections switched on overwrite the user's own
 * values when applied. A call-handling template is one custom rule (caller ID
 * and/or date conditions, and an action) added to each user.
 */
const section = <T extends z.ZodType>(value: T) => z.object({ override: z.boolean(), value }).strict().optional();

export const userSettingsTemplateSchema = z
  .object({
    regional: section(regionalSchema),
    userHours: section(userHoursSchema),
    role: section(z.object({ roleId: z.uuid() }).strict()),
    jobTitle: section(z.string().trim().max(60)),
    notifications: section(notificationsSchema),
    callerId: section(callerIdByFeatureSchema),
    callHandling: section(callHandlingSchema),
  })
  .strict();
export type UserSettingsTemplate = z.output<typeof userSettingsTemplateSchema>;
export const TEMPLATE_SECTIONS = ['regional', 'userHours', 'role', 'jobTitle', 'notifications', 'callerId', 'callHandling'] as const;
export type TemplateSection = (typeof TEMPLATE_SECTIONS)[number];

const day = z.iso.date();
export const CALL_RULE_ACTIONS = ['forward', 'voicemail', 'hang_up'] as const;
export const callHandlingTemplateSchema = z
  .object({
    conditions: z
      .object({
        /** Callers the rule matches, as E.164 numbers. */
        callerIds: z.array(z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'an E.164 number such as +14155550100')).max(50).default([]),
        dates: z.object({ from: day, to: day }).strict().refine((d) => d.from <= d.to, { message: 'must not end before it starts', path: ['to'] }).nullable().default(null),
      })
      .strict()
      .refine((c) => c.callerIds.length > 0 || c.dates !== null, { message: 'give a caller ID or dates', path: ['callerIds'] }),
    action: z.discriminatedUnion('type', [
      z.object({ type: z.literal('forward'), number: z.string().regex(/^(\+[1-9][0-9]{6,14}|[0-9]{2,10})$/, 'a number or an extension') }).strict(),
      z.object({ type: z.literal('voicemail') }).strict(),
      z.object({ type: z.literal('hang_up') }).strict(),
    ]),
  })
  .strict();
export type CallHandlingTemplate = z.output<typeof callHandlingTemplateSchema>;

export function templateSettingsSchema(kind: TemplateKind): z.ZodType<Record<string, unknown>> {
  return (kind === 'user_settings' ? userSettingsTemplateSchema : callHandlingTemplateSchema) as unknown as z.ZodType<Record<string, unknown>>;
}

/** The rule a call-handling template gives a user: its id names the template, so applying twice keeps one. */
export interface TemplateCallRule extends CallHandlingTemplate {
  id: string;
  name: string;
}

export interface ApplyTarget {
  accountId: string;
  applicationId: string;
  templateId: string | null;
  templateName: string;
  kind: TemplateKind;
  settings: Record<string, unknown>;
}

export type ApplyOutcome = 'applied' | 'already_applied' | 'gone';

/**
 * Applies one template to one user, in one transaction with the stamp that
 * says it is done: a crash before the commit leaves neither, and a retry sees
 * the stamp and skips the user. Sections not switched on are left alone.
 */
export async function applyTemplateToUser(db: Kysely<Database>, actor: AuditActor, target: ApplyTarget, userId: string): Promise<{ outcome: ApplyOutcome; skipped: TemplateSection[] }> {
  return db.transaction().execute(async (trx) => {
    const stamp = await trx
      .selectFrom('template_application_users')
      .select('applied_at')
      .where('application_id', '=', target.applicationId)
      .where('account_id', '=', target.accountId)
      .where('user_id', '=', userId)
      .forUpdate()
      .executeTakeFirst();
    if (!stamp) return { outcome: 'gone' as const, skipped: [] };
    if (stamp.applied_at) return { outcome: 'already_applied' as const, skipped: [] };
    const user = await trx
      .selectFrom('users')
      .innerJoin('roles', 'roles.id', 'users.role_id')
      .select(['users.id', 'users.language', 'users.time_zone', 'users.time_format', 'users.user_hours', 'users.role_id', 'users.job_title', 'users.notification_settings', 'users.caller_id_settings', 'users.call_handling', 'users.call_rules', 'roles.key as role_key'])
      .where('users.account_id', '=', target.accountId)
      .where('users.id', '=', userId)
      .executeTakeFirst();
    if (!user) {
      // Deleted since: nothing to apply, but the stamp keeps the count right.
      await stampDone(trx, target, userId);
      return { outcome: 'gone' as const, skipped: [] };
    }
    const change: Record<string, unknown> = {};
    const before: Record<string, unknown> = {};
    const skipped: TemplateSection[] = [];
    if (target.kind === 'user_settings') {
      const t = userSettingsTemplateSchema.parse(target.settings);
      if (t.regional?.override) {
        Object.assign(before, { language: user.language, timeZone: user.time_zone, timeFormat: user.time_format });
        Object.assign(change, { language: t.regional.value.language, time_zone: t.regional.value.timeZone, time_format: t.regional.value.timeFormat });
      }
      if (t.userHours?.override) {
        before.userHours = user.user_hours;
        change.user_hours = JSON.stringify(t.userHours.value);
      }
      if (t.role?.override) {
        const role = await trx
          .selectFrom('roles')
          .select(['id', 'key'])
          .where('id', '=', t.role.value.roleId)
          .where((eb) => eb.or([eb('account_id', '=', target.accountId), eb('account_id', 'is', null)]))
          .executeTakeFirst();
        // Checked when the application was asked for, and again here for the requester as they are now
        // (their role may have been lowered since): nobody grants a right they do not hold.
        const granter = actor.userId ? await granterNow(trx, target.accountId, actor.userId) : null;
        const refused = !granter || (await refuseGrant(trx, granter, { roleId: t.role.value.roleId })) !== null;
        // A Super Admin keeps their role: a template must not be able to lock the owners out.
        if (!role || refused || (user.role_key === 'super_admin' && role.key !== 'super_admin')) skipped.push('role');
        else {
          before.roleId = user.role_id;
          change.role_id = role.id;
        }
      }
      if (t.jobTitle?.override) {
        before.jobTitle = user.job_title;
        change.job_title = t.jobTitle.value || null;
      }
      if (t.notifications?.override) {
        before.notifications = user.notification_settings;
        change.notification_settings = JSON.stringify(t.notifications.value);
      }
      if (t.callerId?.override) {
        const ids = Object.values(t.callerId.value).filter((v) => v !== 'blocked');
        const known = ids.length
          ? await trx.selectFrom('phone_numbers').select('id').where('account_id', '=', target.accountId).where('id', 'in', ids).execute()
          : [];
        if (known.length !== new Set(ids).size) skipped.push('callerId');
        else {
          before.callerId = user.caller_id_settings;
          change.caller_id_settings = JSON.stringify(t.callerId.value);
        }
      }
      if (t.callHandling?.override) {
        before.callHandling = user.call_handling;
        change.call_handling = JSON.stringify(t.callHandling.value);
      }
    } else {
      const t = callHandlingTemplateSchema.parse(target.settings);
      const ruleId = `template:${target.templateId ?? target.applicationId}`;
      const rule: TemplateCallRule = { id: ruleId, name: target.templateName, ...t };
      const rules = (Array.isArray(user.call_rules) ? user.call_rules : []).filter((r) => (r as { id?: string }).id !== ruleId);
      before.callRules = user.call_rules;
      change.call_rules = JSON.stringify([...rules, rule]);
    }
    if (Object.keys(change).length > 0) {
      await trx.updateTable('users').set(change).where('account_id', '=', target.accountId).where('id', '=', userId).execute();
    }
    await recordAudit(trx, actor, {
      accountId: target.accountId,
      action: 'user.template_applied',
      targetType: 'user',
      targetId: userId,
      before,
      after: { templateId: target.templateId, template: target.templateName, applicationId: target.applicationId, changed: Object.keys(change), skipped },
    });
    await stampDone(trx, target, userId);
    return { outcome: 'applied' as const, skipped };
  });
}

async function stampDone(trx: Kysely<Database>, target: ApplyTarget, userId: string): Promise<void> {
  await trx
    .updateTable('template_application_users')
    .set({ applied_at: new Date() })
    .where('application_id', '=', target.applicationId)
    .where('account_id', '=', target.accountId)
    .where('user_id', '=', userId)
    .execute();
}

export interface TemplateRow {
  id: string;
  account_id: string;
  kind: TemplateKind;
  name: string;
  settings: Record<string, unknown>;
}

/**
 * Stores an application of `template` to the account's users among `userIds`
 * (a snapshot of the template, and one row per user to stamp), for the
 * `template-apply` job to carry out. Ids of no user of the account are
 * returned apart and not applied.
 */
export async function createTemplateApplication(
  db: Kysely<Database>,
  actor: AuditActor,
  template: TemplateRow,
  userIds: readonly string[],
): Promise<{ applicationId: string; total: number; notFound: string[] }> {
  const wanted = [...new Set(userIds)];
  return db.transaction().execute(async (trx) => {
    const found = wanted.length
      ? await trx.selectFrom('users').select('id').where('account_id', '=', template.account_id).where('id', 'in', wanted).execute()
      : [];
    const ids = new Set(found.map((u) => u.id));
    const app = await trx
      .insertInto('template_applications')
      .values({
        account_id: template.account_id,
        template_id: template.id,
        template_name: template.name,
        kind: template.kind,
        settings: JSON.stringify(template.settings),
        requested_by: actor.userId,
        total: ids.size,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const rows = [...ids].map((user_id) => ({ application_id: app.id, account_id: template.account_id, user_id }));
    for (let i = 0; i < rows.length; i += 500) await trx.insertInto('template_application_users').values(rows.slice(i, i + 500)).execute();
    await recordAudit(trx, actor, { accountId: template.account_id, action: 'template.applied', targetType: 'template', targetId: template.id, after: { template: template.name, applicationId: app.id, users: ids.size } });
    return { applicationId: app.id, total: ids.size, notFound: wanted.filter((id) => !ids.has(id)) };
  });
}
