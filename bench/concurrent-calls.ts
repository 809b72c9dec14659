/**
 * Concurrent anchored calls with G.711 RTP both ways through the SIP edge.
 *
 * The edge (SipEdge + MediaEngine with one worker thread per core, as
 * media-server/src/main.ts starts it; scratch PostgreSQL; real Redis) runs in
 * a child process of its own (bench/support/edge-process.ts). One SIPp, the
 * callee, registers every device of the called extensions on its port and
 * answers there (uas-media.xml); another, the caller, places the calls
 * (uac-media.xml, digest on the INVITE). Once a call is answered both SIPp
 * sides stream PCMA with rtp_stream: a 1 s A-law tone looped, 160 bytes every
 * 20 ms with continuous sequence numbers, so 50 packets/s each way per call,
 * relayed by the edge's media bridge (a latched, anchored leg each side).
 *
 * For each level L of `--levels`: L calls at `--rate` calls/s, each held
 * long enough that all L are up together for `--plateau-seconds`, then all
 * hung up (BYE from the caller). Loss comes from the media engine itself: the
 * RFC 3550 receive statistics of every leg read at the end of each call
 * (call.lastStats: received.lost against received.packets), summed, which
 * covers what SIPp sent to the edge. The other direction can only be checked
 * as "relayed": packets the edge sent on the other leg. SIPp 3.6.1's
 * rtp_stream never reads its RTP sockets, so the machine's count of UDP
 * receive-buffer drops, printed too, roughly equals the relayed count: it says
 * nothing of the edge. CPU is measured over the plateau only. A level passes when every call completed
 * and loss stayed under 0.1%; the ladder stops at the first level that fails.
 *
 *   npx node bench/concurrent-calls.ts [--levels 500,750,1000] [--rate 100] [--plateau-seconds 30]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pcmaEncode } from '../media-server/src/media/codecs/g711.ts';
import { freeSipPort } from '../media-server/test/support/sipp.ts';
import {
  cpuBetween,
  cpuPercent,
  cpuSnapshot,
  eluPercent,
  machineNote,
  num,
  procCpuSeconds,
  sleep,
  startEdgeProcess,
  startSippBench,
  waitForQuietMachine,
  udpReceiveBufferErrors,
  workerEluPercents,
  writeCallCsvs,
} from './support/sipp-run.ts';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
const LEVELS = opt('levels', '500,750,1000')
  .split(',')
  .map(Number)
  .filter((l) => l > 0 && l <= 1500);
const RATE = Math.min(200, Number(opt('rate', '100')));
const PLATEAU_S = Math.min(60, Number(opt('plateau-seconds', '30')));
const MAX_LEVEL = Math.max(...LEVELS);
const BUDGET_MS = 175_000;
const benchStart = performance.now();

// 1 s of a 440 Hz tone in A-law: SIPp's rtp_stream loops it (raw codec bytes, 160 per packet).
const pcm = new Int16Array(8000);
for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
const tone = new Uint8Array(pcm.length);
pcmaEncode(pcm, tone);

console.log(`concurrent-calls: ${machineNote()}`);
console.log(`waiting for a quiet machine (at most 60 s): ${(await waitForQuietMachine()).toFixed(0)}% busy`);
const edge = await startEdgeProcess({
  BENCH_EXTENSIONS: String(2 * MAX_LEVEL),
  BENCH_DEVICES_PER: '1',
  // Each call holds two legs of an RTP/RTCP pair each: 4 ports, and the allocator goes round the range.
  BENCH_RTP_MIN: '20000',
  BENCH_RTP_MAX: '27999',
  BENCH_MAX_SECONDS: '300',
});
console.log(
  `edge on 127.0.0.1:${edge.ready.port}, ${edge.ready.db}, ${(await edge.usage()).workerElu.length} media worker threads; both SIPp instances share the same 2 cores`,
);

const numbers = Object.keys(edge.ready.phones).sort((a, b) => Number(a) - Number(b));
const callers = numbers.slice(0, MAX_LEVEL);
const callees = numbers.slice(MAX_LEVEL, 2 * MAX_LEVEL);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-concurrent-'));
const { callerCsv, calleeCsv } = writeCallCsvs(dir, edge.ready.phones, callers, callees);
const target = `127.0.0.1:${edge.ready.port}`;
const uasPort = await freeSipPort();

interface LevelResult {
  level: number;
  completed: number;
  failed: number;
  peakActive: number;
  plateauS: number;
  receivedPackets: number;
  lost: number;
  lossPct: number;
  sentPackets: number;
  dropped: number;
  /** UDP datagrams the kernel dropped for a full receive buffer anywhere on the machine (edge or SIPp side). */
  kernelDrops: number;
  edgeCpuPct: number;
  mainEluPct: number;
  workerEluPct: number[];
  uacCpuPct: number;
  uasCpuPct: number;
  redisCpuPct: number;
  pgCpuPct: number;
  otherPct: number;
  machinePct: number;
  pass: boolean;
  why: string;
}

