/**
 * Call setup through the SIP edge: rate and post-dial delay.
 *
 * The edge (SipEdge + MediaEngine, scratch PostgreSQL, real Redis) runs in a
 * child process of its own (bench/support/edge-process.ts). One SIPp, the
 * callee, first registers every device of the called extensions from its own
 * port (register-inf.xml), then answers on that same port every INVITE the
 * edge forks to them (uas-immediate.xml: 180 and 200 at once, then waits for
 * the BYE). Another SIPp, the caller (uac-short.xml), places calls from the
 * caller extensions' devices: INVITE, 407, INVITE with digest, 180, 200, ACK,
 * `--hold-ms` of call, BYE. No RTP is sent (concurrent-calls.ts does media);
 * the edge still anchors every call on a media bridge and writes its CDRs.
 *
 * 1. Post-dial delay at `--pdd-rate` calls/s over `--pdd-seconds`: every
 *    first-INVITE → 180 time (digest round trip included) from SIPp's
 *    -trace_rtt, as p50/p95/p99/max. Target: p99 ≤ 50 ms at 100 calls/s.
 * 2. Setup rate: a ladder of rates, `--step-seconds` each, until one fails.
 *    A step passes when under 0.1% of calls failed or were left unfinished,
 *    the caller was done within 3 s of the expected end, and the edge kept up
 *    (mean INVITE → 180 over the second half under 200 ms); retransmissions
 *    (no answer within 500 ms) are reported apart. Target: ≥ 300 calls/s.
 *
 *   npx node bench/sip-calls.ts [--callers 200] [--callees 200] [--hold-ms 1000] [--pdd-rate 100] [--pdd-seconds 20]
 *                               [--rates 200,300,400,500,600] [--step-seconds 15] [--profile-rate R --profile out.cpuprofile]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freeSipPort } from '../media-server/test/support/sipp.ts';
import {
  cpuBetween,
  cpuPercent,
  cpuSnapshot,
  eluPercent,
  machineNote,
  num,
  percentiles,
  pgTransactions,
  procCpuSeconds,
  readRttFiles,
  sippMs,
  sleep,
  startEdgeProcess,
  startSippBench,
  runUndisturbed,
  waitForQuietMachine,
  writeCallCsvs,
} from './support/sipp-run.ts';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
const CALLERS = Math.min(2000, Number(opt('callers', '200')));
const CALLEES = Math.min(2000, Number(opt('callees', '200')));
const HOLD_MS = Math.min(10_000, Number(opt('hold-ms', '1000')));
const PDD_RATE = Math.min(1000, Number(opt('pdd-rate', '100')));
const PDD_S = Math.min(30, Number(opt('pdd-seconds', '20')));
const RATES = opt('rates', '200,300,400,500,600')
  .split(',')
  .map(Number)
  .filter((r) => r > 0 && r <= 2000);
const STEP_S = Math.min(30, Number(opt('step-seconds', '15')));
const PROFILE_RATE = Number(opt('profile-rate', '0'));
const PROFILE = opt('profile', '/tmp/sip-calls.cpuprofile');
// The load itself stays under 3 minutes; waits for a quiet machine (a shared one) may add to it.
const BUDGET_MS = 170_000;
const WALL_CAP_MS = 330_000;
const benchStart = performance.now();
let loadMs = 0;
const overBudget = (nextMs: number) =>
  loadMs + nextMs > BUDGET_MS || performance.now() - benchStart + nextMs > WALL_CAP_MS;

console.log(`sip-calls: ${machineNote()}`);
console.log(`waiting for a quiet machine (at most 60 s): ${(await waitForQuietMachine()).toFixed(0)}% busy`);
const edge = await startEdgeProcess({
  BENCH_EXTENSIONS: String(CALLERS + CALLEES),
  BENCH_DEVICES_PER: '1',
  BENCH_RTP_MIN: '20000',
  BENCH_RTP_MAX: '29999',
  BENCH_MAX_SECONDS: '300',
});
console.log(
  `edge on 127.0.0.1:${edge.ready.port}, ${edge.ready.db}; both SIPp instances share the same 2 cores`,
);

// Extensions 2000… are callers, the next ones callees; one device each.
const numbers = Object.keys(edge.ready.phones).sort((a, b) => Number(a) - Number(b));
const callers = numbers.slice(0, CALLERS);
const callees = numbers.slice(CALLERS, CALLERS + CALLEES);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-sip-calls-'));
const { callerCsv, calleeCsv } = writeCallCsvs(dir, edge.ready.phones, callers, callees);

const target = `127.0.0.1:${edge.ready.port}`;
const uasPort = await freeSipPort();

interface StepResult {
  rate: number;
  seconds: number;
  offered: number;
  succeeded: number;
  failed: number;
  unfinished: number;
  failurePct: number;
  retransmissions: number;
  pdd: ReturnType<typeof percentiles>;
  setup: ReturnType<typeof percentiles>;
  lateS: number;
  edgeCpuPct: number;
  edgeEluPct: number;
  /** CPU time of the edge's main thread alone per call offered, in µs (not its busy time: a thread waiting for a core is not counted). */
  mainCpuUsPerCall: number;
  uacCpuPct: number;
  uasCpuPct: number;
  redisCpuPct: number;
  pgCpuPct: number;
  otherPct: number;
  machinePct: number;
  endedAnswered: number;
  peakActive: number;
  /** PostgreSQL transactions (autocommit queries) per call, from pg_stat_database. */
  dbQueriesPerCall: number;
  pass: boolean;
  /** Passed, and under 0.5% of calls needed a retransmission. */
  clean: boolean;
  why: string;
  errors: string;
}

