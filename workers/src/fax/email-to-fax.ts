import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { Logger } from '@carillon/config';
import { sql, type Db } from '@carillon/db';
import { createFax, faxComposeRequest, FaxComposeError, normaliseFaxNumber } from '@carillon/core/fax';
import { faxCoverSettingsOf } from '@carillon/core/fax';
import { enqueueFax, type FaxQueue } from '@carillon/core/jobs';
import { parseMail } from './mime-message.ts';

/**
 * E-mail to fax (seed 000 "Faxes Sent via Email"): mail to
 * `<fax number>@<FAX_EMAIL_DOMAIN>` from an allowed sender is faxed as that
 * user. The subject is the cover page's subject and the text its message;
 * the sender's settings choose the template, and with a blank subject leave
 * the cover page out unless they turned "Omit cover page when email subject
 * is blank" off; the attachments are the fax (or the
 * text itself when there are none). A sender is allowed when it is a user's
 * login address or one of their extra addresses (fax_email_senders); any
 * other is refused at MAIL FROM with a 550 reply the sending server bounces
 * to them, so nothing is accepted that would then have to be answered.
 */
export interface EmailToFaxOptions {
  db: Db;
  queue: FaxQueue;
  dataDir: string;
  domain: string;
  maxBytes: number;
  /** FAX_MAX_PAGES. */
  maxPages: number;
  log: Logger;
}

interface Sender {
  accountId: string;
  userId: string;
}

export interface EmailToFaxServer {
  port: number;
  close(): Promise<void>;
}

/** Who may fax from `address`: the user whose login or extra fax address it is. */
export async function findFaxSender(db: Db, address: string): Promise<Sender | null> {
  const email = address.trim().toLowerCase();
  if (!email) return null;
  // Login addresses are unique (lower-cased) among users who sign in with them; prefer those.
  const users = await db
    .selectFrom('users')
    .select(['id', 'account_id', 'email_login'])
    .where(sql<string>`lower(email)`, '=', email)
    .orderBy('email_login', 'desc')
    .limit(2)
    .execute();
  const user = users.length === 1 || users[0]?.email_login ? users[0] : undefined;
  if (user) return { accountId: user.account_id, userId: user.id };
  const extra = await db.selectFrom('fax_email_senders').select(['user_id', 'account_id']).where('email', '=', email).executeTakeFirst();
  return extra ? { accountId: extra.account_id, userId: extra.user_id } : null;
}

const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

export async function startEmailToFax(options: EmailToFaxOptions, port: number, host: string): Promise<EmailToFaxServer> {
  const senders = new WeakMap<SMTPServerSession, Sender>();
  const domain = options.domain.toLowerCase();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: options.maxBytes,
    logger: false,
    banner: 'Carillon e-mail to fax',
    onMailFrom(address, session, callback) {
      findFaxSender(options.db, address.address).then(
        (sender) => {
          if (!sender) {
            options.log.info('e-mail to fax refused: unknown sender');
            return callback(smtpError(550, `5.7.1 ${address.address} is not allowed to send faxes: add it to your fax settings, or send from your own address`));
          }
          senders.set(session, sender);
          callback();
        },
        (err: unknown) => callback(smtpError(451, `4.3.0 try again later (${err instanceof Error ? err.message : 'lookup failed'})`)),
      );
    },
    onRcptTo(address, session, callback) {
      const [local, host] = address.address.toLowerCase().split('@') as [string, string | undefined];
      if (host !== domain || !normaliseFaxNumber(local)) {
        return callback(smtpError(550, `5.1.1 ${address.address}: send faxes to <fax number>@${domain}, e.g. +33123456789@${domain}`));
      }
      if (session.envelope.rcptTo.length >= 50) return callback(smtpError(452, '4.5.3 at most 50 recipients'));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
          return callback(smtpError(552, `5.3.4 the message is larger than the ${Math.round(options.maxBytes / 1048576)} MB allowed`));
        }
        const sender = senders.get(session);
        if (!sender) return callback(smtpError(503, '5.5.1 sender first'));
        faxFromMail(options, sender, session.envelope.rcptTo.map((r) => r.address.split('@')[0]!), Buffer.concat(chunks)).then(
          (faxId) => callback(null, `queued as fax ${faxId}`),
          (err: unknown) => {
            if (err instanceof FaxComposeError) return callback(smtpError(554, `5.6.0 ${err.message}`));
            options.log.error('e-mail to fax failed', { error: err instanceof Error ? err.message : String(err) });
            callback(smtpError(451, '4.3.0 the fax could not be queued; try again later'));
          },
        );
      });
    },
  });
  server.on('error', (err) => options.log.warn('e-mail to fax listener error', { error: err.message }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function faxFromMail(options: EmailToFaxOptions, sender: Sender, numbers: string[], raw: Buffer): Promise<string> {
  const mail = parseMail(raw);
  const uploads = mail.attachments.map((a) => ({ name: a.name, mediaType: a.mediaType, data: a.data }));
  // Nothing attached: the text of the mail is the fax.
  if (uploads.length === 0 && mail.text !== '') uploads.push({ name: 'message.txt', mediaType: 'text/plain', data: Buffer.from(mail.text, 'utf8') });
  const cover = await faxCoverSettingsOf(options.db, sender.accountId, sender.userId);
  const parsed = faxComposeRequest.safeParse({
    recipients: numbers,
    // Seed 000 "Omit cover page when email subject is blank", and no cover page at all with the template "None".
    coverPage: cover.coverTemplate !== 'none' && !(cover.omitCoverWhenSubjectBlank && mail.subject === ''),
    subject: mail.subject.slice(0, 200),
    message: uploads.length > 0 && mail.attachments.length > 0 ? mail.text.slice(0, 4000) : '',
  });
  if (!parsed.success) throw new FaxComposeError(parsed.error.issues.map((i) => i.message).join('; '));
  const faxId = await createFax(options.db, options.dataDir, sender, parsed.data, uploads, { maxBytes: options.maxBytes, maxPages: options.maxPages });
  await enqueueFax(options.queue, faxId, sender, { sendAt: null });
  return faxId;
}
