/**
 * An unauthenticated INVITE flood against the SIP edge, with legitimate
 * phones registering meanwhile (issue 20, point 5).
 *
 * The edge (SipEdge + MediaEngine, on a scratch PostgreSQL database and the
 * real Redis) runs in a child process of its own (bench/support/edge-process.ts)
 * with `--devices` phones. Two SIPp processes load it at once, for
 * `--seconds`:
 * - the flood, from 127.0.0.2 (one UDP socket): `--flood-rate` INVITEs a
 *   second with no credentials (bench/sipp/invite-unauth.xml), never
 *   acknowledging the 407 and never retransmitting (-nr), as an attacker
 *   sends them;
 * - the phones, from 127.0.0.1 (a socket per registration, as phones behind
 *   their own addresses): `--register-rate` registrations a second with
 *   digest authentication (bench/sipp/register-inf.xml: REGISTER, 401,
 *   REGISTER with credentials, 200).
 *
 * It prints the edge's peak resident memory (sampled every 500 ms), the
 * registrations' success ratio and time, and how many 407s came back for the
 * INVITEs sent: first copies, retransmissions of a 407 while SIPp still held
 * the call, and copies for calls SIPp had finished (DeadCallMsgs). The target:
 * memory bounded and ≥ 99.9% of registrations succeeding.
 *
 *   npx node bench/invite-flood.ts [--flood-rate 5000] [--register-rate 100] [--seconds 30] [--devices 500] [--profile out.cpuprofile]
 */
import fs from 'node:fs';
import path from 'node:path';
import { freeSipPort } from '../media-server/test/support/sipp.ts';
import {
  cpuBetween,
  cpuPercent,
  cpuSnapshot,
  eluPercent,
  fmtBound,
  machineNote,
  num,
  repartition,
  sippMs,
  sleep,
  startEdgeProcess,
  startSippBench,
  waitForQuietMachine,
  type SippStats,
} from './support/sipp-run.ts';
import type { EdgeUsage } from './support/edge-process.ts';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
const FLOOD_RATE = Math.min(20_000, Number(opt('flood-rate', '5000')));
const REGISTER_RATE = Math.min(2_000, Number(opt('register-rate', '100')));
// Bounded run time: at most a minute of load.
const SECONDS = Math.min(60, Number(opt('seconds', '30')));
const DEVICES = Math.min(5000, Number(opt('devices', '500')));
const PROFILE = argv.includes('--profile') ? opt('profile', '/tmp/invite-flood.cpuprofile') : undefined;

console.log(`invite-flood: ${machineNote()}`);
console.log(`waiting for a quiet machine (at most 60 s): ${(await waitForQuietMachine()).toFixed(0)}% busy`);
const edge = await startEdgeProcess({
  BENCH_EXTENSIONS: String(DEVICES),
  BENCH_DEVICES_PER: '1',
  BENCH_MAX_SECONDS: String(SECONDS + 240),
});
console.log(`edge on 127.0.0.1:${edge.ready.port}, ${edge.ready.db}, ${DEVICES} devices`);

/** Counts of each scenario message (SIPp -trace_counts), summed over the columns whose name matches. */
function countColumns(dir: string, match: RegExp): number {
  const file = fs.readdirSync(dir).find((f) => f.endsWith('_counts.csv'));
  if (!file) return NaN;
  const [head, ...rows] = fs.readFileSync(path.join(dir, file), 'latin1').trim().split('\n');
  const names = head!.split(';');
  const last = rows.at(-1)?.split(';') ?? [];
  return names.reduce((sum, n, i) => (match.test(n) ? sum + Number(last[i] ?? 0) : sum), 0);
}

let peakRssMb = 0;
let peakTransactions = 0;
let last: EdgeUsage | null = null;
let sampling = true;
const before = await edge.usage();
peakRssMb = before.rssMb;
const sampler = (async () => {
  while (sampling) {
    const u = await edge.usage().catch(() => null);
    if (u) {
      last = u;
      peakRssMb = Math.max(peakRssMb, u.rssMb);
      peakTransactions = Math.max(peakTransactions, u.transactions.server + (u.transactions.completed ?? 0));
    }
    await sleep(500);
  }
})();

