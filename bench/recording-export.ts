/**
 * Recording export memory and throughput (issue 6: "an export of 500
 * recordings streams with flat memory; peak RSS under 250 MB whatever the
 * export size"). For each size, a fresh workers process (the real service,
 * `workers/src/main.ts`) exports that many recordings of a scratch account;
 * the worker's resident memory is sampled from /proc while it works, and its
 * high-water mark (VmHWM) is read at the end. ffmpeg runs as a child process
 * per recording and is not counted in the worker's RSS (one at a time, ~20 MB).
 *
 *   npx node bench/recording-export.ts [sizes, default 100,500] [seconds per recording, default 4]
 *
 * Uses the machine's PostgreSQL when it answers on 127.0.0.1:5432 (a scratch
 * database, dropped at the end), PGlite otherwise; Redis from REDIS_URL or 127.0.0.1:6379.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Job, QueueEvents } from 'bullmq';
import pg from 'pg';
import { openServedDatabase } from '../scripts/lib/database.ts';
import { createScratchDatabase } from '../tests/support/postgres.ts';
import { QueueName, type RecordingExportJobResult } from '@carillon/contracts/jobs';
import { createJobProducer, createRedisConnection, enqueueRecordingExport } from '@carillon/core/jobs';
import { deletePrefix, killIfRunning, REDIS_URL, spawnWorkers, uniquePrefix } from '../workers/test/support.ts';
import { insertRecordedCall, makeWav, seedAccount } from '../workers/test/recording-export-support.ts';

const run = promisify(execFile);
const sizes = (process.argv[2] ?? '100,500').split(',').map(Number).filter((n) => n > 0);
const seconds = Number(process.argv[3] ?? 4);
const PG = 'postgres://postgres@127.0.0.1:5432/test';

async function postgresAnswers(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG, connectionTimeoutMillis: 1000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

function readStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) : 0;
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-bench-export-'));
const scratch = (await postgresAnswers()) ? await createScratchDatabase(PG, 'benchexport') : undefined;
const database = await openServedDatabase(scratch?.url, dataDir);
const db = database.db;
const connection = createRedisConnection(REDIS_URL);
const prefix = uniquePrefix();
const queue = createJobProducer(connection, prefix).queue('recording-export');
const events = new QueueEvents(QueueName.RecordingExport, { connection, prefix });
await events.waitUntilReady();

console.log(`database: ${scratch ? 'PostgreSQL' : 'PGlite (served on loopback)'}; ${os.cpus().length} cores; node ${process.version}`);
const largest = Math.max(...sizes);
const t0 = performance.now();
// One WAV per recording, as the media-server writes them: 8 kHz 16-bit stereo, a tone per side.
const account = await seedAccount(db, 'Bench Corp');
let wavBytes = 0;
for (let i = 0; i < largest; i += 4) {
  await Promise.all(
    Array.from({ length: Math.min(4, largest - i) }, async (_, k) => {
      const n = i + k;
      const file = path.join(dataDir, 'recordings', `r${n}.wav`);
      await makeWav(file, seconds, [300 + (n % 50) * 10, 800 + (n % 30) * 10]);
    }),
  );
}
for (let n = 0; n < largest; n++) {
  const file = path.join(dataDir, 'recordings', `r${n}.wav`);
  wavBytes += fs.statSync(file).size;
  await insertRecordedCall(db, {
    accountId: account.accountId,
    callerExtensionId: account.adminExtensionId,
    calleeExtensionId: null,
    direction: 'outbound',
    fromNumber: '101',
    toNumber: `+1555${String(n).padStart(7, '0')}`,
    // One minute apart, in order: an export of the first N takes the N oldest (filter "to").
    startedAt: new Date(Date.UTC(2026, 0, 1) + n * 60_000),
    wavPath: file,
    seconds,
  });
}
console.log(`prepared ${largest} recordings of ${seconds} s (${(wavBytes / 1e6).toFixed(1)} MB of WAV) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

const rows: string[] = [];
try {
  for (const size of sizes) {
    const worker = spawnWorkers(prefix, { DATABASE_URL: database.url, DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    try {
      await worker.waitForOutput(/"workers started"/);
      // Let start-up garbage settle, so "idle" is the resting size.
      await new Promise((r) => setTimeout(r, 1000));
      const pid = worker.child.pid!;
      const idleKb = readStatusKb(pid, 'VmRSS');
      const to = new Date(Date.UTC(2026, 0, 1) + size * 60_000).toISOString();
      const row = await db
        .insertInto('recording_exports')
        .values({ account_id: account.accountId, requested_by: account.adminUserId, filters: JSON.stringify({ extensionId: null, to }) })
        .returning('id')
        .executeTakeFirstOrThrow();
      let maxSampleKb = idleKb;
      const sampler = setInterval(() => {
        try {
          maxSampleKb = Math.max(maxSampleKb, readStatusKb(pid, 'VmRSS'));
        } catch {
          /* the process is gone; the job's failure says why */
        }
      }, 50);
      const started = performance.now();
      await enqueueRecordingExport(queue, row.id, { accountId: account.accountId, userId: account.adminUserId });
      const result = (await (await Job.fromId(queue, row.id))!.waitUntilFinished(events, 30 * 60_000)) as RecordingExportJobResult;
      const elapsed = (performance.now() - started) / 1000;
      clearInterval(sampler);
      const hwmKb = readStatusKb(pid, 'VmHWM');
      if (result.kind !== 'export' || result.recordings !== size) throw new Error(`expected ${size} recordings, got ${JSON.stringify(result)}`);
      const zip = (await db.selectFrom('recording_exports').select('file_path').where('id', '=', row.id).executeTakeFirstOrThrow()).file_path!;
      const { stdout } = await run('unzip', ['-Z1', zip], { maxBuffer: 16 * 1024 * 1024 });
      const entries = stdout.split('\n').filter(Boolean).length;
      const zipMb = result.sizeBytes / 1e6;
      const wavMb = (wavBytes / largest) * size / 1e6;
      const line = `| ${size} | ${entries} | ${zipMb.toFixed(1)} MB | ${elapsed.toFixed(1)} s | ${(size / elapsed).toFixed(1)} rec/s | ${(wavMb / elapsed).toFixed(2)} MB/s WAV in, ${(zipMb / elapsed).toFixed(2)} MB/s ZIP out | ${(idleKb / 1024).toFixed(0)} MB | ${(maxSampleKb / 1024).toFixed(0)} MB | ${(hwmKb / 1024).toFixed(0)} MB |`;
      rows.push(line);
      console.log(`${size} recordings: ${entries} ZIP entries, ${zipMb.toFixed(1)} MB in ${elapsed.toFixed(1)} s; worker RSS idle ${(idleKb / 1024).toFixed(0)} MB, peak sampled ${(maxSampleKb / 1024).toFixed(0)} MB, VmHWM ${(hwmKb / 1024).toFixed(0)} MB`);
    } finally {
      killIfRunning(worker);
      await worker.exited;
    }
  }
  console.log('\n| recordings | ZIP entries | ZIP size | time | throughput | data rate | worker RSS idle | peak RSS (sampled) | VmHWM |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
} finally {
  await events.close();
  await queue.close();
  await connection.quit();
  await deletePrefix(prefix);
  await database.close();
  await scratch?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
