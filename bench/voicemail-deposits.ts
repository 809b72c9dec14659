/**
 * N simultaneous voicemail deposits of S seconds each (issue 13, benchmarks 1 and 2): messages
 * stored, recording loss, media-server CPU per deposit, and the time from the caller's hang-up to
 * the message, then its transcript, being visible in the inbox.
 *
 * The edge runs in this process (media-server/test/support/edge-harness.ts: SipEdge + MediaEngine
 * with one media worker thread, area 'answering_rules') on a scratch PostgreSQL database, with N
 * users 2000… on Do Not Disturb, so that each call goes straight to the user's mailbox (user-
 * answering app → takeMessage, reason 'dnd'); every mailbox has a 1 s tone as its greeting and
 * transcription on (English). The real workers service (workers/src/main.ts) runs beside it on the
 * same database, Redis and DATA_DIR with a queue prefix of its own, as the product runs it: it
 * transcribes each message the edge queues (pocketsphinx, one job at a time on 2 cores).
 *
 * One SIPp places the N calls at `--rate` calls/s (bench/sipp/uac-voicemail-deposit.xml, one
 * mailbox per call from its -inf line) and streams from the ACK the five LibriVox sentences of
 * Debian's pocketsphinx-testdata (24.7 s of read speech, public domain), resampled to 8 kHz and
 * A-law encoded here, looped, one 20 ms frame per packet; it hangs up after the greeting, the beep
 * and S seconds. Every packet carries a different frame of speech, so each 20 ms frame of a stored
 * message can be traced back to the packet it came from:
 *   - recording loss: between the first and the last packet found in a message, the packets the
 *     caller sent whose frame is not in the file (the recorder leaves silence where a packet did
 *     not arrive in time), over the packets sent in that span;
 *   - the tail: packets sent before the BYE (from the logged ACK and BYE times) after the last one
 *     in the file, in ms.
 * CPU: this process's threads from /proc/self/task (main thread: SIP, call engine, deposits;
 * the first worker thread: the media worker; the registrar thread; libuv's pool: file writes),
 * over the deposit window (first INVITE to last message visible) and over the plateau (all N
 * calls up at once); PostgreSQL, Redis, SIPp and the workers process (with its pocketsphinx
 * children) are reported beside it.
 * Visible: the message, and then its completed transcript, returned by core's listVoicemail (what
 * the inbox API reads) for the mailbox's user, checked at each voicemail event on Redis (what the
 * inbox's live update listens to) and every second; timed from the BYE SIPp logged (same clock).
 * Transcripts are waited for at most `--transcript-wait` seconds after the last message: on 2
 * shared cores the worker transcribes far slower than 200 callers speak, so the report says how
 * many arrived, their p50/p95, and the worker's throughput.
 *
 *   npx node bench/voicemail-deposits.ts [--calls 200] [--seconds 30] [--rate 20] [--transcript-wait 600]
 * Bounded: 1–300 calls, 2–120 s each, 1–100 calls/s, a transcript wait of 0–3600 s; no asserts.
 * BENCH_KEEP=1 keeps the messages (DATA_DIR is printed) and prints where each file's timeline jumps.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { predefinedRoleId } from '@carillon/core';
import { listVoicemail } from '@carillon/core/voicemail';
import { parseVoicemailEvent, VOICEMAIL_EVENTS_CHANNEL } from '@carillon/contracts/voicemail-events';
import { migrateToLatest, openPostgres } from '@carillon/db';
import { pcmaDecode, pcmaEncode } from '../media-server/src/media/codecs/g711.ts';
import { startEdge } from '../media-server/test/support/edge-harness.ts';
import { freeSipPort } from '../media-server/test/support/sipp.ts';
import { toneWav } from '../media-server/test/support/wav.ts';
import { createScratchDatabase } from '../tests/support/postgres.ts';
import { deletePrefix, killIfRunning, spawnWorkers, uniquePrefix } from '../workers/test/support.ts';
import { TESTDATA_DIR } from '../workers/test/speech-samples.ts';
import { machineBusySeconds, procCpuSeconds } from './support/proc-stats.ts';
import { cpuBetween, cpuSnapshot, percentiles, startSippBench } from './support/sipp-run.ts';

process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
const argv = process.argv.slice(2);
const opt = (name: string, dflt: number, min: number, max: number) => {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(argv[i + 1]) : dflt;
  return Math.min(max, Math.max(min, Number.isFinite(v) ? v : dflt));
};
const CALLS = Math.round(opt('calls', 200, 1, 300));
const SECONDS = opt('seconds', 30, 2, 120);
const RATE = opt('rate', 20, 1, 100);
const TRANSCRIPT_WAIT_S = opt('transcript-wait', 600, 0, 3600);
/** The greeting (a 1 s tone) and the beep (250 ms) come before the message: the caller speaks through them, then S seconds more. */
const GREETING_MS = 1000;
const BEEP_MS = 250;
const FRAME = 160;
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (v: number) => (Number.isFinite(v) ? `${Math.round(v).toLocaleString('en')} ms` : 'n/a');

