import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@carillon/db';
import { startTestDatabase } from './support.ts';
import { addStandardUser, seedAccount, type SeededAccount } from './recording-export-support.ts';
import { DEFAULT_QUEUE_SETTINGS, type QueueSettings } from '@carillon/domain';
import { queueNotificationTarget, queueThatMissedCall } from '@carillon/core/queues';
import { missedCallEmailText, usersWhoMissedCall } from '../src/calls/missed-call-notify.ts';

/**
 * Who missed a call, read from the rows media-server writes
 * (media-server/src/calls/call-records.ts: a `calls` row, a leg per party and
 * per device rung), on a real database. The rows are written here as
 * CallRecords writes them; the end-to-end test (media-server/test/sipp/
 * missed-call-emails.test.ts) has media-server write them.
 */
let database: Awaited<ReturnType<typeof startTestDatabase>>;
let db: Db;
let account: SeededAccount;
let other: SeededAccount;
let nextNumber = 201;

interface Person {
  userId: string;
  extensionId: string;
  number: string;
  devices: string[];
}

async function addPerson(a: SeededAccount, devices = 1): Promise<Person> {
  const number = String(nextNumber++);
  const user = await addStandardUser(db, a, number);
  const ids: string[] = [];
  for (let i = 0; i < devices; i++) {
    const d = await db
      .insertInto('devices')
      .values({ account_id: a.accountId, extension_id: user.extensionId, type: 'softphone', name: `Phone ${number}-${i}`, sip_username: `u${randomUUID().slice(0, 12)}` })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.push(d.id);
  }
  return { ...user, number, devices: ids };
}

interface CallShape {
  account?: SeededAccount;
  from: Person | null;
  to: Person | null;
  /** Devices rung, and whether each answered. */
  rang: { device: string; answered: boolean; role?: 'callee' | 'transfer_target' }[];
  /** The number dialled: the callee's, else a number of the account. */
  dialled?: string;
  /** Answered by anyone (a device, or voicemail); ended unless `live`. */
  answered: boolean;
  live?: boolean;
}

