import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AuthenticatedSession } from '@carillon/core';
import { sniffAudio } from '@carillon/core/audio';
import type { Db, Transcription, TranscriptionStatus, TranscriptionWord } from '@carillon/db';
import { appJobs } from './jobs.ts';
import type { Runtime } from './runtime.ts';

export interface TranscriptionView {
  id: string;
  status: TranscriptionStatus;
  language: string;
  fileName: string;
  sizeBytes: number;
  engine: string | null;
  text: string | null;
  words: TranscriptionWord[] | null;
  confidence: number | null;
  durationMs: number | null;
  processingMs: number | null;
  error: string | null;
  createdAt: string;
  completedAt: string | null;
}


/** The language of the caller's extension: the user's own setting, else the company's. */
export const transcriptionLanguage = (auth: AuthenticatedSession): string => auth.user.language ?? auth.account.language;

export type CreateOutcome =
  | { ok: true; transcription: TranscriptionView }
  | { ok: false; status: 400 | 413 | 415; error: string; maxBytes?: number };

export async function createTranscription(rt: Runtime, auth: AuthenticatedSession, file: File, notifyByEmail: boolean): Promise<CreateOutcome> {
  const maxBytes = rt.config.TRANSCRIPTION_MAX_UPLOAD_MB * 1024 * 1024;
  if (file.size > maxBytes) return { ok: false, status: 413, error: 'file_too_large', maxBytes };
  if (file.size === 0) return { ok: false, status: 400, error: 'empty_file' };
  const bytes = new Uint8Array(await file.arrayBuffer());
  const format = sniffAudio(bytes.subarray(0, 16));
  if (!format) return { ok: false, status: 415, error: 'not_audio' };

  const id = randomUUID();
  const relative = path.posix.join('transcriptions', auth.account.id, `${id}.${format}`);
  const absolute = path.join(rt.config.dataDir, relative);
  fs.mkdirSync(path.dirname(absolute), { recursive: true });
  fs.writeFileSync(absolute, bytes, { mode: 0o600 });
  const fileName = (file.name || `audio.${format}`).replace(/[\\/\r\n\0]/g, '_').slice(0, 200);
  await rt.db
    .insertInto('transcriptions')
    .values({
      id,
      account_id: auth.account.id,
      user_id: auth.user.id,
      extension_id: auth.user.extension_id,
      language: transcriptionLanguage(auth),
      file_name: fileName,
      size_bytes: file.size,
      audio_path: relative,
      notify_email: notifyByEmail,
    })
    .execute();
  try {
    // The row's id is the job's: enqueueing twice cannot make two jobs.
    await appJobs(rt).producer.add('transcription', 'transcribe', { accountId: auth.account.id, userId: auth.user.id, transcriptionId: id }, { jobId: id });
  } catch (err) {
    await rt.db.updateTable('transcriptions').set({ status: 'failed', error: 'could not queue the job: job queue unavailable' }).where('id', '=', id).execute();
    throw err;
  }
  return { ok: true, transcription: (await getTranscription(rt.db, auth, id))! };
}

/** Only the caller's own transcriptions: they are personal (voicemail), not the company's. */
export async function getTranscription(db: Db, auth: AuthenticatedSession, id: string): Promise<TranscriptionView | null> {
  const row = await db.selectFrom('transcriptions').selectAll().where('id', '=', id).where('account_id', '=', auth.account.id).where('user_id', '=', auth.user.id).executeTakeFirst();
  return row ? toView(row) : null;
}

export async function listTranscriptions(db: Db, auth: AuthenticatedSession, limit = 50): Promise<TranscriptionView[]> {
  const rows = await db.selectFrom('transcriptions').selectAll().where('account_id', '=', auth.account.id).where('user_id', '=', auth.user.id).orderBy('created_at', 'desc').limit(limit).execute();
  return rows.map(toView);
}

function toView(row: Transcription): TranscriptionView {
  return {
    id: row.id,
    status: row.status,
    language: row.language,
    fileName: row.file_name,
    sizeBytes: row.size_bytes,
    engine: row.engine,
    text: row.text,
    words: row.words,
    confidence: row.confidence,
    durationMs: row.duration_ms,
    processingMs: row.processing_ms,
    error: row.error,
    createdAt: row.created_at.toISOString(),
    completedAt: row.completed_at?.toISOString() ?? null,
  };
}
