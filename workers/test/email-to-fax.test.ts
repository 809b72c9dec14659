import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@carillon/db';
import { openServedDatabase, type ServedDatabase } from '../../scripts/lib/database.ts';
import { freePort } from '../../scripts/lib/private-redis.ts';
import { createScratchDatabase, testPostgresUrl } from '../../tests/support/postgres.ts';
import { parseMail } from '../src/fax/mime-message.ts';
import { deletePrefix, killIfRunning, spawnWorkers, uniquePrefix, waitFor, type Spawned } from './support.ts';
import { addStandardUser, seedAccount, type SeededAccount } from './recording-export-support.ts';
import { addNumber, makePdf, pdfPages } from './fax-support.ts';

/**
 * E-mail to fax through the workers' own SMTP listener: mail from an allowed
 * sender to <number>@<domain> is faxed; an unknown sender is refused with a
 * 550 reply naming the reason.
 */
fs.mkdirSync(path.join(os.tmpdir(), 'carillon-tests'), { recursive: true });
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-tests', 'email-fax-'));
const prefix = uniquePrefix();
const DOMAIN = 'fax.example.test';
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let database: ServedDatabase;
let db: Db;
let account: SeededAccount;
let extA: string;
let adminEmail: string;
let worker: Spawned;
let port: number;

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'emailfax');
  database = await openServedDatabase(scratch?.url, path.join(dataDir, 'db'));
  db = database.db;
  account = await seedAccount(db, 'Mail Fax');
  adminEmail = (await db.selectFrom('users').select('email').where('id', '=', account.adminUserId).executeTakeFirstOrThrow()).email;
  extA = (await addStandardUser(db, account, '401')).extensionId;
  await addNumber(db, account, '+18575550401', extA);
  await db.insertInto('fax_email_senders').values({ account_id: account.accountId, user_id: account.adminUserId, email: 'scanner@office.example' }).execute();
  port = await freePort();
  worker = spawnWorkers(prefix, { DATABASE_URL: database.url, DATA_DIR: dataDir, FAX_SMTP_PORT: String(port), FAX_EMAIL_DOMAIN: DOMAIN });
  await worker.waitForOutput(/"e-mail to fax listening"/);
}, 120_000);

afterAll(async () => {
  killIfRunning(worker);
  await deletePrefix(prefix);
  await database?.close();
  await scratch?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const transport = () => nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
const inbox = () => db.selectFrom('fax_messages').selectAll().where('extension_id', '=', extA).orderBy('received_at').execute();

describe('e-mail to fax', () => {
  it('faxes a mail from an allowed sender: subject on the cover page, the PDF attached as the pages', { timeout: 60_000 }, async () => {
    const pdf = path.join(dataDir, 'two.pdf');
    await makePdf(pdf, 2);
    const info = await transport().sendMail({ from: adminEmail, to: `+18575550401@${DOMAIN}`, subject: 'Signed contract', text: 'Here it is.', attachments: [{ filename: 'contract.pdf', path: pdf }] });
    expect(info.response).toMatch(/^250 .*queued as fax [0-9a-f-]{36}/);
    await waitFor(async () => (await inbox()).length === 1, 30_000, 'the fax to arrive');
    const [message] = await inbox();
    expect(message!.page_count).toBe(3);
    expect(await pdfPages(message!.pdf_path)).toBe(3);
    const fax = await db.selectFrom('faxes').selectAll().where('sender_user_id', '=', account.adminUserId).executeTakeFirstOrThrow();
    expect(fax).toMatchObject({ cover_page: true, cover_subject: 'Signed contract', cover_message: 'Here it is.' });
  });

  it('accepts an extra allowed address, and with a blank subject and no attachment faxes the text without a cover page', { timeout: 60_000 }, async () => {
    await transport().sendMail({ from: 'Scanner <Scanner@Office.example>', to: `18575550401@${DOMAIN}`, subject: '', text: 'Just a line of text.' });
    await waitFor(async () => (await inbox()).length === 2, 30_000, 'the second fax to arrive');
    expect((await inbox())[1]!.page_count).toBe(1);
  });

  it('follows the sender\'s settings: "omit cover page when subject is blank" off, the chosen template and info; template None, no cover', { timeout: 60_000 }, async () => {
    const settings = { cover_template: 'confidential' as const, omit_cover_when_subject_blank: false, cover_info: JSON.stringify({ company: 'Mail Fax Ltd' }) };
    await db.insertInto('fax_cover_settings').values({ user_id: account.adminUserId, account_id: account.accountId, ...settings }).execute();
    await transport().sendMail({ from: adminEmail, to: `+18575550401@${DOMAIN}`, subject: '', text: 'Blank subject, cover wanted.' });
    await waitFor(async () => (await inbox()).length === 3, 30_000, 'the third fax to arrive');
    expect((await inbox())[2]!.page_count).toBe(2);
    const withCover = await db.selectFrom('faxes').selectAll().where('sender_user_id', '=', account.adminUserId).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect(withCover).toMatchObject({ cover_page: true, cover_template: 'confidential', cover_info: { company: 'Mail Fax Ltd' } });

    await db.updateTable('fax_cover_settings').set({ cover_template: 'none' }).where('user_id', '=', account.adminUserId).execute();
    await transport().sendMail({ from: adminEmail, to: `+18575550401@${DOMAIN}`, subject: 'No cover please', text: 'Template None.' });
    await waitFor(async () => (await inbox()).length === 4, 30_000, 'the fourth fax to arrive');
    expect((await inbox())[3]!.page_count).toBe(1);
  });

  it('refuses an unknown sender with a 550 reply, and a bad address', async () => {
    const refused = await transport()
      .sendMail({ from: 'mallory@evil.example', to: `+18575550401@${DOMAIN}`, subject: 'Hi', text: 'spam' })
      .then(() => null, (err: { responseCode?: number; response?: string }) => err);
    expect(refused?.responseCode).toBe(550);
    expect(refused?.response).toMatch(/mallory@evil\.example is not allowed to send faxes/);
    const badTo = await transport()
      .sendMail({ from: adminEmail, to: `someone@${DOMAIN}`, text: 'x' })
      .then(() => null, (err: { responseCode?: number; response?: string }) => err);
    expect(badTo?.responseCode).toBe(550);
    expect(badTo?.response).toMatch(/send faxes to <fax number>@fax\.example\.test/);
    expect(await inbox()).toHaveLength(4);
  });

  it('reads subjects, text and attachments of MIME messages', () => {
    const raw = Buffer.from(
      [
        'Subject: =?utf-8?B?w6l0w6k=?= report',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: multipart/alternative; boundary=b2',
        '',
        '--b2',
        'Content-Type: text/plain; charset=iso-8859-1',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'Caf=E9 =',
        'ouvert',
        '--b2',
        'Content-Type: text/html',
        '',
        '<p>Café</p>',
        '--b2--',
        '--b1',
        'Content-Type: application/pdf; name="a.pdf"',
        'Content-Transfer-Encoding: base64',
        'Content-Disposition: attachment; filename="report.pdf"',
        '',
        Buffer.from('%PDF-1.4 fake').toString('base64'),
        '--b1--',
        '',
      ].join('\r\n'),
    );
    const mail = parseMail(raw);
    expect(mail.subject).toBe('été report');
    expect(mail.text).toBe('Café ouvert');
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]).toMatchObject({ name: 'report.pdf', mediaType: 'application/pdf' });
    expect(mail.attachments[0]!.data.toString()).toBe('%PDF-1.4 fake');
  });
});
