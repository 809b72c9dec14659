import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '@carillon/db';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { importUploadedAudio, MediaAudioError } from '../audio/media-audio.ts';
import { GREETING_SOURCES, type GreetingSource } from './greetings.ts';

/**
 * A user's recorded name (issue 13: the default greeting "with the user's recorded name"; issue 14:
 * the dial-by-name directory plays "name recordings where they exist and TTS otherwise"; X-03 "Record
 * Extension Name": by phone, computer microphone or import). One per user, recorded in the browser,
 * uploaded (WAV, MP3) or recorded by phone (the mailbox's greeting menu); converted once, through the
 * one check of uploaded audio (which refuses silence), to the media format under
 * DATA_DIR/names/<account>/. Replacing it stores the new file and points the row at it before the old
 * file is removed: a refused recording leaves the old one playing. Every change is audited
 * (`user.name_recording_changed`). Deleting the user removes the file (`takeExtensionAudioFiles`).
 */

/** A name is a few words: a short recording, and a small upload. */
export const NAME_RECORDING_LIMITS = { maxUploadBytes: 4 * 1024 * 1024, maxSeconds: 10 } as const;

export const NAME_RECORDING_SOURCES = GREETING_SOURCES;
export type NameRecordingSource = GreetingSource;

/** The upload's query: how the audio was made, and the file's own name (for the trail), as a greeting's. */
export const nameRecordingUploadQuery = z
  .object({
    source: z.enum(['upload', 'browser']).default('upload'),
    name: z.string().trim().min(1).max(200).optional(),
  })
  .strict();

export const nameRecordingDirectory = (dataDir: string, accountId: string) => path.join(dataDir, 'names', accountId);

export class NameRecordingError extends Error {
  readonly code: MediaAudioError['code'];
  constructor(code: NameRecordingError['code'], message: string) {
    super(message);
    this.name = 'NameRecordingError';
    this.code = code;
  }
}

/** The user's recorded name as the page shows it: none, or its length and how it was made. */
export interface NameRecordingView {
  nameRecording: { durationMs: number; source: NameRecordingSource; createdAt: string } | null;
}

type Db = Kysely<Database>;

async function userOfAccount(db: Db, accountId: string, userId: string): Promise<boolean> {
  return (await db.selectFrom('users').select('id').where('account_id', '=', accountId).where('id', '=', userId).executeTakeFirst()) !== undefined;
}

async function row(db: Db, accountId: string, userId: string) {
  return db.selectFrom('user_name_recordings').select(['file', 'duration_ms', 'source', 'created_at']).where('account_id', '=', accountId).where('user_id', '=', userId).executeTakeFirst();
}

function viewOf(r: Awaited<ReturnType<typeof row>>): NameRecordingView {
  return { nameRecording: r ? { durationMs: r.duration_ms, source: r.source, createdAt: new Date(r.created_at).toISOString() } : null };
}

/** The user's recorded name; null when the user is not the account's. */
export async function readNameRecording(db: Db, accountId: string, userId: string): Promise<NameRecordingView | null> {
  if (!(await userOfAccount(db, accountId, userId))) return null;
  return viewOf(await row(db, accountId, userId));
}

/** The recorded name's file (absolute), for the page's player and the calls; null when the user has none (or is not the account's). */
export async function nameRecordingFile(db: Db, dataDir: string, accountId: string, userId: string): Promise<string | null> {
  const r = await row(db, accountId, userId);
  return r ? resolveUnder(dataDir, r.file) : null;
}

/** A path relative to DATA_DIR, kept inside it: a bad row never points a player elsewhere. */
function resolveUnder(dataDir: string, relative: string): string | null {
  const root = path.resolve(dataDir);
  const full = path.resolve(root, relative);
  return full.startsWith(root + path.sep) ? full : null;
}

