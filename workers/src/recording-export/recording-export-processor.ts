import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError, type Job, type Processor } from 'bullmq';
import type { Config } from '@carillon/config';
import type { Db } from '@carillon/db';
import type { RecordingExportJobData, RecordingExportJobResult } from '@carillon/contracts/jobs';
import type { JobProducer } from '@carillon/core/jobs';
import { reportProgress } from '../progress.ts';
import { recordingExportFilters } from '@carillon/contracts/recording-export-filters';
import { countExportRecordings, exportRecordings } from './export-recordings-query.ts';
import { CSV_ENTRY_NAME, csvHeader, csvLine, mp3EntryName } from './export-csv.ts';
import { encodeMp3, RecordingConversionError } from './mp3-encoder.ts';
import { ZipFileWriter } from './zip-file-writer.ts';
import { sweepExpiredExports } from '@carillon/core/recording-exports';
import { purgeVoicemailPastRetention, purgeVoicemailTrash } from '@carillon/core/voicemail';
import type { VoicemailEvent } from '@carillon/contracts/voicemail-events';
import { exportZipPath, partialZipPath, workDirPath } from '@carillon/core/recording-exports';

/** Upper bound on the test-only `delayMsPerRecording`, so a stray value can't stall a worker for long. */
export const MAX_DELAY_PER_RECORDING_MS = 2000;

/** What the processor needs; the database is opened on the first job (health-only runs need none). */
export interface RecordingExportDeps {
  db: () => Promise<Db>;
  config: Pick<Config, 'dataDir' | 'RECORDING_EXPORT_TTL_HOURS' | 'publicUrl'>;
  /** The ffmpeg binary, resolved per export so that a missing one fails the export with its reason. */
  ffmpeg: () => string;
  /** For the "export ready" e-mail to whoever asked. */
  producer: JobProducer;
  /** Tells the mailboxes' readers (badges) and phones (MWI) that a new message went with the retention sweep. */
  publishVoicemail?: (event: VoicemailEvent) => void;
}

interface ExportContext {
  db: Db;
  config: RecordingExportDeps['config'];
  ffmpeg: () => string;
  producer: JobProducer;
}

type ExportJobData = Extract<RecordingExportJobData, { kind: 'export' }>;

/** Processor for `recording-export`: `export` jobs build one ZIP each, `sweep-expired` jobs delete expired ones (and purge the voicemail trash, and messages past the account's retention). */
export function createRecordingExportProcessor(deps: RecordingExportDeps): Processor<RecordingExportJobData, RecordingExportJobResult> {
  return async (job) => {
    const ctx: ExportContext = { db: await deps.db(), config: deps.config, ffmpeg: deps.ffmpeg, producer: deps.producer };
    if (job.data.kind === 'sweep-expired') {
      const expired = await sweepExpiredExports(ctx.db, ctx.config.dataDir);
      const voicemailPurged = await purgeVoicemailTrash(ctx.db, ctx.config.dataDir);
      const retainedOut = await purgeVoicemailPastRetention(ctx.db, ctx.config.dataDir);
      for (const m of retainedOut) {
        if (m.wasNew) deps.publishVoicemail?.({ kind: 'changed', accountId: m.accountId, mailboxExtensionId: m.mailboxExtensionId, messageId: m.messageId });
      }
      return { kind: 'sweep-expired', expired, voicemailPurged, voicemailRetainedOut: retainedOut.length };
    }
    return runExport(ctx, job as Job<ExportJobData, RecordingExportJobResult>);
  };
}

