import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type RawBuilder } from 'kysely';
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
  role: 'caller' | 'callee' | 'transfer_target' | 'monitor';
  endpoint: 'sip' | 'webrtc' | 'trunk';
  deviceId: string | null;
  sipCallId: string;
  remoteUri: string | null;
}

/** A call kept in memory until its first write (its answer, its end, or the ringing delay). */
interface UnwrittenCall extends NewCall {
  id: string;
  startedAt: Date;
  answeredAt: Date | null;
  endedAt: Date | null;
  result: CallResult | null;
  hangupBy: string | null;
  /** Writes the call as ringing if nothing else has by then. */
  timer: NodeJS.Timeout | null;
}

/** A call whose end is written: `calls.id` and its account. */
export interface EndedCall {
  accountId: string;
  callId: string;
}

/** How long a call that neither answers nor ends stays in memory only: a ringing call shows in the call log after this. */
export const RINGING_WRITE_DELAY_MS = 2000;

/** A write of a call's record waiting for its statement (see `CallRecords.execute`). */
interface PendingWrite {
  parts: RawBuilder<unknown>[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Statements of call records out at once; writes that come meanwhile wait and share the next one. */
const MAX_WRITES_IN_FLIGHT = 2;
/** Writes in one statement, at most: a call's write has ~20-50 parameters (more with many ringing legs), a statement may have 65,535. */
const MAX_WRITES_PER_STATEMENT = 50;

/** A leg kept in memory until its call's next write (the answer, or the end). */
interface UnwrittenLeg extends NewLeg {
  id: string;
  callId: string;
  accountId: string;
  startedAt: Date;
  answeredAt: Date | null;
  codec: string | null;
  endedAt: Date | null;
  result: string | null;
  rtpStats: Record<string, unknown> | null;
}

/**
 * Call detail records: a row per call and per leg. The app reads them for
 * the call log. A database round trip costs the edge's main thread more than
 * the rest of a call's signalling (about 60 µs of system time per query on
 * loopback), and one awaited before an INVITE goes out is post-dial delay.
 * So a call's record is kept in memory while it rings and written at most
 * twice, one statement each: at its answer (the call, answered, with the
 * legs that answered) and at its end (every leg's result and RTP figures, and
 * the legs that never answered). A call that never connects is one
 * statement, written whole at its end.
 *
 * What reads a live call does not need its row at the start: presence and
 * the call's owner are in Redis, written by the call itself. A call still
 * ringing after `RINGING_WRITE_DELAY_MS` is written as ringing (the call and
 * its caller's leg), so the call log shows it, and offers to hang it up, a
 * moment after it starts; such a call costs three statements. Crash safety:
 * a row written is closed by the next start of its node
 * (calls/calls-left-open.ts, by `media_node_id`); a call younger than the
 * delay when its node is killed has no row at all, rather than one left
 * live forever.
 *
 * The writes of one call are serial (a call's end waits for its answer's
 * statement), and call and leg ids are made here, so no INVITE waits for
 * the database.
 */
export class CallRecords {
  private readonly db: Kysely<Database>;
  /** This media-server's node id, kept on each call so a restart closes only its own calls. */
  private readonly nodeId: string | null;
  private readonly unwrittenCalls = new Map<string, UnwrittenCall>();
  private readonly unwrittenLegs = new Map<string, UnwrittenLeg>();
  /** The call of each leg of a call not ended yet, so that a leg's writes queue behind its call's. */
  private readonly callOfLeg = new Map<string, string>();
  /** The other way round: each open call's legs, so that a call's writes never scan every call's legs (1,000 calls at once). */
  private readonly legsOfCall = new Map<string, Set<string>>();
  /** Calls started and not ended: their legs that have not answered wait in memory for the call's end. */
  private readonly open = new Set<string>();
  /** The account of each open call, for the event of its end. */
  private readonly accountOfCall = new Map<string, string>();
  /** The tail of each call's queue of writes. */
  private readonly queues = new Map<string, Promise<unknown>>();

  private readonly ringingWriteDelayMs: number;
  private readonly onError: (err: unknown) => void;
  private readonly onEnded: (call: EndedCall) => void;

  /**
   * `onEnded`: told once a call's end is written (its row and its legs'), so
   * that readers of the rows (missed-call e-mails) start from a complete record.
   */
  constructor(db: Kysely<Database>, nodeId: string | null = null, options: { ringingWriteDelayMs?: number; onError?: (err: unknown) => void; onEnded?: (call: EndedCall) => void } = {}) {
    this.db = db;
    this.nodeId = nodeId;
    this.ringingWriteDelayMs = options.ringingWriteDelayMs ?? RINGING_WRITE_DELAY_MS;
    this.onError = options.onError ?? (() => undefined);
    this.onEnded = options.onEnded ?? (() => undefined);
  }

  /** Calls whose end is not written yet (started here, or a transfer's new segment): zero once every call's record is complete. */
  get openCalls(): number {
    return this.open.size;
  }

  /**
   * The call and its caller's leg, kept in memory: written with the answer or the end, or as ringing once
   * `RINGING_WRITE_DELAY_MS` has passed without either.
   */
  startCallWithLeg(c: NewCall, leg: NewLeg): Promise<{ callId: string; legId: string }> {
    const id = this.keepCall(c);
    return Promise.resolve({ callId: id, legId: this.keepLeg(id, c.accountId, leg) });
  }

  /** A call no caller started (an originated call: a queue's callback), with no leg yet: its legs are its dial-outs. Kept in memory like any call. */
  startCall(c: NewCall): Promise<string> {
    return Promise.resolve(this.keepCall(c));
  }

  /** A new call kept in memory, written with its answer or end, or as ringing after `ringingWriteDelayMs`; its id. */
  private keepCall(c: NewCall): string {
    // The first segment of a session names it.
    const id = randomUUID();
    const call: UnwrittenCall = { ...c, id, startedAt: new Date(), answeredAt: null, endedAt: null, result: null, hangupBy: null, timer: null };
    this.unwrittenCalls.set(id, call);
    this.open.add(id);
    this.accountOfCall.set(id, c.accountId);
    call.timer = setTimeout(() => {
      call.timer = null;
      this.serial([id], () => this.writeRinging(id)).catch(this.onError);
    }, this.ringingWriteDelayMs);
    call.timer.unref();
    return id;
  }

  /** A call still ringing: the call and its caller's leg (the callee's ringing legs wait for the answer or the end). */
  private async writeRinging(callId: string): Promise<void> {
    const call = this.takeUnwrittenCall(callId);
    if (!call) return;
    const callerLegs = this.unwrittenLegsOf(callId).filter((l) => l.role === 'caller');
    await this.execute([this.insertCall(call), this.insertLegs(callerLegs)]);
    this.unwrittenCalls.delete(callId);
    for (const l of callerLegs) this.unwrittenLegs.delete(l.id);
  }

  /** The row of a call kept in memory, to write first in the call's next statement; null once written. */
  private takeUnwrittenCall(callId: string): UnwrittenCall | null {
    const call = this.unwrittenCalls.get(callId);
    if (!call) return null;
    if (call.timer) clearTimeout(call.timer);
    call.timer = null;
    return call;
  }

  /** A new leg of a call (a callee's device, a transfer target): written with its call's next write. */
  addLeg(l: NewLeg & { callId: string; accountId: string }): Promise<string> {
    const id = this.keepLeg(l.callId, l.accountId, l);
    // A leg added to a call already ended (or one this node did not start) is written now.
    if (!this.open.has(l.callId)) return this.serial([l.callId], () => this.writeLegsNow([id])).then(() => id);
    return Promise.resolve(id);
  }

  /**
   * The answer: the call's time (and who answered) and each answered leg's codec, in one statement.
   * `keepCallAnswer`: a leg that joins a call already answered (a page's receiver, a dial-out into a
   * room) leaves the call's answer time as it was.
   */
  answered(callId: string, legs: { id: string; codec: string }[], calleeExtensionId?: string | null, options: { keepCallAnswer?: boolean } = {}): Promise<void> {
    const now = new Date();
    return this.serial([callId], async () => {
      const written: { id: string; codec: string }[] = [];
      for (const l of legs) {
        const leg = this.unwrittenLegs.get(l.id);
        if (leg) {
          leg.answeredAt = now;
          leg.codec = l.codec;
        } else written.push(l);
      }
      // The legs that answered go in now; those still ringing wait for the end.
      const answeredLegs = this.unwrittenLegsOf(callId).filter((l) => l.answeredAt || l.endedAt);
      const unwritten = this.takeUnwrittenCall(callId);
      if (unwritten) {
        unwritten.answeredAt ??= now;
        if (calleeExtensionId) unwritten.calleeExtensionId = calleeExtensionId;
      }
      await this.execute([
        unwritten
          ? this.insertCall(unwritten)
          : sql`UPDATE calls SET answered_at = ${options.keepCallAnswer ? sql`COALESCE(answered_at, ${now})` : now}, callee_extension_id = COALESCE(${calleeExtensionId ?? null}::uuid, callee_extension_id) WHERE id = ${callId}`,
        this.insertLegs(answeredLegs),
        written.length
          ? sql`UPDATE call_legs AS l SET answered_at = ${now}, codec = v.codec
              FROM (VALUES ${sql.join(written.map((l) => sql`(${l.id}::uuid, ${l.codec})`))}) AS v(id, codec) WHERE l.id = v.id`
          : null,
      ]);
      if (unwritten) this.unwrittenCalls.delete(callId);
      for (const l of answeredLegs) this.unwrittenLegs.delete(l.id);
    });
  }

  /**
   * The end: each leg's result and RTP figures, then the call's result and duration counted from
   * the answer, as a call log shows it; in one statement, once (a leg or call already ended keeps
   * what it had).
   */
  ended(callId: string, result: CallResult, hangupBy: string | null, legs: { id: string; result: string; rtpStats?: Record<string, unknown> | undefined }[]): Promise<void> {
    const now = new Date();
    return this.serial([callId], async () => {
      const written: typeof legs = [];
      for (const l of legs) {
        const leg = this.unwrittenLegs.get(l.id);
        if (leg) this.endInMemory(leg, now, l.result, l.rtpStats);
        else written.push(l);
      }
      // A leg still ringing when its call ends (a fork nobody answered) ends with it.
      const unwritten = this.unwrittenLegsOf(callId);
      for (const leg of unwritten) if (!leg.endedAt) this.endInMemory(leg, now, leg.answeredAt ? result : 'cancelled');
      // A call never written (it did not ring long, nor answer) goes in whole: the call, then its legs.
      const call = this.takeUnwrittenCall(callId);
      if (call) {
        call.endedAt = now;
        call.result = result;
        call.hangupBy = hangupBy;
      }
      const accountId = this.accountOfCall.get(callId);
      try {
        await this.execute([
          call ? this.insertCall(call) : null,
          this.insertLegs(unwritten),
          written.length
            ? sql`UPDATE call_legs AS l SET ended_at = ${now}, result = v.result, rtp_stats = COALESCE(v.stats::jsonb, l.rtp_stats)
                FROM (VALUES ${sql.join(written.map((l) => sql`(${l.id}::uuid, ${l.result}, ${l.rtpStats ? JSON.stringify(l.rtpStats) : null}::text)`))}) AS v(id, result, stats)
                WHERE l.id = v.id AND l.ended_at IS NULL`
            : null,
          call
            ? null
            : sql`UPDATE calls SET ended_at = ${now}, result = ${result}, hangup_by = ${hangupBy},
            duration_seconds = CASE WHEN answered_at IS NULL THEN 0 ELSE round(extract(epoch FROM (${now}::timestamptz - answered_at)))::int END
            WHERE id = ${callId} AND ended_at IS NULL`,
        ]);
        if (accountId) this.onEnded({ accountId, callId });
      } finally {
        // Once, whatever the database said: a record that could not be written is not kept forever.
        this.forgetCall(callId);
      }
    });
  }

  /**
   * A transfer: the segments the transferor was in end (transferred, hung up
   * by the transferor's end), and a new answered segment starts, in the same
   * session, between the parties now talking; `legIds` (the transfer target's
   * leg) move to it. Returns the new segment's id.
   */
  transferred(t: { ended: { segment: string; hangupBy: 'caller' | 'callee' }[]; from: SegmentParty; to: SegmentParty; legIds: string[] }): Promise<string> {
    const involved = [...new Set([...t.ended.map((e) => e.segment), ...t.legIds.map((id) => this.callOfLeg.get(id)).filter((id): id is string => id !== undefined)])];
    return this.serial(involved, async () => {
      // What the transfer moves must be in the database first: every leg kept of the segments (their
      // ends are written by UPDATE from now on).
      const segments = new Set(t.ended.map((e) => e.segment));
      const legs = [...this.unwrittenLegs.values()].filter((l) => segments.has(l.callId) || t.legIds.includes(l.id));
      const calls = [...new Set([...involved, ...legs.map((l) => l.callId)])].map((id) => this.takeUnwrittenCall(id)).filter((c): c is UnwrittenCall => c !== null);
      await this.execute([...calls.map((c) => this.insertCall(c)), this.insertLegs(legs)]);
      for (const c of calls) this.unwrittenCalls.delete(c.id);
      for (const l of legs) this.unwrittenLegs.delete(l.id);
      const next = await this.transferInDatabase(t);
      // The new segment is open; the legs of the old ones and the moved legs queue behind it.
      const accountId = this.accountOfCall.get(t.ended[0]!.segment);
      for (const id of segments) {
        this.open.delete(id);
        this.accountOfCall.delete(id);
      }
      this.open.add(next);
      if (accountId) this.accountOfCall.set(next, accountId);
      for (const id of segments) {
        for (const legId of [...(this.legsOfCall.get(id) ?? [])]) this.linkLeg(legId, next);
        this.legsOfCall.delete(id);
      }
      for (const id of t.legIds) this.linkLeg(id, next);
      // The segments are written ended ('transferred'): told like any call's end, so that whoever a
      // segment rang and missed (a group member, the user a forwarded call was for) hears of it.
      if (accountId) for (const id of segments) this.onEnded({ accountId, callId: id });
      return next;
    });
  }

  private transferInDatabase(t: { ended: { segment: string; hangupBy: 'caller' | 'callee' }[]; from: SegmentParty; to: SegmentParty; legIds: string[] }): Promise<string> {
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

  legAnswered(legId: string, codec: string): Promise<void> {
    const now = new Date();
    const callId = this.callOfLeg.get(legId);
    return this.serial(callId ? [callId] : [], async () => {
      const leg = this.unwrittenLegs.get(legId);
      if (!leg) {
        await this.db.updateTable('call_legs').set({ answered_at: now, codec }).where('id', '=', legId).execute();
        return;
      }
      leg.answeredAt = now;
      leg.codec = codec;
      // A leg that answers in a call already answered (a transfer's target) goes in now.
      await this.writeLegsNow([legId]);
    });
  }

  legEnded(legId: string, result: string, rtpStats?: Record<string, unknown>): Promise<void> {
    const now = new Date();
    const callId = this.callOfLeg.get(legId);
    return this.serial(callId ? [callId] : [], async () => {
      const leg = this.unwrittenLegs.get(legId);
      if (!leg) {
        await this.db
          .updateTable('call_legs')
          .set({ ended_at: now, result, ...(rtpStats ? { rtp_stats: JSON.stringify(rtpStats) } : {}) })
          .where('id', '=', legId)
          .where('ended_at', 'is', null)
          .execute();
        return;
      }
      if (!leg.endedAt) this.endInMemory(leg, now, result, rtpStats);
      // Kept for the call's end while it is open; written now otherwise.
      if (!this.open.has(leg.callId)) await this.writeLegsNow([legId]);
    });
  }

  callAnswered(callId: string, calleeExtensionId?: string | null): Promise<void> {
    return this.answered(callId, [], calleeExtensionId);
  }

  async recordingStarted(r: { accountId: string; callId: string; path: string; startedByExtensionId: string | null }): Promise<string> {
    // The recording refers to the call's row: written first if it is still in memory.
    await this.serial([r.callId], () => this.writeRinging(r.callId));
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

  // ---- Memory and statements ------------------------------------------------

  private keepLeg(callId: string, accountId: string, leg: NewLeg): string {
    const id = randomUUID();
    this.unwrittenLegs.set(id, { ...leg, id, callId, accountId, startedAt: new Date(), answeredAt: null, codec: null, endedAt: null, result: null, rtpStats: null });
    this.linkLeg(id, callId);
    return id;
  }

  private unwrittenLegsOf(callId: string): UnwrittenLeg[] {
    const legs: UnwrittenLeg[] = [];
    for (const id of this.legsOfCall.get(callId) ?? []) {
      const leg = this.unwrittenLegs.get(id);
      if (leg?.callId === callId) legs.push(leg);
    }
    return legs;
  }

  /** Files a leg under its call (a transfer moves it to the new segment). */
  private linkLeg(legId: string, callId: string): void {
    const before = this.callOfLeg.get(legId);
    if (before !== undefined) this.legsOfCall.get(before)?.delete(legId);
    this.callOfLeg.set(legId, callId);
    let legs = this.legsOfCall.get(callId);
    if (!legs) this.legsOfCall.set(callId, (legs = new Set()));
    legs.add(legId);
  }

  private endInMemory(leg: UnwrittenLeg, at: Date, result: string, rtpStats?: Record<string, unknown>): void {
    leg.endedAt = at;
    leg.result = result;
    if (rtpStats) leg.rtpStats = rtpStats;
  }

  private async writeLegsNow(ids: string[]): Promise<void> {
    const legs = ids.map((id) => this.unwrittenLegs.get(id)).filter((l): l is UnwrittenLeg => l !== undefined);
    // A leg refers to its call's row: the call goes first if it is still in memory.
    const calls = [...new Set(legs.map((l) => l.callId))].map((id) => this.takeUnwrittenCall(id)).filter((c): c is UnwrittenCall => c !== null);
    await this.execute([...calls.map((c) => this.insertCall(c)), this.insertLegs(legs)]);
    for (const c of calls) this.unwrittenCalls.delete(c.id);
    for (const l of legs) this.unwrittenLegs.delete(l.id);
  }

  /** Drops what is kept of a call once its end is written. */
  private forgetCall(callId: string): void {
    this.open.delete(callId);
    this.accountOfCall.delete(callId);
    this.takeUnwrittenCall(callId);
    this.unwrittenCalls.delete(callId);
    for (const legId of this.legsOfCall.get(callId) ?? []) {
      this.callOfLeg.delete(legId);
      this.unwrittenLegs.delete(legId);
    }
    this.legsOfCall.delete(callId);
  }

  /** The call's row as known so far: ringing, answered, or complete with its result and its duration from the answer. */
  private insertCall(c: UnwrittenCall) {
    const duration = c.endedAt ? (c.answeredAt ? Math.round((c.endedAt.getTime() - c.answeredAt.getTime()) / 1000) : 0) : null;
    return sql`INSERT INTO calls (id, session_id, account_id, sip_call_id, direction, from_number, from_name, to_number, caller_extension_id, callee_extension_id, emergency, media_node_id, started_at, answered_at, ended_at, result, hangup_by, duration_seconds)
      VALUES (${c.id}, ${c.id}, ${c.accountId}, ${c.sipCallId}, ${c.direction}, ${c.fromNumber}, ${c.fromName}, ${c.toNumber}, ${c.callerExtensionId}, ${c.calleeExtensionId}, ${c.emergency}, ${this.nodeId}, ${c.startedAt}, ${c.answeredAt}, ${c.endedAt}, ${c.result}, ${c.hangupBy}, ${duration})`;
  }

  private insertLegs(legs: UnwrittenLeg[]) {
    if (!legs.length) return null;
    return sql`INSERT INTO call_legs (id, call_id, account_id, role, endpoint, device_id, sip_call_id, remote_uri, codec, started_at, answered_at, ended_at, result, rtp_stats)
      VALUES ${sql.join(
        legs.map(
          (l) => sql`(${l.id}, ${l.callId}, ${l.accountId}, ${l.role}, ${l.endpoint}, ${l.deviceId}, ${l.sipCallId}, ${l.remoteUri}, ${l.codec}, ${l.startedAt}, ${l.answeredAt}, ${l.endedAt}, ${l.result}, ${l.rtpStats ? JSON.stringify(l.rtpStats) : null}::jsonb)`,
        ),
      )}`;
  }

  /**
   * Runs the parts as one statement: each but the last as a data-modifying WITH query (all of them
   * run, referenced or not, and the foreign keys between them are checked at the statement's end).
   * Writes of different calls share a statement when they wait together: while
   * `MAX_WRITES_IN_FLIGHT` statements are out, the next writes queue and go as one (each query costs
   * the main thread a `writev` of ~100-170 µs on a VM, more than the rest of a call's record). At a
   * low rate nothing waits, so each write is its own statement, sent at once.
   */
  private execute(parts: (RawBuilder<unknown> | null)[]): Promise<void> {
    const present = parts.filter((p): p is RawBuilder<unknown> => p !== null);
    if (!present.length) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.push({ parts: present, resolve, reject });
      this.sendWaiting();
    });
  }

  private readonly waiting: PendingWrite[] = [];
  private writesInFlight = 0;

  private sendWaiting(): void {
    while (this.writesInFlight < MAX_WRITES_IN_FLIGHT && this.waiting.length) {
      const group = this.waiting.splice(0, MAX_WRITES_PER_STATEMENT);
      this.writesInFlight++;
      void this.runGroup(group).finally(() => {
        this.writesInFlight--;
        this.sendWaiting();
      });
    }
  }

  /** One statement for the group; if it fails, each write again on its own, so that one bad record does not lose the others. */
  private async runGroup(group: PendingWrite[]): Promise<void> {
    try {
      await this.statement(group.flatMap((w) => w.parts));
      for (const w of group) w.resolve();
      return;
    } catch (err) {
      if (group.length === 1) {
        group[0]!.reject(err);
        return;
      }
    }
    await Promise.all(group.map((w) => this.statement(w.parts).then(w.resolve, w.reject)));
  }

  private async statement(parts: RawBuilder<unknown>[]): Promise<void> {
    const last = parts[parts.length - 1]!;
    const withs = parts.slice(0, -1).map((p, i) => sql`${sql.raw(`w${i}`)} AS (${p})`);
    await (withs.length ? sql`WITH ${sql.join(withs)} ${last}` : last).execute(this.db);
  }

  /** Runs `write` after the writes already queued for these calls, and queues the next ones after it. */
  private serial<T>(callIds: string[], write: () => Promise<T>): Promise<T> {
    const before = Promise.all(callIds.map((id) => this.queues.get(id)));
    const result = before.then(write);
    const tail = result.catch(() => undefined);
    for (const id of callIds) this.queues.set(id, tail);
    void tail.then(() => {
      for (const id of callIds) if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return result;
  }
}
