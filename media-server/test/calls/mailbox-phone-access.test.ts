import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@carillon/config';
import { createAccount, hashSecret, readUserAnswering, verifySecret } from '@carillon/core';
import { ffmpegPath, wavDurationMs } from '@carillon/core/audio';
import { CONFIG_CHANGES_CHANNEL } from '@carillon/contracts/config-changes';
import type { Db } from '@carillon/db';
import { VOICEMAIL_EVENTS_CHANNEL } from '@carillon/contracts/voicemail-events';
import { mailboxApp } from '../../src/apps/mailbox/mailbox.ts';
import { MailboxPhoneAccess } from '../../src/calls/mailbox-phone-access.ts';
import { freshDb, redisClient } from '../../../tests/support/env.ts';
import { FakeCallHandle } from '../apps/fake-call-handle.ts';
import { toneWav } from '../support/wav.ts';

/**
 * The mailbox-by-phone port on a real (PGlite) database and a real Redis: the
 * PIN against the user's argon2id hash, the lockout counted in Redis across
 * calls (5 wrong PINs lock the mailbox, and queue one e-mail), and the
 * changes to messages with their 'changed' events, scoped to the account.
 */
let db: Db;
let redis: Redis;
let dataDir: string;
const published: [string, string][] = [];
const jobs: { queue: string; name: string; data: Record<string, unknown> }[] = [];
let access: MailboxPhoneAccess;
let accountId: string;
let extensionId: string;
let otherAccountId: string;
let otherExtensionId: string;
const PIN = '2468';

let userId: string;

async function newAccount(): Promise<{ accountId: string; extensionId: string; userId: string }> {
  const acct = await createAccount(db, { company: 'VM Co', email: `vm-${randomBytes(3).toString('hex')}@x.test`, mainNumber: `+1415555${String(1000 + Math.floor(Math.random() * 8999))}` }, { activationTtlHours: 1 });
  const user = await db.selectFrom('users').select('extension_id').where('id', '=', acct.userId).executeTakeFirstOrThrow();
  await db.updateTable('user_credentials').set({ pin_hash: await hashSecret(PIN) }).where('user_id', '=', acct.userId).execute();
  return { accountId: acct.accountId, extensionId: user.extension_id, userId: acct.userId };
}

