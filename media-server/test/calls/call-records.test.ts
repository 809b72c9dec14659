import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { createAccount } from '@carillon/core';
import type { Db } from '@carillon/db';
import { CallRecords, type NewCall, type NewLeg } from '../../src/calls/call-records.ts';
import { closeCallsLeftOpen } from '../../src/calls/calls-left-open.ts';
import { freshDb } from '../../../tests/support/env.ts';

/**
 * Call records on a real (PGlite) database: a call is kept in memory while it
 * rings and written at its answer and its end (at most two statements), a
 * call that never connects is written whole at its end (one), and a call that
 * rings past the delay shows as ringing, so a crash leaves a row that the
 * node's next start closes.
 */
class CountStatements implements KyselyPlugin {
  count = 0;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.count++;
    return args.node;
  }
  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result);
  }
}

let db: Db;
let accountId: string;
const counter = new CountStatements();
const NODE = 'node-records-test';

beforeAll(async () => {
  db = await freshDb();
  accountId = (await createAccount(db, { company: 'CDR Co', email: `cdr-${randomBytes(3).toString('hex')}@x.test`, mainNumber: '+14155550142' }, { activationTtlHours: 1 })).accountId;
});

const records = (ringingWriteDelayMs = 60_000) => new CallRecords(db.withPlugin(counter), NODE, { ringingWriteDelayMs });
const newCall = (): NewCall => ({
  accountId,
  sipCallId: randomUUID(),
  direction: 'internal',
  fromNumber: '101',
  fromName: 'Ann',
  toNumber: '102',
  callerExtensionId: null,
  calleeExtensionId: null,
  emergency: false,
});
const leg = (role: NewLeg['role']): NewLeg => ({ role, endpoint: 'sip', deviceId: null, sipCallId: randomUUID(), remoteUri: null });
const row = (id: string) => db.selectFrom('calls').selectAll().where('id', '=', id).executeTakeFirst();
const legsOf = (id: string) => db.selectFrom('call_legs').select(['role', 'result', 'codec', 'answered_at', 'ended_at']).where('call_id', '=', id).orderBy('role').orderBy('result').execute();

