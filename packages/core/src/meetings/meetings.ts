import { randomInt, timingSafeEqual } from 'node:crypto';
import type { Db, MeetingsTable } from '@carillon/db';
import type { Selectable } from 'kysely';
import { MAX_MEETINGS_PER_HOST, newMeetingId, newMeetingPasscode, type CreateMeeting, type MeetingKind } from '@carillon/domain';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';

/**
 * Video meetings (issue 17; inventory 3 §8.1), every function scoped to its account: a host's
 * personal meeting (created on first read) and the meetings they create, each with a 10-digit
 * meeting ID and a passcode the host reads. The rules are in @carillon/domain's meetings.ts.
 */

export interface Meeting {
  id: string;
  /** The 10-digit meeting ID of the link and join page. */
  number: string;
  kind: MeetingKind;
  hostUserId: string;
  topic: string;
  scheduledStart: string | null;
  passcode: string;
  createdAt: string;
  endedAt: string | null;
}

/** What a joiner learns of a meeting before the passcode: nothing secret. */
export interface MeetingForJoin {
  id: string;
  number: string;
  accountId: string;
  hostUserId: string;
  topic: string;
  ended: boolean;
}

/** A drawn meeting ID that meets another meeting's is drawn again; past this many the space is too crowded to go on. */
const ID_DRAWS = 20;

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';
const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());

type Row = Omit<Selectable<MeetingsTable>, 'account_id'>;
const COLUMNS = ['id', 'number', 'kind', 'host_user_id', 'topic', 'scheduled_start', 'passcode', 'created_at', 'ended_at'] as const;

function meetingOf(r: Row): Meeting {
  return { id: r.id, number: r.number, kind: r.kind, hostUserId: r.host_user_id, topic: r.topic, scheduledStart: iso(r.scheduled_start), passcode: r.passcode, createdAt: iso(r.created_at)!, endedAt: iso(r.ended_at) };
}

async function hostName(db: Db, accountId: string, userId: string): Promise<string | null> {
  const u = await db.selectFrom('users').select(['first_name', 'last_name']).where('account_id', '=', accountId).where('id', '=', userId).executeTakeFirst();
  return u ? `${u.first_name} ${u.last_name}`.trim() : null;
}

/** Inserts a meeting with a fresh ID, drawing again when the ID is taken. Null when the personal one already exists (a concurrent first read). */
async function insertMeeting(db: Db, values: { account_id: string; host_user_id: string; kind: MeetingKind; topic: string; scheduled_start: Date | null; passcode: string }): Promise<Meeting | null> {
  for (let i = 0; i < ID_DRAWS; i++) {
    try {
      const row = await db.insertInto('meetings').values({ ...values, number: newMeetingId(randomInt) }).returning(COLUMNS).executeTakeFirstOrThrow();
      return meetingOf(row);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      if (values.kind === 'personal') {
        const mine = await db.selectFrom('meetings').select('id').where('host_user_id', '=', values.host_user_id).where('kind', '=', 'personal').executeTakeFirst();
        if (mine) return null;
      }
    }
  }
  throw new Error('no free meeting ID after repeated draws');
}

/** The user's personal meeting, created on first read (every user has one). Null when the user is not of this account. */
export async function personalMeetingOf(db: Db, accountId: string, userId: string): Promise<Meeting | null> {
  const read = () => db.selectFrom('meetings').select(COLUMNS).where('account_id', '=', accountId).where('host_user_id', '=', userId).where('kind', '=', 'personal').executeTakeFirst();
  const row = await read();
  if (row) return meetingOf(row);
  const name = await hostName(db, accountId, userId);
  if (name === null) return null;
  const created = await insertMeeting(db, { account_id: accountId, host_user_id: userId, kind: 'personal', topic: `${name || 'Personal'} — personal meeting`.slice(0, 200), scheduled_start: null, passcode: newMeetingPasscode(randomInt) });
  if (created) return created;
  const again = await read();
  return again ? meetingOf(again) : null;
}

/** The host's meetings: their personal meeting first, then the others by scheduled start (unscheduled last), newest created first among equals. */
export async function meetingsOf(db: Db, accountId: string, userId: string): Promise<Meeting[]> {
  const personal = await personalMeetingOf(db, accountId, userId);
  if (!personal) return [];
  const rows = await db
    .selectFrom('meetings')
    .select(COLUMNS)
    .where('account_id', '=', accountId)
    .where('host_user_id', '=', userId)
    .where('kind', '=', 'scheduled')
    .orderBy('scheduled_start', (o) => o.asc().nullsLast())
    .orderBy('created_at', 'desc')
    .limit(MAX_MEETINGS_PER_HOST)
    .execute();
  return [personal, ...rows.map(meetingOf)];
}

