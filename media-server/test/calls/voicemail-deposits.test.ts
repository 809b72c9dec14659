import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@carillon/config';
import { createAccount } from '@carillon/core';
import type { Db } from '@carillon/db';
import { VOICEMAIL_EVENTS_CHANNEL } from '@carillon/contracts/voicemail-events';
import { VoicemailDeposits } from '../../src/calls/voicemail-deposits.ts';
import { freshDb } from '../../../tests/support/env.ts';

/**
 * The mailboxes port on a real (PGlite) database and a real directory: a
 * mailbox's settings with their defaults and its count of messages, scoped to
 * the account; a deposit's file, row, event and transcription.
 */
let db: Db;
let dataDir: string;
const published: [string, string][] = [];
const jobs: { queue: string; data: unknown; jobId: unknown }[] = [];
let deposits: VoicemailDeposits;
let accountId: string;
let otherAccountId: string;
let mailbox: string;
let otherMailbox: string;

async function newAccount(): Promise<{ accountId: string; siteId: string }> {
  const acct = await createAccount(db, { company: 'VM Co', email: `vm-${randomBytes(3).toString('hex')}@x.test`, mainNumber: `+1415555${String(1000 + Math.floor(Math.random() * 8999))}` }, { activationTtlHours: 1 });
  const site = await db.selectFrom('sites').select('id').where('account_id', '=', acct.accountId).executeTakeFirstOrThrow();
  return { accountId: acct.accountId, siteId: site.id };
}

beforeAll(async () => {
  db = await freshDb();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-vm-'));
  const a = await newAccount();
  const b = await newAccount();
  accountId = a.accountId;
  otherAccountId = b.accountId;
  const [m, n] = await db
    .insertInto('extensions')
    .values([
      { account_id: accountId, site_id: a.siteId, number: '301', type: 'message_only', name: 'Sales Desk' },
      { account_id: accountId, site_id: a.siteId, number: '305', type: 'message_only' },
    ])
    .returning('id')
    .execute();
  mailbox = m!.id;
  otherMailbox = n!.id;
  deposits = new VoicemailDeposits({
    db,
    publish: (channel, message) => Promise.resolve(published.push([channel, message])),
    dataDir,
    jobs: { add: (queue, _name, data, options) => Promise.resolve(jobs.push({ queue, data, jobId: options?.jobId }) as never) },
    log: createLogger('vm-test', 'error', () => {}),
  });
});
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