if (PROFILE) await edge.profileStart();
const c0 = cpuSnapshot();
let floodCounts = { sent: NaN, first407: NaN, retrans407: NaN };
const flood = startSippBench({
  scenario: 'invite-unauth.xml',
  target: `127.0.0.1:${edge.ready.port}`,
  localIp: '127.0.0.2',
  localPort: await freeSipPort('127.0.0.2'),
  rate: FLOOD_RATE,
  calls: FLOOD_RATE * SECONDS,
  limit: FLOOD_RATE * 3,
  timeoutSeconds: SECONDS + 10,
  extra: ['-nr', '-trace_counts'],
  keep: (dir) => {
    floodCounts = {
      sent: countColumns(dir, /INVITE_Sent$/),
      first407: countColumns(dir, /_407_Recv$/),
      retrans407: countColumns(dir, /_407_Retrans$/),
    };
  },
});
const phones = startSippBench({
  scenario: 'register-inf.xml',
  target: `127.0.0.1:${edge.ready.port}`,
  localPort: await freeSipPort(),
  rate: REGISTER_RATE,
  calls: REGISTER_RATE * SECONDS,
  limit: 5_000,
  timeoutSeconds: SECONDS + 10,
  inf: edge.ready.csv,
  transport: 'un',
});
const [f, r] = await Promise.all([flood.done, phones.done]);
const c1 = cpuSnapshot();
if (PROFILE) await edge.profileStop(PROFILE);
// Late copies of 407s (Timer G runs up to 32 s) still arrive: SIPp has ended, so read them from the edge.
await sleep(1000);
sampling = false;
await sampler;
const after = last ?? (await edge.usage());
await edge.stop();

const row: SippStats | null = r.last;
const ok = num(row, 'SuccessfulCall(C)') || 0;
const failed = num(row, 'FailedCall(C)') || 0;
const offered = REGISTER_RATE * SECONDS;
const unfinished = Math.max(0, offered - ok - failed);
const rep = repartition(row);
const deadCall407 = num(f.last, 'DeadCallMsgs(C)') || 0;
const invites = Number.isNaN(floodCounts.sent) ? num(f.last, 'OutgoingCall(C)') : floodCounts.sent;
const responses407 = floodCounts.first407 + floodCounts.retrans407 + deadCall407;
const cpu = cpuBetween(c0, c1);
const stateless = after.stateless && before.stateless ? `${after.stateless.answered - before.stateless.answered} stateless challenges (the INVITEs' 407s and the 401s of REGISTERs on the main thread's socket), ${after.stateless.dropped - before.stateless.dropped} dropped by the per-source limit, ${after.stateless.full - before.stateless.full} refused as full` : 'no stateless counts (code before stateless challenges)';

console.log('');
console.log(`flood: ${invites} INVITEs sent in ${f.wallSeconds.toFixed(1)} s (${(invites / SECONDS).toFixed(0)}/s offered ${FLOOD_RATE}/s); SIPp exit ${f.code}`);
console.log(`  407s received: ${responses407} (${floodCounts.first407} first copies, ${floodCounts.retrans407} retransmissions during the call, ${deadCall407} after it), ${(responses407 / Math.max(1, invites)).toFixed(3)} per INVITE`);
console.log(`  edge: ${stateless}; SIP messages sent ${after.messagesOut - before.messagesOut}`);
console.log(`registrations: ${ok} of ${offered} succeeded (${((ok / offered) * 100).toFixed(3)}%), ${failed} failed, ${unfinished} unfinished; time mean ${sippMs(row, 'ResponseTime1(C)').toFixed(0)} ms, p50 ${fmtBound(rep.percentileBound(50))}, p99 ${fmtBound(rep.percentileBound(99))}; SIPp exit ${r.code}`);
console.log(`edge memory: RSS ${before.rssMb} MB before, peak ${peakRssMb} MB, ${after.rssMb} MB after; peak server transactions ${peakTransactions}; heap ${after.heapUsedMb} MB at the end`);
console.log(`CPU (of 200%): edge ${cpuPercent(before, after).toFixed(0)}% (main thread busy ${eluPercent(before, after).toFixed(0)}%), machine ${cpu.machine.toFixed(0)}%, Redis ${cpu.redis.toFixed(0)}%, PostgreSQL ${cpu.postgres.toFixed(0)}%, flood SIPp ${((f.cpuSeconds / f.wallSeconds) * 100).toFixed(0)}%, phones SIPp ${((r.cpuSeconds / r.wallSeconds) * 100).toFixed(0)}%`);
console.log(`RESULT: peak RSS ${peakRssMb} MB; registrations ${((ok / offered) * 100).toFixed(3)}% (target ≥ 99.9%: ${ok / offered >= 0.999 ? 'met' : 'not met'}); ${responses407} 407s for ${invites} INVITEs`);
