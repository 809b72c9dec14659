import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import type { AuthenticatedSession } from '@carillon/core';
import type { Db } from '@carillon/db';
import { createFax, faxComposeRequest, FaxComposeError, faxDirectory, faxPdfPath, MAX_FAX_ATTACHMENTS, type FaxUpload } from '@carillon/core/fax';
import { enqueueFax } from '@carillon/core/jobs';
import type { Runtime } from '../runtime.ts';
import { appJobs } from '../jobs.ts';

/**
 * FaxOut (seed 000 "FaxOut"): the app stores the composed fax and queues it;
 * the workers render it (TIFF-F), which gives the preview, and deliver it at
 * once or at the scheduled time. A fax is seen only by its sender; a received
 * fax only by the extension it came to.
 */
const run = promisify(execFile);

export type ComposeOutcome =
  | { ok: true; fax: FaxView }
  | { ok: false; status: 400 | 413 | 503; error: string; message: string; fields?: Record<string, string> };

/** The multipart form of POST /api/faxes, validated; files are checked against the size limit before they are read. */
export async function composeFax(rt: Runtime, auth: AuthenticatedSession, form: FormData): Promise<ComposeOutcome> {
  const maxBytes = rt.config.FAX_MAX_UPLOAD_MB * 1024 * 1024;
  const recipients = form
    .getAll('recipients')
    .flatMap((v) => (typeof v === 'string' ? v.split(/[\n,;]+/) : []))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  const text = (name: string) => {
    const v = form.get(name);
    return typeof v === 'string' ? v : undefined;
  };
  const sendAt = text('sendAt')?.trim();
  const parsed = faxComposeRequest.safeParse({
    recipients,
    coverPage: text('coverPage') === undefined ? undefined : text('coverPage') === 'true',
    coverTemplate: text('coverTemplate') || undefined,
    to: text('to'),
    subject: text('subject'),
    message: text('message'),
    resolution: text('resolution') || undefined,
    sendAt: sendAt ? sendAt : null,
  });
  if (!parsed.success) {
    const fields = Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0] ?? '_'), i.message]));
    return { ok: false, status: 400, error: 'invalid_body', message: Object.values(fields).join('; '), fields };
  }
  const files = form.getAll('attachments').filter((v): v is File => v instanceof File && v.name !== '');
  if (files.length === 0) return { ok: false, status: 400, error: 'invalid_body', message: 'attach at least one document', fields: { attachments: 'attach at least one document' } };
  if (files.length > MAX_FAX_ATTACHMENTS) {
    return { ok: false, status: 400, error: 'invalid_body', message: `at most ${MAX_FAX_ATTACHMENTS} attachments`, fields: { attachments: `at most ${MAX_FAX_ATTACHMENTS} attachments` } };
  }
  const total = files.reduce((sum, f) => sum + f.size, 0);
  if (total > maxBytes) {
    return { ok: false, status: 413, error: 'attachments_too_large', message: `the attachments total ${(total / 1048576).toFixed(1)} MB, more than the ${rt.config.FAX_MAX_UPLOAD_MB} MB allowed` };
  }
  const uploads: FaxUpload[] = [];
  for (const f of files) uploads.push({ name: f.name, mediaType: f.type || 'application/octet-stream', data: new Uint8Array(await f.arrayBuffer()) });
  const owner = { accountId: auth.account.id, userId: auth.user.id };
  let faxId: string;
  try {
    faxId = await createFax(rt.db, rt.config.dataDir, owner, parsed.data, uploads, { maxBytes, maxPages: rt.config.FAX_MAX_PAGES });
  } catch (err) {
    if (err instanceof FaxComposeError) return { ok: false, status: 400, error: 'invalid_body', message: err.message };
    throw err;
  }
  try {
    await withTimeout(enqueueFax(appJobs(rt).producer.queue('fax-render'), faxId, owner, { sendAt: parsed.data.sendAt }), 5000);
  } catch (err) {
    const message = 'the job queue is unavailable; try again later';
    rt.log.error('fax not queued', { faxId, error: err instanceof Error ? err.message : String(err) });
    await rt.db.updateTable('faxes').set({ status: 'failed', error: message }).where('id', '=', faxId).where('account_id', '=', auth.account.id).execute();
    await rt.db.updateTable('fax_recipients').set({ status: 'failed', reason: message }).where('fax_id', '=', faxId).where('account_id', '=', auth.account.id).execute();
    return { ok: false, status: 503, error: 'queue_unavailable', message };
  }
  return { ok: true, fax: (await findFax(rt.db, auth, faxId))! };
}

