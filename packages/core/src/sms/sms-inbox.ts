import { sql } from 'kysely';
import type { Db } from '@carillon/db';
import { measureSms, namesSmsContact, parseSmsRecipients, smsContactKey, smsNumberOf, smsRecipientEntries, SMS_MAX_SEGMENTS, type SmsRecipientError } from '@carillon/domain';
import { conversationFor, normaliseSmsNumber, queueOutboundSms, queueOutboundSmsBatch, type OutboundSmsRequest } from './sms-messages.ts';
import { smsNumbersOfUser, smsUsersOfNumber, type SmsUser } from './sms-numbers.ts';

/**
 * A user's text messages (My Extension › Messages, issue 18): the
 * conversations of the user's business numbers (sms-numbers.ts). Every query
 * names the account and the user's numbers, so another user's or another
 * account's conversation is simply not found.
 */

export interface SmsConversationView {
  id: string;
  businessNumber: string;
  participants: string[];
  kind: 'direct' | 'group';
  lastMessageAt: string;
  lastBody: string | null;
  unread: number;
}

/** Conversations on the user's numbers (one number with `businessNumber`), newest first. */
export async function listSmsConversations(db: Db, user: SmsUser, options: { businessNumber?: string; limit?: number } = {}): Promise<SmsConversationView[]> {
  const numbers = await smsNumbersOfUser(db, user);
  const wanted = options.businessNumber ? numbers.filter((n) => n === options.businessNumber) : numbers;
  if (wanted.length === 0) return [];
  const rows = await db
    .selectFrom('sms_conversations as c')
    .select((eb) => [
      'c.id',
      'c.business_number',
      'c.participants',
      'c.kind',
      'c.last_message_at',
      eb
        .selectFrom('sms_messages as m')
        .select('m.body')
        .whereRef('m.conversation_id', '=', 'c.id')
        .where('m.account_id', '=', user.accountId)
        .orderBy('m.created_at', 'desc')
        .limit(1)
        .as('last_body'),
      eb
        .selectFrom('sms_messages as m')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('m.conversation_id', '=', 'c.id')
        .where('m.account_id', '=', user.accountId)
        .where('m.direction', '=', 'inbound')
        .where('m.read', '=', false)
        .as('unread'),
    ])
    .where('c.account_id', '=', user.accountId)
    .where('c.business_number', 'in', wanted)
    .orderBy('c.last_message_at', 'desc')
    .limit(Math.min(options.limit ?? 200, 500))
    .execute();
  return rows.map((r) => ({
    id: r.id,
    businessNumber: r.business_number,
    participants: r.participants,
    kind: r.kind,
    lastMessageAt: new Date(r.last_message_at).toISOString(),
    lastBody: r.last_body ?? null,
    unread: Number(r.unread ?? 0),
  }));
}

