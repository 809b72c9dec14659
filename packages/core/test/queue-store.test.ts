import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installConfigChangeSink, type AuditActor } from '@carillon/core';
import { createCallQueue, listCallQueues, loadCallQueue, QueueError, saveCallQueue, setQueueMemberAccepting } from '@carillon/core/queues';
import { DEFAULT_QUEUE_SETTINGS } from '@carillon/domain';
import type { ConfigChange } from '@carillon/contracts/config-changes';
import type { Db } from '@carillon/db';
import { freshDb } from '../../../tests/support/env.ts';
import { activatedAccount, addUser, auditEvents } from './support.ts';

let db: Db;
const announced: ConfigChange[] = [];
beforeAll(async () => {
  db = await freshDb();
  installConfigChangeSink(async (change) => announced.push(change));
});
afterAll(async () => {
  installConfigChangeSink(null);
  await db?.destroy();
});

const actor = (userId: string): AuditActor => ({ userId, ip: '198.51.100.7' });

async function queueOf(accountId: string, number: string): Promise<string> {
  const site = await db.selectFrom('sites').select('id').where('account_id', '=', accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  const ext = await db.insertInto('extensions').values({ account_id: accountId, site_id: site.id, number, type: 'call_queue', name: 'Sales', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  return ext.id;
}

describe('call queues in the database', () => {
  it('reads a queue without settings as the defaults, and saves settings and members in order, audited and announced', async () => {
    const acct = await activatedAccount(db);
    const a = await addUser(db, acct.accountId, { number: '201' });
    const b = await addUser(db, acct.accountId, { number: '202' });
    const queueId = await queueOf(acct.accountId, '600');
    expect(await loadCallQueue(db, acct.accountId, queueId)).toMatchObject({ number: '600', settings: DEFAULT_QUEUE_SETTINGS, members: [] });
    announced.length = 0;
    const saved = await saveCallQueue(db, actor(acct.userId), acct.accountId, queueId, {
      settings: { ...DEFAULT_QUEUE_SETTINGS, distribution: 'sequential', maxCallers: 5 },
      members: [
        { extension: '202', accepting: true },
        { extension: '201', accepting: false },
      ],
    });
    expect(saved.settings).toMatchObject({ distribution: 'sequential', maxCallers: 5 });
    expect(saved.members.map((m) => [m.extensionId, m.position, m.accepting])).toEqual([
      [b.extensionId, 0, true],
      [a.extensionId, 1, false],
    ]);
    expect(announced).toEqual([{ accountId: acct.accountId, subjects: ['queues'] }]);
    const [event] = await auditEvents(db, acct.accountId, 'call_queue.updated');
    expect(event).toMatchObject({ target_id: queueId, actor_user_id: acct.userId });
  });

  it('refuses members that are not users of the account, and duplicates; nothing is changed', async () => {
    const acct = await activatedAccount(db);
    const other = await activatedAccount(db);
    await addUser(db, other.accountId, { number: '301' });
    const queueId = await queueOf(acct.accountId, '600');
    const otherQueue = await queueOf(acct.accountId, '601');
    await expect(saveCallQueue(db, actor(acct.userId), acct.accountId, queueId, { settings: DEFAULT_QUEUE_SETTINGS, members: [{ extension: '301', accepting: true }] })).rejects.toMatchObject({ code: 'not_a_user' });
    await expect(saveCallQueue(db, actor(acct.userId), acct.accountId, queueId, { settings: DEFAULT_QUEUE_SETTINGS, members: [{ extension: '601', accepting: true }] })).rejects.toBeInstanceOf(QueueError);
    await addUser(db, acct.accountId, { number: '302' });
    await expect(
      saveCallQueue(db, actor(acct.userId), acct.accountId, queueId, { settings: DEFAULT_QUEUE_SETTINGS, members: [{ extension: '302', accepting: true }, { extension: '302', accepting: true }] }),
    ).rejects.toMatchObject({ code: 'duplicate_member' });
    // Overflow only to another queue of the account, never to itself or to a user.
    await expect(saveCallQueue(db, actor(acct.userId), acct.accountId, queueId, { settings: { ...DEFAULT_QUEUE_SETTINGS, overflow: ['600'] }, members: [] })).rejects.toMatchObject({ code: 'bad_overflow' });
    await expect(saveCallQueue(db, actor(acct.userId), acct.accountId, queueId, { settings: { ...DEFAULT_QUEUE_SETTINGS, overflow: ['302'] }, members: [] })).rejects.toMatchObject({ code: 'bad_overflow' });
    expect((await saveCallQueue(db, actor(acct.userId), acct.accountId, queueId, { settings: { ...DEFAULT_QUEUE_SETTINGS, overflow: ['601'] }, members: [] })).settings.overflow).toEqual(['601']);
    // Settings past the rules (26 callers) are refused by the schema.
    await expect(saveCallQueue(db, actor(acct.userId), acct.accountId, queueId, { settings: { ...DEFAULT_QUEUE_SETTINGS, maxCallers: 26 }, members: [] })).rejects.toThrow();
    expect((await loadCallQueue(db, acct.accountId, queueId))!.members).toEqual([]);
    expect(otherQueue).not.toBe(queueId);
  });

  it('is scoped to the account: another account cannot read or write the queue', async () => {
    const acct = await activatedAccount(db);
    const other = await activatedAccount(db);
    const queueId = await queueOf(acct.accountId, '600');
    expect(await loadCallQueue(db, other.accountId, queueId)).toBeNull();
    await expect(saveCallQueue(db, actor(other.userId), other.accountId, queueId, { settings: DEFAULT_QUEUE_SETTINGS, members: [] })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('creates a queue as a new extension with the default settings, refusing a number already taken', async () => {
    const acct = await activatedAccount(db);
    await addUser(db, acct.accountId, { number: '201' });
    const created = await createCallQueue(db, actor(acct.userId), acct.accountId, { number: '650', name: 'Support' });
    expect(created).toMatchObject({ number: '650', name: 'Support', settings: DEFAULT_QUEUE_SETTINGS, members: [] });
    await expect(createCallQueue(db, actor(acct.userId), acct.accountId, { number: '201', name: 'Clash' })).rejects.toMatchObject({ code: 'number_taken' });
    expect((await listCallQueues(db, acct.accountId)).map((q) => q.number)).toEqual(['650']);
    expect(await auditEvents(db, acct.accountId, 'call_queue.created')).toHaveLength(1);
  });

  it('logs a member in and out of one queue or all of them', async () => {
    const acct = await activatedAccount(db);
    const a = await addUser(db, acct.accountId, { number: '201' });
    const q1 = await queueOf(acct.accountId, '600');
    const q2 = await queueOf(acct.accountId, '601');
    for (const q of [q1, q2]) await saveCallQueue(db, actor(acct.userId), acct.accountId, q, { settings: DEFAULT_QUEUE_SETTINGS, members: [{ extension: '201', accepting: true }] });
    expect(await setQueueMemberAccepting(db, actor(acct.userId), acct.accountId, a.extensionId, q1, false)).toBe(1);
    expect((await loadCallQueue(db, acct.accountId, q1))!.members[0]!.accepting).toBe(false);
    expect((await loadCallQueue(db, acct.accountId, q2))!.members[0]!.accepting).toBe(true);
    expect(await setQueueMemberAccepting(db, actor(acct.userId), acct.accountId, a.extensionId, null, false)).toBe(1);
    expect(await setQueueMemberAccepting(db, actor(acct.userId), acct.accountId, a.extensionId, null, true)).toBe(2);
    expect(await auditEvents(db, acct.accountId, 'call_queue.member_not_accepting')).toHaveLength(2);
  });
});
