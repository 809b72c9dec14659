import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, UnrecoverableError, type Job, type Processor } from 'bullmq';
import type { Config } from '@carillon/config';
import type { Db, Fax, FaxAttachment } from '@carillon/db';
import type { FaxJobData, FaxJobResult } from '@carillon/contracts/jobs';
import type { JobProducer } from '@carillon/core/jobs';
import { reportProgress } from '../progress.ts';
import { faxDirectory, faxInboxPdfPath, faxPdfPath, faxTiffPath, faxWorkDirectory } from '@carillon/core/fax';
import { resolveFaxRoute } from '@carillon/core/fax';
import { renderFax } from './render-fax.ts';

/** Upper bound on the test-only `delayMsPerAttachment`, so a stray value can't stall a worker for long. */
export const MAX_DELAY_PER_ATTACHMENT_MS = 5000;

export interface FaxProcessorDeps {
  db: () => Promise<Db>;
  config: Pick<Config, 'dataDir' | 'FAX_PAPER_SIZE' | 'FAX_MAX_PAGES' | 'publicUrl'>;
  /** For the "new fax" e-mail to the recipient extension's user. */
  producer: JobProducer;
}

type FaxRow = Fax;

/** Processor for `fax-render`: `render` makes the pages (for the preview), `send` delivers them. */
export function createFaxProcessor(deps: FaxProcessorDeps): Processor<FaxJobData, FaxJobResult> {
  return async (job, token) => {
    const db = await deps.db();
    const { faxId, accountId } = job.data;
    let fax = await loadFax(db, accountId, faxId);
    if (!fax) throw new UnrecoverableError(`fax ${faxId} does not exist in this account`);
    if (fax.status === 'completed' || fax.status === 'failed') {
      await notifyFaxResult(db, deps, fax.id, fax.account_id);
      return summary(db, fax);
    }
    if (job.data.kind === 'send' && fax.scheduled_at && fax.scheduled_at.getTime() > Date.now() + 50 && token) {
      // Never before the time the sender chose (spec: "not sent before the scheduled time").
      await job.moveToDelayed(fax.scheduled_at.getTime(), token);
      throw new DelayedError();
    }
    try {
      if (!fax.rendered_path) fax = await render(db, deps.config, job, fax);
      if (job.data.kind === 'render' && fax.status !== 'failed') return await summary(db, fax);
      const result = fax.status === 'failed' ? await summary(db, fax) : await send(db, deps, job, fax);
      await notifyFaxResult(db, deps, fax.id, fax.account_id);
      return result;
    } catch (err) {
      const attempts = job.opts.attempts ?? 1;
      if (err instanceof UnrecoverableError || job.attemptsMade + 1 >= attempts) {
        await markFailed(db, fax, `the fax could not be processed: ${err instanceof Error ? err.message : String(err)}`).catch(() => undefined);
        await notifyFaxResult(db, deps, fax.id, fax.account_id).catch(() => undefined);
      }
      throw err;
    }
  };
}

async function loadFax(db: Db, accountId: string, faxId: string): Promise<FaxRow | undefined> {
  return db.selectFrom('faxes').selectAll().where('id', '=', faxId).where('account_id', '=', accountId).executeTakeFirst();
}

