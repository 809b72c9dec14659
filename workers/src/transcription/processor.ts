import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UnrecoverableError, type Job, type Processor } from 'bullmq';
import type { Db } from '@carillon/db';
import type { Logger } from '@carillon/config';
import { decodeToEngineWav, NotAudioError } from './audio.ts';
import { UnsupportedLanguageError, type TranscriptionEngine } from './engine.ts';
import { reportProgress } from '../progress.ts';
import type { JobProducer } from '@carillon/core/jobs';
import type { TranscriptionJobData, TranscriptionJobResult } from '@carillon/contracts/jobs';
import type { VoicemailEvent } from '@carillon/contracts/voicemail-events';
import { voicemailOfTranscription } from '@carillon/core/voicemail';

export interface TranscriptionDeps {
  db: () => Promise<Db>;
  dataDir: string;
  ffmpeg: string;
  engine: TranscriptionEngine;
  producer: JobProducer;
  publicUrl: string;
  log: Logger;
  /** Live voicemail events: a transcript of a voicemail message is announced ('transcribed') so the inbox shows it. */
  publishVoicemail?: (event: VoicemailEvent) => void;
}

/** Longest audio transcribed; the rest is cut (a voicemail is a few minutes at most). */
export const MAX_AUDIO_SECONDS = 15 * 60;

/**
 * Processor for `transcription`. The `transcriptions` row is the result: it is
 * written once (`status <> 'completed'` guards the update), so a job re-run
 * after its worker died shows one result, never two. Bad input (not audio, a
 * language without a model) fails at once with its reason; anything else is
 * retried with backoff.
 */
export function createTranscriptionProcessor(deps: TranscriptionDeps): Processor<TranscriptionJobData, TranscriptionJobResult> {
  return async (job) => {
    const db = await deps.db();
    const { transcriptionId, accountId } = job.data;
    const row = await db
      .selectFrom('transcriptions')
      .select(['id', 'status', 'audio_path', 'language', 'engine', 'words', 'notify_email', 'user_id', 'file_name'])
      .where('id', '=', transcriptionId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    if (!row) throw new UnrecoverableError('transcription not found (deleted?)');
    if (row.status === 'completed') {
      // Finished by an earlier run that died before BullMQ heard of it.
      return { transcriptionId, engine: row.engine ?? deps.engine.name, words: row.words?.length ?? 0 };
    }
    await db
      .updateTable('transcriptions')
      .set((eb) => ({ status: 'processing', started_at: new Date(), error: null, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', transcriptionId)
      .where('account_id', '=', accountId)
      .execute();

    const started = performance.now();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-transcription-'));
    try {
      await reportProgress(job, 5, 'decoding');
      deps.engine.checkLanguage(row.language);
      const input = path.resolve(deps.dataDir, row.audio_path);
      if (!input.startsWith(path.resolve(deps.dataDir) + path.sep)) throw new NotAudioError('audio path outside the data directory');
      if (!fs.existsSync(input)) throw new UnrecoverableError('the uploaded audio file is missing');
      const audio = await decodeToEngineWav(input, path.join(work, 'audio.wav'), { ffmpeg: deps.ffmpeg, maxSeconds: MAX_AUDIO_SECONDS, fillNarrowband: deps.engine.widebandOnly });
      await reportProgress(job, 10, 'recognising');
      let lastReported = 10;
      const transcript = await deps.engine.transcribe(audio.path, row.language, (fraction) => {
        const percent = 10 + Math.floor(fraction * 85);
        if (percent <= lastReported) return;
        lastReported = percent;
        void reportProgress(job, percent, 'recognising').catch(() => undefined);
      });
      const saved = await db
        .updateTable('transcriptions')
        .set({
          status: 'completed',
          engine: deps.engine.name,
          text: transcript.text,
          words: JSON.stringify(transcript.words),
          confidence: transcript.confidence,
          duration_ms: audio.durationMs,
          processing_ms: Math.round(performance.now() - started),
          error: null,
          completed_at: new Date(),
        })
        .where('id', '=', transcriptionId)
        .where('account_id', '=', accountId)
        .where('status', '<>', 'completed')
        .executeTakeFirst();
      if (Number(saved.numUpdatedRows) > 0 && row.notify_email) await notifyOwner(deps, db, job, row.user_id, row.file_name);
      if (Number(saved.numUpdatedRows) > 0 && deps.publishVoicemail) {
        const message = await voicemailOfTranscription(db, accountId, transcriptionId);
        if (message) deps.publishVoicemail({ kind: 'transcribed', accountId, ...message });
      }
      await reportProgress(job, 100, 'done');
      return { transcriptionId, engine: deps.engine.name, words: transcript.words.length };
    } catch (err) {
      const permanent = err instanceof NotAudioError || err instanceof UnsupportedLanguageError || err instanceof UnrecoverableError;
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const reason = err instanceof Error ? err.message : String(err);
      const failed = await db
        .updateTable('transcriptions')
        .set(permanent || lastAttempt ? { status: 'failed', error: reason, completed_at: new Date() } : { status: 'queued', error: `retrying: ${reason}` })
        .where('id', '=', transcriptionId)
        .where('account_id', '=', accountId)
        .where('status', '<>', 'completed')
        .executeTakeFirst();
      // A transcript that will never come is final too: the inbox shows it failed, and the
      // notification e-mail waiting for it leaves now, without it (voicemail-notify.ts).
      if ((permanent || lastAttempt) && Number(failed.numUpdatedRows) > 0 && deps.publishVoicemail) {
        const message = await voicemailOfTranscription(db, accountId, transcriptionId).catch(() => undefined);
        if (message) deps.publishVoicemail({ kind: 'transcribed', accountId, ...message });
      }
      throw permanent && !(err instanceof UnrecoverableError) ? new UnrecoverableError(reason) : err;
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  };
}

/** The job-completion e-mail, through the email queue (its own retries); one per transcription by job id. */
async function notifyOwner(deps: TranscriptionDeps, db: Db, job: Job<TranscriptionJobData>, userId: string | null, fileName: string): Promise<void> {
  if (!userId) return;
  const user = await db.selectFrom('users').select(['email', 'first_name', 'language']).where('id', '=', userId).where('account_id', '=', job.data.accountId).executeTakeFirst();
  if (!user) return;
  const fr = user.language === 'fr';
  const link = `${deps.publicUrl}/api/transcriptions/${job.data.transcriptionId}`;
  await deps.producer.add(
    'email',
    'transcription-done',
    {
      accountId: job.data.accountId,
      userId,
      purpose: 'transcription-done',
      to: user.email,
      subject: fr ? `Transcription terminée : ${fileName}` : `Transcription ready: ${fileName}`,
      text: fr
        ? `Bonjour ${user.first_name},\n\nLa transcription de ${fileName} est prête :\n${link}\n`
        : `Hello ${user.first_name},\n\nThe transcription of ${fileName} is ready:\n${link}\n`,
    },
    { jobId: `transcription-done-${job.data.transcriptionId}` },
  );
}
