import { z } from 'zod';
import { createTemplateApplication, granterOf, grantRefusalText, recordAudit, refuseGrant, templateSettingsSchema, userSettingsTemplateSchema, type AuditActor, type AuthenticatedSession } from '@carillon/core';
import type { Db, TemplateKind } from '@carillon/db';
import { enqueueTemplateApply } from '@carillon/core/jobs';
import type { Runtime } from '../runtime.ts';
import { appJobs } from '../jobs.ts';
import { roleError, type RoleError } from '../roles/roles.ts';

/**
 * Templates (seed 000 "Gestion des modèles"): user-settings and call-handling
 * templates of the account, and applying one to many users as a background
 * job (seed 000 "Application d'un modèle aux utilisateurs").
 */
export const TEMPLATE_KINDS = ['user_settings', 'call_handling'] as const satisfies readonly TemplateKind[];

/** Query of GET /api/templates: optionally one kind only. */
export const templateListQuery = z.object({ kind: z.enum(TEMPLATE_KINDS).optional() }).strict();

const name = z.string().trim().min(1).max(60);
export const templateCreate = z
  .object({ kind: z.enum(TEMPLATE_KINDS), name, settings: z.record(z.string(), z.unknown()).default({}) })
  .strict()
  .superRefine((b, ctx) => {
    const parsed = templateSettingsSchema(b.kind).safeParse(b.settings);
    if (!parsed.success) for (const i of parsed.error.issues) ctx.addIssue({ code: 'custom', path: ['settings', ...i.path.map(String)], message: i.message });
  });
export const templatePatch = z.object({ name, settings: z.record(z.string(), z.unknown()) }).partial().strict();
export const applyRequest = z.object({ userIds: z.array(z.uuid()).min(1).max(10_000) }).strict();

export interface TemplateView {
  id: string;
  kind: TemplateKind;
  name: string;
  settings: Record<string, unknown>;
  createdAt: string;
  createdBy: string | null;
  updatedAt: string;
  updatedBy: string | null;
}

export async function listTemplates(db: Db, accountId: string, kind?: TemplateKind): Promise<TemplateView[]> {
  let q = selectTemplates(db, accountId);
  if (kind) q = q.where('user_templates.kind', '=', kind);
  return (await q.orderBy('user_templates.name').execute()).map(view);
}

export async function getTemplate(db: Db, accountId: string, id: string): Promise<TemplateView | null> {
  const row = await selectTemplates(db, accountId).where('user_templates.id', '=', id).executeTakeFirst();
  return row ? view(row) : null;
}

function selectTemplates(db: Db, accountId: string) {
  return db
    .selectFrom('user_templates')
    .leftJoin('users as creator', 'creator.id', 'user_templates.created_by')
    .leftJoin('users as editor', 'editor.id', 'user_templates.updated_by')
    .select([
      'user_templates.id',
      'user_templates.kind',
      'user_templates.name',
      'user_templates.settings',
      'user_templates.created_at',
      'user_templates.updated_at',
      (eb) => eb.fn<string | null>('concat_ws', [eb.val(' '), 'creator.first_name', 'creator.last_name']).as('created_by_name'),
      (eb) => eb.fn<string | null>('concat_ws', [eb.val(' '), 'editor.first_name', 'editor.last_name']).as('updated_by_name'),
    ])
    .where('user_templates.account_id', '=', accountId);
}

type Row = { id: string; kind: TemplateKind; name: string; settings: Record<string, unknown>; created_at: Date; updated_at: Date; created_by_name: string | null; updated_by_name: string | null };
const view = (r: Row): TemplateView => ({
  id: r.id,
  kind: r.kind,
  name: r.name,
  settings: r.settings,
  createdAt: new Date(r.created_at).toISOString(),
  createdBy: r.created_by_name || null,
  updatedAt: new Date(r.updated_at).toISOString(),
  updatedBy: r.updated_by_name || null,
});

export type TemplateError = { error: 'name_taken' } | { error: 'invalid_body'; fields: Record<string, string> };

