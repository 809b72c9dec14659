import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_NOTIFICATIONS, secretBox } from '@carillon/core';
import { createJobProducer, createRedisConnection, type JobProducer } from '@carillon/core/jobs';
import { createSmsCarrier, listSmsConversations, readSmsConversation } from '@carillon/core/sms';
import type { Db } from '@carillon/db';
import { deletePrefix, killIfRunning, REDIS_URL, spawnWorkers, startSmtpReceiver, startTestDatabase, uniquePrefix, waitFor, type Spawned } from './support.ts';
import { addStandardUser, seedAccount, type SeededAccount } from './recording-export-support.ts';
import { parseMail, type ParsedMail } from '../src/fax/mime-message.ts';
import { startTestSmsc, type TestSmsc } from './test-smsc.ts';

/**
 * Texts received through a real SMSC into the workers service (issue 18): a
 * text to a company number goes to the Company Fax/SMS recipient of the IVR
 * settings and shows in their Messages; a text to a direct number to its
 * user. Readers who asked for it (Notifications › Received Text Messages)
 * get an e-mail through the real SMTP receiver; the others, and the users of
 * another account whose recipient has the same extension number, get none.
 */
const key = randomBytes(32);
const prefix = uniquePrefix();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-sms-inbound-'));
const connection = createRedisConnection(REDIS_URL);
const DIRECT = '+14155550100';
const COMPANY = '+14155550150';
let database: Awaited<ReturnType<typeof startTestDatabase>>;
let db: Db;
let smsc: TestSmsc;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
let producer: JobProducer;
let worker: Spawned | undefined;
let account: SeededAccount;
let rita: { userId: string; address: string };
let otherRita: { userId: string; address: string };
let adminAddress = '';

async function notifiedUser(a: SeededAccount, extension: string, email: boolean): Promise<{ userId: string; address: string }> {
  const user = await addStandardUser(db, a, extension);
  const address = `texts-${user.userId.slice(0, 8)}@inbox.example`;
  await db
    .updateTable('users')
    .set({ notification_email: address, time_zone: 'America/New_York', notification_settings: JSON.stringify({ ...DEFAULT_NOTIFICATIONS, textMessages: { email } }) })
    .where('id', '=', user.userId)
    .execute();
  return { userId: user.userId, address };
}

const namesRecipient = (accountId: string, extension: string) =>
  db.insertInto('ivr_settings').values({ account_id: accountId, settings: JSON.stringify({ faxSmsRecipient: extension }) }).execute();

const mailsTo = (address: string): ParsedMail[] =>
  smtp.received
    .filter((m) => m.to.includes(address))
    .map((m) => {
      const parsed = parseMail(Buffer.from(m.raw, 'utf8'));
      return { ...parsed, text: parsed.text.replaceAll('\r\n', '\n') };
    });

/** The text received last on a business number (the SMSC's deliver_sm is answered once it is stored). */
const lastInbound = (to: string) =>
  db.selectFrom('sms_messages').select(['id', 'user_id', 'body', 'conversation_id']).where('account_id', '=', account.accountId).where('to_number', '=', to).where('direction', '=', 'inbound').orderBy('created_at', 'desc').executeTakeFirstOrThrow();

const emailJob = (messageId: string, userId: string) => producer.queue('email').getJob(`sms-received-${messageId}-${userId}`);

beforeAll(async () => {
  database = await startTestDatabase();
  db = database.db;
  smsc = await startTestSmsc({ systemId: 'inbound', password: 'inbound-pw' });
  smtp = await startSmtpReceiver();
  producer = createJobProducer(connection, prefix);
  account = await seedAccount(db, 'Inbound Texts');
  adminAddress = (await db.selectFrom('users').select('email').where('id', '=', account.adminUserId).executeTakeFirstOrThrow()).email;
  rita = await notifiedUser(account, '301', true);
  await db
    .insertInto('phone_numbers')
    .values([
      { account_id: account.accountId, e164: DIRECT, type: 'direct', extension_id: account.adminExtensionId },
      { account_id: account.accountId, e164: COMPANY, type: 'additional_company', extension_id: null },
    ])
    .execute();
  await namesRecipient(account.accountId, '301');
  // Another account whose recipient is also extension 301, and wants e-mails: it must hear nothing.
  const other = await seedAccount(db, 'Other Texts');
  otherRita = await notifiedUser(other, '301', true);
  await namesRecipient(other.accountId, '301');
  await createSmsCarrier(db, secretBox(key), account.accountId, { name: 'SMSC', trafficClass: 'p2p', host: '127.0.0.1', port: smsc.port, systemId: 'inbound', password: 'inbound-pw' });
  worker = spawnWorkers(prefix, { DATABASE_URL: database.url, DATA_DIR: dataDir, SECRET_KEY: key.toString('base64'), SMTP_URL: smtp.url, ENABLE_UNRELEASED: 'sms', PUBLIC_URL: 'https://pbx.example' });
  await worker.waitForOutput(/"workers started"/, 60_000);
  await smsc.waitForBinds(1);
}, 120_000);

