import { sql } from 'kysely';
import type { Db, SmsTrafficClass } from '@carillon/db';
import { measureSms, SMS_MAX_SEGMENTS, SmsTooLongError } from '@carillon/domain';
import { smsUsersOfNumber } from './sms-numbers.ts';

/**
 * Conversations and messages of an account (issue 18). Every query names the
 * account. A message is created once per idempotency key: asking again with
 * the same key returns the first message, whatever became of it.
 */

/** E.164 with its '+': the one form numbers are stored in here. */
export function normaliseSmsNumber(raw: string): string {
  const digits = raw.replace(/[\s().-]/g, '');
  if (!/^\+?[1-9][0-9]{6,14}$/.test(digits)) throw new RangeError(`not a phone number: ${raw}`);
  return digits.startsWith('+') ? digits : `+${digits}`;
}

/** The conversation of a business number with these parties, created on first use. */
export async function conversationFor(db: Db, accountId: string, businessNumber: string, participants: string[]): Promise<string> {
  const parties = [...new Set(participants)].sort();
  const row = await db
    .insertInto('sms_conversations')
    .values({ account_id: accountId, business_number: businessNumber, participants: parties, kind: parties.length > 1 ? 'group' : 'direct' })
    .onConflict((oc) => oc.constraint('sms_conversations_parties_key').doUpdateSet({ last_message_at: sql`now()` }))
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export interface OutboundSmsRequest {
  accountId: string;
  userId: string | null;
  from: string;
  to: string;
  body: string;
  trafficClass: SmsTrafficClass;
  idempotencyKey: string;
  /** A group text's shared conversation; a direct one with `to` otherwise. */
  conversationId?: string;
  /** The carrier to use (an answer goes back the way the text came); chosen by number at send time otherwise. */
  carrierId?: string;
  /** 'keyword_reply': the answer to STOP/START/HELP, sent even to a number that opted out. */
  purpose?: 'message' | 'keyword_reply';
}

/**
 * Records an outbound text as 'queued' (the caller then queues its sms-send
 * job, whose id is the message id). `created` is false when the key was
 * already used: nothing new was stored.
 */
export async function queueOutboundSms(db: Db, req: OutboundSmsRequest): Promise<{ messageId: string; created: boolean }> {
  const from = normaliseSmsNumber(req.from);
  const to = normaliseSmsNumber(req.to);
  if (req.body.length === 0) throw new RangeError('empty message');
  const measure = measureSms(req.body);
  if (measure.segments > SMS_MAX_SEGMENTS) throw new SmsTooLongError(measure.segments);
  const existing = await findByKey(db, req.accountId, req.idempotencyKey);
  if (existing) return { messageId: existing, created: false };
  if (req.conversationId) await assertOwnConversations(db, req.accountId, [req.conversationId]);
  const conversationId = req.conversationId ?? (await conversationFor(db, req.accountId, from, [to]));
  const inserted = await db
    .insertInto('sms_messages')
    .values({
      account_id: req.accountId,
      conversation_id: conversationId,
      direction: 'outbound',
      traffic_class: req.trafficClass,
      from_number: from,
      to_number: to,
      body: req.body,
      encoding: measure.encoding,
      segments: measure.segments,
      user_id: req.userId,
      idempotency_key: req.idempotencyKey,
      carrier_id: req.carrierId ?? null,
      purpose: req.purpose ?? 'message',
      read: true,
    })
    .onConflict((oc) => oc.constraint('sms_messages_idempotency_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return { messageId: inserted.id, created: true };
  // Another request with the same key won the race.
  return { messageId: (await findByKey(db, req.accountId, req.idempotencyKey))!, created: false };
}

/**
 * Queues many texts from one number at once (a campaign or a bulk text): a
 * few statements per batch instead of a few per message. Keys already used
 * are skipped, like queueOutboundSms. Returns the ids of the messages created,
 * in the order of `requests`, null where the key existed.
 */
export async function queueOutboundSmsBatch(db: Db, requests: OutboundSmsRequest[]): Promise<(string | null)[]> {
  if (requests.length === 0) return [];
  const accountId = requests[0]!.accountId;
  if (requests.some((r) => r.accountId !== accountId)) throw new RangeError('a batch belongs to one account');
  const rows = requests.map((req) => {
    if (req.body.length === 0) throw new RangeError('empty message');
    const measure = measureSms(req.body);
    if (measure.segments > SMS_MAX_SEGMENTS) throw new SmsTooLongError(measure.segments);
    return { req, from: normaliseSmsNumber(req.from), to: normaliseSmsNumber(req.to), measure };
  });
  const given = [...new Set(rows.flatMap((r) => (r.req.conversationId ? [r.req.conversationId] : [])))];
  if (given.length > 0) await assertOwnConversations(db, accountId, given);
  return db.transaction().execute(async (trx) => {
    const wanted = new Map<string, { business: string; party: string }>();
    for (const r of rows) if (!r.req.conversationId) wanted.set(`${r.from}\u0000${r.to}`, { business: r.from, party: r.to });
    const conversations = new Map<string, string>();
    const pairs = [...wanted.values()];
    if (pairs.length > 0) {
      const made = await trx
        .insertInto('sms_conversations')
        .values(pairs.map((p) => ({ account_id: accountId, business_number: p.business, participants: [p.party], kind: 'direct' as const })))
        .onConflict((oc) => oc.constraint('sms_conversations_parties_key').doUpdateSet({ last_message_at: sql`now()` }))
        .returning(['id', 'business_number', 'participants'])
        .execute();
      for (const c of made) conversations.set(`${c.business_number}\u0000${c.participants[0]}`, c.id);
    }
    const inserted = await trx
      .insertInto('sms_messages')
      .values(
        rows.map((r) => ({
          account_id: accountId,
          conversation_id: r.req.conversationId ?? conversations.get(`${r.from}\u0000${r.to}`)!,
          direction: 'outbound' as const,
          traffic_class: r.req.trafficClass,
          from_number: r.from,
          to_number: r.to,
          body: r.req.body,
          purpose: r.req.purpose ?? 'message',
          encoding: r.measure.encoding,
          segments: r.measure.segments,
          user_id: r.req.userId,
          idempotency_key: r.req.idempotencyKey,
          carrier_id: r.req.carrierId ?? null,
          read: true,
        })),
      )
      .onConflict((oc) => oc.constraint('sms_messages_idempotency_key').doNothing())
      .returning(['id', 'idempotency_key'])
      .execute();
    const byKey = new Map(inserted.map((m) => [m.idempotency_key, m.id]));
    return requests.map((r) => byKey.get(r.idempotencyKey) ?? null);
  });
}

export class SmsConversationNotFoundError extends Error {}

/** A conversation id from a caller must be one of the account's own: another tenant's is "not found". */
async function assertOwnConversations(db: Db, accountId: string, ids: string[]): Promise<void> {
  const found = await db.selectFrom('sms_conversations').select('id').where('account_id', '=', accountId).where('id', 'in', ids).execute();
  if (found.length !== ids.length) throw new SmsConversationNotFoundError('conversation not found');
}

async function findByKey(db: Db, accountId: string, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('sms_messages').select('id').where('account_id', '=', accountId).where('idempotency_key', '=', key).executeTakeFirst();
  return row?.id;
}

export interface InboundSms {
  accountId: string;
  carrierId: string;
  from: string;
  to: string;
  body: string;
  encoding: 'gsm7' | 'ucs2';
  segments: number;
  /** Set when the SMSC gave a stable identity for it, so that a redelivery is stored once. */
  idempotencyKey: string;
}

/**
 * Stores a text received. A text to a direct number goes to the user of the
 * number's extension; to a company number, to the Company Fax/SMS recipient
 * of the IVR settings (sms-numbers.ts), or to nobody while none is named.
 */
export async function recordInboundSms(db: Db, sms: InboundSms): Promise<string> {
  const from = normaliseSmsNumber(sms.from);
  const to = normaliseSmsNumber(sms.to);
  const conversationId = await conversationFor(db, sms.accountId, to, [from]);
  const [owner] = await smsUsersOfNumber(db, sms.accountId, to);
  const row = await db
    .insertInto('sms_messages')
    .values({
      account_id: sms.accountId,
      conversation_id: conversationId,
      direction: 'inbound',
      from_number: from,
      to_number: to,
      body: sms.body,
      encoding: sms.encoding,
      segments: Math.max(1, sms.segments),
      status: 'received',
      carrier_id: sms.carrierId,
      user_id: owner ?? null,
      idempotency_key: sms.idempotencyKey,
    })
    .onConflict((oc) => oc.constraint('sms_messages_idempotency_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id ?? (await findByKey(db, sms.accountId, sms.idempotencyKey))!;
}

/** STOP: the number gets nothing more from this business number until it sends START. */
export async function recordSmsOptOut(db: Db, accountId: string, businessNumber: string, phoneNumber: string, keyword: string): Promise<void> {
  await db
    .insertInto('sms_opt_outs')
    .values({ account_id: accountId, business_number: normaliseSmsNumber(businessNumber), phone_number: normaliseSmsNumber(phoneNumber), keyword })
    .onConflict((oc) => oc.constraint('sms_opt_outs_pk').doNothing())
    .execute();
}

export async function clearSmsOptOut(db: Db, accountId: string, businessNumber: string, phoneNumber: string): Promise<void> {
  await db
    .deleteFrom('sms_opt_outs')
    .where('account_id', '=', accountId)
    .where('business_number', '=', normaliseSmsNumber(businessNumber))
    .where('phone_number', '=', normaliseSmsNumber(phoneNumber))
    .execute();
}

export async function isSmsOptedOut(db: Db, accountId: string, businessNumber: string, phoneNumber: string): Promise<boolean> {
  const row = await db
    .selectFrom('sms_opt_outs')
    .select('phone_number')
    .where('account_id', '=', accountId)
    .where('business_number', '=', normaliseSmsNumber(businessNumber))
    .where('phone_number', '=', normaliseSmsNumber(phoneNumber))
    .executeTakeFirst();
  return Boolean(row);
}

/** An outbound text's state as the API gives it (issue 18: "an API to send and to read status"). */
export interface SmsMessageStatusView {
  id: string;
  from: string;
  to: string;
  status: string;
  reason: string | null;
  carrierErrorCode: number | null;
  segments: number;
  encoding: 'gsm7' | 'ucs2';
  createdAt: string;
  sentAt: string | null;
  completedAt: string | null;
}

/** One of the account's texts; undefined for another account's id (the same answer as no such text). */
export async function readSmsMessageStatus(db: Db, accountId: string, messageId: string): Promise<SmsMessageStatusView | undefined> {
  const m = await db
    .selectFrom('sms_messages')
    .select(['id', 'from_number', 'to_number', 'status', 'reason', 'carrier_error_code', 'segments', 'encoding', 'created_at', 'sent_at', 'completed_at'])
    .where('account_id', '=', accountId)
    .where('id', '=', messageId)
    .executeTakeFirst();
  if (!m) return undefined;
  return {
    id: m.id,
    from: m.from_number,
    to: m.to_number,
    status: m.status,
    reason: m.reason,
    carrierErrorCode: m.carrier_error_code,
    segments: m.segments,
    encoding: m.encoding,
    createdAt: m.created_at.toISOString(),
    sentAt: m.sent_at?.toISOString() ?? null,
    completedAt: m.completed_at?.toISOString() ?? null,
  };
}