/** Settings that name a role or a number must name one of this account (or a predefined role). */
async function checkReferences(db: Db, auth: AuthenticatedSession, kind: TemplateKind, settings: Record<string, unknown>): Promise<{ ok: true; settings: Record<string, unknown> } | TemplateError> {
  const parsed = templateSettingsSchema(kind).safeParse(settings);
  if (!parsed.success) return { error: 'invalid_body', fields: Object.fromEntries(parsed.error.issues.map((i) => [['settings', ...i.path.map(String)].join('.'), i.message])) };
  if (kind !== 'user_settings') return { ok: true, settings: parsed.data };
  const t = userSettingsTemplateSchema.parse(parsed.data);
  const accountId = auth.account.id;
  const fields: Record<string, string> = {};
  if (t.role) {
    const refusal = await refuseGrant(db, granterOf(auth), { roleId: t.role.value.roleId });
    // A template is a grant waiting to happen: nobody makes one carrying a right they do not hold.
    if (refusal) fields['settings.role.value.roleId'] = refusal.reason === 'role_not_found' ? 'not_found' : grantRefusalText(refusal);
  }
  if (t.callerId) {
    for (const [feature, value] of Object.entries(t.callerId.value)) {
      if (value === 'blocked' || value === undefined) continue;
      const n = await db.selectFrom('phone_numbers').select('id').where('account_id', '=', accountId).where('id', '=', value).executeTakeFirst();
      if (!n) fields[`settings.callerId.value.${feature}`] = 'not_found';
    }
  }
  return Object.keys(fields).length ? { error: 'invalid_body', fields } : { ok: true, settings: parsed.data };
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';

export async function createTemplate(db: Db, auth: AuthenticatedSession, actor: AuditActor, input: z.output<typeof templateCreate>): Promise<TemplateView | TemplateError> {
  const checked = await checkReferences(db, auth, input.kind, input.settings);
  if (!('ok' in checked)) return checked;
  const settings = checked.settings;
  try {
    const row = await db.transaction().execute(async (trx) => {
      const created = await trx
        .insertInto('user_templates')
        .values({ account_id: auth.account.id, kind: input.kind, name: input.name, settings: JSON.stringify(settings), created_by: auth.user.id, updated_by: auth.user.id })
        .returning('id')
        .executeTakeFirstOrThrow();
      await recordAudit(trx, actor, { accountId: auth.account.id, action: 'template.created', targetType: 'template', targetId: created.id, after: { kind: input.kind, name: input.name, settings } });
      return created;
    });
    return (await getTemplate(db, auth.account.id, row.id))!;
  } catch (err) {
    if (isUniqueViolation(err)) return { error: 'name_taken' };
    throw err;
  }
}

export async function updateTemplate(db: Db, auth: AuthenticatedSession, actor: AuditActor, before: TemplateView, input: z.output<typeof templatePatch>): Promise<TemplateView | TemplateError> {
  const checked = input.settings === undefined ? { ok: true as const, settings: before.settings } : await checkReferences(db, auth, before.kind, input.settings);
  if (!('ok' in checked)) return checked;
  const settings = checked.settings;
  const change = { name: input.name ?? before.name, settings };
  if (JSON.stringify(change) === JSON.stringify({ name: before.name, settings: before.settings })) return before;
  try {
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('user_templates')
        .set({ name: change.name, settings: JSON.stringify(settings), updated_by: auth.user.id, updated_at: new Date() })
        .where('account_id', '=', auth.account.id)
        .where('id', '=', before.id)
        .execute();
      await recordAudit(trx, actor, { accountId: auth.account.id, action: 'template.updated', targetType: 'template', targetId: before.id, before: { name: before.name, settings: before.settings }, after: change });
    });
  } catch (err) {
    if (isUniqueViolation(err)) return { error: 'name_taken' };
    throw err;
  }
  return (await getTemplate(db, auth.account.id, before.id))!;
}

export async function deleteTemplate(db: Db, auth: AuthenticatedSession, actor: AuditActor, before: TemplateView): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('user_templates').where('account_id', '=', auth.account.id).where('id', '=', before.id).execute();
    await recordAudit(trx, actor, { accountId: auth.account.id, action: 'template.deleted', targetType: 'template', targetId: before.id, before: { kind: before.kind, name: before.name } });
  });
}

/**
 * Whether the caller may apply this template: its role section, when switched
 * on, must grant nothing the caller does not hold (a User Admin could
 * otherwise promote anyone, themselves included, through a template a Super
 * Admin made). The job checks again, for the requester as they are then.
 */
export async function mayApply(db: Db, auth: AuthenticatedSession, template: TemplateView): Promise<RoleError | null> {
  if (template.kind !== 'user_settings') return null;
  const t = userSettingsTemplateSchema.safeParse(template.settings);
  if (!t.success || !t.data.role?.override) return null;
  return roleError(await refuseGrant(db, granterOf(auth), { roleId: t.data.role.value.roleId }));
}

export class QueueUnavailableError extends Error {}

export interface ApplicationStarted {
  applicationId: string;
  queue: 'template-apply';
  jobId: string;
  total: number;
  notFound: string[];
}

/**
 * Stores the application (snapshot and users) and queues it. The job id is the
 * application id: the progress events the tray receives carry it.
 */
export async function applyTemplate(rt: Runtime, auth: AuthenticatedSession, actor: AuditActor, template: TemplateView, userIds: readonly string[]): Promise<ApplicationStarted> {
  const app = await createTemplateApplication(rt.db, actor, { id: template.id, account_id: auth.account.id, kind: template.kind, name: template.name, settings: template.settings }, userIds);
  try {
    const queue = appJobs(rt).producer.queue('template-apply');
    await withTimeout(enqueueTemplateApply(queue, app.applicationId, { accountId: auth.account.id, userId: auth.user.id }), 5000);
  } catch (err) {
    const message = 'the job queue is unavailable; try again later';
    rt.log.error('template application not queued', { applicationId: app.applicationId, error: err instanceof Error ? err.message : String(err) });
    await rt.db.updateTable('template_applications').set({ status: 'failed', error: message }).where('id', '=', app.applicationId).where('account_id', '=', auth.account.id).execute();
    throw new QueueUnavailableError(message);
  }
  return { applicationId: app.applicationId, queue: 'template-apply', jobId: app.applicationId, total: app.total, notFound: app.notFound };
}

export async function getApplication(db: Db, accountId: string, id: string) {
  const app = await db.selectFrom('template_applications').select(['id', 'template_id', 'template_name', 'kind', 'status', 'total', 'error', 'created_at', 'completed_at']).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  if (!app) return null;
  const done = await db
    .selectFrom('template_application_users')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('account_id', '=', accountId)
    .where('application_id', '=', id)
    .where('applied_at', 'is not', null)
    .executeTakeFirstOrThrow();
  return { id: app.id, templateId: app.template_id, templateName: app.template_name, kind: app.kind, status: app.status, total: app.total, done: Number(done.n), error: app.error, createdAt: app.created_at, completedAt: app.completed_at };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}