/**
 * An uploaded or recorded file (on disk at `upload`, its size already bounded while it was received)
 * becomes the user's recorded name: checked and converted by the one check of uploaded audio (WAV or
 * MP3 by its content, decodes, sound, at most NAME_RECORDING_LIMITS.maxSeconds). The old file is
 * removed once the row names the new one. The upload is removed in every case. Null when the user is
 * not the account's.
 */
export async function setNameRecording(
  db: Db,
  options: { ffmpeg: string; dataDir: string },
  actor: AuditActor,
  accountId: string,
  userId: string,
  input: { upload: string; source: NameRecordingSource; originalName?: string | null },
): Promise<NameRecordingView | null> {
  const output = path.join(nameRecordingDirectory(options.dataDir, accountId), `${randomUUID()}.wav`);
  let stored = false;
  try {
    if (!(await userOfAccount(db, accountId, userId))) return null;
    let durationMs: number;
    try {
      ({ durationMs } = await importUploadedAudio(input.upload, output, { ffmpeg: options.ffmpeg, maxBytes: NAME_RECORDING_LIMITS.maxUploadBytes, maxSeconds: NAME_RECORDING_LIMITS.maxSeconds }));
    } catch (err) {
      if (err instanceof MediaAudioError) throw new NameRecordingError(err.code, err.message);
      throw err;
    }
    const file = path.relative(options.dataDir, output);
    const before = await db.transaction().execute(async (trx) => {
      // The user's row is locked: two uploads at once replace each other in turn, each reading (and
      // later removing) the file it replaced, so that no file is left that no row names.
      await trx.selectFrom('users').select('id').where('account_id', '=', accountId).where('id', '=', userId).forUpdate().executeTakeFirst();
      const previous = await trx.selectFrom('user_name_recordings').select(['file', 'duration_ms', 'source']).where('account_id', '=', accountId).where('user_id', '=', userId).executeTakeFirst();
      await trx
        .insertInto('user_name_recordings')
        .values({ user_id: userId, account_id: accountId, file, duration_ms: durationMs, source: input.source, created_by: actor.userId, created_at: new Date() })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ file, duration_ms: durationMs, source: input.source, created_by: actor.userId, created_at: new Date() }))
        .execute();
      await recordAudit(trx, actor, {
        accountId,
        action: 'user.name_recording_changed',
        targetType: 'user',
        targetId: userId,
        before: previous ? { recorded: true, source: previous.source, durationMs: previous.duration_ms } : { recorded: false },
        after: { recorded: true, source: input.source, durationMs, originalName: input.originalName?.slice(0, 200) ?? null },
      });
      return previous;
    });
    stored = true;
    const old = before ? resolveUnder(options.dataDir, before.file) : null;
    if (old && old !== output) fs.rmSync(old, { force: true });
    return viewOf(await row(db, accountId, userId));
  } finally {
    if (!stored) fs.rmSync(output, { force: true });
    fs.rmSync(input.upload, { force: true });
  }
}

/** The user has no recorded name any more (TTS says their name again); its file is removed. Null when the user is not the account's. */
export async function resetNameRecording(db: Db, dataDir: string, actor: AuditActor, accountId: string, userId: string): Promise<NameRecordingView | null> {
  if (!(await userOfAccount(db, accountId, userId))) return null;
  const removed = await db.transaction().execute(async (trx) => {
    const previous = await trx.deleteFrom('user_name_recordings').where('account_id', '=', accountId).where('user_id', '=', userId).returning(['file', 'source', 'duration_ms']).executeTakeFirst();
    if (previous) {
      await recordAudit(trx, actor, {
        accountId,
        action: 'user.name_recording_changed',
        targetType: 'user',
        targetId: userId,
        before: { recorded: true, source: previous.source, durationMs: previous.duration_ms },
        after: { recorded: false },
      });
    }
    return previous;
  });
  const file = removed ? resolveUnder(dataDir, removed.file) : null;
  if (file) fs.rmSync(file, { force: true });
  return { nameRecording: null };
}