let uas: ReturnType<typeof startSippBench> | null = null;
const results: StepResult[] = [];
let pddStep: StepResult | null = null;

const fairStep = (label: string, rate: number, seconds: number, profile?: string): Promise<StepResult> =>
  runUndisturbed(label, () => step(rate, seconds, profile), line);

async function step(rate: number, seconds: number, profile?: string): Promise<StepResult> {
  const offered = rate * seconds;
  const tx0 = edge.ready.dbName ? await pgTransactions(edge.ready.dbName) : NaN;
  const u0 = await edge.usage();
  const c0 = cpuSnapshot();
  const uas0 = uas?.child.pid ? (procCpuSeconds(uas.child.pid) ?? 0) : 0;
  if (profile) await edge.profileStart();
  let rtt = new Map<string, number[]>();
  const expectedS = seconds + HOLD_MS / 1000 + 0.5;
  const caller = startSippBench({
    scenario: 'uac-short.xml',
    target,
    // A fresh port each run: on a shared machine another test may have taken the last one.
    localPort: await freeSipPort(),
    rate,
    calls: offered,
    limit: Math.max(1000, rate * 10),
    timeoutSeconds: Math.ceil(expectedS + 8),
    inf: callerCsv,
    extra: ['-d', String(HOLD_MS), '-trace_rtt', '-rtt_freq', '1'],
    keep: (d) => (rtt = readRttFiles(d)),
  });
  // Peak of calls in progress on the edge, sampled every 500 ms.
  let peakActive = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peakActive = Math.max(peakActive, (await edge.usage()).activeCalls);
      await sleep(500);
    }
  })();
  const run = await caller.done;
  loadMs += run.wallSeconds * 1000;
  sampling = false;
  await sampler;
  if (profile) await edge.profileStop(profile);
  // Let the last calls' CDRs and bridges close before reading the counters.
  await sleep(500);
  const c1 = cpuSnapshot();
  const u1 = await edge.usage();
  const uas1 = uas?.child.pid ? (procCpuSeconds(uas.child.pid) ?? 0) : 0;
  // The statistics collector publishes about once a second.
  await sleep(1100);
  const tx1 = edge.ready.dbName ? await pgTransactions(edge.ready.dbName) : NaN;
  const wall = (c1.at - c0.at) / 1000;
  const last = run.last;
  const succeeded = num(last, 'SuccessfulCall(C)') || 0;
  const failed = num(last, 'FailedCall(C)') || 0;
  const unfinished = Math.max(0, offered - succeeded - failed);
  const failurePct = ((failed + unfinished) / offered) * 100;
  const retransmissions = num(last, 'Retransmissions(C)') || 0;
  // Keeping up means no queue: the mean INVITE → 180 time of the second half of the step stays low.
  const periodic = run.rows
    .slice(1, -1)
    .map((row) => sippMs(row, 'ResponseTime1(P)'))
    .filter((v) => !Number.isNaN(v) && v > 0);
  const secondHalf = periodic.slice(Math.floor(periodic.length / 2));
  const backlogMs = secondHalf.length ? secondHalf.reduce((a, b) => a + b, 0) / secondHalf.length : 0;
  const lateS = Math.max(0, run.wallSeconds - expectedS);
  const cpu = cpuBetween(c0, c1);
  const edgeCpu = cpuPercent(u0, u1);
  const uacCpu = (run.cpuSeconds / run.wallSeconds) * 100;
  const uasCpu = ((uas1 - uas0) / wall) * 100;
  let why = '';
  if (!last) why = `SIPp did not run: ${run.output.trim().split('\n').slice(-2).join(' ').slice(0, 200)}`;
  else if (failurePct >= 0.1) why = `${failurePct.toFixed(2)}% failed or unfinished`;
  else if (lateS > 3) why = `finished ${lateS.toFixed(1)} s late`;
  else if (backlogMs > 200)
    why = `falling behind: INVITE → 180 took ${backlogMs.toFixed(0)} ms in the second half`;
  // Late answers (SIPp resends after 500 ms without one) are reported, not failed: the target counts failures.
  const late = retransmissions > offered * 0.005;
  return {
    rate,
    seconds,
    offered,
    succeeded,
    failed,
    unfinished,
    failurePct,
    retransmissions,
    pdd: percentiles(rtt.get('1') ?? []),
    setup: percentiles(rtt.get('2') ?? []),
    lateS,
    edgeCpuPct: edgeCpu,
    edgeEluPct: eluPercent(u0, u1),
    mainCpuUsPerCall: (u1.mainCpu.user + u1.mainCpu.system - u0.mainCpu.user - u0.mainCpu.system) / offered,
    uacCpuPct: uacCpu,
    uasCpuPct: uasCpu,
    redisCpuPct: cpu.redis,
    pgCpuPct: cpu.postgres,
    machinePct: cpu.machine,
    otherPct: Math.max(0, cpu.machine - edgeCpu - uacCpu - uasCpu - cpu.redis - cpu.postgres),
    endedAnswered: u1.ended.answered - u0.ended.answered,
    peakActive,
    dbQueriesPerCall: (tx1 - tx0) / Math.max(1, succeeded),
    pass: why === '',
    clean: why === '' && !late,
    why,
    errors: run.errors,
  };
}

