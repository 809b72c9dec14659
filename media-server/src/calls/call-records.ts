import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { CallDirection, CallResult, Database } from '@carillon/db';

export interface NewCall {
  accountId: string;
  sipCallId: string;
  direction: CallDirection;
  fromNumber: string;
  fromName: string | null;
  toNumber: string;
  callerExtensionId: string | null;
  calleeExtensionId: string | null;
  emergency: boolean;
}

/** A party of a new segment: one end of an existing segment, or someone new (a blind transfer's target). */
export type SegmentParty = { segment: string; end: 'from' | 'to' } | { number: string; name: string | null; extensionId: string | null };

export interface NewLeg {
  role: 'caller' | 'callee' | 'transfer_target';
  endpoint: 'sip' | 'webrtc' | 'trunk';
  deviceId: string | null;
  sipCallId: string;
  remoteUri: string | null;
}

/**
 * Call detail records: a row per call and per leg, written as the call
 * moves, so a crash mid-call still leaves what happened up to then. The app
 * reads them for the call log. Each moment of a call (start, answer, end) is
 * one statement: a database round trip costs the edge's main thread more than
 * the rest of a call's signalling (about 60 µs of system time per query on
 * loopback), and call setup rate is bounded by them.
 */
export class CallRecords {
  private readonly db: Kysely<Database>;
  /** This media-server's node id, kept on each call so a restart closes only its own calls. */
  private readonly nodeId: string | null;

  constructor(db: Kysely<Database>, nodeId: string | null = null) {
    this.db = db;
    this.nodeId = nodeId;
  }

  /** The call and its caller's leg, in one statement. */
  async startCallWithLeg(
    c: NewCall,
    leg: NewLeg,
  ): Promise<{ callId: string; legId: string }> {
    // The first segment of a session names it.
    const id = randomUUID();
    const { rows } = await sql<{ id: string; call_id: string }>`
      WITH c AS (
        INSERT INTO calls (id, session_id, account_id, sip_call_id, direction, from_number, from_name, to_number, caller_extension_id, callee_extension_id, emergency, media_node_id)
        VALUES (${id}, ${id}, ${c.accountId}, ${c.sipCallId}, ${c.direction}, ${c.fromNumber}, ${c.fromName}, ${c.toNumber}, ${c.callerExtensionId}, ${c.calleeExtensionId}, ${c.emergency}, ${this.nodeId})
        RETURNING id
      )
      INSERT INTO call_legs (call_id, account_id, role, endpoint, device_id, sip_call_id, remote_uri)
      SELECT c.id, ${c.accountId}, ${leg.role}, ${leg.endpoint}, ${leg.deviceId}, ${leg.sipCallId}, ${leg.remoteUri} FROM c
      RETURNING id, call_id`.execute(this.db);
    const row = rows[0];
    if (!row) throw new Error('call record not written');
    return { callId: row.call_id, legId: row.id };
  }