async function runExport(
  ctx: ExportContext,
  job: Job<ExportJobData, RecordingExportJobResult>,
): Promise<RecordingExportJobResult> {
  const { db, config } = ctx;
  const { exportId, accountId } = job.data;
  const row = await db.selectFrom('recording_exports').selectAll().where('id', '=', exportId).where('account_id', '=', accountId).executeTakeFirst();
  if (!row) throw new UnrecoverableError(`recording export ${exportId} does not exist in this account`);
  const finalPath = exportZipPath(config.dataDir, accountId, exportId);
  if (row.status === 'completed' || row.status === 'expired') {
    // Already done by an earlier run: doing it again would give a second, different file.
    return { kind: 'export', exportId, recordings: row.progress_done - row.progress_skipped, skipped: row.progress_skipped, sizeBytes: Number(row.size_bytes ?? 0) };
  }
  const filters = recordingExportFilters.safeParse(row.filters);
  const partPath = partialZipPath(finalPath);
  const workDir = workDirPath(finalPath);
  try {
    if (!filters.success) throw new UnrecoverableError('the stored filters of this export are not valid');
    const ffmpegPath = ctx.ffmpeg();
    const finished = await fs.promises.stat(finalPath).catch(() => null);
    if (finished) {
      // The previous run renamed its ZIP into place and died before saying so: that file is whole.
      return await markCompleted(ctx, job, { recordings: row.progress_done - row.progress_skipped, skipped: row.progress_skipped, sizeBytes: finished.size, filePath: finalPath });
    }
    await fs.promises.mkdir(path.dirname(finalPath), { recursive: true });
    // A run that was killed left these behind; this run starts over.
    await fs.promises.rm(partPath, { force: true });
    await fs.promises.rm(workDir, { recursive: true, force: true });
    await fs.promises.mkdir(workDir);

    const requestedAt = new Date(row.created_at);
    const total = await countExportRecordings(db, accountId, filters.data, requestedAt);
    await db
      .updateTable('recording_exports')
      .set({ status: 'running', progress_done: 0, progress_total: total, progress_skipped: 0, error: null })
      .where('id', '=', exportId)
      .where('account_id', '=', accountId)
      .execute();
    await reportExportProgress(job, 0, total);

    const delayMs = Math.min(Math.max(Number(job.data.delayMsPerRecording ?? 0) || 0, 0), MAX_DELAY_PER_RECORDING_MS);
    const csvPath = path.join(workDir, CSV_ENTRY_NAME);
    const mp3Path = path.join(workDir, 'current.mp3');
    await fs.promises.writeFile(csvPath, csvHeader());
    const zip = new ZipFileWriter(partPath);
    let done = 0;
    let skipped = 0;
    try {
      for await (const rec of exportRecordings(db, accountId, filters.data, requestedAt)) {
        const problem = await convert(ffmpegPath, rec.storage_path, mp3Path);
        let entry: string | null = null;
        if (problem) {
          skipped++;
        } else {
          entry = mp3EntryName(rec);
          await zip.add(entry, mp3Path, new Date(rec.recording_started_at));
          await fs.promises.rm(mp3Path);
        }
        await fs.promises.appendFile(csvPath, csvLine(rec, entry, problem));
        done++;
        if (delayMs > 0) await sleep(delayMs);
        await db.updateTable('recording_exports').set({ progress_done: done, progress_skipped: skipped }).where('id', '=', exportId).where('account_id', '=', accountId).execute();
        await reportExportProgress(job, done, total);
      }
      await zip.add(CSV_ENTRY_NAME, csvPath, new Date());
      const sizeBytes = await zip.end();
      await fs.promises.rename(partPath, finalPath);
      await syncDirectory(path.dirname(finalPath));
      return await markCompleted(ctx, job, { recordings: done - skipped, skipped, sizeBytes, filePath: finalPath });
    } catch (err) {
      await zip.abort();
      throw err;
    }
  } catch (err) {
    await fs.promises.rm(partPath, { force: true });
    const attempts = job.opts.attempts ?? 1;
    if (err instanceof UnrecoverableError || job.attemptsMade + 1 >= attempts) {
      // The last attempt: say why in the export itself, where the user looks.
      await markFailed(db, exportId, accountId, err instanceof Error ? err.message : String(err)).catch(() => undefined);
    }
    throw err;
  } finally {
    await fs.promises.rm(workDir, { recursive: true, force: true });
  }
}

