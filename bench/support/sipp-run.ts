/**
 * SIPp (Debian sip-tester 3.6.1) for the SIP benchmarks: one run bounded in
 * calls and in time, with its statistics dumped every second (-trace_stat),
 * its own CPU sampled from /proc, and the edge started in a child process.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EdgeHeap, EdgeReady, EdgeUsage } from './edge-process.ts';
import { procCpuSeconds } from './proc-stats.ts';

export { procCpuSeconds, udpReceiveBufferErrors } from './proc-stats.ts';

export const BENCH_SCENARIOS = path.resolve(import.meta.dirname, '../sipp');

export interface SippBenchOptions {
  scenario: string;
  target: string;
  localPort: number;
  /** Source address (default 127.0.0.1): another loopback address is another peer to the edge. */
  localIp?: string;
  mediaPort?: number;
  /** Calls per `ratePeriodMs`. */
  rate?: number;
  ratePeriodMs?: number;
  calls: number;
  limit: number;
  /** Hard bound on the whole run. */
  timeoutSeconds: number;
  service?: string;
  inf?: string;
  /** u1 (default): one UDP socket for every call; un: one per call, so that each call is a phone of its own to the kernel. */
  transport?: 'u1' | 'un';
  extra?: string[];
  /** Files written into SIPp's working directory before it starts (e.g. rtp_stream audio). */
  files?: Record<string, Uint8Array>;
  /** Keep these files of the run's directory (e.g. the -trace_rtt CSV) before it is removed. */
  keep?: (dir: string) => void;
}

export interface SippStats {
  [column: string]: string;
}

export interface SippBenchRun {
  child: ChildProcess;
  done: Promise<{
    code: number | null;
    output: string;
    errors: string;
    rows: SippStats[];
    last: SippStats | null;
    cpuSeconds: number;
    wallSeconds: number;
  }>;
  stop(): void;
}


export function parseStatCsv(text: string): SippStats[] {
  const lines = text.split('\n').filter((l) => l.trim());
  if (lines.length < 2) return [];
  const header = lines[0]!.split(';');
  return lines.slice(1).map((l) => {
    const cells = l.split(';');
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
  });
}

export const num = (row: SippStats | null | undefined, column: string): number =>
  Number(row?.[column] ?? NaN);

/** SIPp writes times as HH:MM:SS:microseconds. */
export function sippMs(row: SippStats | null | undefined, column: string): number {
  const parts = String(row?.[column] ?? '')
    .split(':')
    .map(Number);
  if (parts.length !== 4 || parts.some((p) => Number.isNaN(p))) return NaN;
  return parts[0]! * 3_600_000 + parts[1]! * 60_000 + parts[2]! * 1000 + parts[3]! / 1000;
}

export interface Repartition {
  total: number;
  /** Buckets in order: upper bound in ms (Infinity for the last, ">= N"), count. */
  buckets: { below: number; count: number }[];
  /** Upper bound of the bucket holding the given percentile, e.g. 99 → "p99 < 20 ms". */
  percentileBound(p: number): number;
  shareAtOrAbove(ms: number): number;
}

/** SIPp's cumulative response-time repartition of one rtd (scenario <ResponseTimeRepartition>). */
export function repartition(row: SippStats | null | undefined, rtd = '1'): Repartition {
  const buckets: { below: number; count: number }[] = [];
  for (const [k, v] of Object.entries(row ?? {})) {
    const m = new RegExp(`^ResponseTimeRepartition${rtd}_(<|>=)(\\d+)$`).exec(k);
    if (m) buckets.push({ below: m[1] === '<' ? Number(m[2]) : Infinity, count: Number(v) || 0 });
  }
  buckets.sort((a, b) => a.below - b.below);
  const total = buckets.reduce((a, b) => a + b.count, 0);
  return {
    total,
    buckets,
    percentileBound(p) {
      let seen = 0;
      for (const b of buckets) {
        seen += b.count;
        if (seen >= (total * p) / 100) return b.below;
      }
      return NaN;
    },
    shareAtOrAbove(ms) {
      // A bucket "< X" holds [previous bound, X): it is at or above `ms` when its lower bound is.
      let lower = 0;
      let n = 0;
      for (const b of buckets) {
        if (lower >= ms) n += b.count;
        lower = b.below;
      }
      return total ? n / total : 0;
    },
  };
}