async function until(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('call records', () => {
  it('writes an answered call at its answer and its end: two statements', async () => {
    const r = records();
    const start = counter.count;
    const { callId, legId } = await r.startCallWithLeg(newCall(), leg('caller'));
    const callee = await r.addLeg({ ...leg('callee'), callId, accountId });
    const cancelledFork = await r.addLeg({ ...leg('callee'), callId, accountId });
    await r.legEnded(cancelledFork, 'cancelled');
    expect(counter.count - start, 'nothing written while the call rings').toBe(0);
    await r.answered(callId, [{ id: callee, codec: 'PCMU' }, { id: legId, codec: 'PCMU' }]);
    const answered = await row(callId);
    expect(answered).toMatchObject({ answered_at: expect.any(Date), ended_at: null, result: null, media_node_id: NODE });
    // The legs that answered, and the fork already cancelled; the call is live in the log from here.
    expect((await legsOf(callId)).map((l) => [l.role, l.codec, l.result])).toEqual([
      ['callee', null, 'cancelled'],
      ['callee', 'PCMU', null],
      ['caller', 'PCMU', null],
    ]);
    await r.ended(callId, 'answered', 'caller', [{ id: legId, result: 'answered', rtpStats: { received: 5 } }, { id: callee, result: 'answered' }]);
    expect(counter.count - start, 'statements for the call').toBe(2);
    const ended = await row(callId);
    expect(ended).toMatchObject({ result: 'answered', hangup_by: 'caller', duration_seconds: 0, ended_at: expect.any(Date) });
    expect((await legsOf(callId)).map((l) => [l.role, l.result])).toEqual([
      ['callee', 'answered'],
      ['callee', 'cancelled'],
      ['caller', 'answered'],
    ]);
    expect(r.openCalls).toBe(0);
  });

  it('writes a call that never connects whole at its end: one statement, its ringing forks cancelled', async () => {
    const r = records();
    const start = counter.count;
    const { callId, legId } = await r.startCallWithLeg(newCall(), leg('caller'));
    await r.addLeg({ ...leg('callee'), callId, accountId });
    await r.ended(callId, 'cancelled', 'caller', [{ id: legId, result: 'cancelled' }]);
    expect(counter.count - start).toBe(1);
    expect(await row(callId)).toMatchObject({ result: 'cancelled', hangup_by: 'caller', answered_at: null, duration_seconds: 0, media_node_id: NODE });
    expect((await legsOf(callId)).map((l) => [l.role, l.result])).toEqual([
      ['callee', 'cancelled'],
      ['caller', 'cancelled'],
    ]);

    const rejected = await r.startCallWithLeg(newCall(), leg('caller'));
    await r.ended(rejected.callId, 'busy', null, [{ id: rejected.legId, result: 'busy' }]);
    expect(await row(rejected.callId)).toMatchObject({ result: 'busy', hangup_by: null, duration_seconds: 0 });
  });

  it('shows a call still ringing after the delay, and a crash leaves a row the next start closes', async () => {
    const r = records(50);
    const { callId } = await r.startCallWithLeg(newCall(), leg('caller'));
    await r.addLeg({ ...leg('callee'), callId, accountId });
    await until('the ringing call written', async () => (await row(callId)) !== undefined);
    expect(await row(callId)).toMatchObject({ answered_at: null, ended_at: null, result: null });
    expect((await legsOf(callId)).map((l) => l.role), 'the caller leg only: the callee rings in memory').toEqual(['caller']);
    // The node dies here; its next start closes what it left open.
    expect(await closeCallsLeftOpen(db, NODE)).toBe(1);
    expect(await row(callId)).toMatchObject({ result: 'failed', ended_at: expect.any(Date) });
    expect((await legsOf(callId)).map((l) => l.result)).toEqual(['interrupted']);
  });

  it('completes a call written as ringing at its answer and its end', async () => {
    const r = records(20);
    const { callId, legId } = await r.startCallWithLeg(newCall(), leg('caller'));
    const callee = await r.addLeg({ ...leg('callee'), callId, accountId });
    await until('the ringing call written', async () => (await row(callId)) !== undefined);
    await r.answered(callId, [{ id: callee, codec: 'opus' }, { id: legId, codec: 'opus' }]);
    await r.ended(callId, 'answered', 'callee', [{ id: legId, result: 'answered' }, { id: callee, result: 'answered' }]);
    expect(await row(callId)).toMatchObject({ result: 'answered', hangup_by: 'callee', answered_at: expect.any(Date) });
    expect((await legsOf(callId)).map((l) => [l.role, l.codec, l.result])).toEqual([
      ['callee', 'opus', 'answered'],
      ['caller', 'opus', 'answered'],
    ]);
  });

  it('writes the call first when a recording refers to it', async () => {
    const r = records();
    const { callId, legId } = await r.startCallWithLeg(newCall(), leg('caller'));
    const id = await r.recordingStarted({ accountId, callId, path: '/tmp/x.wav', startedByExtensionId: null });
    expect(await db.selectFrom('recordings').select('call_id').where('id', '=', id).executeTakeFirst()).toEqual({ call_id: callId });
    await r.ended(callId, 'answered', 'caller', [{ id: legId, result: 'answered' }]);
    expect(await row(callId)).toMatchObject({ result: 'answered' });
  });

  it('writes the records of calls that end together in shared statements', async () => {
    const r = records();
    const calls = await Promise.all(Array.from({ length: 30 }, () => r.startCallWithLeg(newCall(), leg('caller'))));
    const start = counter.count;
    await Promise.all(calls.map((c) => r.ended(c.callId, 'cancelled', 'caller', [{ id: c.legId, result: 'cancelled' }])));
    // Two statements went at once; the 28 other writes waited for them and went together.
    expect(counter.count - start, 'statements').toBe(3);
    const rows = await db.selectFrom('calls').select('result').where('id', 'in', calls.map((c) => c.callId)).execute();
    expect(rows.map((x) => x.result)).toEqual(calls.map(() => 'cancelled'));
    expect(await db.selectFrom('call_legs').select('id').where('call_id', 'in', calls.map((c) => c.callId)).execute()).toHaveLength(calls.length);
    expect(r.openCalls).toBe(0);
  });

  it('does not lose the records that share a statement with one that cannot be written', async () => {
    const r = records();
    const calls = await Promise.all(Array.from({ length: 10 }, () => r.startCallWithLeg(newCall(), leg('caller'))));
    // A call of an account that does not exist: its row cannot be written.
    const bad = await r.startCallWithLeg({ ...newCall(), accountId: randomUUID() }, leg('caller'));
    const all = [calls[0]!, calls[1]!, bad, ...calls.slice(2)];
    const outcomes = await Promise.allSettled(all.map((c) => r.ended(c.callId, 'busy', null, [{ id: c.legId, result: 'busy' }])));
    expect(outcomes.map((o) => o.status)).toEqual(all.map((c) => (c === bad ? 'rejected' : 'fulfilled')));
    const rows = await db.selectFrom('calls').select('result').where('id', 'in', calls.map((c) => c.callId)).execute();
    expect(rows.map((x) => x.result)).toEqual(calls.map(() => 'busy'));
    expect(await row(bad.callId)).toBeUndefined();
    expect(r.openCalls).toBe(0);
  });

  it('tells onEnded once per call, after its end is written, never for an end that could not be written', async () => {
    const told: { accountId: string; callId: string; endedInDatabase: Promise<boolean> }[] = [];
    const r = new CallRecords(db, NODE, { ringingWriteDelayMs: 60_000, onEnded: (c) => told.push({ ...c, endedInDatabase: row(c.callId).then((x) => x?.ended_at != null) }) });
    const answered = await r.startCallWithLeg(newCall(), leg('caller'));
    await r.answered(answered.callId, [{ id: answered.legId, codec: 'PCMA' }]);
    expect(told).toEqual([]);
    await r.ended(answered.callId, 'answered', 'caller', [{ id: answered.legId, result: 'answered' }]);
    const never = await r.startCallWithLeg(newCall(), leg('caller'));
    await r.ended(never.callId, 'cancelled', 'caller', [{ id: never.legId, result: 'cancelled' }]);
    // An end written twice (a late BYE) is told once.
    await r.ended(never.callId, 'cancelled', 'caller', []);
    const bad = await r.startCallWithLeg({ ...newCall(), accountId: randomUUID() }, leg('caller'));
    await expect(r.ended(bad.callId, 'busy', null, [{ id: bad.legId, result: 'busy' }])).rejects.toThrow();
    expect(told.map(({ accountId: a, callId }) => ({ accountId: a, callId }))).toEqual([
      { accountId, callId: answered.callId },
      { accountId, callId: never.callId },
    ]);
    expect(await Promise.all(told.map((t) => t.endedInDatabase))).toEqual([true, true]);
  });

  it('tells onEnded of the segments a transfer ends, once written, and of the new segment at its own end', async () => {
    const told: { callId: string; result: Promise<string | null | undefined> }[] = [];
    const r = new CallRecords(db, NODE, { ringingWriteDelayMs: 60_000, onEnded: (c) => told.push({ callId: c.callId, result: row(c.callId).then((x) => x?.result) }) });
    const first = await r.startCallWithLeg(newCall(), leg('caller'));
    const callee = await r.addLeg({ ...leg('callee'), callId: first.callId, accountId });
    await r.answered(first.callId, [{ id: callee, codec: 'PCMU' }]);
    const next = await r.transferred({ ended: [{ segment: first.callId, hangupBy: 'callee' }], from: { segment: first.callId, end: 'from' }, to: { number: '103', name: null, extensionId: null }, legIds: [] });
    expect(told.map((t) => t.callId)).toEqual([first.callId]);
    await r.ended(next, 'answered', 'caller', [{ id: first.legId, result: 'answered' }]);
    expect(told.map((t) => t.callId)).toEqual([first.callId, next]);
    expect(await Promise.all(told.map((t) => t.result))).toEqual(['transferred', 'answered']);
  });
});