/** Null when the recording is now an MP3 at `output`; otherwise why it is left out (the CSV says so). */
async function convert(ffmpegPath: string, input: string, output: string): Promise<string | null> {
  const stat = await fs.promises.stat(input).catch(() => null);
  if (!stat?.isFile()) return 'recording file missing';
  try {
    await encodeMp3(ffmpegPath, input, output);
    return null;
  } catch (err) {
    if (err instanceof RecordingConversionError) return err.message;
    throw err;
  }
}

/** Through the shared helper, so the app pushes it to the owner's progress tray; the row holds the counts. */
async function reportExportProgress(job: Job<ExportJobData>, done: number, total: number): Promise<void> {
  await reportProgress(job, total === 0 ? 100 : (100 * done) / Math.max(total, done), 'exporting');
}

async function markCompleted(
  ctx: ExportContext,
  job: Job<ExportJobData, RecordingExportJobResult>,
  r: { recordings: number; skipped: number; sizeBytes: number; filePath: string },
): Promise<RecordingExportJobResult> {
  const { exportId, accountId } = job.data;
  const now = new Date();
  // Guarded on the status: a second run that reaches this point changes nothing visible.
  await ctx.db
    .updateTable('recording_exports')
    .set({
      status: 'completed',
      file_path: r.filePath,
      size_bytes: String(r.sizeBytes),
      completed_at: now,
      expires_at: new Date(now.getTime() + ctx.config.RECORDING_EXPORT_TTL_HOURS * 3600_000),
      error: null,
    })
    .where('id', '=', exportId)
    .where('account_id', '=', accountId)
    .where('status', 'in', ['queued', 'running'])
    .execute();
  await notifyExportReady(ctx, exportId, accountId, r.recordings);
  return { kind: 'export', exportId, recordings: r.recordings, skipped: r.skipped, sizeBytes: r.sizeBytes };
}

/** The job-completion e-mail, once per export (the e-mail job's id is the export's), with the link and its expiry. */
async function notifyExportReady(ctx: ExportContext, exportId: string, accountId: string, recordings: number): Promise<void> {
  const row = await ctx.db
    .selectFrom('recording_exports')
    .innerJoin('users', 'users.id', 'recording_exports.requested_by')
    .select(['users.id as userId', 'users.email', 'users.first_name', 'users.language', 'recording_exports.expires_at'])
    .where('recording_exports.id', '=', exportId)
    .where('recording_exports.account_id', '=', accountId)
    .executeTakeFirst();
  if (!row) return;
  const fr = row.language === 'fr';
  const link = `${ctx.config.publicUrl}/api/calls/recordings-export/${exportId}/download`;
  const until = row.expires_at ? `${row.expires_at.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '';
  await ctx.producer.add(
    'email',
    'recording-export-ready',
    {
      accountId,
      userId: row.userId,
      purpose: 'recording-export-ready',
      to: row.email,
      subject: fr ? `Export des enregistrements prêt (${recordings})` : `Recordings export ready (${recordings})`,
      text: fr
        ? `Bonjour ${row.first_name},\n\nVotre export de ${recordings} enregistrements est prêt jusqu'au ${until} :\n${link}\n`
        : `Hello ${row.first_name},\n\nYour export of ${recordings} recordings is ready until ${until}:\n${link}\n`,
    },
    { jobId: `recording-export-ready-${exportId}` },
  );
}

async function markFailed(db: Db, exportId: string, accountId: string, message: string): Promise<void> {
  await db
    .updateTable('recording_exports')
    .set({ status: 'failed', error: message.slice(0, 500) })
    .where('id', '=', exportId)
    .where('account_id', '=', accountId)
    .where('status', 'in', ['queued', 'running'])
    .execute();
}

/** Makes a rename durable: without it a power cut could bring the old name back. */
async function syncDirectory(dir: string): Promise<void> {
  const fd = await fs.promises.open(dir, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}