export const fmtBound = (ms: number) => (ms === Infinity ? '≥ last bucket' : `< ${ms} ms`);

export function startSippBench(o: SippBenchOptions): SippBenchRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-sipp-bench-'));
  const statFile = path.join(dir, 'stats.csv');
  const errorFile = path.join(dir, 'errors.log');
  for (const [name, data] of Object.entries(o.files ?? {})) fs.writeFileSync(path.join(dir, name), data);
  const args = [
    o.target,
    '-sf',
    path.isAbsolute(o.scenario) ? o.scenario : path.join(BENCH_SCENARIOS, o.scenario),
    '-t',
    o.transport ?? 'u1',
    '-m',
    String(o.calls),
    '-l',
    String(o.limit),
    '-r',
    String(o.rate ?? 1),
    '-rp',
    String(o.ratePeriodMs ?? 1000),
    '-timeout',
    `${o.timeoutSeconds}s`,
    '-i',
    o.localIp ?? '127.0.0.1',
    '-mi',
    o.localIp ?? '127.0.0.1',
    '-p',
    String(o.localPort),
    '-nostdin',
    '-trace_stat',
    '-stf',
    statFile,
    '-fd',
    '1',
    '-trace_err',
    '-error_file',
    errorFile,
    '-max_recv_loops',
    '10000',
    // SIPp's default 64 KB socket buffers overflow whenever SIPp is descheduled for a few ms on a
    // busy 2-core machine: its own drops then show up as retransmissions blamed on the edge.
    '-buff_size',
    String(4 << 20),
    '-max_sched_loops',
    '10000',
  ];
  if (o.mediaPort) args.push('-mp', String(o.mediaPort));
  // SIPp refuses to start when -max_socket (50,000 by default) is above the open-file limit.
  if (o.transport === 'un') args.push('-max_socket', String(Math.min(o.limit + 500, 19_000)));
  if (o.service) args.push('-s', o.service);
  if (o.inf) args.push('-inf', o.inf);
  args.push(...(o.extra ?? []));
  const started = performance.now();
  const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let output = '';
  const keepTail = (d: Buffer) => {
    output += d.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.on('data', keepTail);
  child.stderr!.on('data', keepTail);
  let cpu = 0;
  const sampler = setInterval(() => {
    const c = child.pid ? procCpuSeconds(child.pid) : null;
    if (c !== null) cpu = c;
  }, 250);
  // Belt and braces over SIPp's own -timeout.
  const killer = setTimeout(() => child.kill('SIGKILL'), (o.timeoutSeconds + 15) * 1000);
  const done = new Promise<Awaited<SippBenchRun['done']>>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      clearInterval(sampler);
      clearTimeout(killer);
      const rows = fs.existsSync(statFile) ? parseStatCsv(fs.readFileSync(statFile, 'latin1')) : [];
      const errors = fs.existsSync(errorFile) ? fs.readFileSync(errorFile, 'latin1').slice(0, 20_000) : '';
      o.keep?.(dir);
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({
        code,
        output,
        errors,
        rows,
        last: rows.at(-1) ?? null,
        cpuSeconds: cpu,
        wallSeconds: (performance.now() - started) / 1000,
      });
    });
  });
  return { child, done, stop: () => child.kill('SIGKILL') };
}

// --- the edge in its own process -------------------------------------------------

export interface EdgeProcess {
  ready: EdgeReady;
  usage(): Promise<EdgeUsage>;
  /** CPU profile of the edge's main thread from now until `profileStop`. */
  profileStart(): Promise<void>;
  profileStop(file: string): Promise<void>;
  /** The edge's heap after a full GC (start it with `nodeArgs: ['--expose-gc']`) and its live counts. */
  heap(): Promise<EdgeHeap>;
  stop(): Promise<void>;
}

