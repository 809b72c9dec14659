import type { Kysely } from 'kysely';
import type { CallDirection, CallResult, Database } from '@carillon/db';

/**
 * Call detail records: a row per call and per leg, written as the call
 * moves, so a crash mid-call still leaves what happened up to then. The app
 * reads them for the call log.
 */
export class CallRecords {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async startCall(c: {
    accountId: string;
    sipCallId: string;
    direction: CallDirection;
    fromNumber: string;
    fromName: string | null;
    toNumber: string;
    callerExtensionId: string | null;
    calleeExtensionId: string | null;
    emergency: boolean;
  }): Promise<string> {
    const row = await this.db
      .insertInto('calls')
      .values({
        account_id: c.accountId,
        sip_call_id: c.sipCallId,
        direction: c.direction,
        from_number: c.fromNumber,
        from_name: c.fromName,
        to_number: c.toNumber,
        caller_extension_id: c.callerExtensionId,
        callee_extension_id: c.calleeExtensionId,
        emergency: c.emergency,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
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

  /** Ends the call once; the duration counts from the answer, as a call log shows it. */
  async callEnded(callId: string, result: CallResult, hangupBy: string | null): Promise<void> {
    const call = await this.db.selectFrom('calls').select(['answered_at', 'ended_at']).where('id', '=', callId).executeTakeFirst();
    if (!call || call.ended_at) return;
    const now = new Date();
    const duration = call.answered_at ? Math.round((now.getTime() - new Date(call.answered_at).getTime()) / 1000) : 0;
    await this.db
      .updateTable('calls')
      .set({ ended_at: now, result, duration_seconds: duration, hangup_by: hangupBy })
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