async function render(db: Db, config: FaxProcessorDeps['config'], job: Job<FaxJobData, FaxJobResult>, fax: FaxRow): Promise<FaxRow> {
  const faxDir = faxDirectory(config.dataDir, fax.account_id, fax.id);
  await db.updateTable('faxes').set({ status: 'rendering' }).where('id', '=', fax.id).where('account_id', '=', fax.account_id).where('status', '=', 'queued').execute();
  await setRecipients(db, fax, ['queued'], 'rendering');
  await reportProgress(job, 0, 'rendering');

  // A run killed earlier left its own work directory; this one starts afresh in its own.
  const workDir = faxWorkDirectory(faxDir, `${job.id ?? 'job'}-${job.attemptsMade}`);
  await fs.promises.rm(workDir, { recursive: true, force: true });
  await fs.promises.mkdir(workDir, { recursive: true });
  const delayMs = Math.min(Math.max(Number(job.data.delayMsPerAttachment ?? 0) || 0, 0), MAX_DELAY_PER_ATTACHMENT_MS);
  const attachments = fax.attachments;
  try {
    const result = await renderFax({
      attachments: attachments.map((a) => ({ name: a.name, path: a.path })),
      cover: fax.cover_page
        ? {
            template: fax.cover_template,
            info: fax.cover_info,
            fromName: fax.from_name,
            fromNumber: fax.from_number,
            to: fax.cover_to,
            subject: fax.cover_subject,
            message: fax.cover_message,
            date: formatCoverDate(fax.scheduled_at ?? fax.created_at),
          }
        : null,
      resolution: fax.resolution,
      paper: config.FAX_PAPER_SIZE,
      compression: 'g4',
      maxPages: config.FAX_MAX_PAGES,
      workDir,
      tiffPath: path.join(workDir, 'fax.tif'),
      pdfPath: path.join(workDir, 'fax.pdf'),
      onAttachment: async (done, total) => {
        if (delayMs > 0) await sleep(delayMs);
        await reportProgress(job, (90 * done) / total, 'rendering');
      },
    });
    const rendered: FaxAttachment[] = attachments.map((a, i) => {
      const outcome = result.attachments[i];
      return { ...a, status: outcome?.error ? 'failed' : 'rendered', pages: outcome?.pages ?? null, error: outcome?.error ?? null };
    });
    if (result.pages === 0) {
      const reasons = rendered.map((a) => `${a.name}: ${a.error ?? 'not rendered'}`).join('; ');
      await db.updateTable('faxes').set({ attachments: JSON.stringify(rendered) }).where('id', '=', fax.id).where('account_id', '=', fax.account_id).execute();
      const failed = await markFailed(db, fax, `no page could be rendered (${reasons})`);
      return failed;
    }
    // Renamed into place before the row says so: a crash in between only costs a re-render.
    await fs.promises.rename(path.join(workDir, 'fax.pdf'), faxPdfPath(faxDir));
    await fs.promises.rename(path.join(workDir, 'fax.tif'), faxTiffPath(faxDir));
    // One transaction: nobody sees the fax rendered while its recipients still say "rendering".
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('faxes')
        .set({ rendered_path: faxTiffPath(faxDir), page_count: result.pages, attachments: JSON.stringify(rendered), status: 'queued' })
        .where('id', '=', fax.id)
        .where('account_id', '=', fax.account_id)
        .where('rendered_path', 'is', null)
        .execute();
      await setRecipients(trx, fax, ['rendering'], 'queued');
    });
    await reportProgress(job, job.data.kind === 'render' ? 100 : 90, 'rendering');
    return (await loadFax(db, fax.account_id, fax.id)) ?? fax;
  } finally {
    await fs.promises.rm(workDir, { recursive: true, force: true });
  }
}