export async function startEdgeProcess(env: Record<string, string>, options: { nodeArgs?: string[] } = {}): Promise<EdgeProcess> {
  const child = fork(path.join(import.meta.dirname, 'edge-process.ts'), [], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...(process.env.BENCH_EDGE_NODE_ARGS ? process.env.BENCH_EDGE_NODE_ARGS.split(' ') : []), ...(options.nodeArgs ?? [])],
  });
  const waiters = new Map<string, ((m: never) => void)[]>();
  child.on('message', (m: { type: string }) => {
    const list = waiters.get(m.type);
    const w = list?.shift();
    w?.(m as never);
  });
  const next = <T>(type: string, ms: number) =>
    new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`edge process: no ${type} within ${ms} ms`)), ms);
      const list = waiters.get(type) ?? [];
      list.push(((m: T) => {
        clearTimeout(t);
        resolve(m);
      }) as never);
      waiters.set(type, list);
    });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await Promise.race([
    next<EdgeReady>('ready', 120_000),
    exited.then(() => {
      throw new Error('edge process exited before it was ready');
    }),
  ]);
  return {
    ready,
    usage: () => {
      const p = next<EdgeUsage>('usage', 10_000);
      child.send({ type: 'usage' });
      return p;
    },
    profileStart: async () => {
      const p = next('profile-started', 10_000);
      child.send({ type: 'profile-start' });
      await p;
    },
    profileStop: async (file) => {
      const p = next('profile-written', 30_000);
      child.send({ type: 'profile-stop', file });
      await p;
    },
    heap: () => {
      const p = next<EdgeHeap>('heap', 30_000);
      child.send({ type: 'heap' });
      return p;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      child.send({ type: 'stop' });
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Busy share of the edge's main thread between two usage reports, in percent. */
export function eluPercent(a: EdgeUsage, b: EdgeUsage): number {
  const active = b.elu.active - a.elu.active;
  const idle = b.elu.idle - a.elu.idle;
  return (active / (active + idle)) * 100;
}

/** Busy share of each media worker thread (or, with `which`, registrar thread) between two usage reports, in percent. */
export function workerEluPercents(a: EdgeUsage, b: EdgeUsage, which: 'workerElu' | 'registrarElu' = 'workerElu'): number[] {
  return b[which].map((w, i) => {
    const active = w.active - (a[which][i]?.active ?? 0);
    const idle = w.idle - (a[which][i]?.idle ?? 0);
    return (active / (active + idle)) * 100;
  });
}

/** CPU used between two usage reports, as a percentage of one core. */
export function cpuPercent(a: EdgeUsage, b: EdgeUsage): number {
  const us = b.cpu.user + b.cpu.system - (a.cpu.user + a.cpu.system);
  return (us / 1000 / (b.elapsedMs - a.elapsedMs)) * 100;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- who used the machine's two cores ------------------------------------------------

export interface CpuSnapshot {
  at: number;
  /** Busy jiffies of the whole machine, and its total jiffies (all cores). */
  busy: number;
  total: number;
  /** CPU seconds of Redis and of each PostgreSQL process, by pid (backends come and go). */
  redis: Map<number, number>;
  postgres: Map<number, number>;
}

function pidsOf(name: string): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() === name) out.push(Number(d));
    } catch {
      // gone in between
    }
  }
  return out;
}

export function cpuSnapshot(): CpuSnapshot {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3]! + line[4]!;
  const total = line.slice(0, 8).reduce((a, b) => a + b, 0);
  const byPid = (pids: number[]) => new Map(pids.map((p) => [p, procCpuSeconds(p) ?? 0]));
  return {
    at: performance.now(),
    busy: total - idle,
    total,
    redis: byPid(pidsOf('redis-server')),
    postgres: byPid(pidsOf('postgres')),
  };
}

/** CPU seconds used between two snapshots by the processes of the second one (new ones count from zero). */
function usedBetween(a: Map<number, number>, b: Map<number, number>): number {
  let used = 0;
  for (const [pid, secs] of b) used += Math.max(0, secs - (a.get(pid) ?? 0));
  return used;
}

/** Percentages of one core between two snapshots; `machine` is out of 100 × cores. */
export function cpuBetween(
  a: CpuSnapshot,
  b: CpuSnapshot,
): { machine: number; redis: number; postgres: number } {
  const secs = (b.at - a.at) / 1000;
  const cores = os.availableParallelism();
  return {
    machine: ((b.busy - a.busy) / (b.total - a.total)) * 100 * cores,
    redis: (usedBetween(a.redis, b.redis) / secs) * 100,
    postgres: (usedBetween(a.postgres, b.postgres) / secs) * 100,
  };
}

