import fs from 'node:fs';
import path from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { Config } from '@carillon/config';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Files read from disk when the message is built (absolute paths). */
  attachments?: { filename: string; path: string; contentType: string }[];
  /** An iCalendar REQUEST (RFC 5546): sent as the text/calendar alternative calendar clients answer, and as invite.ics. */
  calendar?: { content: string };
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
}

/**
 * SMTP when SMTP_URL is set. On the embedded default there is no mail server,
 * so messages are written as .eml files under DATA_DIR/outbox, where an
 * operator (or a test) can read them; links are never printed to the logs.
 */
export function createMailer(config: Pick<Config, 'SMTP_URL' | 'MAIL_FROM' | 'dataDir'>): Mailer {
  if (config.SMTP_URL) {
    const transport = nodemailer.createTransport(config.SMTP_URL);
    return {
      async send(mail) {
        await transport.sendMail(message(config.MAIL_FROM, mail));
      },
    };
  }
  const outbox = path.join(config.dataDir, 'outbox');
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(mail) {
      const info = await transport.sendMail(message(config.MAIL_FROM, mail));
      fs.mkdirSync(outbox, { recursive: true });
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${Math.random().toString(36).slice(2, 8)}.eml`;
      fs.writeFileSync(path.join(outbox, name), info.message as Buffer, { mode: 0o600 });
    },
  };
}

/** nodemailer's message: an invitation goes as its icalEvent (a text/calendar part, method REQUEST). */
function message(from: string, { calendar, ...mail }: OutgoingMail): SendMailOptions {
  return { from, ...mail, ...(calendar ? { icalEvent: { method: 'REQUEST', filename: 'invite.ics', content: calendar.content } } : {}) };
}