/** A recording where AppCall leaves one. */
function recording(bytes = 1600): string {
  const dir = path.join(dataDir, 'recordings', 'app-calls');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${randomBytes(4).toString('hex')}.wav`);
  fs.writeFileSync(file, Buffer.alloc(bytes, 1));
  return file;
}

describe('VoicemailDeposits', () => {
  it('gives the defaults of a mailbox without settings, and nothing of another account', async () => {
    expect(await deposits.settings(accountId, otherMailbox)).toEqual({ extensionName: null, greetingFile: null, nameRecordingFile: null, maxMessageSeconds: 180, maxMessages: 100, messageCount: 0 });
    // Another account's mailbox id gives nothing of that mailbox.
    expect((await deposits.settings(otherAccountId, mailbox)).extensionName).toBeNull();
  });

  it('stores a message: the file under voicemail/<account>/, the row, the event, a queued transcription and its job', async () => {
    const source = recording();
    const { messageId } = await deposits.deposit({ accountId, mailboxExtensionId: mailbox, callId: null, fromNumber: '+14155550100', fromName: null, toNumber: '301', reason: 'message_only', recordingPath: source, durationMs: 4321.4 });
    const row = await db.selectFrom('voicemail_messages').selectAll().where('id', '=', messageId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ account_id: accountId, mailbox_extension_id: mailbox, reason: 'message_only', duration_ms: 4321, size_bytes: 1600, audio_path: `voicemail/${accountId}/${messageId}.wav`, from_number: '+14155550100' });
    expect(fs.existsSync(source)).toBe(false);
    expect(fs.statSync(path.join(dataDir, row.audio_path)).mode & 0o777).toBe(0o600);
    const t = await db.selectFrom('transcriptions').selectAll().where('id', '=', row.transcription_id!).executeTakeFirstOrThrow();
    expect(t).toMatchObject({ account_id: accountId, extension_id: mailbox, user_id: null, status: 'queued', audio_path: row.audio_path, language: 'en', size_bytes: 1600 });
    expect(jobs.at(-1)).toEqual({ queue: 'transcription', data: { accountId, userId: null, transcriptionId: t.id }, jobId: t.id });
    expect(published.at(-1)).toEqual([VOICEMAIL_EVENTS_CHANNEL, JSON.stringify({ kind: 'deposited', accountId, mailboxExtensionId: mailbox, messageId })]);
  });

  it('does not transcribe a mailbox set not to, and counts only its messages outside the trash', async () => {
    await db.insertInto('voicemail_settings').values({ extension_id: otherMailbox, account_id: accountId, transcribe: false, max_messages: 2, max_message_seconds: 60, language: 'fr', greeting_path: 'greetings/g.wav' }).execute();
    const before = jobs.length;
    const a = await deposits.deposit({ accountId, mailboxExtensionId: otherMailbox, callId: null, fromNumber: null, fromName: null, toNumber: '305', reason: 'message_only', recordingPath: recording(), durationMs: 2000 });
    await deposits.deposit({ accountId, mailboxExtensionId: otherMailbox, callId: null, fromNumber: null, fromName: null, toNumber: '305', reason: 'message_only', recordingPath: recording(), durationMs: 2000 });
    expect(jobs.length).toBe(before);
    expect((await db.selectFrom('voicemail_messages').select('transcription_id').where('id', '=', a.messageId).executeTakeFirstOrThrow()).transcription_id).toBeNull();
    await db.updateTable('voicemail_messages').set({ deleted_at: new Date() }).where('id', '=', a.messageId).execute();
    expect(await deposits.settings(accountId, otherMailbox)).toEqual({ extensionName: null, greetingFile: path.join(dataDir, 'greetings/g.wav'), nameRecordingFile: null, maxMessageSeconds: 60, maxMessages: 2, messageCount: 1 });
  });

  it('plays a rule’s greeting only when it is a greeting of the mailbox’s user, in this account, with its file there', async () => {
    const owner = await db.selectFrom('users').select('id').where('account_id', '=', accountId).executeTakeFirstOrThrow();
    const stranger = await db.selectFrom('users').select('id').where('account_id', '=', otherAccountId).executeTakeFirstOrThrow();
    await db.updateTable('users').set({ extension_id: mailbox }).where('id', '=', owner.id).execute();
    const file = path.posix.join('greetings', accountId, 'rule.wav');
    fs.mkdirSync(path.join(dataDir, path.dirname(file)), { recursive: true });
    fs.writeFileSync(path.join(dataDir, file), Buffer.alloc(100));
    const [own, foreign, missing] = await db
      .insertInto('voicemail_greetings')
      .values([
        { account_id: accountId, user_id: owner.id, file, duration_ms: 1000, source: 'upload' },
        { account_id: otherAccountId, user_id: stranger.id, file, duration_ms: 1000, source: 'upload' },
        { account_id: accountId, user_id: owner.id, file: 'greetings/gone.wav', duration_ms: 1000, source: 'upload' },
      ])
      .returning('id')
      .execute();
    expect((await deposits.settings(accountId, mailbox, own!.id)).greetingFile).toBe(path.join(dataDir, file));
    // Another account's greeting, or one whose file is gone: the mailbox's own (none here: the default).
    expect((await deposits.settings(accountId, mailbox, foreign!.id)).greetingFile).toBeNull();
    expect((await deposits.settings(accountId, mailbox, missing!.id)).greetingFile).toBeNull();
    // Another mailbox than the user's: that mailbox's greeting.
    expect((await deposits.settings(accountId, otherMailbox, own!.id)).greetingFile).toBe(path.join(dataDir, 'greetings/g.wav'));
  });

  it('gives the recorded name of the mailbox’s user for the default greeting only, with its file there, in this account', async () => {
    // The user of `mailbox` (set by the test above) records their name.
    const owner = await db.selectFrom('users').select('id').where('account_id', '=', accountId).where('extension_id', '=', mailbox).executeTakeFirstOrThrow();
    const file = path.posix.join('names', accountId, `${owner.id}.wav`);
    fs.mkdirSync(path.join(dataDir, path.dirname(file)), { recursive: true });
    fs.writeFileSync(path.join(dataDir, file), Buffer.alloc(100));
    await db.insertInto('user_name_recordings').values({ user_id: owner.id, account_id: accountId, file, duration_ms: 900, source: 'browser' }).execute();
    expect(await deposits.settings(accountId, mailbox)).toMatchObject({ greetingFile: null, nameRecordingFile: path.join(dataDir, file) });
    // A custom greeting plays alone: the name is not looked up.
    const rule = await db.selectFrom('voicemail_greetings').select('id').where('account_id', '=', accountId).where('user_id', '=', owner.id).where('file', 'like', '%rule.wav').executeTakeFirstOrThrow();
    expect(await deposits.settings(accountId, mailbox, rule.id)).toMatchObject({ nameRecordingFile: null });
    // Another account does not reach it; another mailbox has no user, so no name.
    expect((await deposits.settings(otherAccountId, mailbox)).nameRecordingFile).toBeNull();
    // Its file gone from the disk: TTS says the name.
    fs.rmSync(path.join(dataDir, file));
    expect((await deposits.settings(accountId, mailbox)).nameRecordingFile).toBeNull();
  });

  it('refuses a greeting path that leaves DATA_DIR', async () => {
    await db.updateTable('voicemail_settings').set({ greeting_path: '../../etc/passwd' }).where('extension_id', '=', otherMailbox).execute();
    await expect(deposits.settings(accountId, otherMailbox)).rejects.toThrow(/DATA_DIR/);
  });

  it('discards a recording', async () => {
    const file = recording();
    await deposits.discard(file);
    expect(fs.existsSync(file)).toBe(false);
  });
});
