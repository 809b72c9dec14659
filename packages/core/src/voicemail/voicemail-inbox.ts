import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { Db } from '@carillon/db';

/**
 * A user's voicemail (My Extension › Messages, issue 13): the messages of the
 * mailboxes the user reads. A user reads their own extension's mailbox and
 * every mailbox whose settings name their extension as the recipient (a
 * shared mailbox, inventory 2 X-07). Every query names the account and those
 * mailboxes, so another user's or another account's message is simply not found.
 */

export interface VoicemailReader {
  accountId: string;
  userId: string;
}

/** Deleted messages stay in the trash this long, then the periodic sweep removes them and their audio. */
export const VOICEMAIL_TRASH_DAYS = 30;

export interface VoicemailMailbox {
  extensionId: string;
  number: string;
  name: string | null;
  /** The user's own extension, rather than a mailbox shared with them. */
  own: boolean;
}

/** The mailboxes the user reads: their own extension's, then those shared with them, by extension number. */
export async function voicemailMailboxesOf(db: Db, reader: VoicemailReader): Promise<VoicemailMailbox[]> {
  const user = await db.selectFrom('users').select('extension_id').where('id', '=', reader.userId).where('account_id', '=', reader.accountId).executeTakeFirst();
  if (!user?.extension_id) return [];
  const ownExtensionId = user.extension_id;
  const rows = await db
    .selectFrom('extensions as e')
    .leftJoin('voicemail_settings as s', (j) => j.onRef('s.extension_id', '=', 'e.id').on('s.account_id', '=', reader.accountId))
    .select(['e.id', 'e.number', 'e.name'])
    .where('e.account_id', '=', reader.accountId)
    .where((eb) => eb.or([eb('e.id', '=', ownExtensionId), eb('s.recipient_extension_id', '=', ownExtensionId)]))
    .orderBy('e.number')
    .execute();
  const mailboxes = rows.map((r) => ({ extensionId: r.id, number: r.number, name: r.name, own: r.id === ownExtensionId }));
  return [...mailboxes.filter((m) => m.own), ...mailboxes.filter((m) => !m.own)];
}

const mailboxIdsOf = async (db: Db, reader: VoicemailReader) => (await voicemailMailboxesOf(db, reader)).map((m) => m.extensionId);

export interface VoicemailMessageView {
  id: string;
  mailboxExtensionId: string;
  fromNumber: string | null;
  fromName: string | null;
  toNumber: string;
  reason: string;
  durationMs: number;
  status: 'new' | 'heard';
  urgent: boolean;
  createdAt: string;
  heardAt: string | null;
  deletedAt: string | null;
  /** The transcript: its status while it is made, its text once completed (null before, or without transcription). */
  transcript: { status: string; text: string | null } | null;
}

export type VoicemailFolder = 'inbox' | 'trash';

/** The messages of the user's mailboxes (one with `mailboxExtensionId`), newest first: the inbox, or the trash. */
export async function listVoicemail(
  db: Db,
  reader: VoicemailReader,
  options: { folder?: VoicemailFolder; mailboxExtensionId?: string; limit?: number } = {},
): Promise<VoicemailMessageView[]> {
  const all = await mailboxIdsOf(db, reader);
  const mailboxes = options.mailboxExtensionId ? all.filter((id) => id === options.mailboxExtensionId) : all;
  if (mailboxes.length === 0) return [];
  const rows = await db
    .selectFrom('voicemail_messages as m')
    .leftJoin('transcriptions as t', (j) => j.onRef('t.id', '=', 'm.transcription_id').on('t.account_id', '=', reader.accountId))
    .select([
      'm.id',
      'm.mailbox_extension_id',
      'm.from_number',
      'm.from_name',
      'm.to_number',
      'm.reason',
      'm.duration_ms',
      'm.status',
      'm.urgent',
      'm.created_at',
      'm.heard_at',
      'm.deleted_at',
      't.status as transcript_status',
      't.text as transcript_text',
    ])
    .where('m.account_id', '=', reader.accountId)
    .where('m.mailbox_extension_id', 'in', mailboxes)
    .where('m.deleted_at', options.folder === 'trash' ? 'is not' : 'is', null)
    .orderBy('m.created_at', 'desc')
    .orderBy('m.id')
    .limit(Math.min(options.limit ?? 200, 500))
    .execute();
  return rows.map((r) => ({
    id: r.id,
    mailboxExtensionId: r.mailbox_extension_id,
    fromNumber: r.from_number,
    fromName: r.from_name,
    toNumber: r.to_number,
    reason: r.reason,
    durationMs: r.duration_ms,
    status: r.status,
    urgent: r.urgent,
    createdAt: new Date(r.created_at).toISOString(),
    heardAt: r.heard_at ? new Date(r.heard_at).toISOString() : null,
    deletedAt: r.deleted_at ? new Date(r.deleted_at).toISOString() : null,
    transcript: r.transcript_status ? { status: r.transcript_status, text: r.transcript_status === 'completed' ? r.transcript_text : null } : null,
  }));
}

