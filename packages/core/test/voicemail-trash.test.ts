import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@carillon/db';
import { listVoicemail, purgeVoicemailPastRetention, purgeVoicemailTrash, restoreVoicemail, trashVoicemail, VOICEMAIL_TRASH_DAYS, voicemailMp3PathOf, voicemailUnreadCount } from '@carillon/core/voicemail';
import { freshDb } from '../../../tests/support/env.ts';
import { activatedAccount } from './support.ts';

/**
 * The voicemail trash on a real database (PGlite) and a real data directory:
 * a deleted message stays restorable for VOICEMAIL_TRASH_DAYS, then the
 * periodic sweep removes the row, its audio and its transcript, in every
 * account, and nothing else.
 */
let db: Db;
let dataDir: string;
const DAY = 86_400_000;

beforeAll(async () => {
  db = await freshDb();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-voicemail-trash-'));
});
afterAll(async () => {
  await db?.destroy();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A message as media-server leaves it: the WAV under the data directory, the row, and a transcription of the same file. */
async function message(accountId: string, extensionId: string, deletedDaysAgo: number | null, leftDaysAgo = 0) {
  const id = crypto.randomUUID();
  const relative = path.posix.join('voicemail', accountId, `${id}.wav`);
  fs.mkdirSync(path.join(dataDir, 'voicemail', accountId), { recursive: true });
  fs.writeFileSync(path.join(dataDir, relative), Buffer.from('RIFF....WAVE'));
  const transcription = await db
    .insertInto('transcriptions')
    .values({ account_id: accountId, language: 'en', file_name: `${id}.wav`, size_bytes: 12, audio_path: relative, status: 'completed', text: 'hello' })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('voicemail_messages')
    .values({
      id,
      account_id: accountId,
      mailbox_extension_id: extensionId,
      to_number: '+33100000000',
      reason: 'no_answer',
      audio_path: relative,
      duration_ms: 1000,
      size_bytes: 12,
      transcription_id: transcription.id,
      deleted_at: deletedDaysAgo === null ? null : new Date(Date.now() - deletedDaysAgo * DAY),
      created_at: new Date(Date.now() - leftDaysAgo * DAY),
    })
    .execute();
  return { id, file: path.join(dataDir, relative), transcriptionId: transcription.id };
}

const exists = async (id: string) => Boolean(await db.selectFrom('voicemail_messages').select('id').where('id', '=', id).executeTakeFirst());
const transcriptionExists = async (id: string) => Boolean(await db.selectFrom('transcriptions').select('id').where('id', '=', id).executeTakeFirst());

describe('the voicemail trash', () => {
  it('keeps a deleted message restorable, out of the inbox and the unread count', async () => {
    const acct = await activatedAccount(db);
    const extensionId = (await db.selectFrom('users').select('extension_id').where('id', '=', acct.userId).executeTakeFirstOrThrow()).extension_id;
    const reader = { accountId: acct.accountId, userId: acct.userId };
    const m = await message(acct.accountId, extensionId, null);
    expect(await voicemailUnreadCount(db, reader)).toBe(1);
    expect(await trashVoicemail(db, reader, m.id)).toEqual({ messageId: m.id, mailboxExtensionId: extensionId });
    expect(await listVoicemail(db, reader)).toEqual([]);
    expect((await listVoicemail(db, reader, { folder: 'trash' })).map((v) => v.id)).toEqual([m.id]);
    expect(await voicemailUnreadCount(db, reader)).toBe(0);
    expect(await restoreVoicemail(db, reader, m.id)).toEqual({ messageId: m.id, mailboxExtensionId: extensionId });
    expect(await voicemailUnreadCount(db, reader)).toBe(1);
    // Another user of another account cannot touch it.
    const other = await activatedAccount(db);
    expect(await trashVoicemail(db, { accountId: other.accountId, userId: other.userId }, m.id)).toBeNull();
    expect(await trashVoicemail(db, { accountId: acct.accountId, userId: other.userId }, m.id)).toBeNull();
  });

  it(`purges messages deleted more than ${VOICEMAIL_TRASH_DAYS} days ago in every account, with their audio and transcript, and nothing else`, async () => {
    const a = await activatedAccount(db);
    const b = await activatedAccount(db);
    const extOf = async (userId: string) => (await db.selectFrom('users').select('extension_id').where('id', '=', userId).executeTakeFirstOrThrow()).extension_id;
    const oldA = await message(a.accountId, await extOf(a.userId), 31);
    const oldB = await message(b.accountId, await extOf(b.userId), 45);
    const recent = await message(a.accountId, await extOf(a.userId), 29);
    const kept = await message(a.accountId, await extOf(a.userId), null);
    // A row naming a file outside the data directory: the row goes, the file stays.
    const outside = path.join(os.tmpdir(), `carillon-voicemail-outside-${crypto.randomUUID()}.wav`);
    fs.writeFileSync(outside, 'not ours');
    const escaping = await message(a.accountId, await extOf(a.userId), 40);
    await db.updateTable('voicemail_messages').set({ audio_path: path.relative(dataDir, outside) }).where('id', '=', escaping.id).execute();
    // The MP3 made for a notification e-mail goes with its message; the kept message keeps its own.
    const mp3Of = (wav: string) => path.join(path.dirname(wav), path.basename(voicemailMp3PathOf(wav)));
    fs.writeFileSync(mp3Of(oldA.file), 'mp3');
    fs.writeFileSync(mp3Of(kept.file), 'mp3');

    expect(await purgeVoicemailTrash(db, dataDir)).toBe(3);
    for (const gone of [oldA, oldB, escaping]) {
      expect(await exists(gone.id)).toBe(false);
      expect(await transcriptionExists(gone.transcriptionId)).toBe(false);
    }
    expect(fs.existsSync(oldA.file)).toBe(false);
    expect(fs.existsSync(mp3Of(oldA.file))).toBe(false);
    expect(fs.existsSync(mp3Of(kept.file))).toBe(true);
    expect(fs.existsSync(oldB.file)).toBe(false);
    expect(fs.readFileSync(outside, 'utf8')).toBe('not ours');
    for (const stays of [recent, kept]) {
      expect(await exists(stays.id)).toBe(true);
      expect(await transcriptionExists(stays.transcriptionId)).toBe(true);
      expect(fs.existsSync(stays.file)).toBe(true);
    }
    // Nothing left to purge; two days later the 29-day-old one goes too.
    expect(await purgeVoicemailTrash(db, dataDir)).toBe(0);
    expect(await purgeVoicemailTrash(db, dataDir, { now: new Date(Date.now() + 2 * DAY) })).toBe(1);
    expect(await exists(recent.id)).toBe(false);
    expect(await exists(kept.id)).toBe(true);
    fs.rmSync(outside, { force: true });
  });

  it('removes messages older than their account’s retention (365 days by default), heard or not, and says which were new', async () => {
    const a = await activatedAccount(db);
    const b = await activatedAccount(db);
    const extOf = async (userId: string) => (await db.selectFrom('users').select('extension_id').where('id', '=', userId).executeTakeFirstOrThrow()).extension_id;
    const extA = await extOf(a.userId);
    const extB = await extOf(b.userId);
    // Account B keeps messages 30 days.
    await db.updateTable('accounts').set({ voicemail_retention_days: 30 }).where('id', '=', b.accountId).execute();
    const oldNewA = await message(a.accountId, extA, null, 366);
    const oldHeardA = await message(a.accountId, extA, null, 400);
    await db.updateTable('voicemail_messages').set({ status: 'heard', heard_at: new Date() }).where('id', '=', oldHeardA.id).execute();
    const youngA = await message(a.accountId, extA, null, 364);
    const oldB = await message(b.accountId, extB, null, 31);
    const youngB = await message(b.accountId, extB, null, 29);

    const out = await purgeVoicemailPastRetention(db, dataDir);
    // Only these accounts' rows are looked at: other tests' messages are days old at most.
    expect(out.filter((m) => m.accountId === a.accountId || m.accountId === b.accountId).sort((x, y) => x.messageId.localeCompare(y.messageId))).toEqual(
      [
        { accountId: a.accountId, mailboxExtensionId: extA, messageId: oldHeardA.id, wasNew: false },
        { accountId: a.accountId, mailboxExtensionId: extA, messageId: oldNewA.id, wasNew: true },
        { accountId: b.accountId, mailboxExtensionId: extB, messageId: oldB.id, wasNew: true },
      ].sort((x, y) => x.messageId.localeCompare(y.messageId)),
    );
    for (const gone of [oldNewA, oldHeardA, oldB]) {
      expect(await exists(gone.id)).toBe(false);
      expect(await transcriptionExists(gone.transcriptionId)).toBe(false);
      expect(fs.existsSync(gone.file)).toBe(false);
    }
    for (const stays of [youngA, youngB]) {
      expect(await exists(stays.id)).toBe(true);
      expect(fs.existsSync(stays.file)).toBe(true);
    }
    expect(await purgeVoicemailPastRetention(db, dataDir)).toEqual([]);
    // Two days on, B's 29-day-old message is past its 30 days; A's 364-day-old one is not yet past 365... until it is.
    expect((await purgeVoicemailPastRetention(db, dataDir, { now: new Date(Date.now() + 2 * DAY) })).map((m) => m.messageId).sort()).toEqual([youngA.id, youngB.id].sort());
  });

  it('refuses a retention outside 1 to 3,650 days (the database’s own check)', async () => {
    const a = await activatedAccount(db);
    await expect(db.updateTable('accounts').set({ voicemail_retention_days: 0 }).where('id', '=', a.accountId).execute()).rejects.toThrow();
    await expect(db.updateTable('accounts').set({ voicemail_retention_days: 3651 }).where('id', '=', a.accountId).execute()).rejects.toThrow();
  });
});