// ---- the callers' speech: 8 kHz A-law, and each frame as the edge will decode it -------------------
const librivox = path.join(TESTDATA_DIR, 'librivox');
const sentences = fs.readdirSync(librivox).filter((f) => f.endsWith('.wav')).sort().map((f) => path.join(librivox, f));
const pcmBytes = execFileSync('sox', [...sentences, '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'raw', '-'], { maxBuffer: 64 << 20 });
const frames = Math.floor(pcmBytes.length / 2 / FRAME);
const pcm = new Int16Array(pcmBytes.buffer, pcmBytes.byteOffset, frames * FRAME);
const speech = new Uint8Array(frames * FRAME);
pcmaEncode(pcm, speech);
const decoded = new Int16Array(speech.length);
pcmaDecode(speech, decoded);
/** Frame content → its indexes in the looped source (several only if two frames decode alike). */
const frameIndex = new Map<string, number[]>();
const frameKey = (samples: Int16Array, at: number) => Buffer.from(samples.buffer, samples.byteOffset + at * 2, FRAME * 2).toString('base64');
for (let f = 0; f < frames; f++) {
  const key = frameKey(decoded, f * FRAME);
  frameIndex.set(key, [...(frameIndex.get(key) ?? []), f]);
}
const ambiguous = [...frameIndex.values()].filter((l) => l.length > 1).reduce((a, l) => a + l.length, 0);

// ---- database, edge, mailboxes, workers --------------------------------------------------------------
const PG_BASE = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const scratch = await createScratchDatabase(PG_BASE, 'benchvm');
const db = openPostgres(scratch.url, 10);
await migrateToLatest(db);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-bench-vm-'));
const prefix = uniquePrefix();
const h = await startEdge({ db, dataDir, queuePrefix: prefix, unreleased: 'answering_rules', rtpPorts: 4 * CALLS + 100, noAnswerSeconds: 60 });
let workers: ReturnType<typeof spawnWorkers> | undefined;
const subscriber = new Redis(process.env.REDIS_URL);
try {
  const caller = await h.addPhone('101');
  const site = await db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).executeTakeFirstOrThrow();
  const roleId = await predefinedRoleId(db, 'standard');
  const numbers = Array.from({ length: CALLS }, (_, i) => String(2000 + i));
  const extensions = await db
    .insertInto('extensions')
    .values(numbers.map((number) => ({ account_id: h.accountId, site_id: site.id, number, type: 'user' as const, status: 'activated' as const, dnd_status: 'no_calls' as const })))
    .returning(['id', 'number'])
    .execute();
  const users = await db
    .insertInto('users')
    .values(extensions.map((e) => ({ account_id: h.accountId, extension_id: e.id, role_id: roleId, first_name: `Mailbox ${e.number}`, email: `vm${e.number}-${prefix}@x.test`, setup_progress: '{}' })))
    .returning(['id', 'extension_id'])
    .execute();
  const userOf = new Map(users.map((u) => [u.extension_id!, u.id]));
  const numberOf = new Map(extensions.map((e) => [e.id, e.number]));
  const greeting = path.posix.join('greetings', h.accountId, 'bench.wav');
  fs.mkdirSync(path.join(dataDir, path.dirname(greeting)), { recursive: true });
  fs.writeFileSync(path.join(dataDir, greeting), toneWav(440, GREETING_MS));
  await db
    .insertInto('voicemail_settings')
    .values(extensions.map((e) => ({ extension_id: e.id, account_id: h.accountId, greeting_path: greeting, language: 'en', transcribe: true })))
    .execute();
  h.configChanged('extensions', 'answering_rules');

  workers = spawnWorkers(prefix, { DATABASE_URL: scratch.url, DATA_DIR: dataDir, WORKER_SHUTDOWN_MS: '2000', PATH: process.env.PATH ?? '' });
  await workers.waitForOutput(/workers started/, 120_000);
  const workersPid = workers.child.pid!;

  // ---- what the inbox shows, and when --------------------------------------------------------------
  interface Seen {
    mailbox: string;
    messageId: string;
    visibleAt: number;
    transcriptAt: number | null;
    transcriptStatus: string | null;
    durationMs: number;
  }
  const seen = new Map<string, Seen>();
  /** Messages the 2 s sweep saw before any event led to them. */
  let missedByEvents = 0;
  const checking = new Map<string, boolean>();
  /** Reads the mailbox's inbox as its user's inbox page does, and notes what appeared in it; once more if asked again meanwhile. */
  async function checkInbox(extensionId: string, via: 'event' | 'sweep'): Promise<void> {
    if (checking.has(extensionId)) {
      checking.set(extensionId, true);
      return;
    }
    checking.set(extensionId, false);
    try {
      do {
        checking.set(extensionId, false);
        const list = await listVoicemail(db, { accountId: h.accountId, userId: userOf.get(extensionId)! });
        const now = Date.now();
        for (const m of list) {
          let s = seen.get(m.mailboxExtensionId);
          if (!s) {
            s = { mailbox: numberOf.get(m.mailboxExtensionId)!, messageId: m.id, visibleAt: now, transcriptAt: null, transcriptStatus: null, durationMs: m.durationMs };
            seen.set(m.mailboxExtensionId, s);
            if (via === 'sweep') missedByEvents++;
          }
          if (s.transcriptAt === null && m.transcript && m.transcript.status !== 'queued' && m.transcript.status !== 'processing') {
            s.transcriptAt = now;
            s.transcriptStatus = m.transcript.status;
          }
        }
      } while (checking.get(extensionId));
    } finally {
      checking.delete(extensionId);
    }
  }
  await subscriber.subscribe(VOICEMAIL_EVENTS_CHANNEL);
  subscriber.on('message', (_channel, message) => {
    const event = parseVoicemailEvent(message);
    if (event?.accountId === h.accountId) void checkInbox(event.mailboxExtensionId, 'event');
  });
  // Should an event be missed, one statement every 2 s finds what the events did not announce (its time is then late by up to 2 s).
  let sweeping = true;
  const sweeper = (async () => {
    while (sweeping) {
      await sleep(2000);
      const rows = await db
        .selectFrom('voicemail_messages as m')
        .leftJoin('transcriptions as t', 't.id', 'm.transcription_id')
        .select(['m.mailbox_extension_id', 't.status'])
        .where('m.account_id', '=', h.accountId)
        .execute();
      for (const r of rows) {
        const s = seen.get(r.mailbox_extension_id);
        if (!s || (s.transcriptAt === null && r.status !== 'queued' && r.status !== 'processing')) await checkInbox(r.mailbox_extension_id, 'sweep');
      }
    }
  })();

  // ---- CPU, sampled from /proc -----------------------------------------------------------------------
  interface Sample {
    at: number;
    threads: Map<number, { comm: string; cpu: number }>;
    process: number;
    workers: number;
    sipp: number;
    machine: number;
    active: number;
  }
  const threadsNow = () => {
    const out = new Map<number, { comm: string; cpu: number }>();
    for (const t of fs.readdirSync('/proc/self/task')) {
      try {
        const comm = fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
        out.set(Number(t), { comm, cpu: threadCpuSeconds(t) });
      } catch {
        // gone in between
      }
    }
    return out;
  };
  /** The workers process with its reaped children (pocketsphinx, ffmpeg): /proc/<pid>/stat utime+stime+cutime+cstime. */
  const withChildren = (pid: number) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
      return (f[11]! + f[12]! + f[13]! + f[14]!) / TICKS_PER_SECOND;
    } catch {
      return Number.NaN;
    }
  };
  let sippPid = 0;
  const sample = (): Sample => ({
    at: Date.now(),
    threads: threadsNow(),
    process: procCpuSeconds(process.pid) ?? 0,
    workers: withChildren(workersPid),
    sipp: sippPid ? (procCpuSeconds(sippPid) ?? 0) : 0,
    machine: machineBusySeconds(),
    active: h.edge.calls.activeCalls,
  });
  const samples: Sample[] = [];

  // ---- the calls -------------------------------------------------------------------------------------
  const inf = path.join(dataDir, 'mailboxes.csv');
  fs.writeFileSync(inf, ['SEQUENTIAL', ...numbers].join('\n') + '\n');
  let sippLogs = '';
  const load0 = os.loadavg();
  console.log(`voicemail-deposits: ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? '?'}), load average ${load0.map((l) => l.toFixed(2)).join(' ')}, Node ${process.version}`);
  console.log(`${CALLS} calls of ${SECONDS} s at ${RATE}/s; caller audio: ${sentences.length} LibriVox sentences, ${(frames / 50).toFixed(1)} s looped (${ambiguous} of ${frames} frames not unique); edge on ${h.target}, ${scratch.url.replace(/^.*\//, 'PostgreSQL ')}; workers pid ${workersPid}`);
  const pg0 = cpuSnapshot();
  const start = sample();
  samples.push(start);
  const sipp = startSippBench({
    scenario: 'uac-voicemail-deposit.xml',
    target: h.target,
    localPort: await freeSipPort(),
    mediaPort: 30_000,
    calls: CALLS,
    limit: CALLS,
    rate: RATE,
    timeoutSeconds: Math.ceil(CALLS / RATE + SECONDS + 120),
    inf,
    files: { 'speech.alaw': speech },
    extra: ['-au', caller.username, '-ap', caller.password, '-d', String(GREETING_MS + BEEP_MS + SECONDS * 1000), '-trace_logs'],
    keep: (dir) => {
      for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('_logs.log'))) sippLogs += fs.readFileSync(path.join(dir, f), 'utf8');
    },
  });
  sippPid = sipp.child.pid ?? 0;
  const sampler = setInterval(() => samples.push(sample()), 250);
  const result = await sipp.done;
  const sippEnded = sample();
  // Every message visible (or a minute after the last BYE, then what is missing is counted as lost).
  const visibleDeadline = Date.now() + 60_000;
  while (seen.size < CALLS && Date.now() < visibleDeadline) await sleep(100);
  const allVisible = sample();
  const pg1 = cpuSnapshot();

  // ---- transcripts, for at most --transcript-wait seconds ------------------------------------------
  const transcribed = () => [...seen.values()].filter((s) => s.transcriptAt !== null).length;
  const transcriptDeadline = Date.now() + TRANSCRIPT_WAIT_S * 1000;
  while (transcribed() < seen.size && Date.now() < transcriptDeadline) await sleep(250);
  const transcriptsEnd = sample();
  clearInterval(sampler);
  sweeping = false;
  await sweeper;

  // ---- the figures -----------------------------------------------------------------------------------
  const byeAt = new Map<string, number>();
  const ackAt = new Map<string, number>();
  for (const line of sippLogs.split('\n')) {
    // SIPp prints its variables as floats: "bye 2000 1796655992.000000 180134.000000".
    const m = /^(ack|bye) (\d+) ([\d.]+) ([\d.]+)/.exec(line.trim());
    if (m) (m[1] === 'ack' ? ackAt : byeAt).set(m[2]!, Number(m[3]) * 1000 + Number(m[4]) / 1000);
  }
  const messages = await db
    .selectFrom('voicemail_messages as m')
    .innerJoin('extensions as e', 'e.id', 'm.mailbox_extension_id')
    .select(['e.number', 'm.audio_path', 'm.duration_ms', 'm.reason', 'm.created_at'])
    .where('m.account_id', '=', h.accountId)
    .execute();
  const stored = new Map(messages.map((m) => [m.number, m]));
  const loss = { sent: 0, recorded: 0, lost: 0, unknown: 0, tailMs: [] as number[], files: 0, perCall: [] as number[], restarts: 0 };
  for (const [number, m] of stored) {
    const r = traceFrames(path.join(dataDir, m.audio_path));
    if (!r) continue;
    loss.files++;
    loss.sent += r.span;
    loss.recorded += r.found;
    loss.lost += r.span - r.found;
    loss.unknown += r.unknown;
    loss.restarts += r.restarts;
    loss.perCall.push(((r.span - r.found) / Math.max(1, r.span)) * 100);
    const ack = ackAt.get(number);
    const bye = byeAt.get(number);
    // Packets rtp_stream had sent at the BYE (one per 20 ms from the ACK) after the last one in the file.
    if (ack !== undefined && bye !== undefined) loss.tailMs.push(((bye - ack) / 20 - 1 - r.lastPacket) * 20);
  }
  const visibleMs = [...seen.values()].flatMap((s) => (byeAt.has(s.mailbox) ? [s.visibleAt - byeAt.get(s.mailbox)!] : []));
  const transcriptMs = [...seen.values()].flatMap((s) => (s.transcriptAt !== null && s.transcriptStatus === 'completed' && byeAt.has(s.mailbox) ? [s.transcriptAt - byeAt.get(s.mailbox)!] : []));
  const failedTranscripts = [...seen.values()].filter((s) => s.transcriptStatus !== null && s.transcriptStatus !== 'completed').length;
  const v = percentiles(visibleMs);
  const t = percentiles(transcriptMs);
  /** p-th percentile over every message, counting those without a transcript as "later than the wait". */
  const overAll = (p: number) => {
    const rank = Math.ceil((p / 100) * stored.size);
    return rank <= transcriptMs.length ? ms([...transcriptMs].sort((a, b) => a - b)[rank - 1]!) : `> ${TRANSCRIPT_WAIT_S} s after the last message (not reached)`;
  };

  const secondsBetween = (a: Sample, b: Sample) => (b.at - a.at) / 1000;
  const threadCpu = (a: Sample, b: Sample) => {
    const out = { main: 0, media: 0, registrar: 0, libuv: 0, other: 0 };
    const workerTids = [...b.threads.entries()].filter(([, x]) => x.comm === 'WorkerThread').map(([tid]) => tid).sort((x, y) => x - y);
    for (const [tid, x] of b.threads) {
      const used = x.cpu - (a.threads.get(tid)?.cpu ?? 0);
      if (tid === process.pid) out.main += used;
      // The media engine starts its worker before the edge starts its registrar thread (edge-harness.ts): the lower id.
      else if (tid === workerTids[0]) out.media += used;
      else if (x.comm === 'WorkerThread') out.registrar += used;
      else if (x.comm === 'libuv-worker') out.libuv += used;
      else out.other += used;
    }
    return out;
  };
  const pct = (cpu: number, secs: number) => `${((cpu / secs) * 100).toFixed(1)} %`;
  /** `per`: deposits at once (the share of a core each takes) or deposits in the window (the CPU time each cost). */
  const window = (label: string, a: Sample, b: Sample, per: { atOnce: number } | { deposits: number }) => {
    const secs = secondsBetween(a, b);
    const c = threadCpu(a, b);
    const total = b.process - a.process;
    const each =
      'atOnce' in per
        ? `per deposit ${((total / secs / per.atOnce) * 100).toFixed(2)} % of a core (main + media worker ${(((c.main + c.media) / secs / per.atOnce) * 100).toFixed(2)} %)`
        : `per deposit ${((total / per.deposits) * 1000).toFixed(0)} ms of CPU (main + media worker ${(((c.main + c.media) / per.deposits) * 1000).toFixed(0)} ms)`;
    console.log(
      `${label}: ${secs.toFixed(1)} s; edge process ${pct(total, secs)} of a core (main ${pct(c.main, secs)}, media worker ${pct(c.media, secs)}, registrar ${pct(c.registrar, secs)}, libuv pool ${pct(c.libuv, secs)}, V8/other ${pct(c.other, secs)}); ${each}` +
        `; workers process ${pct(b.workers - a.workers, secs)}, SIPp ${pct(b.sipp - a.sipp, secs)}, machine ${pct(b.machine - a.machine, secs)} of 200 %`,
    );
  };

  console.log(`SIPp: exit ${result.code}, ${result.last?.['SuccessfulCall(C)'] ?? '?'} calls passed, ${result.last?.['FailedCall(C)'] ?? '?'} failed${result.errors ? `; errors: ${result.errors.slice(0, 300)}` : ''}`);
  const reasons = [...new Set(messages.map((m) => m.reason))].join(', ');
  console.log(`messages stored: ${stored.size} / ${CALLS} calls (reason ${reasons || 'none'}); visible in the inbox: ${seen.size}; duration p50 ${ms(percentiles(messages.map((m) => m.duration_ms)).p50)}`);
  console.log(
    `recording: ${loss.recorded.toLocaleString('en')} of ${loss.sent.toLocaleString('en')} packets sent between each message's first and last found in its file (${loss.files} files): loss ${((loss.lost / Math.max(1, loss.sent)) * 100).toFixed(4)} %` +
      `; worst message ${Math.max(0, ...loss.perCall).toFixed(2)} %; messages with any loss ${loss.perCall.filter((p) => p > 0).length}; frames not from the caller ${loss.unknown}; timeline restarts ${loss.restarts}`,
  );
  // What reached the edge: the caller legs' RFC 3550 receive statistics (by sequence number), written at each call's end.
  const legs = await db.selectFrom('call_legs').select('rtp_stats').where('account_id', '=', h.accountId).where('role', '=', 'caller').execute();
  const rtp = legs.reduce(
    (a, l) => {
      const r = (l.rtp_stats as { received?: { packets?: number; lost?: number } } | null)?.received;
      return { packets: a.packets + (r?.packets ?? 0), lost: a.lost + (r?.lost ?? 0) };
    },
    { packets: 0, lost: 0 },
  );
  console.log(`RTP from the callers at the edge (whole calls, greeting included): ${rtp.packets.toLocaleString('en')} packets received, ${rtp.lost.toLocaleString('en')} lost by sequence number (${((rtp.lost / Math.max(1, rtp.packets + rtp.lost)) * 100).toFixed(4)} %)`);
  const tail = percentiles(loss.tailMs);
  console.log(`the caller's last words not in the message (sent before its BYE, after the file's last frame): p50 ${ms(tail.p50)}, p95 ${ms(tail.p95)}, max ${ms(tail.max)}`);
  const peak = Math.max(...samples.map((s) => s.active));
  const plateau = samples.filter((s) => s.active >= peak);
  console.log(`calls up at once: at most ${peak} of ${CALLS}`);
  if (plateau.length >= 2) window(`plateau (${peak} up at once)`, plateau[0]!, plateau.at(-1)!, { atOnce: peak });
  window('deposit window (first INVITE to last message visible)', start, allVisible, { deposits: Math.max(1, stored.size) });
  const pgCpu = cpuBetween(pg0, pg1);
  console.log(`same window: PostgreSQL ${pgCpu.postgres.toFixed(1)} %, Redis ${pgCpu.redis.toFixed(1)} % of a core; SIPp finished ${secondsBetween(start, sippEnded).toFixed(1)} s after its first INVITE`);
  const committed = percentiles(messages.flatMap((m) => (byeAt.has(m.number) ? [new Date(m.created_at).getTime() - byeAt.get(m.number)!] : [])));
  console.log(`hang-up → message visible in the inbox: p50 ${ms(v.p50)}, p95 ${ms(v.p95)}, max ${ms(v.max)} (${v.n} messages; ${missedByEvents} first seen by the 2 s sweep rather than at an event); hang-up → its row's transaction (created_at): p50 ${ms(committed.p50)}, p95 ${ms(committed.p95)}`);
  const waited = secondsBetween(allVisible, transcriptsEnd);
  console.log(
    `hang-up → transcript visible: ${transcriptMs.length} of ${stored.size} within ${waited.toFixed(0)} s after the last message (${failedTranscripts} failed); of those: p50 ${ms(t.p50)}, p95 ${ms(t.p95)}; over every message: p50 ${overAll(50)}, p95 ${overAll(95)}`,
  );
  const firstDone = Math.min(...[...seen.values()].flatMap((s) => (s.transcriptAt ? [s.transcriptAt] : [])));
  const lastDone = Math.max(...[...seen.values()].flatMap((s) => (s.transcriptAt ? [s.transcriptAt] : [])));
  const firstStored = Math.min(...[...seen.values()].map((s) => s.visibleAt));
  const audioDone = [...seen.values()].filter((s) => s.transcriptAt !== null).reduce((a, s) => a + s.durationMs / 1000, 0);
  const workSecs = (lastDone - firstStored) / 1000;
  if (transcriptMs.length > 0) {
    console.log(
      `transcription worker: ${(transcriptMs.length / (workSecs / 60)).toFixed(2)} transcripts/min from the first message stored to the last transcript (${workSecs.toFixed(0)} s, first after ${((firstDone - firstStored) / 1000).toFixed(1)} s), ${(audioDone / workSecs).toFixed(2)} s of audio per second` +
        `; workers process with its children ${pct(transcriptsEnd.workers - start.workers, secondsBetween(start, transcriptsEnd))} of a core over the whole run`,
    );
  }
  if (process.env.BENCH_KEEP) console.log(`workers' log (end): ${workers.stdout().slice(-2000)} ${workers.stderr().slice(-2000)}`);
  console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  if (workers) {
    workers.child.kill('SIGTERM');
    await Promise.race([workers.exited, sleep(10_000)]);
    killIfRunning(workers);
  }
  subscriber.disconnect();
  await h.stop();
  await db.destroy();
  await scratch.drop();
  await deletePrefix(prefix);
  if (process.env.BENCH_KEEP) console.log(`kept ${dataDir}`);
  else fs.rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);