  async addLeg(l: {
    callId: string;
    accountId: string;
    role: 'caller' | 'callee' | 'transfer_target';
    endpoint: 'sip' | 'webrtc' | 'trunk';
    deviceId: string | null;
    sipCallId: string;
    remoteUri: string | null;
  }): Promise<string> {
    const row = await this.db
      .insertInto('call_legs')
      .values({
        call_id: l.callId,
        account_id: l.accountId,
        role: l.role,
        endpoint: l.endpoint,
        device_id: l.deviceId,
        sip_call_id: l.sipCallId,
        remote_uri: l.remoteUri,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** The answer: the call's time (and who answered) and each answered leg's codec, in one statement. */
  async answered(callId: string, legs: { id: string; codec: string }[], calleeExtensionId?: string | null): Promise<void> {
    const now = new Date();
    if (!legs.length) return this.callAnswered(callId, calleeExtensionId);
    await sql`
      WITH c AS (
        UPDATE calls SET answered_at = ${now}, callee_extension_id = COALESCE(${calleeExtensionId ?? null}::uuid, callee_extension_id) WHERE id = ${callId}
      )
      UPDATE call_legs AS l SET answered_at = ${now}, codec = v.codec
      FROM (VALUES ${sql.join(legs.map((l) => sql`(${l.id}::uuid, ${l.codec})`))}) AS v(id, codec)
      WHERE l.id = v.id`.execute(this.db);
  }

  /**
   * The end: each leg's result and RTP figures, then the call's result and duration counted from
   * the answer, as a call log shows it; in one statement, once (a leg or call already ended keeps
   * what it had).
   */
  async ended(callId: string, result: CallResult, hangupBy: string | null, legs: { id: string; result: string; rtpStats?: Record<string, unknown> | undefined }[]): Promise<void> {
    const now = new Date();
    const endLegs = legs.length
      ? sql`WITH l AS (
          UPDATE call_legs AS l SET ended_at = ${now}, result = v.result, rtp_stats = COALESCE(v.stats::jsonb, l.rtp_stats)
          FROM (VALUES ${sql.join(legs.map((l) => sql`(${l.id}::uuid, ${l.result}, ${l.rtpStats ? JSON.stringify(l.rtpStats) : null}::text)`))}) AS v(id, result, stats)
          WHERE l.id = v.id AND l.ended_at IS NULL
        )`
      : sql``;
    await sql`
      ${endLegs}
      UPDATE calls SET ended_at = ${now}, result = ${result}, hangup_by = ${hangupBy},
        duration_seconds = CASE WHEN answered_at IS NULL THEN 0 ELSE round(extract(epoch FROM (${now}::timestamptz - answered_at)))::int END
      WHERE id = ${callId} AND ended_at IS NULL`.execute(this.db);
  }

  /**
   * A transfer: the segments the transferor was in end (transferred, hung up
   * by the transferor's end), and a new answered segment starts, in the same
   * session, between the parties now talking; `legIds` (the transfer target's
   * leg) move to it. Returns the new segment's id.
   */
  async transferred(t: { ended: { segment: string; hangupBy: 'caller' | 'callee' }[]; from: SegmentParty; to: SegmentParty; legIds: string[] }): Promise<string> {
    return this.db.transaction().execute(async (trx) => {
      const segments = await trx
        .selectFrom('calls')
        .select(['id', 'session_id', 'account_id', 'sip_call_id', 'direction', 'from_number', 'from_name', 'to_number', 'caller_extension_id', 'callee_extension_id'])
        .where('id', 'in', t.ended.map((e) => e.segment))
        .execute();
      const first = segments.find((s) => s.id === t.ended[0]!.segment);
      if (!first) throw new Error('transferred segment not found');
      const party = (p: SegmentParty) => {
        if (!('segment' in p)) return p;
        const s = segments.find((x) => x.id === p.segment);
        if (!s) throw new Error('segment of a party not found');
        return p.end === 'from' ? { number: s.from_number, name: s.from_name, extensionId: s.caller_extension_id } : { number: s.to_number, name: null, extensionId: s.callee_extension_id };
      };
      const from = party(t.from);
      const to = party(t.to);
      const now = new Date();
      for (const e of t.ended) {
        await sql`
          UPDATE calls SET ended_at = ${now}, result = 'transferred', hangup_by = ${e.hangupBy},
            duration_seconds = CASE WHEN answered_at IS NULL THEN 0 ELSE round(extract(epoch FROM (${now}::timestamptz - answered_at)))::int END
          WHERE id = ${e.segment} AND ended_at IS NULL`.execute(trx);
      }
      const next = await trx
        .insertInto('calls')
        .values({
          session_id: first.session_id,
          account_id: first.account_id,
          sip_call_id: first.sip_call_id,
          direction: first.direction,
          from_number: from.number,
          from_name: from.name,
          to_number: to.number,
          caller_extension_id: from.extensionId,
          callee_extension_id: to.extensionId,
          started_at: now,
          answered_at: now,
          media_node_id: this.nodeId,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (t.legIds.length) await trx.updateTable('call_legs').set({ call_id: next.id }).where('id', 'in', t.legIds).execute();
      return next.id;
    });
  }

  async legAnswered(legId: string, codec: string): Promise<void> {
    await this.db.updateTable('call_legs').set({ answered_at: new Date(), codec }).where('id', '=', legId).execute();
  }

  async legEnded(legId: string, result: string, rtpStats?: Record<string, unknown>): Promise<void> {
    await this.db
      .updateTable('call_legs')
      .set({ ended_at: new Date(), result, ...(rtpStats ? { rtp_stats: JSON.stringify(rtpStats) } : {}) })
      .where('id', '=', legId)
      .where('ended_at', 'is', null)
      .execute();
  }

  async callAnswered(callId: string, calleeExtensionId?: string | null): Promise<void> {
    await this.db
      .updateTable('calls')
      .set({ answered_at: new Date(), ...(calleeExtensionId ? { callee_extension_id: calleeExtensionId } : {}) })
      .where('id', '=', callId)
      .execute();
  }

  async recordingStarted(r: { accountId: string; callId: string; path: string; startedByExtensionId: string | null }): Promise<string> {
    const row = await this.db
      .insertInto('recordings')
      .values({ account_id: r.accountId, call_id: r.callId, storage_path: r.path, started_by_extension_id: r.startedByExtensionId })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async recordingStopped(id: string, durationSeconds: number): Promise<void> {
    await this.db.updateTable('recordings').set({ duration_seconds: durationSeconds }).where('id', '=', id).execute();
  }
}