/** A call's rows as CallRecords leaves them at its end. */
async function recordCall(c: CallShape): Promise<string> {
  const a = c.account ?? account;
  const started = new Date(Date.now() - 60_000);
  const answeredAt = c.answered ? new Date(started.getTime() + 5000) : null;
  const ended = c.live ? null : new Date(started.getTime() + 30_000);
  const call = await db
    .insertInto('calls')
    .values({
      account_id: a.accountId,
      sip_call_id: randomUUID(),
      direction: c.from ? 'internal' : 'inbound',
      from_number: c.from?.number ?? '+33612345678',
      from_name: null,
      to_number: c.dialled ?? c.to?.number ?? '+15550100',
      caller_extension_id: c.from?.extensionId ?? null,
      callee_extension_id: c.to?.extensionId ?? null,
      started_at: started,
      answered_at: answeredAt,
      ended_at: ended,
      result: c.live ? null : c.answered ? 'answered' : 'cancelled',
      duration_seconds: c.live ? null : c.answered ? 25 : 0,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const legs = [
    { role: 'caller' as const, device_id: c.from?.devices[0] ?? null, answered_at: answeredAt, result: c.answered ? 'answered' : 'cancelled' },
    ...c.rang.map((r) => ({ role: r.role ?? ('callee' as const), device_id: r.device, answered_at: r.answered ? answeredAt : null, result: r.answered ? 'answered' : 'cancelled' })),
  ];
  await db
    .insertInto('call_legs')
    .values(legs.map((l) => ({ call_id: call.id, account_id: a.accountId, role: l.role, endpoint: 'sip' as const, device_id: l.device_id, sip_call_id: randomUUID(), remote_uri: null, started_at: started, answered_at: l.answered_at, ended_at: ended, result: c.live ? null : l.result })))
    .execute();
  return call.id;
}

beforeAll(async () => {
  database = await startTestDatabase();
  db = database.db;
  account = await seedAccount(db, 'Missed Calls Corp');
  other = await seedAccount(db, 'Other Missed Corp');
}, 60_000);

afterAll(async () => {
  await database?.stop();
});

describe('who missed a call', () => {
  it('is the user whose devices rang and none answered, internal calls too; not the caller', async () => {
    const caller = await addPerson(account);
    const callee = await addPerson(account, 2);
    const callId = await recordCall({ from: caller, to: callee, rang: callee.devices.map((device) => ({ device, answered: false })), answered: false });
    expect(await usersWhoMissedCall(db, account.accountId, callId)).toEqual([callee.userId]);
  });

  it('is nobody when one of the user’s devices answered, the other ringing in vain', async () => {
    const callee = await addPerson(account, 2);
    const callId = await recordCall({ from: null, to: callee, rang: [{ device: callee.devices[0]!, answered: false }, { device: callee.devices[1]!, answered: true }], answered: true });
    expect(await usersWhoMissedCall(db, account.accountId, callId)).toEqual([]);
  });

  it('is the user when the call went to their voicemail after ringing (a message left), or straight there without ringing', async () => {
    const callee = await addPerson(account);
    const rangThenVoicemail = await recordCall({ from: null, to: callee, rang: [{ device: callee.devices[0]!, answered: false }], answered: true });
    await db
      .insertInto('voicemail_messages')
      .values({ account_id: account.accountId, mailbox_extension_id: callee.extensionId, call_id: rangThenVoicemail, from_number: '+33612345678', to_number: callee.number, reason: 'no_answer', audio_path: 'voicemail/x.wav', duration_ms: 4000, size_bytes: 64_000 })
      .execute();
    expect(await usersWhoMissedCall(db, account.accountId, rangThenVoicemail)).toEqual([callee.userId]);
    // Do Not Disturb, or no phone registered: no leg rang, the call is theirs (callee_extension_id).
    const straightToVoicemail = await recordCall({ from: null, to: callee, rang: [], answered: true });
    expect(await usersWhoMissedCall(db, account.accountId, straightToVoicemail)).toEqual([callee.userId]);
  });

  it('is nobody of a group when a colleague answered, each rung member when nobody did; a transfer target who did not answer', async () => {
    const answering = await addPerson(account);
    const ringing = await addPerson(account);
    const group = await recordCall({ from: null, to: null, rang: [{ device: answering.devices[0]!, answered: true }, { device: ringing.devices[0]!, answered: false }], answered: true });
    expect(await usersWhoMissedCall(db, account.accountId, group)).toEqual([]);
    const unanswered = await recordCall({ from: null, to: null, rang: [{ device: answering.devices[0]!, answered: false }, { device: ringing.devices[0]!, answered: false }], answered: false });
    expect(await usersWhoMissedCall(db, account.accountId, unanswered)).toEqual([answering.userId, ringing.userId].sort());
    const target = await addPerson(account);
    const transfer = await recordCall({ from: null, to: target, rang: [{ device: target.devices[0]!, answered: false, role: 'transfer_target' }], answered: true });
    expect(await usersWhoMissedCall(db, account.accountId, transfer)).toEqual([target.userId]);
  });

  it('is nobody for a page (*84) whose receiver did not pick up', async () => {
    const pager = await addPerson(account);
    const receiver = await addPerson(account);
    const page = await recordCall({ from: pager, to: null, dialled: '*8401', rang: [{ device: receiver.devices[0]!, answered: false }], answered: true });
    expect(await usersWhoMissedCall(db, account.accountId, page)).toEqual([]);
  });

  it('is nobody while the call is live, and nobody for another account’s call', async () => {
    const callee = await addPerson(account);
    const live = await recordCall({ from: null, to: callee, rang: [{ device: callee.devices[0]!, answered: false }], answered: false, live: true });
    expect(await usersWhoMissedCall(db, account.accountId, live)).toEqual([]);
    const stranger = await addPerson(other);
    const theirs = await recordCall({ account: other, from: null, to: stranger, rang: [{ device: stranger.devices[0]!, answered: false }], answered: false });
    // Missed in its own account, never read through another.
    expect(await usersWhoMissedCall(db, other.accountId, theirs)).toEqual([stranger.userId]);
    expect(await usersWhoMissedCall(db, account.accountId, theirs)).toEqual([]);
  });
});

/** A queue of the account (its extension and settings row, as createCallQueue writes them), its members and Full Access managers. */
async function addQueue(a: SeededAccount, members: Person[], managers: Person[], settings: Partial<QueueSettings> = {}): Promise<{ extensionId: string; number: string }> {
  const number = String(nextNumber++);
  const ext = await db.insertInto('extensions').values({ account_id: a.accountId, site_id: a.siteId, number, type: 'call_queue', status: 'activated', name: `Queue ${number}` }).returning('id').executeTakeFirstOrThrow();
  await db.insertInto('call_queues').values({ extension_id: ext.id, account_id: a.accountId, settings: JSON.stringify({ ...DEFAULT_QUEUE_SETTINGS, ...settings }), manager_pin_hash: null }).execute();
  if (members.length) await db.insertInto('call_queue_members').values(members.map((m, position) => ({ queue_extension_id: ext.id, member_extension_id: m.extensionId, account_id: a.accountId, position, accepting: true }))).execute();
  if (managers.length) await db.insertInto('call_queue_managers').values(managers.map((m) => ({ queue_extension_id: ext.id, user_id: m.userId, account_id: a.accountId, permission: 'full' as const }))).execute();
  return { extensionId: ext.id, number };
}

describe('a queue that missed a call (CQ-11)', () => {
  it('is the queue when the caller hung up waiting, or was sent on to another extension that answered; not when a member (or an overflow queue’s) answered', async () => {
    const agent = await addPerson(account);
    const elsewhere = await addPerson(account);
    const overflowAgent = await addPerson(account);
    const overflowQueue = await addQueue(account, [overflowAgent], []);
    const queue = await addQueue(account, [agent], [], { overflow: [overflowQueue.number] });
    const to = { userId: '', extensionId: queue.extensionId, number: queue.number, devices: [] };
    const abandoned = await recordCall({ from: null, to, rang: [{ device: agent.devices[0]!, answered: false }], answered: true });
    expect(await queueThatMissedCall(db, account.accountId, abandoned)).toBe(queue.extensionId);
    const sentOn = await recordCall({ from: null, to, rang: [{ device: elsewhere.devices[0]!, answered: true }], answered: true });
    expect(await queueThatMissedCall(db, account.accountId, sentOn)).toBe(queue.extensionId);
    const served = await recordCall({ from: null, to, rang: [{ device: agent.devices[0]!, answered: true }], answered: true });
    expect(await queueThatMissedCall(db, account.accountId, served)).toBeNull();
    const overflowed = await recordCall({ from: null, to, rang: [{ device: overflowAgent.devices[0]!, answered: true }], answered: true });
    expect(await queueThatMissedCall(db, account.accountId, overflowed)).toBeNull();
    // Live, another account's view, or a call to a user: no queue missed it.
    const live = await recordCall({ from: null, to, rang: [], answered: true, live: true });
    expect(await queueThatMissedCall(db, account.accountId, live)).toBeNull();
    expect(await queueThatMissedCall(db, other.accountId, abandoned)).toBeNull();
    const toUser = await recordCall({ from: null, to: agent, rang: [{ device: agent.devices[0]!, answered: false }], answered: false });
    expect(await queueThatMissedCall(db, account.accountId, toUser)).toBeNull();
  });

  it('e-mails the event’s own address, else the queue’s, else its Full Access managers’; nothing when the event is off', async () => {
    const manager = await addPerson(account);
    const managerAddress = 'boss-notify@example.com';
    await db.updateTable('users').set({ notification_email: managerAddress }).where('id', '=', manager.userId).execute();
    const notifications = (n: Partial<QueueSettings['notifications']>) => ({ notifications: { ...DEFAULT_QUEUE_SETTINGS.notifications, ...n } });
    const byManagers = await addQueue(account, [], [manager], notifications({ missedCalls: { email: true, to: null } }));
    expect(await queueNotificationTarget(db, account.accountId, byManagers.extensionId, 'missedCalls')).toMatchObject({ addresses: [managerAddress], queueNumber: byManagers.number, attachment: false });
    // Voicemail is on by default, missed calls off.
    expect(await queueNotificationTarget(db, account.accountId, byManagers.extensionId, 'voicemail')).toMatchObject({ addresses: [managerAddress] });
    const off = await addQueue(account, [], [manager]);
    expect(await queueNotificationTarget(db, account.accountId, off.extensionId, 'missedCalls')).toBeNull();
    const own = await addQueue(account, [], [manager], notifications({ email: 'queue@example.com', missedCalls: { email: true, to: null }, voicemail: { email: true, attachment: true, to: 'messages@example.com' } }));
    expect(await queueNotificationTarget(db, account.accountId, own.extensionId, 'missedCalls')).toMatchObject({ addresses: ['queue@example.com'] });
    expect(await queueNotificationTarget(db, account.accountId, own.extensionId, 'voicemail')).toMatchObject({ addresses: ['messages@example.com'], attachment: true });
    // Nobody to send to: no managers and no address.
    const nobody = await addQueue(account, [], [], notifications({ missedCalls: { email: true, to: null } }));
    expect(await queueNotificationTarget(db, account.accountId, nobody.extensionId, 'missedCalls')).toBeNull();
    // Another account never reads this queue's.
    expect(await queueNotificationTarget(db, other.accountId, own.extensionId, 'missedCalls')).toBeNull();
  });
});

describe('the missed-call e-mail', () => {
  it('says which queue missed the call, in the account’s language', () => {
    const input = { fromNumber: '+33612345678', fromName: null, toNumber: '600', startedAt: new Date('2026-03-02T14:05:00Z'), link: 'https://pbx.example/me/call-queues/supervisor', queue: { number: '600', name: 'Support' } };
    expect(missedCallEmailText({ ...input, language: 'en', timeZone: 'UTC', hour12: false }).subject).toBe('Missed call from +33612345678 for queue Support (600)');
    const fr = missedCallEmailText({ ...input, language: 'fr', timeZone: 'UTC', hour12: false });
    expect(fr.subject).toBe('Appel manqué de +33612345678 pour la file Support (600)');
    expect(fr.body).toContain("La file d'attente Support (600) a manqué un appel");
  });

  it('names the caller and the time in the reader’s language, zone and clock', () => {
    const input = { fromNumber: '+33612345678', fromName: 'Alice Martin', toNumber: '102', startedAt: new Date('2026-03-02T14:05:00Z'), link: 'https://pbx.example/me/call-log' };
    const en = missedCallEmailText({ ...input, language: 'en', timeZone: 'America/New_York', hour12: true });
    expect(en.subject).toBe('Missed call from Alice Martin +33612345678');
    expect(en.body).toContain('Date: Monday, March 2, 2026 at 9:05 AM');
    expect(en.body).toContain('https://pbx.example/me/call-log');
    const fr = missedCallEmailText({ ...input, fromName: null, language: 'fr', timeZone: 'Europe/Paris', hour12: false });
    expect(fr.subject).toBe('Appel manqué de +33612345678');
    expect(fr.body).toContain('Date : lundi 2 mars 2026 à 15:05');
    expect(fr.body).toContain('Vers : 102');
  });
});