/** CPU seconds of one thread of this process (/proc/self/task/<tid>/stat utime + stime; /proc/<tid>/stat would be the whole process). */
function threadCpuSeconds(tid: string): number {
  const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
}

/**
 * Traces each 20 ms frame of a stored message (mono, 16-bit, 8 kHz) back to the caller's packet it
 * came from: packet k carried source frame k mod `frames`. Returns the span of packets between the
 * first and the last one found, how many of them are in the file, frames that are neither silence nor
 * a frame of the caller (none expected), and how often the file's timeline jumped against the packets'.
 */
function traceFrames(file: string): { span: number; found: number; unknown: number; lastPacket: number; restarts: number } | null {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return null;
  }
  const samples = new Int16Array(buf.buffer.slice(buf.byteOffset + 44, buf.byteOffset + buf.length - ((buf.length - 44) % 2)));
  let first = -1;
  let last = -1;
  let prevPacket = -1;
  let prevPosition = -1;
  let found = 0;
  let unknown = 0;
  let restarts = 0;
  const gaps: string[] = [];
  for (let p = 0; p + FRAME <= samples.length; p += FRAME) {
    let silent = true;
    for (let i = p; i < p + FRAME; i++) if (samples[i] !== 0) silent = false;
    if (silent) continue;
    const candidates = frameIndex.get(frameKey(samples, p));
    if (!candidates) {
      unknown++;
      continue;
    }
    const position = p / FRAME;
    // The packet number: the candidate frame, on the loop turn nearest to where the file's timeline says it should be.
    const expected = prevPacket < 0 ? candidates[0]! : prevPacket + (position - prevPosition);
    let packet = -1;
    for (const c of candidates) {
      const turn = Math.round((expected - c) / frames);
      const k = c + turn * frames;
      if (packet < 0 || Math.abs(k - expected) < Math.abs(packet - expected)) packet = k;
    }
    if (prevPacket >= 0 && packet - prevPacket !== position - prevPosition) {
      restarts++;
      if (process.env.BENCH_KEEP) gaps.push(`@${position}: ${position - prevPosition - 1} silent frames, packet +${packet - prevPacket}`);
    }
    if (first < 0) first = packet;
    if (packet > prevPacket) found++;
    last = Math.max(last, packet);
    prevPacket = packet;
    prevPosition = position;
  }
  if (gaps.length > 0) console.log(`${path.basename(file)}: ${gaps.slice(0, 12).join('; ')}`);
  if (first < 0) return { span: 0, found: 0, unknown, lastPacket: -1, restarts };
  return { span: last - first + 1, found, unknown, lastPacket: last, restarts };
}
