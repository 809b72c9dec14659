import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  answerSecurityQuestion,
  createMailer,
  resetPassword,
  resolveSession,
  securityQuestionFor,
  sendPasswordResetLink,
  signIn,
  type LoginIdentity,
  type Mailer,
  type SignInPolicy,
} from '@carillon/core';
import { SECURITY_QUESTIONS } from '@carillon/domain';
import { sql, type Db } from '@carillon/db';
import { freshDb } from '../../../tests/support/env.ts';
import {
  GOOD_CREDENTIALS,
  POLICY,
  activatedAccount,
  auditEvents,
  newAccount,
  testLimiter,
  uniq,
} from './support.ts';

const PUBLIC_URL = 'http://carillon.test';
const MAIL_FROM = 'Carillon <no-reply@carillon.test>';

interface Received {
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server on a free loopback port, keeping every message it accepts. */
async function startSmtp(): Promise<{ port: number; received: Received[]; stop: () => Promise<void> }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The decoded text body and headers of a raw single-part message. */
function parseMail(raw: string): { headers: string; body: string } {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = raw.slice(0, split);
  let body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const cte = /^content-transfer-encoding:\s*(\S+)/im.exec(headers)?.[1]?.toLowerCase();
  if (cte === 'quoted-printable') {
    body = Buffer.from(
      body
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
  } else if (cte === 'base64') {
    body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  return { headers, body };
}

const resetTokenIn = (body: string): string => {
  const m = new RegExp(`${PUBLIC_URL}/reset-password/([A-Za-z0-9_-]+)`).exec(body);
  if (!m) throw new Error(`no reset link in:\n${body}`);
  return m[1]!;
};

let db: Db;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let mailer: Mailer;
let rl: ReturnType<typeof testLimiter>;
let dataDir: string;

beforeAll(async () => {
  db = await freshDb();
  smtp = await startSmtp();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-tests', 'reset-'));
  mailer = createMailer({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}?ignoreTLS=true`, MAIL_FROM, dataDir });
  rl = testLimiter();
});
afterAll(async () => {
  await smtp?.stop();
  await rl?.cleanup();
  await db?.destroy();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const byEmail = (email: string): LoginIdentity => ({ kind: 'email', email });
const login = (identity: LoginIdentity, password: string, policy: SignInPolicy = POLICY) =>
  signIn(db, rl.limiter, policy, { identity, password, ip: '203.0.113.50', userAgent: 'vitest' });

describe('forgot password by e-mail link', () => {
  it('mails a link through SMTP; the link resets the password, ends every session and only works once', async () => {
    const acct = await activatedAccount(db, { firstName: 'Marie' });
    const otherSession = await login(byEmail(acct.email), GOOD_CREDENTIALS.password);
    if (!otherSession.ok) throw new Error(`second sign-in failed: ${JSON.stringify(otherSession)}`);
    const before = smtp.received.length;

    await sendPasswordResetLink(db, mailer, byEmail(acct.email.toUpperCase()), PUBLIC_URL);

    expect(smtp.received).toHaveLength(before + 1);
    const mail = smtp.received.at(-1)!;
    expect(mail.to).toEqual([acct.email]);
    expect(mail.from).toBe('no-reply@carillon.test');
    const { headers, body } = parseMail(mail.raw);
    expect(headers).toMatch(/^Subject: Reset your Carillon password$/m);
    expect(body).toContain('Hello Marie');
    expect(body).toContain('within 60 minutes');
    const token = resetTokenIn(body);

    const row = await db
      .selectFrom('user_tokens')
      .selectAll()
      .where('user_id', '=', acct.userId)
      .where('purpose', '=', 'password_reset')
      .executeTakeFirstOrThrow();
    const ttl = new Date(row.expires_at).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(59 * 60_000);
    expect(ttl).toBeLessThanOrEqual(60 * 60_000);

    // A password that breaks the rules is refused with the rules it breaks; nothing changes.
    expect(await resetPassword(db, token, 'Marie7Tulip', 'Marie7Tulip', '203.0.113.51')).toEqual({
      ok: false,
      reason: 'rules',
      errors: ['noAccountInfo'],
    });
    expect(await resetPassword(db, token, 'short1A', 'short1B', '203.0.113.51')).toEqual({
      ok: false,
      reason: 'rules',
      errors: ['length', 'mismatch'],
    });
    expect(await resolveSession(db, acct.sessionToken)).not.toBeNull();
    expect(await login(byEmail(acct.email), GOOD_CREDENTIALS.password)).toMatchObject({ ok: true });

    expect(await resetPassword(db, token, 'Ocean4Lantern', 'Ocean4Lantern', '203.0.113.51')).toEqual({
      ok: true,
    });

    // Every session of the user has ended, on every device.
    expect(await resolveSession(db, acct.sessionToken)).toBeNull();
    expect(await resolveSession(db, otherSession.sessionToken)).toBeNull();
    const live = await db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', acct.userId)
      .where('revoked_at', 'is', null)
      .execute();
    expect(live).toEqual([]);

    expect(await login(byEmail(acct.email), GOOD_CREDENTIALS.password)).toMatchObject({
      ok: false,
      reason: 'invalid_credentials',
    });
    expect(await login(byEmail(acct.email), 'Ocean4Lantern')).toMatchObject({
      ok: true,
      userId: acct.userId,
    });

    const cred = await db
      .selectFrom('user_credentials')
      .select('password_hash')
      .where('user_id', '=', acct.userId)
      .executeTakeFirstOrThrow();
    expect(cred.password_hash).toMatch(/^\$argon2id\$/);
    expect(cred.password_hash).not.toContain('Ocean4Lantern');

    expect(await resetPassword(db, token, 'River9Stone', 'River9Stone', null)).toEqual({
      ok: false,
      reason: 'used',
    });
    const [event] = await auditEvents(db, acct.accountId, 'user.password_reset');
    expect(event).toMatchObject({
      actor_user_id: acct.userId,
      actor_ip: '203.0.113.51',
      target_id: acct.userId,
    });
  });

  it('keeps only the newest reset link: issuing one ends the older ones, and using one ends every other', async () => {
    const acct = await activatedAccount(db);
    const mailLink = async () => {
      await sendPasswordResetLink(db, mailer, byEmail(acct.email), PUBLIC_URL);
      return resetTokenIn(parseMail(smtp.received.at(-1)!.raw).body);
    };
    const first = await mailLink();
    const second = await mailLink();
    expect(await resetPassword(db, first, 'Ocean4Lantern', 'Ocean4Lantern', null)).toEqual({ ok: false, reason: 'expired' });
    // The security question hands out a link too; the mailed one issued before it dies.
    const answered = await answerSecurityQuestion(db, rl.limiter, POLICY, { identity: byEmail(acct.email), answer: GOOD_CREDENTIALS.securityAnswer, ip: '203.0.113.70' });
    if (!answered.ok) throw new Error(JSON.stringify(answered));
    expect(await resetPassword(db, second, 'Ocean4Lantern', 'Ocean4Lantern', null)).toEqual({ ok: false, reason: 'expired' });
    expect(await resetPassword(db, answered.resetToken, 'Ocean4Lantern', 'Ocean4Lantern', null)).toEqual({ ok: true });
    // A link issued alongside (two tabs) is ended by the use of another.
    const third = await mailLink();
    const fourth = await mailLink();
    await db.updateTable('user_tokens').set({ expires_at: new Date(Date.now() + 60 * 60_000) }).where('user_id', '=', acct.userId).where('purpose', '=', 'password_reset').where('used_at', 'is', null).execute();
    expect(await resetPassword(db, fourth, 'River9Stone', 'River9Stone', null)).toEqual({ ok: true });
    expect(await resetPassword(db, third, 'Maple3Harbor', 'Maple3Harbor', null)).toEqual({ ok: false, reason: 'expired' });
    expect(await login(byEmail(acct.email), 'River9Stone')).toMatchObject({ ok: true });
  });

  it('reaches the user by phone number and extension too', async () => {
    const acct = await activatedAccount(db);
    const before = smtp.received.length;
    await sendPasswordResetLink(
      db,
      mailer,
      { kind: 'phone', country: 'US', number: acct.mainNumber, extension: '101' },
      PUBLIC_URL,
    );
    expect(smtp.received).toHaveLength(before + 1);
    expect(smtp.received.at(-1)!.to).toEqual([acct.email]);
  });

  it('sends the French text to a French account', async () => {
    const acct = await activatedAccount(db, { language: 'fr', country: 'FR', mainNumber: '01 42 68 53 00' });
    await sendPasswordResetLink(db, mailer, byEmail(acct.email), PUBLIC_URL);
    const { headers, body } = parseMail(smtp.received.at(-1)!.raw);
    expect(smtp.received.at(-1)!.to).toEqual([acct.email]);
    expect(headers).toMatch(/^Subject: /m);
    expect(body).toContain('Bonjour Marie');
    expect(body).toContain('dans les 60 minutes');
    expect(resetTokenIn(body)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('sends nothing for an unknown identity or a not-yet-activated user', async () => {
    const created = await newAccount(db);
    const pending = (
      await db.selectFrom('users').select('email').where('id', '=', created.userId).executeTakeFirstOrThrow()
    ).email;
    const before = smtp.received.length;
    await sendPasswordResetLink(db, mailer, byEmail(`nobody.${uniq()}@acme.example`), PUBLIC_URL);
    await sendPasswordResetLink(
      db,
      mailer,
      { kind: 'phone', country: 'US', number: '+12125550198', extension: undefined },
      PUBLIC_URL,
    );
    await sendPasswordResetLink(db, mailer, byEmail(pending), PUBLIC_URL);
    expect(smtp.received).toHaveLength(before);
    expect(
      await db
        .selectFrom('user_tokens')
        .select('id')
        .where('user_id', '=', created.userId)
        .where('purpose', '=', 'password_reset')
        .execute(),
    ).toEqual([]);
  });

  it('refuses an expired reset link', async () => {
    const acct = await activatedAccount(db);
    await sendPasswordResetLink(db, mailer, byEmail(acct.email), PUBLIC_URL);
    const token = resetTokenIn(parseMail(smtp.received.at(-1)!.raw).body);
    await db
      .updateTable('user_tokens')
      .set({ expires_at: sql<Date>`now() - interval '1 second'` })
      .where('user_id', '=', acct.userId)
      .where('purpose', '=', 'password_reset')
      .execute();
    expect(await resetPassword(db, token, 'Ocean4Lantern', 'Ocean4Lantern', null)).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(await resetPassword(db, 'garbage', 'Ocean4Lantern', 'Ocean4Lantern', null)).toEqual({
      ok: false,
      reason: 'invalid',
    });
    // An activation token is not a reset token.
    const created = await newAccount(db);
    expect(await resetPassword(db, created.activationToken, 'Ocean4Lantern', 'Ocean4Lantern', null)).toEqual({
      ok: false,
      reason: 'invalid',
    });
  });
});

describe('mailer without SMTP', () => {
  it('writes each message as an .eml file under dataDir/outbox', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-tests', 'outbox-'));
    try {
      const outboxMailer = createMailer({ SMTP_URL: undefined, MAIL_FROM, dataDir: dir });
      await outboxMailer.send({
        to: 'marie@acme.example',
        subject: 'Hello outbox',
        text: 'Line one\nhttp://carillon.test/x\n',
      });
      const files = fs.readdirSync(path.join(dir, 'outbox'));
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/\.eml$/);
      const file = path.join(dir, 'outbox', files[0]!);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const { headers, body } = parseMail(fs.readFileSync(file, 'utf8'));
      expect(headers).toMatch(/^To: marie@acme\.example$/m);
      expect(headers).toMatch(/^From: Carillon <no-reply@carillon\.test>$/m);
      expect(headers).toMatch(/^Subject: Hello outbox$/m);
      expect(body).toContain('http://carillon.test/x');
      expect(smtp.received.some((m) => m.raw.includes('Hello outbox'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('forgot password by security question', () => {
  it("asks the user's own question, and a stable made-up one for an unknown identity", async () => {
    const acct = await activatedAccount(db);
    expect(await securityQuestionFor(db, byEmail(acct.email))).toBe('first_car');
    expect(
      await securityQuestionFor(db, {
        kind: 'phone',
        country: 'US',
        number: acct.mainNumber,
        extension: '101',
      }),
    ).toBe('first_car');

    const unknown = byEmail(`nobody.${uniq()}@acme.example`);
    const q = await securityQuestionFor(db, unknown);
    expect(SECURITY_QUESTIONS).toContain(q);
    expect(await securityQuestionFor(db, unknown)).toBe(q);
    expect(await securityQuestionFor(db, { ...unknown })).toBe(q);
    // Different unknown identities do not all get the same question.
    const questions = new Set<string>();
    for (let i = 0; i < 24; i++)
      questions.add(await securityQuestionFor(db, byEmail(`ghost${i}@nowhere.example`)));
    expect(questions.size).toBeGreaterThan(1);
  });

  it('counts wrong answers towards the same lockout as passwords', async () => {
    const acct = await activatedAccount(db);
    const id = byEmail(acct.email);
    const answer = (a: string) =>
      answerSecurityQuestion(db, rl.limiter, POLICY, { identity: id, answer: a, ip: '203.0.113.60' });

    expect(await answer('Shiny Wagon')).toEqual({ ok: false, reason: 'wrong_answer' });
    // A wrong password adds to the same counter.
    expect(await login(id, 'Wrong7Guess')).toEqual({
      ok: false,
      reason: 'invalid_credentials',
      attemptsLeft: 1,
    });
    const locked = await answer('Shiny Wagon');
    expect(locked).toMatchObject({ ok: false, reason: 'locked' });
    // A lockout by answers is audited like one by passwords, with the IP it came from.
    const lockouts = await auditEvents(db, acct.accountId, 'user.locked_out');
    expect(lockouts.map((e) => [e.target_id, e.actor_ip])).toEqual([[acct.userId, '203.0.113.60']]);

    // Locked: neither the right answer nor the right password helps.
    expect(await answer(GOOD_CREDENTIALS.securityAnswer)).toMatchObject({ ok: false, reason: 'locked' });
    expect(await login(id, GOOD_CREDENTIALS.password)).toMatchObject({ ok: false, reason: 'locked' });

    await db
      .updateTable('user_credentials')
      .set({ locked_until: sql<Date>`now() - interval '1 second'` })
      .where('user_id', '=', acct.userId)
      .execute();
    expect(await answer(GOOD_CREDENTIALS.securityAnswer)).toMatchObject({ ok: true });
  });

  it('gives a reset token for the right answer, whatever its case and spacing, which resetPassword accepts', async () => {
    const acct = await activatedAccount(db);
    const id = byEmail(acct.email);
    const res = await answerSecurityQuestion(db, rl.limiter, POLICY, {
      identity: id,
      answer: '  rUSTY    bucket ',
      ip: '203.0.113.61',
    });
    if (!res.ok) throw new Error(JSON.stringify(res));
    const row = await db
      .selectFrom('user_tokens')
      .selectAll()
      .where('user_id', '=', acct.userId)
      .where('purpose', '=', 'password_reset')
      .executeTakeFirstOrThrow();
    const ttl = new Date(row.expires_at).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(14 * 60_000);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000);

    expect(await resetPassword(db, res.resetToken, 'Ocean4Lantern', 'Ocean4Lantern', '203.0.113.61')).toEqual(
      { ok: true },
    );
    expect(await resolveSession(db, acct.sessionToken)).toBeNull();
    expect(await login(id, GOOD_CREDENTIALS.password)).toMatchObject({
      ok: false,
      reason: 'invalid_credentials',
    });
    expect(await login(id, 'Ocean4Lantern')).toMatchObject({ ok: true });
  });

  it('counts an unknown identity\'s answers down and locks it, as a known user\'s', async () => {
    const answers = async (identity: LoginIdentity) => {
      const out: string[] = [];
      for (let i = 0; i < POLICY.maxFailures + 1; i++) {
        const res = await answerSecurityQuestion(db, rl.limiter, POLICY, { identity, answer: 'Shiny Wagon', ip: '203.0.113.71' });
        out.push(res.ok ? 'ok' : res.reason);
      }
      return out;
    };
    const acct = await activatedAccount(db);
    const expected = ['wrong_answer', 'wrong_answer', 'locked', 'locked'];
    expect(await answers(byEmail(acct.email))).toEqual(expected);
    expect(await answers(byEmail(`nobody.${uniq()}@acme.example`))).toEqual(expected);
  });

  it('answers wrong_answer for an unknown identity and rate-limits per IP', async () => {
    const unknown = byEmail(`nobody.${uniq()}@acme.example`);
    const policy: SignInPolicy = { ...POLICY, perIpPerMinute: 2 };
    const ip = '203.0.113.62';
    const answer = () =>
      answerSecurityQuestion(db, rl.limiter, policy, { identity: unknown, answer: 'Rusty Bucket', ip });
    expect(await answer()).toEqual({ ok: false, reason: 'wrong_answer' });
    expect(await answer()).toEqual({ ok: false, reason: 'wrong_answer' });
    expect(await answer()).toEqual({ ok: false, reason: 'rate_limited' });
    expect(await rl.redis.get(`${rl.prefix}reset:ip:${ip}`)).toBe('3');
  });
});
