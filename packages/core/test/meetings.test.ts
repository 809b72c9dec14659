import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@carillon/db';
import { createMeeting, deleteMeeting, meetingForJoin, meetingOfHost, meetingPasscodeMatches, meetingsOf, personalMeetingOf } from '@carillon/core/meetings';
import { isMeetingId, MAX_MEETINGS_PER_HOST } from '@carillon/domain';
import { freshDb } from '../../../tests/support/env.ts';
import { activatedAccount, addUser } from './support.ts';

/**
 * Video meetings' data on a real database (issue 17): the personal meeting (created on first read,
 * one per user, stable), created meetings with their own IDs and passcodes, the host-only reads and
 * deletes, the join lookup scoped to the account, the passcode check, the bound per host, and the
 * audit trail without passcodes.
 */
let db: Db;
beforeAll(async () => {
  db = await freshDb();
});
afterAll(async () => {
  await db?.destroy();
});
const actor = { userId: null, ip: '203.0.113.1' };

describe('meetings', () => {
  it('gives each user one stable personal meeting, and creates, lists, finds and deletes their others', async () => {
    const a = await activatedAccount(db);
    const other = await activatedAccount(db);
    const ann = await addUser(db, a.accountId, { number: '201', firstName: 'Ann' });
    const bob = await addUser(db, a.accountId, { number: '202' });
    const [p1, p2] = await Promise.all([personalMeetingOf(db, a.accountId, ann.userId), personalMeetingOf(db, a.accountId, ann.userId)]);
    expect(p1).toEqual(p2);
    expect(isMeetingId(p1!.number)).toBe(true);
    expect(p1!.kind).toBe('personal');
    expect(p1!.passcode).toMatch(/^[0-9]{6}$/);
    expect(p1!.topic).toContain('Ann');
    expect(await personalMeetingOf(db, other.accountId, ann.userId)).toBeNull();

    const created = await createMeeting(db, { ...actor, userId: ann.userId }, a.accountId, ann.userId, { topic: 'Design review', scheduledStart: '2027-01-05T15:00:00+01:00', passcode: 'Abc123xyz' });
    if (!created.ok) throw new Error(created.error);
    const m = created.meeting;
    expect(m).toMatchObject({ kind: 'scheduled', topic: 'Design review', scheduledStart: '2027-01-05T14:00:00.000Z', passcode: 'Abc123xyz', endedAt: null });
    expect(m.number).not.toBe(p1!.number);
    const drawn = await createMeeting(db, actor, a.accountId, ann.userId, { topic: 'Standup' });
    if (!drawn.ok) throw new Error(drawn.error);
    expect(drawn.meeting.passcode).toMatch(/^[0-9]{6}$/);
    expect(drawn.meeting.scheduledStart).toBeNull();

    const list = await meetingsOf(db, a.accountId, ann.userId);
    expect(list.map((x) => x.id)).toEqual([p1!.id, m.id, drawn.meeting.id]);
    expect(await meetingOfHost(db, a.accountId, ann.userId, m.number)).toEqual(m);
    expect(await meetingOfHost(db, a.accountId, ann.userId, m.id)).toEqual(m);
    // Another host of the account, and another account, see nothing of it.
    expect(await meetingOfHost(db, a.accountId, bob.userId, m.id)).toBeNull();
    expect(await meetingOfHost(db, other.accountId, ann.userId, m.id)).toBeNull();
    expect((await meetingsOf(db, a.accountId, bob.userId)).map((x) => x.kind)).toEqual(['personal']);

    // Joining: by number in the account only; the passcode compared exactly.
    expect(await meetingForJoin(db, a.accountId, m.number)).toEqual({ id: m.id, number: m.number, accountId: a.accountId, hostUserId: ann.userId, topic: 'Design review', ended: false });
    expect(await meetingForJoin(db, other.accountId, m.number)).toBeNull();
    expect(await meetingForJoin(db, a.accountId, 'x')).toBeNull();
    expect(await meetingPasscodeMatches(db, a.accountId, m.id, 'Abc123xyz')).toBe(true);
    for (const wrong of ['abc123xyz', 'Abc123xy', 'Abc123xyzz', '']) expect(await meetingPasscodeMatches(db, a.accountId, m.id, wrong)).toBe(false);
    expect(await meetingPasscodeMatches(db, other.accountId, m.id, 'Abc123xyz')).toBe(false);

    expect(await deleteMeeting(db, actor, a.accountId, bob.userId, m.id)).toEqual({ ok: false, error: 'not_found' });
    expect(await deleteMeeting(db, actor, a.accountId, ann.userId, p1!.id)).toEqual({ ok: false, error: 'personal' });
    expect(await deleteMeeting(db, actor, a.accountId, ann.userId, m.id)).toEqual({ ok: true });
    expect(await meetingOfHost(db, a.accountId, ann.userId, m.id)).toBeNull();

    const audit = await db.selectFrom('audit_events').select(['action', 'target_id', 'before', 'after']).where('account_id', '=', a.accountId).where('action', 'like', 'meeting.%').orderBy('id').execute();
    expect(audit.map((e) => [e.action, e.target_id])).toEqual([
      ['meeting.created', m.id],
      ['meeting.created', drawn.meeting.id],
      ['meeting.deleted', m.id],
    ]);
    expect(JSON.stringify(audit)).not.toContain('Abc123xyz');
    expect(JSON.stringify(audit)).not.toContain(drawn.meeting.passcode);
  });

  it('bounds the meetings a host keeps, and refuses a user of another account', async () => {
    const a = await activatedAccount(db);
    const other = await activatedAccount(db);
    const cid = await addUser(db, a.accountId, { number: '203' });
    expect(await createMeeting(db, actor, other.accountId, cid.userId, { topic: 'x' })).toEqual({ ok: false, error: 'not_found' });
    const { id: hostRow } = await db.selectFrom('users').select('id').where('id', '=', cid.userId).executeTakeFirstOrThrow();
    await db
      .insertInto('meetings')
      .values(Array.from({ length: MAX_MEETINGS_PER_HOST }, (_, i) => ({ account_id: a.accountId, host_user_id: hostRow, kind: 'scheduled' as const, number: String(3_000_000_000 + i), topic: `m${i}`, scheduled_start: null, passcode: '123456' })))
      .execute();
    expect(await createMeeting(db, actor, a.accountId, cid.userId, { topic: 'one more' })).toEqual({ ok: false, error: 'too_many' });
  });
});