/** Unread texts received on the user's numbers: the badge of the Messages tab. */
export async function smsUnreadCount(db: Db, user: SmsUser): Promise<number> {
  const numbers = await smsNumbersOfUser(db, user);
  if (numbers.length === 0) return 0;
  const row = await db
    .selectFrom('sms_messages as m')
    .innerJoin('sms_conversations as c', 'c.id', 'm.conversation_id')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('m.account_id', '=', user.accountId)
    .where('c.account_id', '=', user.accountId)
    .where('c.business_number', 'in', numbers)
    .where('m.direction', '=', 'inbound')
    .where('m.read', '=', false)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A conversation of the user's, or undefined (another user's or account's is not found). */
async function ownConversation(db: Db, user: SmsUser, conversationId: string) {
  const numbers = await smsNumbersOfUser(db, user);
  if (numbers.length === 0) return undefined;
  return db
    .selectFrom('sms_conversations')
    .selectAll()
    .where('account_id', '=', user.accountId)
    .where('id', '=', conversationId)
    .where('business_number', 'in', numbers)
    .executeTakeFirst();
}

export interface SmsMessageView {
  id: string;
  direction: 'inbound' | 'outbound';
  from: string;
  /** Every recipient of this text: one for a direct text, each member for a group text. */
  to: { number: string; status: string; reason: string | null }[];
  body: string;
  encoding: 'gsm7' | 'ucs2';
  segments: number;
  status: string;
  read: boolean;
  createdAt: string;
}

/** The conversation's business side and parties, and its latest texts (oldest first); undefined when not the user's. */
export async function readSmsConversation(
  db: Db,
  user: SmsUser,
  conversationId: string,
  limit = 200,
): Promise<{ conversation: Omit<SmsConversationView, 'lastBody' | 'unread'>; messages: SmsMessageView[] } | undefined> {
  const c = await ownConversation(db, user, conversationId);
  if (!c) return undefined;
  const rows = await db
    .selectFrom('sms_messages')
    .select(['id', 'direction', 'from_number', 'to_number', 'body', 'encoding', 'segments', 'status', 'reason', 'read', 'created_at', 'idempotency_key'])
    .where('account_id', '=', user.accountId)
    .where('conversation_id', '=', conversationId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(Math.min(limit, 1000))
    .execute();
  // A group text is one row per member (each has its own status): shown as one text, its members listed.
  const messages: SmsMessageView[] = [];
  const bySend = new Map<string, SmsMessageView>();
  for (const r of rows.reverse()) {
    const send = r.direction === 'outbound' ? sendKeyOf(r.idempotency_key) : null;
    const existing = send ? bySend.get(send) : undefined;
    if (existing) {
      existing.to.push({ number: r.to_number, status: r.status, reason: r.reason });
      existing.status = worstStatus(existing.status, r.status);
      continue;
    }
    const view: SmsMessageView = {
      id: r.id,
      direction: r.direction,
      from: r.from_number,
      to: [{ number: r.to_number, status: r.status, reason: r.reason }],
      body: r.body,
      encoding: r.encoding,
      segments: r.segments,
      status: r.status,
      read: r.read,
      createdAt: new Date(r.created_at).toISOString(),
    };
    if (send) bySend.set(send, view);
    messages.push(view);
  }
  return {
    conversation: { id: c.id, businessNumber: c.business_number, participants: c.participants, kind: c.kind, lastMessageAt: new Date(c.last_message_at).toISOString() },
    messages,
  };
}

/** Texts sent from the app carry `app:<send id>:<recipient>` as their key: the rows of one send share the prefix. */
const APP_KEY = /^(app:[0-9a-f-]{36}):/;
const sendKeyOf = (key: string): string | null => APP_KEY.exec(key)?.[1] ?? null;
const STATUS_RANK = ['delivered', 'sent', 'received', 'sending', 'queued', 'unknown', 'failed'];
const worstStatus = (a: string, b: string) => (STATUS_RANK.indexOf(b) > STATUS_RANK.indexOf(a) ? b : a);

/** Marks the texts received in a conversation read; false when the conversation is not the user's. */
export async function markSmsConversationRead(db: Db, user: SmsUser, conversationId: string): Promise<boolean> {
  if (!(await ownConversation(db, user, conversationId))) return false;
  await db
    .updateTable('sms_messages')
    .set({ read: true, updated_at: new Date() })
    .where('account_id', '=', user.accountId)
    .where('conversation_id', '=', conversationId)
    .where('read', '=', false)
    .execute();
  return true;
}

/** Deletes a conversation and its texts; false when it is not the user's. */
export async function deleteSmsConversation(db: Db, user: SmsUser, conversationId: string): Promise<boolean> {
  if (!(await ownConversation(db, user, conversationId))) return false;
  const done = await db.deleteFrom('sms_conversations').where('account_id', '=', user.accountId).where('id', '=', conversationId).executeTakeFirst();
  return Number(done.numDeletedRows) > 0;
}

/**
 * The user's contacts that the entries of a "To" field name, by name key
 * (parseSmsRecipients): "First Last", "Last First" or the company. Only this
 * user's own contacts in this account are read.
 */
export async function smsContactsNamed(db: Db, user: SmsUser, to: string): Promise<Map<string, string[]>> {
  const keys = [...new Set(smsRecipientEntries(to).filter((e) => !smsNumberOf(e) && namesSmsContact(e)).map(smsContactKey))];
  const found = new Map<string, string[]>();
  if (keys.length === 0) return found;
  // The same key in SQL as smsContactKey: trimmed, runs of white space as one space, lower case.
  const squeezed = (column: string) => sql<string>`lower(regexp_replace(trim(${sql.raw(column)}), ${String.raw`\s+`}, ' ', 'g'))`;
  const rows = await db
    .selectFrom('contacts')
    .select(['first_name', 'last_name', 'company', 'phone'])
    .where('account_id', '=', user.accountId)
    .where('owner_user_id', '=', user.userId)
    .where((eb) =>
      eb.or([
        eb(squeezed("first_name || ' ' || last_name"), 'in', keys),
        eb(squeezed("last_name || ' ' || first_name"), 'in', keys),
        eb(squeezed('company'), 'in', keys),
      ]),
    )
    .limit(1000)
    .execute();
  for (const r of rows) {
    const names = new Set([`${r.first_name} ${r.last_name}`, `${r.last_name} ${r.first_name}`, r.company].map(smsContactKey).filter((k) => keys.includes(k)));
    for (const k of names) found.set(k, [...(found.get(k) ?? []), r.phone]);
  }
  return found;
}

export interface UserSmsSend {
  from: string;
  /** Numbers or contacts' names separated by commas or semicolons, as typed. */
  to: string;
  group: boolean;
  body: string;
  /** The browser's id for this send: a retry with the same id stores nothing new. */
  sendId: string;
}

export type UserSmsSendError =
  | { code: 'not_your_number'; from: string }
  | { code: 'recipients'; errors: SmsRecipientError[] }
  | { code: 'empty_body' }
  | { code: 'too_long'; segments: number; max: number };

export type UserSmsSendResult = { ok: true; messageIds: string[]; conversationIds: string[] } | { ok: false; error: UserSmsSendError };

/**
 * Stores a text a user sends (queued; the caller queues one sms-send job per
 * id returned). "Group" makes one shared conversation of all recipients
 * (at most 10, US/CA/PR only); otherwise each recipient gets the same text
 * in a conversation of their own (at most 100). Nothing is stored when any
 * input is wrong.
 */
export async function queueUserSms(db: Db, user: SmsUser, send: UserSmsSend): Promise<UserSmsSendResult> {
  let from: string;
  try {
    from = normaliseSmsNumber(send.from);
  } catch {
    return { ok: false, error: { code: 'not_your_number', from: send.from } };
  }
  if (!(await smsNumbersOfUser(db, user)).includes(from)) return { ok: false, error: { code: 'not_your_number', from: send.from } };
  const recipients = parseSmsRecipients(send.to, send.group, await smsContactsNamed(db, user, send.to));
  if (!recipients.ok) return { ok: false, error: { code: 'recipients', errors: recipients.errors } };
  if (send.body.trim().length === 0) return { ok: false, error: { code: 'empty_body' } };
  const measure = measureSms(send.body);
  if (measure.segments > SMS_MAX_SEGMENTS) return { ok: false, error: { code: 'too_long', segments: measure.segments, max: SMS_MAX_SEGMENTS } };
  const request = (to: string, conversationId?: string): OutboundSmsRequest => ({
    accountId: user.accountId,
    userId: user.userId,
    from,
    to,
    body: send.body,
    trafficClass: 'p2p',
    idempotencyKey: `app:${send.sendId}:${to}`,
    ...(conversationId ? { conversationId } : {}),
  });
  if (send.group && recipients.numbers.length > 1) {
    const conversationId = await conversationFor(db, user.accountId, from, recipients.numbers);
    const ids: string[] = [];
    for (const to of recipients.numbers) {
      const queued = await queueOutboundSms(db, request(to, conversationId));
      if (queued.created) ids.push(queued.messageId);
    }
    return { ok: true, messageIds: ids, conversationIds: [conversationId] };
  }
  const ids = await queueOutboundSmsBatch(db, recipients.numbers.map((to) => request(to)));
  const made = ids.filter((id): id is string => id !== null);
  const conversations = made.length
    ? await db.selectFrom('sms_messages').select('conversation_id').distinct().where('account_id', '=', user.accountId).where('id', 'in', made).execute()
    : [];
  return { ok: true, messageIds: made, conversationIds: conversations.map((c) => c.conversation_id) };
}

/** A text that could not be queued (the queue is down): failed with the reason, so it is not left 'queued' for ever. */
export async function failUnqueuedSms(db: Db, accountId: string, messageIds: string[], reason: string): Promise<void> {
  if (messageIds.length === 0) return;
  await db
    .updateTable('sms_messages')
    .set({ status: 'failed', reason, completed_at: new Date(), updated_at: new Date() })
    .where('account_id', '=', accountId)
    .where('id', 'in', messageIds)
    .where('status', '=', 'queued')
    .execute();
}

/** Where a live event about a message goes: its conversation, and the users who see it. */
export async function smsEventAudience(db: Db, accountId: string, messageId: string): Promise<{ conversationId: string; status: string; direction: string; userIds: string[] } | undefined> {
  const m = await db
    .selectFrom('sms_messages as m')
    .innerJoin('sms_conversations as c', 'c.id', 'm.conversation_id')
    .select(['m.conversation_id', 'm.status', 'm.direction', 'c.business_number', 'm.user_id'])
    .where('m.account_id', '=', accountId)
    .where('c.account_id', '=', accountId)
    .where('m.id', '=', messageId)
    .executeTakeFirst();
  if (!m) return undefined;
  const users = await smsUsersOfNumber(db, accountId, m.business_number);
  if (m.user_id && !users.includes(m.user_id)) users.push(m.user_id);
  return { conversationId: m.conversation_id, status: m.status, direction: m.direction, userIds: users };
}

/** At most this many texts per search: the page shows them in one list. */
export const SMS_SEARCH_MAX_RESULTS = 100;

export interface SmsSearchHit {
  messageId: string;
  conversationId: string;
  businessNumber: string;
  participants: string[];
  direction: 'inbound' | 'outbound';
  from: string;
  to: string;
  body: string;
  createdAt: string;
}

/**
 * Texts of the user's conversations whose body contains `query` (any case),
 * or whose other party's number contains its digits (3 at least, so that a
 * year or a short word with a digit does not match every number), newest
 * first, at most `limit`. A group text found is listed once, not once per
 * member. `truncated`: more texts matched than were returned.
 */
export async function searchSmsMessages(db: Db, user: SmsUser, query: string, limit = 50): Promise<{ hits: SmsSearchHit[]; truncated: boolean }> {
  const text = query.trim();
  const numbers = await smsNumbersOfUser(db, user);
  if (text.length === 0 || numbers.length === 0) return { hits: [], truncated: false };
  const max = Math.max(1, Math.min(limit, SMS_SEARCH_MAX_RESULTS));
  const digits = text.replace(/[^0-9]/g, '');
  const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = await db
    .selectFrom('sms_messages as m')
    .innerJoin('sms_conversations as c', 'c.id', 'm.conversation_id')
    .select(['m.id', 'm.conversation_id', 'c.business_number', 'c.participants', 'm.direction', 'm.from_number', 'm.to_number', 'm.body', 'm.created_at', 'm.idempotency_key'])
    .where('m.account_id', '=', user.accountId)
    .where('c.account_id', '=', user.accountId)
    .where('c.business_number', 'in', numbers)
    .where((eb) =>
      eb.or([
        eb('m.body', 'ilike', pattern),
        ...(digits.length >= 3 ? [eb(eb.case().when('m.direction', '=', 'inbound').then(eb.ref('m.from_number')).else(eb.ref('m.to_number')).end(), 'like', `%${digits}%`)] : []),
      ]),
    )
    .orderBy('m.created_at', 'desc')
    .orderBy('m.id')
    // Group texts are one row per member: read enough to fill the page once they are folded.
    .limit(max * 10 + 1)
    .execute();
  const hits: SmsSearchHit[] = [];
  const sends = new Set<string>();
  let truncated = false;
  for (const r of rows) {
    // One send to several people individually made a conversation each: those stay separate hits.
    const send = r.direction === 'outbound' ? sendKeyOf(r.idempotency_key) : null;
    const fold = send ? `${r.conversation_id}:${send}` : null;
    if (fold && sends.has(fold)) continue;
    if (fold) sends.add(fold);
    if (hits.length === max) {
      truncated = true;
      break;
    }
    hits.push({
      messageId: r.id,
      conversationId: r.conversation_id,
      businessNumber: r.business_number,
      participants: r.participants,
      direction: r.direction,
      from: r.from_number,
      to: r.to_number,
      body: r.body,
      createdAt: new Date(r.created_at).toISOString(),
    });
  }
  if (!truncated && rows.length === max * 10 + 1) truncated = true;
  return { hits, truncated };
}