/** One of the host's meetings by its uuid or its 10-digit ID; null when it is not theirs in this account. */
export async function meetingOfHost(db: Db, accountId: string, userId: string, idOrNumber: string): Promise<Meeting | null> {
  const byNumber = /^[0-9]{10}$/.test(idOrNumber);
  const row = await db
    .selectFrom('meetings')
    .select(COLUMNS)
    .where('account_id', '=', accountId)
    .where('host_user_id', '=', userId)
    .where(byNumber ? 'number' : 'id', '=', idOrNumber)
    .executeTakeFirst();
  return row ? meetingOf(row) : null;
}

export type CreateMeetingResult = { ok: true; meeting: Meeting } | { ok: false; error: 'not_found' | 'too_many' };

/** A new meeting of the host, with its own ID and a passcode (given, or drawn). Audited without the passcode. */
export async function createMeeting(db: Db, actor: AuditActor, accountId: string, userId: string, input: CreateMeeting): Promise<CreateMeetingResult> {
  if ((await hostName(db, accountId, userId)) === null) return { ok: false, error: 'not_found' };
  const { count } = await db.selectFrom('meetings').select((eb) => eb.fn.countAll<string>().as('count')).where('account_id', '=', accountId).where('host_user_id', '=', userId).where('kind', '=', 'scheduled').executeTakeFirstOrThrow();
  if (Number(count) >= MAX_MEETINGS_PER_HOST) return { ok: false, error: 'too_many' };
  const meeting = await insertMeeting(db, {
    account_id: accountId,
    host_user_id: userId,
    kind: 'scheduled',
    topic: input.topic,
    scheduled_start: input.scheduledStart ? new Date(input.scheduledStart) : null,
    passcode: input.passcode ?? newMeetingPasscode(randomInt),
  });
  if (!meeting) throw new Error('a scheduled meeting cannot meet the personal one');
  await recordAudit(db, actor, { accountId, action: 'meeting.created', targetType: 'meeting', targetId: meeting.id, after: { number: meeting.number, topic: meeting.topic, scheduledStart: meeting.scheduledStart } });
  return { ok: true, meeting };
}

export type DeleteMeetingResult = { ok: true } | { ok: false; error: 'not_found' | 'personal' };

/** Deletes one of the host's meetings; the personal meeting stays (every user has one). Audited. */
export async function deleteMeeting(db: Db, actor: AuditActor, accountId: string, userId: string, id: string): Promise<DeleteMeetingResult> {
  const meeting = await meetingOfHost(db, accountId, userId, id);
  if (!meeting) return { ok: false, error: 'not_found' };
  if (meeting.kind === 'personal') return { ok: false, error: 'personal' };
  await db.deleteFrom('meetings').where('account_id', '=', accountId).where('id', '=', meeting.id).execute();
  await recordAudit(db, actor, { accountId, action: 'meeting.deleted', targetType: 'meeting', targetId: meeting.id, before: { number: meeting.number, topic: meeting.topic, scheduledStart: meeting.scheduledStart } });
  return { ok: true };
}

/** A meeting of the account by its 10-digit ID, for the join page; null when no such meeting in this account (another account's ID included). */
export async function meetingForJoin(db: Db, accountId: string, number: string): Promise<MeetingForJoin | null> {
  if (!/^[0-9]{10}$/.test(number)) return null;
  const row = await db.selectFrom('meetings').select(['id', 'number', 'account_id', 'host_user_id', 'topic', 'ended_at']).where('account_id', '=', accountId).where('number', '=', number).executeTakeFirst();
  return row ? { id: row.id, number: row.number, accountId: row.account_id, hostUserId: row.host_user_id, topic: row.topic, ended: row.ended_at !== null } : null;
}

/** Whether `passcode` is the meeting's, compared in constant time. The meeting's host needs none. */
export async function meetingPasscodeMatches(db: Db, accountId: string, meetingId: string, passcode: string): Promise<boolean> {
  const row = await db.selectFrom('meetings').select('passcode').where('account_id', '=', accountId).where('id', '=', meetingId).executeTakeFirst();
  if (!row) return false;
  const a = Buffer.from(row.passcode);
  const b = Buffer.from(passcode);
  return a.length === b.length && timingSafeEqual(a, b);
}
