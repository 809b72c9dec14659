import { announceConfigChange, granterOf, recordAudit, type AuditActor, type AuthenticatedSession } from '@carillon/core';
import type { BulkEditReport, Db } from '@carillon/db';
import { PERMISSIONS } from '@carillon/domain';
import { formatOf, MAX_UPLOAD_BYTES, readTableInThread } from './read-table.ts';
import { validateTable, type Caller, type PlannedRow } from './validate.ts';

/**
 * Two steps (seed 000: "Confirmez que vous écraserez toutes les données utilisateur"): an upload is
 * read, checked and kept with its report; only a confirmation applies it, all rows in one
 * transaction, after checking them again against the users as they are then.
 */
const TTL_MINUTES = 30;

export interface BulkEditView {
  id: string;
  fileName: string;
  format: 'csv' | 'xlsx';
  status: 'invalid' | 'ready' | 'applied';
  createdAt: string;
  expiresAt: string;
  appliedAt: string | null;
  rowCount: number;
  issues: BulkEditReport['issues'];
  changes: BulkEditReport['changes'];
}

export type UploadOutcome =
  | { ok: true; edit: BulkEditView }
  | { ok: false; status: 400 | 409 | 413; error: string; message: string };

const callerOf = (auth: AuthenticatedSession): Caller => ({
  accountId: auth.account.id,
  userId: auth.user.id,
  // Only someone holding every permission may change a Super Admin.
  isSuperAdmin: PERMISSIONS.every((p) => auth.permissions.has(p)),
  granter: granterOf(auth),
});