export interface FaxView {
  id: string;
  status: string;
  coverPage: boolean;
  to: string;
  subject: string;
  resolution: string;
  pageCount: number | null;
  scheduledAt: string | null;
  createdAt: string;
  completedAt: string | null;
  error: string | null;
  attachments: { name: string; status: string; pages: number | null; error: string | null }[];
  recipients: { number: string; status: string; reason: string | null }[];
  /** One URL per rendered page, once rendered. */
  previewUrls: string[];
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

async function faxViews(db: Db, auth: AuthenticatedSession, id: string | null, limit = 100): Promise<FaxView[]> {
  let q = db.selectFrom('faxes').selectAll().where('account_id', '=', auth.account.id).where('sender_user_id', '=', auth.user.id);
  if (id) q = q.where('id', '=', id);
  const rows = await q.orderBy('created_at', 'desc').limit(limit).execute();
  if (rows.length === 0) return [];
  const recipients = await db
    .selectFrom('fax_recipients')
    .select(['fax_id', 'number', 'status', 'reason'])
    .where('account_id', '=', auth.account.id)
    .where(
      'fax_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('position')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    status: r.status,
    coverPage: r.cover_page,
    to: r.cover_to,
    subject: r.cover_subject,
    resolution: r.resolution,
    pageCount: r.page_count,
    scheduledAt: iso(r.scheduled_at),
    createdAt: iso(r.created_at)!,
    completedAt: iso(r.completed_at),
    error: r.error,
    attachments: r.attachments.map((a) => ({ name: a.name, status: a.status, pages: a.pages, error: a.error })),
    recipients: recipients.filter((x) => x.fax_id === r.id).map((x) => ({ number: x.number, status: x.status, reason: x.reason })),
    previewUrls: r.rendered_path && r.page_count ? Array.from({ length: r.page_count }, (_, i) => `/api/faxes/${r.id}/preview/${i + 1}`) : [],
  }));
}

export const listFaxes = (db: Db, auth: AuthenticatedSession) => faxViews(db, auth, null);
export const findFax = async (db: Db, auth: AuthenticatedSession, id: string): Promise<FaxView | null> => (await faxViews(db, auth, id))[0] ?? null;

/** Thumbnail width in pixels of a preview page: enough to read a cover page, small enough for a strip of them. */
const PREVIEW_WIDTH = 600;

/** One rendered page as PNG, or null when the fax is not the caller's, not rendered yet, or has no such page. */
export async function previewPage(rt: Runtime, auth: AuthenticatedSession, faxId: string, page: number): Promise<Buffer | null> {
  const row = await rt.db
    .selectFrom('faxes')
    .select(['rendered_path', 'page_count'])
    .where('id', '=', faxId)
    .where('account_id', '=', auth.account.id)
    .where('sender_user_id', '=', auth.user.id)
    .executeTakeFirst();
  if (!row?.rendered_path || !row.page_count || page < 1 || page > row.page_count) return null;
  const pdf = faxPdfPath(faxDirectory(rt.config.dataDir, auth.account.id, faxId));
  if (!fs.existsSync(pdf)) return null;
  const { stdout } = await run('pdftoppm', ['-png', '-gray', '-scale-to-x', String(PREVIEW_WIDTH), '-scale-to-y', '-1', '-f', String(page), '-l', String(page), '-singlefile', pdf], {
    encoding: 'buffer',
    maxBuffer: 20 * 1024 * 1024,
  });
  return stdout;
}

export interface FaxMessageView {
  id: string;
  fromNumber: string | null;
  fromName: string;
  toNumber: string;
  pageCount: number;
  receivedAt: string;
  read: boolean;
  pdfUrl: string;
}

/** The Messages inbox of the caller's extension, newest first. */
export async function listFaxMessages(db: Db, auth: AuthenticatedSession): Promise<FaxMessageView[]> {
  const rows = await db
    .selectFrom('fax_messages')
    .selectAll()
    .where('account_id', '=', auth.account.id)
    .where('extension_id', '=', auth.user.extension_id)
    .orderBy('received_at', 'desc')
    .limit(200)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    fromNumber: r.from_number,
    fromName: r.from_name,
    toNumber: r.to_number,
    pageCount: r.page_count,
    receivedAt: iso(r.received_at)!,
    read: r.read,
    pdfUrl: `/api/fax-messages/${r.id}/pdf`,
  }));
}

/** A received fax's PDF, marked read on the way; null when it is not the caller's extension's. */
export async function openFaxMessagePdf(db: Db, auth: AuthenticatedSession, id: string): Promise<{ data: Buffer; fileName: string } | null> {
  const row = await db
    .selectFrom('fax_messages')
    .select(['id', 'pdf_path', 'received_at'])
    .where('id', '=', id)
    .where('account_id', '=', auth.account.id)
    .where('extension_id', '=', auth.user.extension_id)
    .executeTakeFirst();
  if (!row) return null;
  const data = await fs.promises.readFile(row.pdf_path).catch(() => null);
  if (!data) return null;
  await db.updateTable('fax_messages').set({ read: true }).where('id', '=', id).where('account_id', '=', auth.account.id).execute();
  return { data, fileName: `fax-${iso(row.received_at)!.slice(0, 10)}-${row.id.slice(0, 8)}.pdf` };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms)));
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}
