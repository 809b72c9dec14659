import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, type SippRun } from '../support/sipp.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { liveCounts } from '../../src/health.ts';
import { presenceKey } from '@carillon/contracts/presence';

/**
 * Races between a call's start and its end, driven by SIPp against a live edge:
 * whatever step the call is at when it ends, nothing of it may outlive it.
 */
let h: EdgeHarness;
let caller: TestPhone;
let callee: TestPhone;

beforeAll(async () => {
  // A long no-answer timer: a callee INVITE that nobody cancels stays visible until the test looks.
  // Session timers at 3 ms a second (a refresh due 0.9 s after the answer for Session-Expires 600) and the glare
  // retry in 2 ms units (0 to 0.4 s): the glare scenario runs in a second or two per call, with the RFC's ratios.
  h = await startEdge({ noAnswerSeconds: 120, session: { secondMs: 3, glareUnitMs: 2 } });
  caller = await h.addPhone('101');
  callee = await h.addPhone('102');
});
afterAll(() => h?.stop());
const peers: SippRun[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.stop();
});

/**
 * No extension of this test's account is on a call in presence. Only this account's fields: every test
 * edge is node 'test', and the edges of other test files running meanwhile share that Redis hash.
 */
async function presenceEmpty(): Promise<boolean> {
  return Object.keys(await h.redis.hgetall(presenceKey('test'))).every((field) => !field.startsWith(`${h.accountId}:`));
}

async function until(what: string, condition: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const live = () => liveCounts(h.edge.calls, h.media);
const nothingLive = () => Object.values(live()).every((n) => n === 0);
const count = (logs: string, word: string) => logs.split('\n').filter((l) => l.startsWith(`${word} `)).length;

/**
 * `calls` calls from the caller's SIPp scenario to 102, whose phone runs `calleeScenario`, then the checks every
 * race shares once SIPp is done: the scenario passed, nothing is live (the counts the node's heartbeat carries),
 * no extension is left ringing or on a call in presence, and each call has one record with its result written.
 * `beforeSettled` looks at the phones before the checks (what the callee saw). Returns the records and the runs.
 */
async function raceCalls(o: {
  calleeScenario: string;
  callerScenario: string;
  calls: number;
  rate: number;
  limit: number;
  timeoutSeconds?: number;
  /** The caller's RTP port (`-mp`), for scenarios that play or expect media. */
  media?: boolean;
  /** Every call was answered, so each reaches the engine's end event: waited for before the checks. */
  answered?: boolean;
  beforeSettled?: (runs: { phone: SippRun; uac: Awaited<ReturnType<typeof runSipp>> }) => Promise<void>;
}): Promise<{ rows: { result: string | null; hangup_by: string | null }[]; ended: number; uacLogs: string }> {
  const startedAt = new Date();
  await h.edge.bindings.removeAll(callee.extensionId);
  const phone = await startRegisteredSipp({ target: h.target, credentials: callee, scenario: o.calleeScenario, calls: 1000 });
  peers.push(phone);
  const before = h.ended.length;
  const uac = await runSipp({
    scenario: o.callerScenario,
    target: h.target,
    localPort: await freeSipPort(),
    service: '102',
    auth: caller,
    calls: o.calls,
    rate: o.rate,
    limit: o.limit,
    timeoutSeconds: o.timeoutSeconds ?? 60,
    ...(o.media ? { extra: ['-mp', String(await freeMediaPort())] } : {}),
  });
  expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
  await o.beforeSettled?.({ phone, uac });
  if (o.answered) await h.waitForEnded(before + o.calls, 30_000);
  await until(`nothing live (now ${JSON.stringify(live())})`, nothingLive);
  await h.edge.presence.flush();
  await until('presence empty', presenceEmpty);
  const records = () => h.db.selectFrom('calls').select(['result', 'hangup_by']).where('account_id', '=', h.accountId).where('started_at', '>=', startedAt).execute();
  await until(`${o.calls} records, all ended`, async () => {
    const rows = await records();
    return rows.length === o.calls && rows.every((r) => r.result !== null);
  });
  return { rows: await records(), ended: h.ended.length - before, uacLogs: uac.logs };
}

describe('a call ended while it starts', () => {
  it('200 calls CANCELled 0 to 5 ms after the INVITE leave no call, leg or bridge, no presence, no uncancelled callee INVITE, and a cancelled record each', async () => {
    const { rows } = await raceCalls({
      calleeScenario: 'uas-wait-cancelled-counted.xml',
      callerScenario: 'uac-cancel-race.xml',
      calls: 200,
      rate: 40,
      limit: 10,
      media: true,
      // Each INVITE that reached the callee was cancelled: one sent after the caller's CANCEL was answered
      // would belong to a call already ended, and nobody would cancel it.
      beforeSettled: ({ phone }) => until('every callee INVITE cancelled', () => count(phone.logsSoFar(), 'cancel') === count(phone.logsSoFar(), 'invite')),
    });
    expect(new Set(rows.map((r) => r.result))).toEqual(new Set(['cancelled']));
    expect(nothingLive()).toBe(true);
  }, 120_000);
});

describe('both sides hang up at once', () => {
  it('200 calls whose BYEs cross end with no call, leg or bridge, no presence, and an answered record each', async () => {
    const { rows, ended } = await raceCalls({ calleeScenario: 'uas-bye-crossing.xml', callerScenario: 'uac-bye-crossing.xml', calls: 200, rate: 40, limit: 10, media: true, answered: true });
    expect(new Set(rows.map((r) => r.result))).toEqual(new Set(['answered']));
    // Each call ended once, from one side.
    expect(ended).toBe(200);
    expect(rows.every((r) => r.hangup_by === 'caller' || r.hangup_by === 'callee')).toBe(true);
  }, 180_000);
});

describe('a re-INVITE crosses a re-INVITE', () => {
  it('calls whose re-INVITEs cross get 491 both ways, the edge retries and succeeds, and each call ends cleanly', async () => {
    // uac-reinvite-glare.xml asks the edge to refresh the session; the edge's refresh and the caller's re-INVITE
    // cross, each side answers the other 491, and the scenario only goes on once the edge's retry arrives.
    const { rows, ended } = await raceCalls({ calleeScenario: 'uas-answer-silent.xml', callerScenario: 'uac-reinvite-glare.xml', calls: 20, rate: 10, limit: 10, timeoutSeconds: 90, media: true, answered: true });
    expect(new Set(rows.map((r) => r.result))).toEqual(new Set(['answered']));
    expect(rows.every((r) => r.hangup_by === 'caller')).toBe(true);
    expect(ended).toBe(20);
  }, 180_000);
});

describe('the callee hangs up before the caller has acknowledged', () => {
  it('our BYE to the caller waits for its ACK (RFC 3261 §15), and each call ends cleanly', async () => {
    // The callee hangs up the moment its 200 is acknowledged; the caller acknowledges ours 400 ms late.
    // The scenario orders it: a BYE before the caller's ACK is a message uac-late-ack.xml does not expect
    // there, and that call fails. Each call got its BYE, after the ACK.
    const { rows, ended, uacLogs } = await raceCalls({ calleeScenario: 'uas-answer-bye-at-once.xml', callerScenario: 'uac-late-ack.xml', calls: 20, rate: 10, limit: 5, answered: true });
    expect(count(uacLogs, 'bye')).toBe(20);
    expect(new Set(rows.map((r) => r.result))).toEqual(new Set(['answered']));
    expect(rows.every((r) => r.hangup_by === 'callee')).toBe(true);
    expect(ended).toBe(20);
  }, 120_000);
});