export async function uploadBulkEdit(db: Db, auth: AuthenticatedSession, file: { name: string; bytes: Uint8Array }): Promise<UploadOutcome> {
  if (file.bytes.byteLength > MAX_UPLOAD_BYTES) return { ok: false, status: 413, error: 'file_too_large', message: `the file is larger than ${MAX_UPLOAD_BYTES / 1048576} MB` };
  if (file.bytes.byteLength === 0) return { ok: false, status: 400, error: 'empty_file', message: 'the file is empty' };
  const accountId = auth.account.id;
  // Seed 000: bulk edit is for accounts of two users or more.
  const count = await db.selectFrom('users').select((eb) => eb.fn.countAll<string>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
  if (Number(count.n) < 2) return { ok: false, status: 409, error: 'needs_two_users', message: 'bulk edit needs an account of at least two users' };
  const format = formatOf(file.name, file.bytes);
  // In a thread of its own: a file crafted to be slow to read must not hold every other request.
  const table = await readTableInThread(format, file.bytes);
  if (!table.ok) return { ok: false, status: table.error === 'too_many_rows' ? 413 : 400, error: table.error, message: table.message };
  const checked = await validateTable(db, callerOf(auth), table.rows);
  const report: BulkEditReport = { issues: checked.issues, changes: checked.plan.map((p) => p.change), rowCount: checked.rowCount };
  await db.deleteFrom('user_bulk_edits').where('account_id', '=', accountId).where('expires_at', '<', new Date()).execute();
  const row = await db
    .insertInto('user_bulk_edits')
    .values({
      account_id: accountId,
      uploaded_by: auth.user.id,
      file_name: file.name.slice(0, 200) || `users.${format}`,
      format,
      header: JSON.stringify(table.rows[0] ?? []),
      rows: JSON.stringify(table.rows),
      report: JSON.stringify(report),
      status: checked.issues.length ? 'invalid' : 'ready',
      expires_at: new Date(Date.now() + TTL_MINUTES * 60_000),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { ok: true, edit: view(row) };
}

type Row = Awaited<ReturnType<typeof findRow>>;
async function findRow(db: Db, accountId: string, id: string) {
  return db
    .selectFrom('user_bulk_edits')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .where('expires_at', '>', new Date())
    .executeTakeFirst();
}

function view(r: NonNullable<Row>): BulkEditView {
  const report = (typeof r.report === 'string' ? JSON.parse(r.report) : r.report) as BulkEditReport;
  return {
    id: r.id,
    fileName: r.file_name,
    format: r.format,
    status: r.status,
    createdAt: new Date(r.created_at).toISOString(),
    expiresAt: new Date(r.expires_at).toISOString(),
    appliedAt: r.applied_at ? new Date(r.applied_at).toISOString() : null,
    rowCount: report.rowCount,
    issues: report.issues,
    changes: report.changes,
  };
}

/** Null when the id is not this account's, or has expired. */
export async function getBulkEdit(db: Db, auth: AuthenticatedSession, id: string): Promise<BulkEditView | null> {
  const row = await findRow(db, auth.account.id, id);
  return row ? view(row) : null;
}

export type ConfirmOutcome =
  | { ok: true; edit: BulkEditView; applied: number }
  | { ok: false; status: 404 } | { ok: false; status: 409; error: 'file_has_errors' | 'already_applied'; edit: BulkEditView };

class StillInvalid extends Error {
  readonly report: BulkEditReport;
  constructor(report: BulkEditReport) {
    super('file_has_errors');
    this.report = report;
  }
}

export async function confirmBulkEdit(db: Db, auth: AuthenticatedSession, actor: AuditActor, id: string): Promise<ConfirmOutcome> {
  const accountId = auth.account.id;
  const found = await findRow(db, accountId, id);
  if (!found) return { ok: false, status: 404 };
  if (found.status === 'applied') return { ok: false, status: 409, error: 'already_applied', edit: view(found) };
  if (found.status === 'invalid') return { ok: false, status: 409, error: 'file_has_errors', edit: view(found) };
  const rows = (typeof found.rows === 'string' ? JSON.parse(found.rows) : found.rows) as string[][];
  try {
    const applied = await db.transaction().execute(async (trx) => {
      // One bulk change of an account at a time, and the file checked again as the users are now.
      await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().executeTakeFirst();
      const locked = await trx.selectFrom('user_bulk_edits').select('status').where('id', '=', id).where('account_id', '=', accountId).forUpdate().executeTakeFirstOrThrow();
      if (locked.status !== 'ready') throw new StillInvalid({ issues: [], changes: [], rowCount: 0 });
      const checked = await validateTable(trx, callerOf(auth), rows);
      if (checked.issues.length) throw new StillInvalid({ issues: checked.issues, changes: [], rowCount: checked.rowCount });
      await applyPlan(trx, accountId, actor, id, checked.plan);
      await trx
        .updateTable('user_bulk_edits')
        .set({ status: 'applied', applied_at: new Date(), report: JSON.stringify({ issues: [], changes: checked.plan.map((p) => p.change), rowCount: checked.rowCount }) })
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .execute();
      return checked.plan.length;
    });
    // Extension numbers and states may have changed: media-server drops what it cached of them.
    await announceConfigChange(accountId, 'extensions');
    return { ok: true, applied, edit: view((await findRow(db, accountId, id))!) };
  } catch (err) {
    if (!(err instanceof StillInvalid)) throw err;
    if (err.report.issues.length) {
      await db.updateTable('user_bulk_edits').set({ status: 'invalid', report: JSON.stringify(err.report) }).where('id', '=', id).where('account_id', '=', accountId).execute();
    }
    const now = (await findRow(db, accountId, id))!;
    return { ok: false, status: 409, error: now.status === 'applied' ? 'already_applied' : 'file_has_errors', edit: view(now) };
  }
}

async function applyPlan(trx: Db, accountId: string, actor: AuditActor, editId: string, plan: PlannedRow[]): Promise<void> {
  // Numbers may be swapped between users of the file: each moved extension first steps aside, so
  // that the per-site uniqueness holds after every statement, then takes its new number.
  const moving = new Set(plan.filter((p) => p.extension.number !== undefined || p.extension.site_id !== undefined));
  if (moving.size) {
    const used = new Set((await trx.selectFrom('extensions').select(['site_id', 'number']).where('account_id', '=', accountId).execute()).map((e) => `${e.site_id}:${e.number}`));
    for (const p of moving) used.add(`${p.extension.site_id ?? p.user.site_id}:${p.extension.number ?? p.user.number}`);
    let spare = 99999;
    for (const p of moving) {
      while (used.has(`${p.user.site_id}:${spare}`)) spare--;
      used.add(`${p.user.site_id}:${spare}`);
      await trx.updateTable('extensions').set({ number: String(spare) }).where('account_id', '=', accountId).where('id', '=', p.user.extension_id).execute();
    }
  }
  for (const p of plan) {
    const u = p.user;
    if (Object.keys(p.users).length) await trx.updateTable('users').set(p.users).where('account_id', '=', accountId).where('id', '=', u.id).execute();
    const ext: { site_id?: string; number?: string; status?: 'activated' | 'not_activated' | 'disabled' } = {};
    if (moving.has(p)) Object.assign(ext, { site_id: p.extension.site_id ?? u.site_id, number: p.extension.number ?? u.number });
    if (p.status === 'disabled') ext.status = 'disabled';
    if (p.status === 'enabled') ext.status = u.password_hash ? 'activated' : 'not_activated';
    if (Object.keys(ext).length) await trx.updateTable('extensions').set(ext).where('account_id', '=', accountId).where('id', '=', u.extension_id).execute();
    // Signed out at once, as when disabled from the list.
    if (p.status === 'disabled') await trx.updateTable('sessions').set({ revoked_at: new Date() }).where('account_id', '=', accountId).where('user_id', '=', u.id).where('revoked_at', 'is', null).execute();
    const before = Object.fromEntries(Object.entries(p.change.changes).map(([k, v]) => [k, v.from]));
    const after = Object.fromEntries(Object.entries(p.change.changes).map(([k, v]) => [k, v.to]));
    await recordAudit(trx, actor, { accountId, action: 'user.bulk_updated', targetType: 'user', targetId: u.id, before, after: { ...after, bulkEditId: editId } });
  }
}
