import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, type SippRun } from '../support/sipp.ts';

/**
 * A call in steady state (the caller's credentials and the account's routing
 * configuration already in memory) reads nothing from the database and writes
 * only its record (issue 19, deliverable 7 and its benchmark).
 */
let h: EdgeHarness;
let caller: TestPhone;
let callee: TestPhone;
const running: SippRun[] = [];

beforeAll(async () => {
  h = await startEdge();
  caller = await h.addPhone('101');
  callee = await h.addPhone('102');
});
afterAll(() => h?.stop());
afterEach(() => {
  for (const r of running.splice(0)) r.stop();
});

/** Places `calls` answered calls; `registered` runs once the callee's phone has registered, before the first INVITE. */
async function answeredCalls(calls: number, registered: () => void = () => undefined): Promise<void> {
  const before = h.ended.length;
  const phone = await startRegisteredSipp({ target: h.target, credentials: callee, scenario: 'uas-answer.xml', calls });
  running.push(phone);
  registered();
  const uac = await runSipp({ scenario: 'uac-call.xml', target: h.target, localPort: await freeSipPort(), service: '102', auth: caller, calls, timeoutSeconds: 60, extra: ['-mp', String(await freeMediaPort())] });
  expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
  expect((await phone.done).code).toBe(0);
  await h.waitForEnded(before + calls, 30_000);
  // The records are written once the call has ended: wait for the last one.
  await h.lastCall();
}

const snapshot = () => ({ ...h.statements, selectsFrom: { ...h.statements.selectsFrom }, writesTo: { ...h.statements.writesTo } });

describe('database statements per call', () => {
  it('reads nothing and writes only the call record once the credentials and the configuration are cached', async () => {
    // The first call loads the caller's credentials and the account's configuration.
    await answeredCalls(1);
    let before = snapshot();
    const calls = 3;
    // From the callee's REGISTER on (a REGISTER is not a call), to the last call's record.
    await answeredCalls(calls, () => (before = snapshot()));
    const writes = h.statements.write - before.write;
    const writesTo = Object.fromEntries(Object.entries(h.statements.writesTo).filter(([table, n]) => n > (before.writesTo[table] ?? 0)).map(([table]) => [table, true]));
    const reads = Object.fromEntries(
      Object.entries(h.statements.selectsFrom)
        .map(([table, n]) => [table, n - (before.selectsFrom[table] ?? 0)] as const)
        // The carriers' addresses are reloaded every 5 s by a timer, whatever the calls (calls/trunk-directory.ts).
        .filter(([table, n]) => n > 0 && table !== 'sip_trunks'),
    );
    expect(reads, 'tables read by steady-state calls').toEqual({});
    // Only the call's record: the call and its legs, kept in memory while the call rings and written at its answer
    // and its end (calls/call-records.ts).
    expect(writesTo, 'tables written by steady-state calls').toEqual({ calls: true, call_legs: true });
    expect(writes / calls, 'writes per call').toBeLessThanOrEqual(2);
    expect(writes).toBeGreaterThan(0);
    const rows = await h.db.selectFrom('calls').select('result').where('account_id', '=', h.accountId).execute();
    expect(rows.filter((r) => r.result === 'answered')).toHaveLength(calls + 1);
  }, 120_000);
});
