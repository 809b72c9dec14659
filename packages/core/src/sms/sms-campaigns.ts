import { sql } from 'kysely';
import type { Db, SmsCampaignStatus } from '@carillon/db';
import { checkSmsContent, mergeSmsContentWarnings, type SmsContentWarning } from '@carillon/domain';
import { campaignRowErrorMessage, nextAllowedSendTime, nextLocalMidnight, readCampaignList, SMS_ACCOUNT_DAILY_CAP, SMS_CAMPAIGN_DAILY_CAP, wallClock, type CampaignListError, type CampaignRowError } from '@carillon/domain';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { chooseSmsCarrier } from './sms-carriers.ts';
import { normaliseSmsNumber, queueOutboundSmsBatch } from './sms-messages.ts';
import { isHighVolumeNumber, smsQuietHours, smsRequiresCleanContent } from './sms-registrations.ts';
import type { SmsDailyCampaignCounter } from './sms-daily-cap.ts';

/**
 * High-volume campaigns (issue 18, deliverable 2): a template sent from one
 * approved number to the good lines of an uploaded list, from a start time,
 * outside the account's quiet hours, within the number's daily cap, never to
 * a number that opted out. The scheduler (`dispatchDueSmsCampaigns`) turns
 * pending recipients into queued A2P messages in batches; the `sms-send`
 * queue does the rest. Every query names the account, except the
 * scheduler's look for due campaigns, which spans them by design.
 */

/** The upload errors kept with a campaign (the count is kept whole). */
const MAX_STORED_ROW_ERRORS = 10_000;
/** Recipients inserted per statement (PostgreSQL allows 65,535 parameters; 5 per row). */
const INSERT_CHUNK = 5_000;

export type SmsCampaignCreateError =
  | { code: 'not_high_volume'; number: string }
  | { code: 'invalid_number' }
  | ({ code: 'list' } & { error: CampaignListError })
  | { code: 'unclean_content'; warnings: SmsContentWarning[] };

export interface SmsCampaignInput {
  name: string;
  from: string;
  template: string;
  csv: string;
  /** When to start; now when absent. */
  startAt?: Date;
}