async function send(db: Db, deps: FaxProcessorDeps, job: Job<FaxJobData, FaxJobResult>, fax: FaxRow): Promise<FaxJobResult> {
  const dataDir = deps.config.dataDir;
  await db.updateTable('faxes').set({ status: 'sending' }).where('id', '=', fax.id).where('account_id', '=', fax.account_id).where('status', 'in', ['queued', 'rendering']).execute();
  await setRecipients(db, fax, ['queued', 'rendering'], 'sending');
  const recipients = await db
    .selectFrom('fax_recipients')
    .selectAll()
    .where('fax_id', '=', fax.id)
    .where('account_id', '=', fax.account_id)
    .orderBy('position')
    .execute();
  const pdf = faxPdfPath(faxDirectory(dataDir, fax.account_id, fax.id));
  let done = 0;
  for (const recipient of recipients) {
    done++;
    if (recipient.status === 'delivered' || recipient.status === 'failed') continue;
    const route = await resolveFaxRoute(db, fax.account_id, recipient.number);
    if (route.kind === 'none') {
      await db
        .updateTable('fax_recipients')
        .set({ status: 'failed', reason: route.reason, updated_at: new Date() })
        .where('id', '=', recipient.id)
        .where('account_id', '=', fax.account_id)
        .execute();
    } else {
      const inboxPdf = faxInboxPdfPath(dataDir, fax.account_id, recipient.id);
      await fs.promises.mkdir(path.dirname(inboxPdf), { recursive: true });
      await fs.promises.copyFile(pdf, `${inboxPdf}.part`);
      await fs.promises.rename(`${inboxPdf}.part`, inboxPdf);
      // One message per delivery, whatever the number of runs: the recipient id is unique in fax_messages.
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('fax_messages')
          .values({
            account_id: fax.account_id,
            extension_id: route.extensionId,
            from_number: fax.from_number,
            from_name: fax.from_name,
            to_number: route.number,
            page_count: fax.page_count ?? 0,
            pdf_path: inboxPdf,
            fax_recipient_id: recipient.id,
          })
          .onConflict((oc) => oc.column('fax_recipient_id').doNothing())
          .execute();
        await trx
          .updateTable('fax_recipients')
          .set({ status: 'delivered', reason: null, updated_at: new Date() })
          .where('id', '=', recipient.id)
          .where('account_id', '=', fax.account_id)
          .execute();
      });
      await notifyFaxReceived(db, deps, fax, route.extensionId, recipient.id);
    }
    await reportProgress(job, 90 + (10 * done) / Math.max(recipients.length, 1), 'sending');
  }
  const final = await db
    .selectFrom('fax_recipients')
    .select(['status'])
    .where('fax_id', '=', fax.id)
    .where('account_id', '=', fax.account_id)
    .execute();
  const delivered = final.filter((r) => r.status === 'delivered').length;
  await db
    .updateTable('faxes')
    .set(
      delivered > 0
        ? { status: 'completed', completed_at: new Date() }
        : { status: 'failed', completed_at: new Date(), error: 'no recipient could be reached' },
    )
    .where('id', '=', fax.id)
    .where('account_id', '=', fax.account_id)
    .where('status', '=', 'sending')
    .execute();
  return { faxId: fax.id, pages: fax.page_count ?? 0, delivered, failed: final.length - delivered };
}

/** The seed's "Received Faxes: Notify by Email", through the email queue; one per delivery by job id. */
async function notifyFaxReceived(db: Db, deps: FaxProcessorDeps, fax: FaxRow, extensionId: string, recipientId: string): Promise<void> {
  const user = await db.selectFrom('users').select(['id', 'email', 'first_name', 'language']).where('extension_id', '=', extensionId).where('account_id', '=', fax.account_id).executeTakeFirst();
  if (!user) return;
  const fr = user.language === 'fr';
  const from = [fax.from_name, fax.from_number].filter((v) => v).join(' ') || (fr ? 'un expéditeur inconnu' : 'an unknown sender');
  const pages = fax.page_count ?? 0;
  const link = `${deps.config.publicUrl}/me/messages`;
  await deps.producer.add(
    'email',
    'fax-received',
    {
      accountId: fax.account_id,
      userId: user.id,
      purpose: 'fax-received',
      to: user.email,
      subject: fr ? `Nouveau fax de ${from} (${pages} pages)` : `New fax from ${from} (${pages} pages)`,
      text: fr
        ? `Bonjour ${user.first_name},\n\nVous avez reçu un fax de ${from}, ${pages} pages. Il est dans vos Messages :\n${link}\n`
        : `Hello ${user.first_name},\n\nYou received a fax from ${from}, ${pages} pages. It is in your Messages:\n${link}\n`,
    },
    { jobId: `fax-received-${recipientId}` },
  );
}

