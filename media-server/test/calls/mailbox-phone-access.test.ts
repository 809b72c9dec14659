import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@carillon/config';
import { createAccount, hashSecret } from '@carillon/core';
import type { Db } from '@carillon/db';
import { VOICEMAIL_EVENTS_CHANNEL } from '@carillon/contracts/voicemail-events';
import { mailboxApp } from '../../src/apps/mailbox/mailbox.ts';
import { MailboxPhoneAccess } from '../../src/calls/mailbox-phone-access.ts';
import { freshDb, redisClient } from '../../../tests/support/env.ts';
import { FakeCallHandle } from '../apps/fake-call-handle.ts';

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
  otherAccountId = b.accountId;
  otherExtensionId = b.extensionId;
  access = new MailboxPhoneAccess({
    db,
    redis,
    publish: (channel, message) => Promise.resolve(published.push([channel, message])),
    dataDir,
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
});