/** New messages (not in the trash) of the user's mailboxes: the unread badge. */
export async function voicemailUnreadCount(db: Db, reader: VoicemailReader): Promise<number> {
  const mailboxes = await mailboxIdsOf(db, reader);
  if (mailboxes.length === 0) return 0;
  const row = await db
    .selectFrom('voicemail_messages')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('account_id', '=', reader.accountId)
    .where('mailbox_extension_id', 'in', mailboxes)
    .where('status', '=', 'new')
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface VoicemailAudio {
  id: string;
  mailboxExtensionId: string;
  /** Relative to DATA_DIR. */
  audioPath: string;
  fromNumber: string | null;
  createdAt: Date;
}

/** A message of the user's mailboxes (in the trash too), for its audio; undefined when it is not the user's. */
export async function findVoicemail(db: Db, reader: VoicemailReader, messageId: string): Promise<VoicemailAudio | undefined> {
  const mailboxes = await mailboxIdsOf(db, reader);
  if (mailboxes.length === 0) return undefined;
  const row = await db
    .selectFrom('voicemail_messages')
    .select(['id', 'mailbox_extension_id', 'audio_path', 'from_number', 'created_at'])
    .where('id', '=', messageId)
    .where('account_id', '=', reader.accountId)
    .where('mailbox_extension_id', 'in', mailboxes)
    .executeTakeFirst();
  return row ? { id: row.id, mailboxExtensionId: row.mailbox_extension_id, audioPath: row.audio_path, fromNumber: row.from_number, createdAt: new Date(row.created_at) } : undefined;
}

/** What a change touched, for the 'changed' event; null when the message is not the user's (or, for restore, not in the trash). */
export interface VoicemailChange {
  messageId: string;
  mailboxExtensionId: string;
}

async function changeOwn(
  db: Db,
  reader: VoicemailReader,
  messageId: string,
  set: { status?: 'new' | 'heard'; heard_at?: Date | null; deleted_at?: Date | null },
  only: 'any' | 'inbox' | 'trash',
): Promise<VoicemailChange | null> {
  const mailboxes = await mailboxIdsOf(db, reader);
  if (mailboxes.length === 0) return null;
  let q = db
    .updateTable('voicemail_messages')
    .set(set)
    .where('id', '=', messageId)
    .where('account_id', '=', reader.accountId)
    .where('mailbox_extension_id', 'in', mailboxes);
  if (only === 'inbox') q = q.where('deleted_at', 'is', null);
  if (only === 'trash') q = q.where('deleted_at', 'is not', null);
  const row = await q.returning(['id', 'mailbox_extension_id']).executeTakeFirst();
  return row ? { messageId: row.id, mailboxExtensionId: row.mailbox_extension_id } : null;
}

/** Marks a message heard (read) or new (unread). */
export function markVoicemail(db: Db, reader: VoicemailReader, messageId: string, status: 'new' | 'heard'): Promise<VoicemailChange | null> {
  return changeOwn(db, reader, messageId, { status, heard_at: status === 'heard' ? new Date() : null }, 'any');
}

/** Moves a message to the trash (kept VOICEMAIL_TRASH_DAYS); a message already there keeps its date. */
export async function trashVoicemail(db: Db, reader: VoicemailReader, messageId: string): Promise<VoicemailChange | null> {
  const moved = await changeOwn(db, reader, messageId, { deleted_at: new Date() }, 'inbox');
  if (moved) return moved;
  // Not moved: already in the trash, or not the user's.
  const found = await findVoicemail(db, reader, messageId);
  return found ? { messageId: found.id, mailboxExtensionId: found.mailboxExtensionId } : null;
}

/** Takes a message out of the trash, back to the inbox. */
export function restoreVoicemail(db: Db, reader: VoicemailReader, messageId: string): Promise<VoicemailChange | null> {
  return changeOwn(db, reader, messageId, { deleted_at: null }, 'trash');
}

/**
 * The users who read a mailbox, for live events: the users of the extension
 * itself and of its recipient extension (a shared mailbox). Scoped by the
 * event's account, so a forged event naming another account's mailbox reaches nobody.
 */
export async function voicemailReadersOf(db: Db, accountId: string, mailboxExtensionId: string): Promise<string[]> {
  const settings = await db.selectFrom('voicemail_settings').select('recipient_extension_id').where('extension_id', '=', mailboxExtensionId).where('account_id', '=', accountId).executeTakeFirst();
  const extensions = [mailboxExtensionId, ...(settings?.recipient_extension_id ? [settings.recipient_extension_id] : [])];
  const users = await db.selectFrom('users').select('id').where('account_id', '=', accountId).where('extension_id', 'in', extensions).execute();
  return [...new Set(users.map((u) => u.id))];
}

/** The message a transcription belongs to, so that its completion can be announced ('transcribed'); undefined for other transcriptions. */
export async function voicemailOfTranscription(db: Db, accountId: string, transcriptionId: string): Promise<VoicemailChange | undefined> {
  const row = await db
    .selectFrom('voicemail_messages')
    .select(['id', 'mailbox_extension_id'])
    .where('account_id', '=', accountId)
    .where('transcription_id', '=', transcriptionId)
    .executeTakeFirst();
  return row ? { messageId: row.id, mailboxExtensionId: row.mailbox_extension_id } : undefined;
}

/** A file under DATA_DIR named by a row, or null when the path would leave it (a bad row must never delete elsewhere). */
export function voicemailFilePath(dataDir: string, relative: string): string | null {
  const root = path.resolve(dataDir);
  const absolute = path.resolve(root, relative);
  return absolute.startsWith(root + path.sep) ? absolute : null;
}

/** Removes files named relative to DATA_DIR; a name that would leave DATA_DIR is passed over (a bad row never deletes elsewhere). */
export async function removeDataFiles(dataDir: string, relatives: readonly string[]): Promise<void> {
  for (const relative of new Set(relatives)) {
    const file = voicemailFilePath(dataDir, relative);
    if (file) await fs.promises.rm(file, { force: true });
  }
}

/**
 * Where the MP3 copy of a message's audio (for notification e-mails) lives,
 * relative to DATA_DIR: beside the WAV, so the purge removes both.
 */
export const voicemailMp3PathOf = (audioPath: string): string => `${audioPath.replace(/\.wav$/i, '')}.mp3`;

/**
 * The periodic clean-up: every account's messages deleted more than
 * VOICEMAIL_TRASH_DAYS ago, with their audio and their transcript (personal
 * data, kept no longer than the message). At most `batch` per run; the next
 * run takes the rest. Returns how many messages were removed.
 */
export async function purgeVoicemailTrash(db: Db, dataDir: string, options: { now?: Date; batch?: number } = {}): Promise<number> {
  const cutoff = new Date((options.now ?? new Date()).getTime() - VOICEMAIL_TRASH_DAYS * 86_400_000);
  const expired = await messagesWithFiles(db)
    .where('m.deleted_at', '<', cutoff)
    .orderBy('m.deleted_at')
    .limit(options.batch ?? 1000)
    .execute();
  await removeMessages(db, dataDir, expired);
  return expired.length;
}

/** A message the retention sweep removed: its mailbox's readers and phones (MWI) are told when it was new. */
export interface RetainedOut {
  accountId: string;
  mailboxExtensionId: string;
  messageId: string;
  /** Unheard and not in the trash: it counted in the mailbox's new messages. */
  wasNew: boolean;
}

/**
 * The account's retention (issue 13: `accounts.voicemail_retention_days`, default 365): messages left
 * longer ago than that go, heard or not, in the trash or not, with their audio and transcript, as the
 * trash purge removes them. At most `batch` per run, oldest first.
 */
export async function purgeVoicemailPastRetention(db: Db, dataDir: string, options: { now?: Date; batch?: number } = {}): Promise<RetainedOut[]> {
  const now = options.now ?? new Date();
  const expired = await messagesWithFiles(db)
    .innerJoin('accounts as a', 'a.id', 'm.account_id')
    .select(['m.mailbox_extension_id', 'm.status', 'm.deleted_at'])
    .where('m.created_at', '<', sql<Date>`${now}::timestamptz - make_interval(days => a.voicemail_retention_days)`)
    .orderBy('m.created_at')
    .limit(options.batch ?? 1000)
    .execute();
  await removeMessages(db, dataDir, expired);
  return expired.map((m) => ({ accountId: m.account_id, mailboxExtensionId: m.mailbox_extension_id, messageId: m.id, wasNew: m.status === 'new' && m.deleted_at === null }));
}

/** Messages with the files that go with them: the WAV, the transcription's copy (and the MP3 beside the WAV). */
function messagesWithFiles(db: Db) {
  return db
    .selectFrom('voicemail_messages as m')
    .leftJoin('transcriptions as t', (j) => j.onRef('t.id', '=', 'm.transcription_id').onRef('t.account_id', '=', 'm.account_id'))
    .select(['m.id', 'm.account_id', 'm.audio_path', 'm.transcription_id', 't.audio_path as transcription_audio_path']);
}

async function removeMessages(db: Db, dataDir: string, messages: readonly { id: string; account_id: string; audio_path: string; transcription_id: string | null; transcription_audio_path: string | null }[]): Promise<void> {
  for (const m of messages) {
    // The row first: a file left behind by a crash here is only disk, never a message pointing at nothing.
    await db.deleteFrom('voicemail_messages').where('id', '=', m.id).where('account_id', '=', m.account_id).execute();
    if (m.transcription_id) await db.deleteFrom('transcriptions').where('id', '=', m.transcription_id).where('account_id', '=', m.account_id).execute();
    await removeDataFiles(dataDir, [m.audio_path, voicemailMp3PathOf(m.audio_path), m.transcription_audio_path].filter((p): p is string => Boolean(p)));
  }
}