let uas: ReturnType<typeof startSippBench> | null = null;
const results: LevelResult[] = [];

async function level(L: number): Promise<LevelResult> {
  const rampS = L / RATE;
  const holdMs = Math.round((rampS + PLATEAU_S + 2) * 1000);
  const e0 = await edge.usage();
  const drops0 = udpReceiveBufferErrors();
  const caller = startSippBench({
    scenario: 'uac-media.xml',
    target,
    // A fresh port each run: on a shared machine another test may have taken the last one.
    localPort: await freeSipPort(),
    mediaPort: 30000,
    rate: RATE,
    calls: L,
    limit: L,
    timeoutSeconds: Math.ceil(holdMs / 1000 + rampS + 20),
    inf: callerCsv,
    files: { 'tone.alaw': tone },
    extra: ['-d', String(holdMs)],
  });
  // The plateau: from a second after the last call was placed to a second before the first one ends.
  let peakActive = 0;
  const watch = async (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      peakActive = Math.max(peakActive, (await edge.usage()).activeCalls);
      await sleep(500);
    }
  };
  await watch((rampS + 1.5) * 1000);
  const p0 = await edge.usage();
  const c0 = cpuSnapshot();
  const uac0 = caller.child.pid ? (procCpuSeconds(caller.child.pid) ?? 0) : 0;
  const uas0 = uas?.child.pid ? (procCpuSeconds(uas.child.pid) ?? 0) : 0;
  await watch((PLATEAU_S - 1) * 1000);
  const p1 = await edge.usage();
  const c1 = cpuSnapshot();
  const uac1 = caller.child.pid ? (procCpuSeconds(caller.child.pid) ?? 0) : 0;
  const uas1 = uas?.child.pid ? (procCpuSeconds(uas.child.pid) ?? 0) : 0;
  const run = await caller.done;
  // Every call's BYE is answered: wait for the engine to close the bridges and read their stats.
  const deadline = performance.now() + 15_000;
  let e1 = await edge.usage();
  while (
    e1.ended.calls - e0.ended.calls < num(run.last, 'SuccessfulCall(C)') &&
    performance.now() < deadline
  ) {
    await sleep(250);
    e1 = await edge.usage();
  }
  const kernelDrops = udpReceiveBufferErrors() - drops0;
  const wall = (c1.at - c0.at) / 1000;
  const cpu = cpuBetween(c0, c1);
  const edgeCpu = cpuPercent(p0, p1);
  const uacCpu = ((uac1 - uac0) / wall) * 100;
  const uasCpu = ((uas1 - uas0) / wall) * 100;
  const received = e1.ended.receivedPackets - e0.ended.receivedPackets;
  const lost = e1.ended.receivedLost - e0.ended.receivedLost;
  const completed = num(run.last, 'SuccessfulCall(C)') || 0;
  const failed = num(run.last, 'FailedCall(C)') || 0;
  const lossPct = (lost / Math.max(1, received + lost)) * 100;
  let why = '';
  if (completed < L) why = `${L - completed} calls did not complete (${failed} failed)`;
  else if (lossPct >= 0.1) why = `${lossPct.toFixed(3)}% of RTP packets lost`;
  else if (peakActive < L * 0.98) why = `only ${peakActive} calls up at once`;
  return {
    level: L,
    completed,
    failed,
    peakActive,
    plateauS: wall,
    receivedPackets: received,
    lost,
    lossPct,
    sentPackets: e1.ended.sentPackets - e0.ended.sentPackets,
    dropped: e1.ended.dropped - e0.ended.dropped,
    kernelDrops,
    edgeCpuPct: edgeCpu,
    mainEluPct: eluPercent(p0, p1),
    workerEluPct: workerEluPercents(p0, p1),
    uacCpuPct: uacCpu,
    uasCpuPct: uasCpu,
    redisCpuPct: cpu.redis,
    pgCpuPct: cpu.postgres,
    machinePct: cpu.machine,
    otherPct: Math.max(0, cpu.machine - edgeCpu - uacCpu - uasCpu - cpu.redis - cpu.postgres),
    pass: why === '',
    why,
  };
}