/**
 * The seed's "Fax Transmission Results: Notify by Email" to the sender, once the fax has its final status:
 * one per fax whatever the number of runs (the e-mail job's id is the fax's).
 */
async function notifyFaxResult(db: Db, deps: FaxProcessorDeps, faxId: string, accountId: string): Promise<void> {
  const fax = await loadFax(db, accountId, faxId);
  if (!fax || (fax.status !== 'completed' && fax.status !== 'failed')) return;
  const user = await db.selectFrom('users').select(['id', 'email', 'first_name', 'language']).where('id', '=', fax.sender_user_id).where('account_id', '=', accountId).executeTakeFirst();
  if (!user) return;
  const recipients = await db.selectFrom('fax_recipients').select(['number', 'status', 'reason']).where('fax_id', '=', fax.id).where('account_id', '=', accountId).orderBy('position').execute();
  const fr = user.language === 'fr';
  const delivered = recipients.filter((r) => r.status === 'delivered').length;
  const subject = fax.cover_subject || (fr ? '(sans objet)' : '(no subject)');
  const lines = recipients.map((r) =>
    r.status === 'delivered' ? `${r.number}: ${fr ? 'remis' : 'delivered'}` : `${r.number}: ${fr ? 'échec' : 'failed'}${r.reason ? ` (${r.reason})` : ''}`,
  );
  await deps.producer.add(
    'email',
    'fax-result',
    {
      accountId,
      userId: user.id,
      purpose: 'fax-result',
      to: user.email,
      subject: fr ? `Fax « ${subject} » : ${delivered}/${recipients.length} remis` : `Fax "${subject}": ${delivered} of ${recipients.length} delivered`,
      text: `${fr ? 'Bonjour' : 'Hello'} ${user.first_name},\n\n${lines.join('\n')}\n${fax.error ? `\n${fax.error}\n` : ''}\n${deps.config.publicUrl}/me/fax\n`,
    },
    { jobId: `fax-result-${fax.id}` },
  );
}

async function setRecipients(db: Db, fax: FaxRow, from: ('queued' | 'rendering' | 'sending')[], to: 'queued' | 'rendering' | 'sending'): Promise<void> {
  await db
    .updateTable('fax_recipients')
    .set({ status: to, updated_at: new Date() })
    .where('fax_id', '=', fax.id)
    .where('account_id', '=', fax.account_id)
    .where('status', 'in', from)
    .execute();
}

/** The fax and every recipient not yet done fail with `reason`; those delivered stay delivered. */
async function markFailed(db: Db, fax: FaxRow, reason: string): Promise<FaxRow> {
  const error = reason.slice(0, 1000);
  // One transaction: nobody sees the fax failed while its recipients still wait.
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('faxes')
      .set({ status: 'failed', error, completed_at: new Date() })
      .where('id', '=', fax.id)
      .where('account_id', '=', fax.account_id)
      .where('status', 'not in', ['completed', 'failed'])
      .execute();
    await trx
      .updateTable('fax_recipients')
      .set({ status: 'failed', reason: error, updated_at: new Date() })
      .where('fax_id', '=', fax.id)
      .where('account_id', '=', fax.account_id)
      .where('status', 'not in', ['delivered', 'failed'])
      .execute();
  });
  return (await loadFax(db, fax.account_id, fax.id)) ?? fax;
}

async function summary(db: Db, fax: FaxRow): Promise<FaxJobResult> {
  const rows = await db.selectFrom('fax_recipients').select(['status']).where('fax_id', '=', fax.id).where('account_id', '=', fax.account_id).execute();
  return {
    faxId: fax.id,
    pages: fax.page_count ?? 0,
    delivered: rows.filter((r) => r.status === 'delivered').length,
    failed: rows.filter((r) => r.status === 'failed').length,
  };
}

/** The cover page is read by people anywhere: an unambiguous UTC date rather than the server's zone. */
export function formatCoverDate(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