const ms = (v: number) => (Number.isNaN(v) ? 'n/a' : `${v.toFixed(0)} ms`);
const line = (r: StepResult) =>
  `${String(r.rate).padStart(4)}/s × ${r.seconds}s  ok ${r.succeeded}/${r.offered}  failed ${r.failed} unfinished ${r.unfinished} (${r.failurePct.toFixed(3)}%)  retrans ${r.retransmissions}  CDRs answered ${r.endedAnswered}  peak ${r.peakActive} calls  ${r.dbQueriesPerCall.toFixed(1)} DB queries/call\n` +
  `           INVITE→180 p50 ${ms(r.pdd.p50)} p95 ${ms(r.pdd.p95)} p99 ${ms(r.pdd.p99)} max ${ms(r.pdd.max)} (n=${r.pdd.n});  INVITE(auth)→200 p50 ${ms(r.setup.p50)} p99 ${ms(r.setup.p99)}\n` +
  `           CPU edge ${r.edgeCpuPct.toFixed(0)}% (main thread busy ${r.edgeEluPct.toFixed(0)}%, ${((r.edgeCpuPct * 10_000) / r.rate).toFixed(0)} µs/call; main thread CPU ${r.mainCpuUsPerCall.toFixed(0)} µs/call) caller SIPp ${r.uacCpuPct.toFixed(0)}% callee SIPp ${r.uasCpuPct.toFixed(0)}% redis ${r.redisCpuPct.toFixed(0)}% pg ${r.pgCpuPct.toFixed(0)}% other ${r.otherPct.toFixed(0)}% (machine ${r.machinePct.toFixed(0)}/200%)  ${r.pass ? (r.clean ? 'PASS' : `PASS with late answers (${r.retransmissions} retransmissions)`) : `FAIL (${r.why})`}`;