async function newMessage(account: string, mailbox: string, from: string | null): Promise<string> {
  const row = await db
    .insertInto('voicemail_messages')
    .values({ account_id: account, mailbox_extension_id: mailbox, from_number: from, to_number: '101', reason: 'no_answer', audio_path: `voicemail/${account}/${randomBytes(4).toString('hex')}.wav`, duration_ms: 3000, size_bytes: 48_000 })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Fresh Redis state for the mailbox: its failures and lock are what this test makes them. */
async function unlock(extension: string): Promise<void> {
  await redis.del(`carillon:mailbox-pin-failures:${extension}`, `carillon:mailbox-locked:${extension}`);
}

beforeAll(async () => {
  db = await freshDb();
  redis = redisClient();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-mbx-'));
  const a = await newAccount();
  const b = await newAccount();
  accountId = a.accountId;
  extensionId = a.extensionId;
  userId = a.userId;
  otherAccountId = b.accountId;
  otherExtensionId = b.extensionId;
  access = new MailboxPhoneAccess({
    db,
    redis,
    publish: (channel, message) => Promise.resolve(published.push([channel, message])),
    dataDir,
    ffmpeg: ffmpegPath(process.env.FFMPEG_PATH),
    jobs: { add: (queue, name, data) => Promise.resolve(jobs.push({ queue, name, data: data as unknown as Record<string, unknown> }) as never) },
    log: createLogger('mbx-test', 'error', () => {}),
  });
});
afterAll(async () => {
  await unlock(extensionId);
  await unlock(otherExtensionId);
  redis.disconnect();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('MailboxPhoneAccess', () => {
  it('opens with the user PIN only, and not another account’s mailbox with it', async () => {
    await unlock(extensionId);
    await unlock(otherExtensionId);
    expect(await access.checkPin(accountId, extensionId, PIN)).toBe('ok');
    expect(await access.checkPin(accountId, extensionId, '1357')).toBe('wrong');
    // The extension of another account, named with this account: no user found, a wrong PIN.
    expect(await access.checkPin(accountId, otherExtensionId, PIN)).toBe('wrong');
    await unlock(extensionId);
    await unlock(otherExtensionId);
  });

  it('5 wrong PINs across two calls lock the mailbox (the right PIN then too), with one e-mail alert', async () => {
    await unlock(extensionId);
    jobs.length = 0;
    const app = mailboxApp(access);
    const first = new FakeCallHandle({ dialed: '*86' });
    first.keys = ['1111', '2222', '3333'];
    await app(first, { kind: 'mailbox', accountId, extensionId });
    expect(first.log).toContainEqual(['play', { tts: 'That PIN is not correct. Goodbye.' }]);
    expect(await access.isLocked(accountId, extensionId)).toBe(false);

    const second = new FakeCallHandle({ dialed: '*86' });
    second.keys = ['4444', '5555', PIN];
    await app(second, { kind: 'mailbox', accountId, extensionId });
    expect(second.log.filter((e) => Array.isArray(e) && e[0] === 'keyed')).toEqual([
      ['keyed', '4444'],
      ['keyed', '5555'],
    ]);
    expect(second.log.at(-2)).toEqual(['play', { tts: 'This mailbox is locked after too many wrong PINs. Please try again later. Goodbye.' }]);
    expect(await access.isLocked(accountId, extensionId)).toBe(true);
    expect(await redis.ttl(`carillon:mailbox-locked:${extensionId}`)).toBeGreaterThan(0);
    expect(await access.checkPin(accountId, extensionId, PIN)).toBe('locked');

    // A third call is told at once.
    const third = new FakeCallHandle({ dialed: '*86' });
    third.keys = [PIN];
    await app(third, { kind: 'mailbox', accountId, extensionId });
    expect(third.log).toEqual(['answer', ['play', { tts: 'This mailbox is locked after too many wrong PINs. Please try again later. Goodbye.' }], 'hangup']);

    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ queue: 'email', name: 'mailbox_locked', data: { accountId, purpose: 'mailbox_locked', subject: 'Your voicemail has been locked' } });
    expect(String(jobs[0]!.data.to)).toMatch(/^vm-.*@x\.test$/);
    expect(JSON.stringify(jobs)).not.toContain(PIN);
    // Another mailbox is not locked by this one's failures.
    expect(await access.isLocked(otherAccountId, otherExtensionId)).toBe(false);
    await unlock(extensionId);
  });

  it('lists the new messages only; save marks heard, trash sets deleted_at, each with a changed event', async () => {
    const m1 = await newMessage(accountId, extensionId, '+15550100');
    const m2 = await newMessage(accountId, extensionId, null);
    const heard = await newMessage(accountId, extensionId, '102');
    await db.updateTable('voicemail_messages').set({ status: 'heard' }).where('id', '=', heard).execute();
    const foreign = await newMessage(otherAccountId, otherExtensionId, '103');

    const listed = await access.newMessages(accountId, extensionId);
    expect(listed.map((m) => m.id).sort()).toEqual([m1, m2].sort());
    expect(listed.find((m) => m.id === m1)).toMatchObject({ fromNumber: '+15550100', audioFile: expect.stringMatching(new RegExp(`^${dataDir}/voicemail/`)) as unknown });

    published.length = 0;
    await access.trash(accountId, extensionId, m1);
    await access.save(accountId, extensionId, m2);
    // Another account's message, named through this mailbox: untouched, no event.
    await access.trash(accountId, extensionId, foreign);

    const rows = await db.selectFrom('voicemail_messages').select(['id', 'status', 'deleted_at']).where('id', 'in', [m1, m2, foreign]).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(m1)!.deleted_at).not.toBeNull();
    expect(byId.get(m2)).toMatchObject({ status: 'heard', deleted_at: null });
    expect(byId.get(foreign)).toMatchObject({ status: 'new', deleted_at: null });
    expect(published.map(([channel, message]) => [channel, JSON.parse(message) as unknown])).toEqual([
      [VOICEMAIL_EVENTS_CHANNEL, { kind: 'changed', accountId, mailboxExtensionId: extensionId, messageId: m1 }],
      [VOICEMAIL_EVENTS_CHANNEL, { kind: 'changed', accountId, mailboxExtensionId: extensionId, messageId: m2 }],
    ]);
    expect(await access.newMessages(accountId, extensionId)).toEqual([]);
  });

  it('lists the saved messages newest first, without new ones, the trash or another account’s', async () => {
    const older = await newMessage(accountId, extensionId, '104');
    const newer = await newMessage(accountId, extensionId, '105');
    const trashed = await newMessage(accountId, extensionId, '106');
    const fresh = await newMessage(accountId, extensionId, '107');
    const foreign = await newMessage(otherAccountId, otherExtensionId, '108');
    await db.updateTable('voicemail_messages').set({ created_at: new Date(Date.now() - 60_000) }).where('id', '=', older).execute();
    await db.updateTable('voicemail_messages').set({ status: 'heard' }).where('id', 'in', [older, newer, trashed, foreign]).execute();
    await db.updateTable('voicemail_messages').set({ deleted_at: new Date() }).where('id', '=', trashed).execute();

    const saved = (await access.savedMessages(accountId, extensionId)).map((m) => m.id);
    expect(saved.indexOf(newer)).toBeLessThan(saved.indexOf(older));
    expect(saved).toContain(older);
    expect(saved).not.toContain(trashed);
    expect(saved).not.toContain(fresh);
    expect(saved).not.toContain(foreign);
    expect(await access.savedMessages(accountId, otherExtensionId)).toEqual([]);
  });

  it('changes the PIN by the shared rules (a trivial or mismatched one refused, nothing stored), argon2id, audited as the user by phone', async () => {
    expect(await access.changePin(accountId, extensionId, '123456', '123456')).toEqual({ ok: false, rules: ['noRuns'] });
    expect(await access.changePin(accountId, extensionId, '4829', '4829')).toEqual({ ok: false, rules: ['length'] });
    expect(await access.changePin(accountId, extensionId, '482915', '482916')).toEqual({ ok: false, rules: ['mismatch'] });
    const unchanged = await db.selectFrom('user_credentials').select('pin_hash').where('user_id', '=', userId).executeTakeFirstOrThrow();
    expect(await verifySecret(unchanged.pin_hash, PIN)).toBe(true);

    expect(await access.changePin(accountId, extensionId, '590372', '590372')).toEqual({ ok: true });
    const stored = await db.selectFrom('user_credentials').select('pin_hash').where('user_id', '=', userId).executeTakeFirstOrThrow();
    expect(stored.pin_hash).toMatch(/^\$argon2id\$/);
    await unlock(extensionId);
    expect(await access.checkPin(accountId, extensionId, '590372')).toBe('ok');
    expect(await access.checkPin(accountId, extensionId, PIN)).toBe('wrong');
    const audit = await db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId).where('action', '=', 'user.voicemail_pin_changed').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_user_id: userId, target_id: userId, actor_ip: null });
    expect(JSON.stringify(audit[0])).toContain('phone');
    expect(JSON.stringify(audit[0])).not.toContain('590372');
    // Put back for the other tests.
    await db.updateTable('user_credentials').set({ pin_hash: await hashSecret(PIN) }).where('user_id', '=', userId).execute();
    await unlock(extensionId);
  });

  it('a recording becomes the user-hours greeting as an upload does (file, rule, trail, change published); the default again after', async () => {
    published.length = 0;
    expect(await access.userHoursGreeting(accountId, extensionId)).toBeNull();
    const recording = path.join(dataDir, 'recording.wav');
    fs.writeFileSync(recording, toneWav(440, 2500));
    expect(await access.setUserHoursGreeting(accountId, extensionId, recording)).toBe(true);
    expect(fs.existsSync(recording), 'the recording is taken over').toBe(false);

    const file = await access.userHoursGreeting(accountId, extensionId);
    expect(file).toMatch(new RegExp(`^${dataDir}/greetings/${accountId}/`));
    expect(Math.abs(wavDurationMs(file!) - 2500)).toBeLessThan(100);
    const view = await readUserAnswering(db, accountId, userId);
    expect(view!.answering.inHours.greeting).toMatchObject({ source: 'custom' });
    const row = await db.selectFrom('voicemail_greetings').select(['source', 'duration_ms']).where('account_id', '=', accountId).where('user_id', '=', userId).executeTakeFirstOrThrow();
    expect(row.source).toBe('phone');
    expect(published).toContainEqual([CONFIG_CHANGES_CHANNEL, JSON.stringify({ accountId, subjects: ['answering_rules'] })]);
    const audit = await db.selectFrom('audit_events').select('actor_user_id').where('account_id', '=', accountId).where('action', '=', 'user.voicemail_greeting_changed').execute();
    expect(audit).toEqual([{ actor_user_id: userId }]);

    // Not audio: refused, the greeting as it was, the file removed.
    const junk = path.join(dataDir, 'junk.wav');
    fs.writeFileSync(junk, 'not a wav at all');
    expect(await access.setUserHoursGreeting(accountId, extensionId, junk)).toBe(false);
    expect(fs.existsSync(junk)).toBe(false);
    expect(await access.userHoursGreeting(accountId, extensionId)).toBe(file);

    await access.resetUserHoursGreeting(accountId, extensionId);
    expect(await access.userHoursGreeting(accountId, extensionId)).toBeNull();
    expect((await readUserAnswering(db, accountId, userId))!.answering.inHours.greeting).toEqual({ source: 'default' });
    expect(fs.existsSync(file!), 'the unused custom greeting is removed').toBe(false);
  });

  it('a recording becomes the user’s recorded name through core (file, row, trail as the user); silence and another account’s mailbox are refused', async () => {
    expect(access.nameMaxSeconds).toBe(10);
    const recording = path.join(dataDir, 'name.wav');
    fs.writeFileSync(recording, toneWav(500, 1200));
    expect(await access.setNameRecording(accountId, extensionId, recording)).toBe(true);
    expect(fs.existsSync(recording), 'the recording is taken over').toBe(false);
    const row = await db.selectFrom('user_name_recordings').select(['file', 'source', 'created_by']).where('account_id', '=', accountId).where('user_id', '=', userId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ source: 'phone', created_by: userId });
    expect(Math.abs(wavDurationMs(path.join(dataDir, row.file)) - 1200)).toBeLessThan(100);
    const audit = await db.selectFrom('audit_events').select(['actor_user_id', 'after']).where('account_id', '=', accountId).where('action', '=', 'user.name_recording_changed').execute();
    expect(audit).toEqual([{ actor_user_id: userId, after: expect.objectContaining({ recorded: true, source: 'phone' }) }]);

    // Silence (a phone on mute): refused, the name as it was, the recording removed.
    const silent = path.join(dataDir, 'silent.wav');
    fs.writeFileSync(silent, toneWav(0, 1500));
    expect(await access.setNameRecording(accountId, extensionId, silent)).toBe(false);
    expect(fs.existsSync(silent)).toBe(false);
    expect(await db.selectFrom('user_name_recordings').select('file').where('user_id', '=', userId).execute()).toEqual([{ file: row.file }]);

    // The extension is not of that account: nothing stored, the recording removed.
    const stray = path.join(dataDir, 'stray.wav');
    fs.writeFileSync(stray, toneWav(500, 1200));
    const other = await createAccount(db, { company: 'Other Co', email: `other-${randomBytes(3).toString('hex')}@x.test`, mainNumber: `+1415556${String(1000 + Math.floor(Math.random() * 8999))}` }, { activationTtlHours: 1 });
    expect(await access.setNameRecording(other.accountId, extensionId, stray)).toBe(false);
    expect(fs.existsSync(stray)).toBe(false);
    expect(await db.selectFrom('user_name_recordings').select('user_id').where('account_id', '=', other.accountId).execute()).toEqual([]);
  });
});
