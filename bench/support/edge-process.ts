/**
 * The SIP edge of media-server in a process of its own, for the SIP
 * benchmarks: the same pieces as media-server/test/support/edge-harness.ts
 * (SipEdge + MediaEngine on a migrated database and the real Redis), but
 * forked by the bench script so that SIPp's driver logic and the bench's own
 * bookkeeping never share the edge's event loop. It talks to its parent over
 * the IPC channel only:
 *
 *   child → parent  { type: 'ready', port, csv, phones, db }
 *   parent → child  { type: 'usage' }  → { type: 'usage', cpu, elapsedMs, activeCalls, ended }
 *   parent → child  { type: 'profile-start' } → { type: 'profile-started' }
 *   parent → child  { type: 'profile-stop', file } → { type: 'profile-written' } (a .cpuprofile)
 *   parent → child  { type: 'heap' }   → { type: 'heap', … } (after a full GC when the child runs with --expose-gc)
 *   parent → child  { type: 'stop' }   → { type: 'stopped' } then exit
 *
 * Database: a scratch PostgreSQL database created on BENCH_PG_URL's server
 * (default postgres://postgres@127.0.0.1:5432/test), migrated, and dropped at
 * the end; PGlite in memory when no PostgreSQL answers. PostgreSQL is what a
 * deployment runs (docker-compose) and keeps query work off the edge's CPU
 * budget, as PGlite served by the supervisor does under `npm start`.
 *
 * Environment (set by the bench scripts):
 *   BENCH_EXTENSIONS    extensions to create, numbered from 2000 (default 100)
 *   BENCH_DEVICES_PER   devices (SIP credentials) per extension (default 1)
 *   BENCH_MEDIA_WORKERS media worker threads (default: one per CPU, as main.ts)
 *   BENCH_RTP_MIN/MAX   RTP port range (default 20000-23999)
 *   BENCH_NO_ANSWER_S   no-answer timeout of the call engine (default 60)
 *   BENCH_CREDENTIAL_TTL_MS  lifetime of the registrar's credential cache (default: the product's 30 s)
 *   BENCH_REGISTRAR_THREADS  registrar threads sharing the UDP port (default: the product's "auto")
 *   BENCH_CSV           where to write the SIPp injection file of every device:
 *                       user name;[authentication username=… password=…];extension
 *                       (SIPp 3.6.1 does not expand [fieldN] inside [authentication …],
 *                       but it does expand a whole [authentication …] keyword held in a field)
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createLogger, loadConfig } from '@carillon/config';
import { createAccount, issueDeviceCredentials, predefinedRoleId, secretBox } from '@carillon/core';
import { migrateToLatest, openPglite, openPostgres, type Db } from '@carillon/db';
import { MediaEngine } from '../../media-server/src/media/index.ts';
import { SipEdge } from '../../media-server/src/sip/edge/sip-edge.ts';

export interface EdgeReady {
  type: 'ready';
  port: number;
  csv: string;
  db: string;
  /** The scratch PostgreSQL database's name, or null on PGlite. */
  dbName: string | null;
  /** Extension number → its devices' credentials. */
  phones: Record<string, { username: string; password: string }[]>;
}

export interface EndedSummary {
  calls: number;
  answered: number;
  /** Sums over both legs of every ended call, from the media engine's leg stats. */
  receivedPackets: number;
  receivedLost: number;
  sentPackets: number;
  dropped: number;
}

export interface EdgeUsage {
  type: 'usage';
  /** process.cpuUsage() of the whole process: main thread and media worker threads. */
  cpu: { user: number; system: number };
  /** process.threadCpuUsage() of the main thread alone (SIP, registrar, call engine), in µs. */
  mainCpu: { user: number; system: number };
  elapsedMs: number;
  activeCalls: number;
  ended: EndedSummary;
  rssMb: number;
  /** performance.eventLoopUtilization() of the main thread (SIP, registrar, call engine). */
  elu: { idle: number; active: number };
  /** The same for each media worker thread (RTP relay). */
  workerElu: { idle: number; active: number }[];
  /** The same for each registrar thread (REGISTERs the kernel gave to its socket). */
  registrarElu: { idle: number; active: number }[];
  bridges: number;
  /** Live SIP transactions (a completed non-INVITE one stays 32 s over UDP, Timer J). */
  transactions: { client: number; server: number; completed?: number };
  /** New requests the edge answered without a transaction (stateless challenges), dropped, or refused as full; absent on older code. */
  stateless: { answered: number; dropped: number; full: number } | null;
  /** SIP messages the edge sent, retransmissions included. */
  messagesOut: number;
  heapUsedMb: number;
  /** Event-loop delay of the main thread since the previous report (ms): how long ready work waited. */
  loopDelay: { p50: number; p99: number; max: number };
}