try {
  const reg = await startSippBench({
    scenario: 'register-inf.xml',
    target,
    localPort: uasPort,
    rate: 200,
    calls: callees.length,
    limit: 1000,
    timeoutSeconds: 30,
    inf: calleeCsv,
  }).done;
  if (num(reg.last, 'SuccessfulCall(C)') !== callees.length)
    throw new Error(`callee registration failed: ${reg.errors.slice(0, 2000)}`);
  console.log(`${callees.length} callee devices registered on SIPp port ${uasPort}`);
  uas = startSippBench({
    scenario: 'uas-immediate.xml',
    target,
    localPort: uasPort,
    calls: 10_000_000,
    limit: 100_000,
    timeoutSeconds: Math.ceil(WALL_CAP_MS / 1000),
  });
  await sleep(500);

  pddStep = await fairStep('pdd', PDD_RATE, PDD_S, PROFILE_RATE === PDD_RATE ? PROFILE : undefined);
  for (const rate of RATES) {
    if (overBudget((STEP_S + HOLD_MS / 1000 + 12) * 1000)) {
      console.log('time budget reached: ladder stopped');
      break;
    }
    await sleep(1500);
    const r = await fairStep('step', rate, STEP_S, PROFILE_RATE === rate ? PROFILE : undefined);
    results.push(r);
    if (!r.pass) {
      const first = /Aborting call[^\n]*\n[^\n]*/.exec(r.errors)?.[0];
      if (first) console.log(`           first error: ${first.replace(/\s+/g, ' ').slice(0, 300)}`);
      break;
    }
  }
} finally {
  uas?.stop();
  await edge.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log('');
const best = results.filter((r) => r.pass).sort((a, b) => b.rate - a.rate)[0];
if (pddStep) {
  console.log(
    `RESULT pdd: at ${pddStep.rate} calls/s, first INVITE → 180 p50 ${ms(pddStep.pdd.p50)}, p95 ${ms(pddStep.pdd.p95)}, p99 ${ms(pddStep.pdd.p99)}, max ${ms(pddStep.pdd.max)} over ${pddStep.pdd.n} calls ` +
      `(${pddStep.failurePct.toFixed(3)}% failed); target p99 ≤ 50 ms: ${pddStep.pdd.p99 <= 50 && pddStep.pass ? 'met' : 'not met'}`,
  );
}
console.log(
  best
    ? `RESULT rate: ${best.rate} calls/s sustained for ${best.seconds} s (${best.failurePct.toFixed(3)}% failed, INVITE→180 p99 ${ms(best.pdd.p99)}), edge CPU ${best.edgeCpuPct.toFixed(0)}% of a core, ${((best.edgeCpuPct * 10_000) / best.rate).toFixed(0)} µs of edge CPU per call; target ≥ 300 calls/s: ${best.rate >= 300 ? 'met' : 'not met'}`
    : 'RESULT rate: no rate of the ladder was sustained; target ≥ 300 calls/s: not met',
);
console.log(
  `load ${(loadMs / 1000).toFixed(0)} s, total ${((performance.now() - benchStart) / 1000).toFixed(0)} s`,
);