export async function createSmsCampaign(
  db: Db,
  actor: AuditActor & { accountId: string },
  input: SmsCampaignInput,
  now: Date = new Date(),
): Promise<{ ok: true; campaignId: string; accepted: number; errors: CampaignRowError[]; warnings: SmsContentWarning[] } | { ok: false; error: SmsCampaignCreateError }> {
  let from: string;
  try {
    from = normaliseSmsNumber(input.from);
  } catch {
    return { ok: false, error: { code: 'invalid_number' } };
  }
  if (!(await isHighVolumeNumber(db, actor.accountId, from))) return { ok: false, error: { code: 'not_high_volume', number: from } };
  const list = readCampaignList(input.csv, input.template);
  if (!list.ok) return { ok: false, error: { code: 'list', error: list.error } };
  // The template and every filled-in text: a field of the list may carry the link.
  const warnings = mergeSmsContentWarnings([checkSmsContent(input.template), ...list.recipients.map((r) => checkSmsContent(r.text))]);
  if (warnings.length > 0 && (await smsRequiresCleanContent(db, actor.accountId))) return { ok: false, error: { code: 'unclean_content', warnings } };
  const startAt = input.startAt && input.startAt > now ? input.startAt : now;
  const campaignId = await db.transaction().execute(async (trx) => {
    const campaign = await trx
      .insertInto('sms_campaigns')
      .values({
        account_id: actor.accountId,
        name: input.name,
        from_number: from,
        template: input.template,
        start_at: startAt,
        next_run_at: startAt,
        total_rows: list.recipients.length + list.errors.length,
        skipped_rows: list.errors.length,
        row_errors: JSON.stringify(list.errors.slice(0, MAX_STORED_ROW_ERRORS)),
        created_by: actor.userId,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (let i = 0; i < list.recipients.length; i += INSERT_CHUNK) {
      await trx
        .insertInto('sms_campaign_recipients')
        .values(list.recipients.slice(i, i + INSERT_CHUNK).map((r) => ({ account_id: actor.accountId, campaign_id: campaign.id, line: r.line, phone_number: r.phone, body: r.text })))
        .execute();
    }
    await recordAudit(trx, actor, {
      accountId: actor.accountId,
      action: 'sms_campaign.created',
      targetType: 'sms_campaign',
      targetId: campaign.id,
      after: { name: input.name, from, recipients: list.recipients.length, skipped: list.errors.length, startAt: startAt.toISOString() },
    });
    return campaign.id;
  });
  return { ok: true, campaignId, accepted: list.recipients.length, errors: list.errors, warnings };
}

export interface SmsCampaignSummary {
  id: string;
  name: string;
  fromNumber: string;
  status: SmsCampaignStatus;
  statusReason: string | null;
  startAt: string;
  createdAt: string;
  completedAt: string | null;
  totalRows: number;
}

export async function listSmsCampaigns(db: Db, accountId: string): Promise<SmsCampaignSummary[]> {
  const rows = await db.selectFrom('sms_campaigns').selectAll().where('account_id', '=', accountId).orderBy('created_at', 'desc').limit(200).execute();
  return rows.map(summaryOf);
}

/** What became of a campaign's lines: each line in exactly one bucket. */
export interface SmsCampaignCounts {
  total: number;
  /** Bad lines of the upload, never sent. */
  skipped: number;
  /** Waiting for their turn (start time, quiet hours, the daily cap, a pause). */
  pending: number;
  /** Queued to the carrier, not yet answered. */
  queued: number;
  /** Accepted by the carrier, no delivery receipt yet. */
  sent: number;
  delivered: number;
  failed: number;
  /** Handed over, no answer: maybe delivered, never sent again. */
  unknown: number;
  optedOut: number;
  cancelled: number;
  /** Failed texts per carrier error code ('none' when the carrier gave none). */
  errorCodes: Record<string, number>;
}

export interface SmsCampaignView extends SmsCampaignSummary {
  template: string;
  counts: SmsCampaignCounts;
  /** The first upload errors, with their lines. */
  rowErrors: CampaignRowError[];
}

/** How a recipient's line reads in the report: its own status before queueing, its message's after. */
const BUCKET_SQL = sql<string>`case
  when r.status <> 'queued' then r.status
  when m.id is null then 'unknown'
  when m.status = 'failed' and m.reason like 'opted_out%' then 'opted_out'
  when m.status = 'failed' and m.reason = 'campaign cancelled' then 'cancelled'
  when m.status in ('queued', 'sending') then 'queued'
  else m.status end`;

export async function readSmsCampaign(db: Db, accountId: string, campaignId: string): Promise<SmsCampaignView | undefined> {
  const campaign = await db.selectFrom('sms_campaigns').selectAll().where('account_id', '=', accountId).where('id', '=', campaignId).executeTakeFirst();
  if (!campaign) return undefined;
  const buckets = await sql<{ bucket: string; code: number | null; n: string }>`
    select ${BUCKET_SQL} as bucket, m.carrier_error_code as code, count(*) as n
    from sms_campaign_recipients r
    left join sms_messages m on m.id = r.message_id and m.account_id = r.account_id
    where r.account_id = ${accountId} and r.campaign_id = ${campaignId}
    group by 1, 2`.execute(db);
  const counts: SmsCampaignCounts = { total: campaign.total_rows, skipped: campaign.skipped_rows, pending: 0, queued: 0, sent: 0, delivered: 0, failed: 0, unknown: 0, optedOut: 0, cancelled: 0, errorCodes: {} };
  for (const b of buckets.rows) {
    const n = Number(b.n);
    const key = (b.bucket === 'opted_out' ? 'optedOut' : b.bucket) as keyof Omit<SmsCampaignCounts, 'errorCodes' | 'total' | 'skipped'>;
    if (key in counts) counts[key] += n;
    if (b.bucket === 'failed') counts.errorCodes[b.code === null ? 'none' : String(b.code)] = (counts.errorCodes[b.code === null ? 'none' : String(b.code)] ?? 0) + n;
  }
  return { ...summaryOf(campaign), template: campaign.template, counts, rowErrors: (campaign.row_errors as CampaignRowError[]).slice(0, 200) };
}

/** Whether the id names one of the account's campaigns (a route asks before reading the body: another account's id is 404 whatever the body). */
export async function isOwnSmsCampaign(db: Db, accountId: string, campaignId: string): Promise<boolean> {
  return Boolean(await db.selectFrom('sms_campaigns').select('id').where('account_id', '=', accountId).where('id', '=', campaignId).executeTakeFirst());
}

export type SmsCampaignAction = 'pause' | 'resume' | 'cancel';

/**
 * Pauses, resumes or cancels a campaign. Cancelling also fails its messages
 * still waiting in the send queue (the sender only hands over 'queued'
 * rows), so nothing more goes out. Undefined for another account's id;
 * 'invalid_state' when the campaign cannot take that action now.
 */
export async function changeSmsCampaignState(
  db: Db,
  actor: AuditActor & { accountId: string },
  campaignId: string,
  action: SmsCampaignAction,
  now: Date = new Date(),
): Promise<SmsCampaignStatus | 'invalid_state' | undefined> {
  return db.transaction().execute(async (trx) => {
    const c = await trx.selectFrom('sms_campaigns').select(['status', 'start_at']).where('account_id', '=', actor.accountId).where('id', '=', campaignId).forUpdate().executeTakeFirst();
    if (!c) return undefined;
    const allowed: Record<SmsCampaignAction, SmsCampaignStatus[]> = { pause: ['scheduled', 'running'], resume: ['paused'], cancel: ['scheduled', 'running', 'paused'] };
    if (!allowed[action].includes(c.status)) return 'invalid_state' as const;
    const status: SmsCampaignStatus = action === 'pause' ? 'paused' : action === 'cancel' ? 'cancelled' : c.start_at > now ? 'scheduled' : 'running';
    await trx
      .updateTable('sms_campaigns')
      .set({ status, status_reason: null, updated_at: now, ...(action === 'resume' ? { next_run_at: c.start_at > now ? c.start_at : now } : {}), ...(action === 'cancel' ? { completed_at: now } : {}) })
      .where('id', '=', campaignId)
      .where('account_id', '=', actor.accountId)
      .execute();
    if (action === 'cancel') {
      await trx.updateTable('sms_campaign_recipients').set({ status: 'cancelled' }).where('account_id', '=', actor.accountId).where('campaign_id', '=', campaignId).where('status', '=', 'pending').execute();
      await sql`
        update sms_messages m set status = 'failed', reason = 'campaign cancelled', completed_at = now(), updated_at = now()
        from sms_campaign_recipients r
        where r.account_id = ${actor.accountId} and r.campaign_id = ${campaignId} and r.message_id = m.id
          and m.account_id = ${actor.accountId} and m.status = 'queued'`.execute(trx);
    }
    await recordAudit(trx, actor, { accountId: actor.accountId, action: `sms_campaign.${action}`, targetType: 'sms_campaign', targetId: campaignId, before: { status: c.status }, after: { status } });
    return status;
  });
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
function csvField(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const SMS_CAMPAIGN_REPORT_HEADER = ['line', 'phone_number', 'status', 'carrier_error_code', 'reason', 'sent_at', 'completed_at'];

/**
 * The campaign's report as CSV lines (header first): one line per line of
 * the upload, the skipped ones included with their error, read in pages so
 * that 250,000 lines never sit in memory at once. Undefined for another
 * account's campaign.
 */
export async function smsCampaignReport(db: Db, accountId: string, campaignId: string): Promise<AsyncGenerator<string> | undefined> {
  const campaign = await db.selectFrom('sms_campaigns').select(['row_errors']).where('account_id', '=', accountId).where('id', '=', campaignId).executeTakeFirst();
  if (!campaign) return undefined;
  return (async function* () {
    yield SMS_CAMPAIGN_REPORT_HEADER.join(',') + '\r\n';
    let after = 0;
    for (;;) {
      const page = await sql<{ line: number; phone_number: string; bucket: string; code: number | null; reason: string | null; sent_at: Date | null; completed_at: Date | null }>`
        select r.line, r.phone_number, ${BUCKET_SQL} as bucket, m.carrier_error_code as code, m.reason, m.sent_at, m.completed_at
        from sms_campaign_recipients r
        left join sms_messages m on m.id = r.message_id and m.account_id = r.account_id
        where r.account_id = ${accountId} and r.campaign_id = ${campaignId} and r.line > ${after}
        order by r.line limit 2000`.execute(db);
      if (page.rows.length === 0) break;
      yield page.rows
        .map((r) => [r.line, r.phone_number, r.bucket, r.code, r.reason, r.sent_at?.toISOString() ?? null, r.completed_at?.toISOString() ?? null].map(csvField).join(',') + '\r\n')
        .join('');
      after = page.rows.at(-1)!.line;
    }
    const skipped = campaign.row_errors as CampaignRowError[];
    if (skipped.length > 0) {
      yield skipped.map((e) => [e.line, e.code === 'invalid_number' ? e.value : e.number, 'skipped', null, campaignRowErrorMessage(e), null, null].map(csvField).join(',') + '\r\n').join('');
    }
  })();
}

export interface SmsCampaignDispatchOptions {
  now: Date;
  /** Recipients queued per campaign and call. */
  batchSize: number;
  /** Campaigns looked at per call. */
  maxCampaigns?: number;
  /** Texts per number and local day. */
  dailyCap?: number;
  /** Campaign texts per account and local day (SMS_ACCOUNT_DAILY_CAP by default), counted by `dailyCounter`. */
  accountDailyCap?: number;
  dailyCounter: SmsDailyCampaignCounter;
  /** A campaign waits while this many of its account's A2P texts are still queued or sending (memory stays flat). */
  maxBacklog?: number;
  /** How long a campaign is held by one dispatcher (other workers skip it meanwhile). */
  leaseMs?: number;
  /** Queues the sms-send jobs of these messages (job id: the message id, so a second add is a no-op). */
  enqueue: (accountId: string, messageIds: string[]) => Promise<void>;
}

export interface SmsCampaignDispatchResult {
  /** Messages queued to the sender. */
  queued: number;
  /** Recipients skipped because they opted out. */
  optedOut: number;
  /** Campaigns that ran out of recipients. */
  completed: number;
}

/**
 * One round of the campaign scheduler: each due campaign is leased (its
 * `next_run_at` pushed ahead, so a second worker skips it), then, unless
 * quiet hours or the day's cap say to wait, its next pending recipients are
 * queued as A2P messages: opted-out numbers first set aside, the others
 * created with a key of the campaign and line (a second round after a crash
 * creates nothing twice) and handed to the send queue. The campaign is then
 * due again at once, or at the time the rules give.
 */
export async function dispatchDueSmsCampaigns(db: Db, opts: SmsCampaignDispatchOptions): Promise<SmsCampaignDispatchResult> {
  const result: SmsCampaignDispatchResult = { queued: 0, optedOut: 0, completed: 0 };
  const now = opts.now;
  const lease = new Date(now.getTime() + (opts.leaseMs ?? 60_000));
  const due = await db
    .selectFrom('sms_campaigns')
    .select(['id', 'account_id', 'next_run_at'])
    .where('status', 'in', ['scheduled', 'running'])
    .where('next_run_at', '<=', now)
    .orderBy('next_run_at')
    .limit(opts.maxCampaigns ?? 20)
    .execute();
  for (const d of due) {
    // The lease: only the dispatcher whose update matched the due time it read goes on.
    const leased = await db
      .updateTable('sms_campaigns')
      .set({ next_run_at: lease })
      .where('id', '=', d.id)
      .where('account_id', '=', d.account_id)
      .where('next_run_at', '=', d.next_run_at)
      .where('status', 'in', ['scheduled', 'running'])
      .returningAll()
      .executeTakeFirst();
    if (!leased) continue;
    const round = await dispatchCampaign(db, leased, opts);
    result.queued += round.queued;
    result.optedOut += round.optedOut;
    if (round.completed) result.completed++;
  }
  return result;
}

async function dispatchCampaign(
  db: Db,
  c: { id: string; account_id: string; from_number: string; status: SmsCampaignStatus },
  opts: SmsCampaignDispatchOptions,
): Promise<{ queued: number; optedOut: number; completed: boolean }> {
  const none = { queued: 0, optedOut: 0, completed: false };
  const now = opts.now;
  const accountId = c.account_id;
  const setCampaign = (values: { next_run_at?: Date; status?: SmsCampaignStatus; status_reason?: string | null; completed_at?: Date }) =>
    db.updateTable('sms_campaigns').set({ ...values, updated_at: now }).where('id', '=', c.id).where('account_id', '=', accountId).where('status', 'in', ['scheduled', 'running']).execute();

  if (!(await isHighVolumeNumber(db, accountId, c.from_number))) {
    await setCampaign({ status: 'paused', status_reason: 'the number is not approved for high volume', next_run_at: now });
    return none;
  }
  const carrierId = await chooseSmsCarrier(db, accountId, c.from_number, 'a2p');
  if (!carrierId) {
    await setCampaign({ status: 'paused', status_reason: 'no A2P carrier configured for this number', next_run_at: now });
    return none;
  }
  const account = await db.selectFrom('accounts').select('time_zone').where('id', '=', accountId).executeTakeFirstOrThrow();
  const allowedAt = nextAllowedSendTime(now, account.time_zone, await smsQuietHours(db, accountId));
  if (allowedAt > now) {
    await setCampaign({ next_run_at: allowedAt });
    return none;
  }
  const backlog = await db
    .selectFrom('sms_messages')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('account_id', '=', accountId)
    .where('status', 'in', ['queued', 'sending'])
    .where('traffic_class', '=', 'a2p')
    .executeTakeFirstOrThrow();
  if (Number(backlog.n) >= (opts.maxBacklog ?? 2_000)) {
    await setCampaign({ next_run_at: now });
    return none;
  }
  const day = wallClock(now, account.time_zone).date;
  const volume = await db.selectFrom('sms_daily_volume').select('texts').where('account_id', '=', accountId).where('phone_number', '=', c.from_number).where('day', '=', day).executeTakeFirst();
  const room = (opts.dailyCap ?? SMS_CAMPAIGN_DAILY_CAP) - (volume?.texts ?? 0);
  if (room <= 0) {
    await setCampaign({ next_run_at: nextLocalMidnight(now, account.time_zone) });
    return none;
  }
  // The account's cap, shared by every scheduler: lines past it wait, pending, for the next local day.
  const accountCap = opts.accountDailyCap ?? SMS_ACCOUNT_DAILY_CAP;
  const reserved = await opts.dailyCounter.reserve(accountId, day, Math.min(opts.batchSize, room), accountCap);
  if (reserved === 0) {
    const tomorrow = nextLocalMidnight(now, account.time_zone);
    await setCampaign({ next_run_at: tomorrow, status_reason: `the account's daily cap of ${accountCap} texts is reached: the remaining lines are sent from ${wallClock(tomorrow, account.time_zone).date}` });
    return none;
  }
  // What the round did not send goes back. A round that fails keeps its reservation: the day may end a little
  // under the cap, never over it.
  const round = await dispatchBatch(db, c, opts, { carrierId, day, limit: reserved, setCampaign });
  await opts.dailyCounter.release(accountId, day, reserved - round.created);
  return round.result;
}

/** Queues up to `limit` pending recipients of a campaign; `created`: the messages it made (what the day's count keeps). */
async function dispatchBatch(
  db: Db,
  c: { id: string; account_id: string; from_number: string },
  opts: SmsCampaignDispatchOptions,
  round: { carrierId: string; day: string; limit: number; setCampaign: (values: { next_run_at?: Date; status?: SmsCampaignStatus; status_reason?: string | null; completed_at?: Date }) => Promise<unknown> },
): Promise<{ result: { queued: number; optedOut: number; completed: boolean }; created: number }> {
  const none = { queued: 0, optedOut: 0, completed: false };
  const { carrierId, day, setCampaign } = round;
  const now = opts.now;
  const accountId = c.account_id;
  const batch = await db
    .selectFrom('sms_campaign_recipients')
    .select(['line', 'phone_number', 'body'])
    .where('account_id', '=', accountId)
    .where('campaign_id', '=', c.id)
    .where('status', '=', 'pending')
    .orderBy('line')
    .limit(round.limit)
    .execute();
  if (batch.length === 0) {
    await setCampaign({ status: 'completed', status_reason: null, completed_at: now, next_run_at: now });
    return { result: { ...none, completed: true }, created: 0 };
  }

  // Opt-outs are honoured before anything is queued (and checked again by the sender at hand-over).
  const optedOut = new Set(
    (
      await db
        .selectFrom('sms_opt_outs')
        .select('phone_number')
        .where('account_id', '=', accountId)
        .where('business_number', '=', c.from_number)
        .where('phone_number', 'in', batch.map((r) => r.phone_number))
        .execute()
    ).map((r) => r.phone_number),
  );
  if (optedOut.size > 0) {
    await db
      .updateTable('sms_campaign_recipients')
      .set({ status: 'opted_out' })
      .where('account_id', '=', accountId)
      .where('campaign_id', '=', c.id)
      .where('status', '=', 'pending')
      .where('phone_number', 'in', [...optedOut])
      .execute();
  }
  const toSend = batch.filter((r) => !optedOut.has(r.phone_number));
  const keyOf = (line: number) => `campaign:${c.id}:${line}`;
  let created = 0;
  if (toSend.length > 0) {
    const ids = await queueOutboundSmsBatch(
      db,
      toSend.map((r) => ({ accountId, userId: null, from: c.from_number, to: r.phone_number, body: r.body, trafficClass: 'a2p' as const, carrierId, idempotencyKey: keyOf(r.line) })),
    );
    created = ids.filter((id) => id !== null).length;
    // Keys that existed come from a round that stopped before it marked its recipients: the same messages.
    const byKey = new Map(
      (
        await db
          .selectFrom('sms_messages')
          .select(['id', 'idempotency_key'])
          .where('account_id', '=', accountId)
          .where('idempotency_key', 'in', toSend.map((r) => keyOf(r.line)))
          .execute()
      ).map((m) => [m.idempotency_key, m.id]),
    );
    const messageIds = toSend.map((r) => byKey.get(keyOf(r.line))!);
    // A cancel that came in while this round ran: its messages are failed, never handed over.
    const still = await db.selectFrom('sms_campaigns').select('status').where('id', '=', c.id).where('account_id', '=', accountId).executeTakeFirstOrThrow();
    if (still.status === 'cancelled') {
      await db.updateTable('sms_messages').set({ status: 'failed', reason: 'campaign cancelled', completed_at: now, updated_at: now }).where('account_id', '=', accountId).where('id', 'in', messageIds).where('status', '=', 'queued').execute();
    } else {
      await opts.enqueue(accountId, messageIds);
    }
    // Marked after the jobs exist: a crash in between leaves them pending, and the next round finds the same messages.
    await sql`
      update sms_campaign_recipients r set status = 'queued', message_id = v.message_id::uuid, queued_at = ${now}
      from (values ${sql.join(toSend.map((r, i) => sql`(${r.line}::integer, ${messageIds[i]!})`))}) as v(line, message_id)
      where r.account_id = ${accountId} and r.campaign_id = ${c.id} and r.line = v.line and r.status = 'pending'`.execute(db);
    if (created > 0) {
      await db
        .insertInto('sms_daily_volume')
        .values({ account_id: accountId, phone_number: c.from_number, day, texts: created })
        .onConflict((oc) => oc.constraint('sms_daily_volume_pk').doUpdateSet({ texts: sql`sms_daily_volume.texts + ${created}` }))
        .execute();
    }
  }
  // Due again at once: the next batch goes on the next round.
  await setCampaign({ status: 'running', status_reason: null, next_run_at: now });
  return { result: { queued: toSend.length, optedOut: optedOut.size, completed: false }, created };
}

function summaryOf(c: {
  id: string;
  name: string;
  from_number: string;
  status: SmsCampaignStatus;
  status_reason: string | null;
  start_at: Date;
  created_at: Date;
  completed_at: Date | null;
  total_rows: number;
}): SmsCampaignSummary {
  return {
    id: c.id,
    name: c.name,
    fromNumber: c.from_number,
    status: c.status,
    statusReason: c.status_reason,
    startAt: c.start_at.toISOString(),
    createdAt: c.created_at.toISOString(),
    completedAt: c.completed_at?.toISOString() ?? null,
    totalRows: c.total_rows,
  };
}