const line = (r: LevelResult) =>
  `${String(r.level).padStart(4)} calls  completed ${r.completed} failed ${r.failed}  peak ${r.peakActive} up at once  RTP received ${r.receivedPackets} lost ${r.lost} (${r.lossPct.toFixed(4)}%) relayed ${r.sentPackets} dropped ${r.dropped}  kernel UDP drops ${r.kernelDrops} (machine-wide; SIPp's rtp_stream never reads its RTP sockets, so what the edge sends it ends there)\n` +
  `           plateau ${r.plateauS.toFixed(0)} s: CPU edge ${r.edgeCpuPct.toFixed(0)}% (${(r.edgeCpuPct / r.level).toFixed(3)}% of a core per call; main thread ${r.mainEluPct.toFixed(0)}%, media workers ${r.workerEluPct.map((w) => `${w.toFixed(0)}%`).join(' ')})` +
  `  caller SIPp ${r.uacCpuPct.toFixed(0)}% callee SIPp ${r.uasCpuPct.toFixed(0)}% redis ${r.redisCpuPct.toFixed(0)}% pg ${r.pgCpuPct.toFixed(0)}% other ${r.otherPct.toFixed(0)}% (machine ${r.machinePct.toFixed(0)}/200%)  ${r.pass ? 'PASS' : `FAIL (${r.why})`}`;

try {
  const reg = await startSippBench({
    scenario: 'register-inf.xml',
    target,
    localPort: uasPort,
    rate: 500,
    calls: callees.length,
    limit: 2000,
    timeoutSeconds: 30,
    inf: calleeCsv,
  }).done;
  if (num(reg.last, 'SuccessfulCall(C)') !== callees.length)
    throw new Error(`callee registration failed: ${reg.errors.slice(0, 2000)}`);
  console.log(`${callees.length} callee devices registered on SIPp port ${uasPort}`);
  uas = startSippBench({
    scenario: 'uas-media.xml',
    target,
    localPort: uasPort,
    mediaPort: 34000,
    calls: 10_000_000,
    limit: 100_000,
    timeoutSeconds: Math.ceil(BUDGET_MS / 1000) + 60,
    files: { 'tone.alaw': tone },
  });
  await sleep(500);
  for (const L of LEVELS) {
    const needS = L / RATE + PLATEAU_S + 2 + 8;
    if (performance.now() - benchStart + needS * 1000 > BUDGET_MS) {
      console.log(`time budget: level ${L} skipped (needs ~${needS.toFixed(0)} s)`);
      break;
    }
    const r = await level(L);
    results.push(r);
    console.log(`level    ${line(r)}`);
    if (!r.pass) break;
    await sleep(2000);
  }
} finally {
  uas?.stop();
  await edge.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log('');
const best = results.filter((r) => r.pass).sort((a, b) => b.level - a.level)[0];
console.log(
  best
    ? `RESULT: ${best.level} concurrent calls with PCMA both ways held for ${best.plateauS.toFixed(0)} s, ${best.lossPct.toFixed(4)}% loss (${best.lost}/${best.receivedPackets + best.lost}), ${best.level * 100} RTP packets/s into the edge and as many out; ` +
        `edge CPU ${best.edgeCpuPct.toFixed(0)}% of a core = ${(best.edgeCpuPct / best.level).toFixed(3)}% per call; target ≥ 500 at < 0.1% loss: ${best.level >= 500 ? 'met' : 'not met'}`
    : 'RESULT: no level passed; target ≥ 500 at < 0.1% loss: not met',
);
const failedLevel = results.find((r) => !r.pass);
if (failedLevel) console.log(`first failing level: ${failedLevel.level} (${failedLevel.why})`);
console.log(`total ${((performance.now() - benchStart) / 1000).toFixed(0)} s`);