export function machineNote(): string {
  const [l1] = os.loadavg();
  return `${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), load average ${l1!.toFixed(2)} at start, Node ${process.version}`;
}

/**
 * Waits (at most `maxMs`) until the machine is nearly idle over a 2 s window,
 * so that another job on the same two cores does not take the measurement's
 * CPU. Returns the busy share seen last (percent of all cores).
 */
export async function waitForQuietMachine(maxMs = 60_000, busyBelowPct = 25): Promise<number> {
  const deadline = performance.now() + maxMs;
  for (;;) {
    const a = cpuSnapshot();
    await sleep(2000);
    const busy = cpuBetween(a, cpuSnapshot()).machine / os.availableParallelism();
    if (busy < busyBelowPct || performance.now() > deadline) return busy;
  }
}

/** Every response time SIPp traced (-trace_rtt -rtt_freq 1), in ms, by rtd number; `at` holds when each was taken (epoch ms). */
export function readRttFiles(dir: string, at?: Map<string, number[]>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('_rtt.csv'))) {
    for (const line of fs.readFileSync(path.join(dir, f), 'latin1').split('\n')) {
      const [when, ms, rtd] = line.trim().split(';');
      if (!rtd || Number.isNaN(Number(ms))) continue;
      const list = out.get(rtd) ?? [];
      list.push(Number(ms));
      out.set(rtd, list);
      if (at) {
        const times = at.get(rtd) ?? [];
        times.push(Number(when));
        at.set(rtd, times);
      }
    }
  }
  return out;
}

export function percentiles(values: number[]): {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
} {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
  return {
    n: s.length,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: s.at(-1) ?? NaN,
    mean: s.reduce((a, b) => a + b, 0) / (s.length || 1),
  };
}

/** Transactions committed in a PostgreSQL database so far (every autocommit query is one), or NaN. */
export async function pgTransactions(database: string): Promise<number> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({
    connectionString: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    connectionTimeoutMillis: 2000,
  });
  try {
    await client.connect();
    // The statistics collector publishes with a delay of up to a second; ask for a fresh snapshot.
    await client.query('SELECT pg_stat_clear_snapshot()');
    const r = await client.query<{ n: string }>(
      'SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = $1',
      [database],
    );
    return Number(r.rows[0]?.n ?? NaN);
  } catch {
    return NaN;
  } finally {
    await client.end().catch(() => undefined);
  }
}


/**
 * The machine is shared: a failed step during which other processes took more
 * than 20% of a core is run again after a quiet moment (twice at most), and
 * the benchmark says so.
 */
export async function runUndisturbed<R extends { pass: boolean; otherPct: number }>(
  label: string,
  run: () => Promise<R>,
  line: (r: R) => string,
): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    const r = await run();
    console.log(`${label.padEnd(8)} ${line(r)}`);
    if (r.pass || r.otherPct <= 20 || attempt === 3) return r;
    console.log(
      `         other processes took ${r.otherPct.toFixed(0)}% of a core during that step: waiting for quiet (at most 45 s) and running it again`,
    );
    await waitForQuietMachine(45_000);
  }
}

/**
 * SIPp injection files for a callee SIPp (device, its authentication keyword,
 * extension) and a caller SIPp (device, keyword, extension to dial). SIPp 3.6
 * expands a whole `[authentication …]` keyword held in a field, not a field
 * inside one, so the keyword is written whole.
 */
export function writeCallCsvs(
  dir: string,
  phones: Record<string, { username: string; password: string }[]>,
  callers: string[],
  callees: string[],
): { callerCsv: string; calleeCsv: string } {
  const auth = (p: { username: string; password: string }) => `[authentication username=${p.username} password=${p.password}]`;
  const row = (n: string, dial: string) => {
    const p = phones[n]![0]!;
    return `${p.username};${auth(p)};${dial}`;
  };
  const calleeCsv = path.join(dir, 'callees.csv');
  fs.writeFileSync(calleeCsv, ['SEQUENTIAL', ...callees.map((n) => row(n, n))].join('\n') + '\n');
  const callerCsv = path.join(dir, 'callers.csv');
  fs.writeFileSync(callerCsv, ['SEQUENTIAL', ...callers.map((n, i) => row(n, callees[i % callees.length]!))].join('\n') + '\n');
  return { callerCsv, calleeCsv };
}