const env = process.env;
const EXTENSIONS = Math.min(5000, Number(env.BENCH_EXTENSIONS ?? 100));
const DEVICES_PER = Math.min(10, Number(env.BENCH_DEVICES_PER ?? 1));
const PG_URL = env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const log = createLogger('bench-edge', 'warn');

async function openScratchDb(): Promise<{
  db: Db;
  label: string;
  dbName: string | null;
  drop: () => Promise<void>;
}> {
  const name = `carillon_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (err) {
    await admin.end().catch(() => undefined);
    log.warn('PostgreSQL unavailable, using PGlite in this process', { error: err });
    const { db } = await openPglite(null);
    await migrateToLatest(db);
    return { db, label: 'PGlite (in the edge process)', dbName: null, drop: async () => db.destroy() };
  }
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const db = openPostgres(url.toString());
  await migrateToLatest(db);
  return {
    db,
    label: `PostgreSQL scratch database ${name}`,
    dbName: name,
    drop: async () => {
      await db.destroy();
      // Without FORCE: the pool's connections may take a moment to go, and a forced drop would kill them mid-close.
      for (let i = 0; i < 20; i++) {
        const ok = await admin.query(`DROP DATABASE IF EXISTS ${name}`).then(
          () => true,
          () => false,
        );
        if (ok) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await admin.end();
    },
  };
}

const { db, label, dbName, drop } = await openScratchDb();
const redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2, enableAutoPipelining: process.env.BENCH_AUTOPIPELINE !== '0' });
const config = loadConfig({
  SIP_HOST: '127.0.0.1',
  SIP_DOMAIN: 'carillon.test',
  SIP_UDP_PORT: '0',
  SIP_TCP_PORT: '0',
  SIP_WS_PORT: '0',
  // Every SIPp phone comes from 127.0.0.1: the per-address throttle must not count them as one attacker.
  SIP_AUTH_FAILURES_PER_MINUTE: '100000',
  // Nor may the per-source limit on stateless challenges (an INVITE flood guard, 200 a second by default) cap
  // the call rate: every call of the bench starts with a 407 to that one address.
  SIP_CHALLENGES_PER_SOURCE_PER_SECOND: '100000',
  LOG_LEVEL: 'warn',
  DATA_DIR: '/tmp/carillon-bench',
  REDIS_URL: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  // The product's default ("auto": one per core beyond the first) unless the bench says otherwise.
  SIP_REGISTRAR_THREADS: env.BENCH_REGISTRAR_THREADS ?? 'auto',
});

// --- the account and its phones ----------------------------------------------
const mainNumber = `+1415556${String(Math.floor(Math.random() * 1000)).padStart(4, '0')}`;
const acct = await createAccount(
  db,
  { company: 'Bench Co', email: `bench-${randomBytes(3).toString('hex')}@x.test`, mainNumber },
  { activationTtlHours: 1 },
);
const site = await db
  .selectFrom('sites')
  .select('id')
  .where('account_id', '=', acct.accountId)
  .executeTakeFirstOrThrow();
const roleId = await predefinedRoleId(db, 'standard_international');
const numbers = Array.from({ length: EXTENSIONS }, (_, i) => String(2000 + i));
const extIds = new Map<string, string>();
for (let i = 0; i < numbers.length; i += 500) {
  const rows = await db
    .insertInto('extensions')
    .values(
      numbers
        .slice(i, i + 500)
        .map((number) => ({
          account_id: acct.accountId,
          site_id: site.id,
          number,
          type: 'user' as const,
          status: 'activated' as const,
        })),
    )
    .returning(['id', 'number'])
    .execute();
  for (const r of rows) extIds.set(r.number, r.id);
  await db
    .insertInto('users')
    .values(
      rows.map((r) => ({
        account_id: acct.accountId,
        extension_id: r.id,
        role_id: roleId,
        first_name: `Ext${r.number}`,
        email: `e${r.number}-${randomBytes(3).toString('hex')}@x.test`,
        setup_progress: '{}',
      })),
    )
    .execute();
}
// Credentials through the product's own path (unique user name, both HA1s, audit row), a few at a time.
const phones: Record<string, { username: string; password: string }[]> = {};
const jobs = numbers.flatMap((n) => Array.from({ length: DEVICES_PER }, (_, d) => ({ n, d })));
for (let i = 0; i < jobs.length; i += 16) {
  await Promise.all(
    jobs.slice(i, i + 16).map(async ({ n, d }) => {
      const issue = () =>
        issueDeviceCredentials(
          db,
          { userId: null, ip: null },
          {
            accountId: acct.accountId,
            extensionId: extIds.get(n)!,
            type: 'desk_phone',
            name: `Phone ${n}-${d}`,
            realm: 'carillon.test',
          },
        );
      let c = await issue();
      // SIPp reads a password that starts with "0x" as hex (an AKA key), so its digest would be wrong:
      // about one device in 2,000 gets such a password. Give that phone another device's credentials.
      while (/^0x/i.test(c.password)) c = await issue();
      (phones[n] ??= []).push({ username: c.username, password: c.password });
    }),
  );
}
const csv = env.BENCH_CSV ?? `/tmp/carillon-bench-${process.pid}.csv`;
fs.writeFileSync(
  csv,
  [
    'SEQUENTIAL',
    ...numbers.flatMap((n) =>
      phones[n]!.map(
        (p) => `${p.username};[authentication username=${p.username} password=${p.password}];${n}`,
      ),
    ),
  ].join('\n') + '\n',
);

// --- the edge ------------------------------------------------------------------
const media = await MediaEngine.start({
  ...(env.BENCH_MEDIA_WORKERS ? { workers: Number(env.BENCH_MEDIA_WORKERS) } : {}),
  portRange: { min: Number(env.BENCH_RTP_MIN ?? 20000), max: Number(env.BENCH_RTP_MAX ?? 23999) },
  bindAddress: '127.0.0.1',
});
const ended: EndedSummary = {
  calls: 0,
  answered: 0,
  receivedPackets: 0,
  receivedLost: 0,
  sentPackets: 0,
  dropped: 0,
};
const edge = await SipEdge.start({
  config,
  db,
  redis,
  media,
  secrets: secretBox(randomBytes(32)),
  log,
  nodeId: 'bench',
  // Experiments only: a shorter T1 also shortens Timer J (64 × T1), how long a completed UDP transaction is kept.
  ...(env.BENCH_T1_MS ? { timers: { T1: Number(env.BENCH_T1_MS) } } : {}),
  noAnswerSeconds: Number(env.BENCH_NO_ANSWER_S ?? 60),
  // The credential cache's lifetime (default 30 s). With 0 every authenticated REGISTER reads the
  // device from the database, as a phone refreshing hourly does in production.
  ...(env.BENCH_CREDENTIAL_TTL_MS !== undefined ? { credentialTtlMs: Number(env.BENCH_CREDENTIAL_TTL_MS) } : {}),
  events: {
    onEnded: (call, result) => {
      ended.calls++;
      if (result === 'answered') ended.answered++;
      for (const s of call.lastStats) {
        ended.receivedPackets += s.received.packets;
        ended.receivedLost += Math.max(0, s.received.lost);
        ended.sentPackets += s.sent.packets;
        ended.dropped += s.dropped;
      }
    },
  },
});


const startedAt = performance.now();
const send = (m: unknown) => process.send?.(m);
send({ type: 'ready', port: edge.transport.ports.UDP!, csv, phones, db: label, dbName } satisfies EdgeReady);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await edge.stop().catch(() => undefined);
  await media.stop().catch(() => undefined);
  const keys = [...extIds.values()].map((id) => `carillon:reg:${id}`);
  for (let i = 0; i < keys.length; i += 500)
    await redis.del(...keys.slice(i, i + 500)).catch(() => undefined);
  redis.disconnect();
  await drop().catch(() => undefined);
  fs.rmSync(csv, { force: true });
  send({ type: 'stopped' });
  process.exit(0);
}

export interface EdgeHeap {
  type: 'heap';
  /** Whether a full garbage collection ran first (the child needs --expose-gc). */
  collected: boolean;
  /** The main thread's V8 heap (SIP, registrar, call engine; media workers have heaps of their own). */
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
  /** used_heap_size of each media worker thread (their collector runs on its own schedule: not forced). */
  workerHeapUsed: number[];
  /** What the node holds open: calls, legs, endpoints, bridges, rooms. */
  live: Record<string, number>;
}

async function measureHeap(): Promise<EdgeHeap> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    // Twice, with a turn of the loop between, so that objects freed by finalizers of the first pass go too.
    gc();
    await new Promise((resolve) => setTimeout(resolve, 100));
    gc();
  }
  const m = process.memoryUsage();
  return {
    type: 'heap',
    collected: Boolean(gc),
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    rss: m.rss,
    workerHeapUsed: (await media.workerHeapStatistics()).map((h) => h.used_heap_size),
    // Transactions linger after a call (RFC 3261 §17.1.1.2 Timer D, 32 s over UDP): counted so that a reading waits them out.
    live: {
      calls: edge.calls.activeCalls,
      ...media.liveCounts(),
      ...Object.fromEntries(Object.entries(edge.transactions.transactionCount).map(([kind, n]) => [`${kind} transactions`, n])),
    },
  };
}

const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
let profiler: Session | null = null;
process.on('message', (m: { type: string; file?: string }) => {
  if (m.type === 'usage') {
    const { idle, active } = performance.eventLoopUtilization();
    send({
      type: 'usage',
      cpu: process.cpuUsage(),
      mainCpu: process.threadCpuUsage(),
      elapsedMs: performance.now() - startedAt,
      activeCalls: edge.calls.activeCalls,
      ended: { ...ended },
      rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
      elu: { idle, active },
      workerElu: media.eventLoopUtilization().map((e) => ({ idle: e.idle, active: e.active })),
      registrarElu: (edge.registrarThreads?.eventLoopUtilization() ?? []).map((e) => ({ idle: e.idle, active: e.active })),
      bridges: media.bridgeCount,
      transactions: edge.transactions.transactionCount,
      // Optional: the invite-flood benchmark also runs against code from before stateless challenges.
      stateless: (edge.transactions as { statelessCount?: EdgeUsage['stateless'] }).statelessCount ?? null,
      messagesOut: edge.transport.counters.messagesOut,
      heapUsedMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
      loopDelay: { p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 },
    } satisfies EdgeUsage);
    delay.reset();
  } else if (m.type === 'profile-start') {
    // A CPU profile of the main thread over the measured phase only (not the setup).
    profiler = new Session();
    profiler.connect();
    void profiler
      .post('Profiler.enable')
      .then(() => profiler!.post('Profiler.start'))
      .then(() => send({ type: 'profile-started' }));
  } else if (m.type === 'profile-stop' && profiler) {
    const session = profiler;
    profiler = null;
    void session.post('Profiler.stop').then(({ profile }) => {
      fs.writeFileSync(m.file!, JSON.stringify(profile));
      session.disconnect();
      send({ type: 'profile-written', file: m.file });
    });
  } else if (m.type === 'heap') {
    void measureHeap().then(send);
  } else if (m.type === 'stop') {
    void stop();
  }
});
// The bench script going away (crash, Ctrl-C) must not leave an edge running.
process.on('disconnect', () => void stop());
// Hard bound: no edge outlives its benchmark by much.
setTimeout(() => void stop(), Number(env.BENCH_MAX_SECONDS ?? 600) * 1000).unref();