afterAll(async () => {
  killIfRunning(worker);
  await smsc?.close();
  await producer?.close();
  await connection.quit();
  await deletePrefix(prefix);
  await smtp?.stop();
  await database?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('texts received', () => {
  it('gives a text to a company number to the Company Fax/SMS recipient, shown in their Messages and e-mailed', async () => {
    expect(await smsc.sendInbound('+16465550001', COMPANY, 'Hello, is the shop open on Sunday?')).toEqual([0]);
    const stored = await lastInbound(COMPANY);
    expect(stored).toMatchObject({ user_id: rita.userId, body: 'Hello, is the shop open on Sunday?' });
    const ritaUser = { accountId: account.accountId, userId: rita.userId };
    expect(await listSmsConversations(db, ritaUser)).toEqual([expect.objectContaining({ id: stored.conversation_id, businessNumber: COMPANY, participants: ['+16465550001'], unread: 1, lastBody: 'Hello, is the shop open on Sunday?' })]);
    expect((await readSmsConversation(db, ritaUser, stored.conversation_id))!.messages.map((m) => m.body)).toEqual(['Hello, is the shop open on Sunday?']);
    // Not the admin's, whose own number it is not.
    expect(await listSmsConversations(db, { accountId: account.accountId, userId: account.adminUserId })).toEqual([]);

    await waitFor(async () => mailsTo(rita.address).length > 0, 60_000, 'the e-mail to the recipient');
    const [mail] = mailsTo(rita.address);
    expect(mail!.subject).toBe('New text message from +16465550001');
    expect(mail!.text).toContain('From: +16465550001\nTo: +14155550150\n');
    expect(mail!.text).toContain('\n\nHello, is the shop open on Sunday?\n\n');
    expect(mail!.text).toContain('https://pbx.example/me/messages');
    // The other account's recipient (same extension number, same wish) is not this account's.
    expect(await emailJob(stored.id, otherRita.userId)).toBeUndefined();
    expect(mailsTo(otherRita.address)).toEqual([]);
  }, 120_000);

  it('gives a text to a direct number to its user, e-mailed only once they ask for it', async () => {
    expect(await smsc.sendInbound('+16465550002', DIRECT, 'Call me back please')).toEqual([0]);
    const quiet = await lastInbound(DIRECT);
    expect(quiet.user_id).toBe(account.adminUserId);
    // The deliver_sm was answered after the text was stored and its e-mails queued: none was.
    expect(await emailJob(quiet.id, account.adminUserId)).toBeUndefined();
    expect(await emailJob(quiet.id, rita.userId)).toBeUndefined();

    await db.updateTable('users').set({ notification_settings: JSON.stringify({ ...DEFAULT_NOTIFICATIONS, textMessages: { email: true } }) }).where('id', '=', account.adminUserId).execute();
    expect(await smsc.sendInbound('+16465550002', DIRECT, 'Second try: call me back')).toEqual([0]);
    const told = await lastInbound(DIRECT);
    await waitFor(async () => mailsTo(adminAddress).length > 0, 60_000, 'the e-mail to the admin');
    expect(mailsTo(adminAddress).map((m) => m.text.includes('Second try: call me back'))).toEqual([true]);
    expect((await emailJob(told.id, account.adminUserId))?.data).toMatchObject({ purpose: 'sms-received', userId: account.adminUserId, accountId: account.accountId });
    // Rita reads the company numbers only.
    expect(mailsTo(rita.address)).toHaveLength(1);
  }, 120_000);
});
