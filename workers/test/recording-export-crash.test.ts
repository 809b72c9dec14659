import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job, QueueEvents } from 'bullmq';
import type { Db } from '@carillon/db';
import { openServedDatabase, type ServedDatabase } from '../../scripts/lib/database.ts';
import { createScratchDatabase, testPostgresUrl } from '../../tests/support/postgres.ts';
import { createJobProducer, createRedisConnection, type RecordingExportQueue } from '@carillon/core/jobs';
import { QUEUE_JOB_OPTIONS, QueueName, type RecordingExportJobResult } from '@carillon/contracts/jobs';
import { deletePrefix, killIfRunning, REDIS_URL, spawnWorkers, uniquePrefix, waitFor, type Spawned } from './support.ts';
import { decodeAudio, insertRecordedCall, makeWav, parseCsv, seedAccount, zipEntry, zipEntryNames, type SeededAccount } from './recording-export-support.ts';

/**
 * Issue 6 acceptance: a worker killed with SIGKILL in the middle of an export.
 * After a restart BullMQ's stalled-job check hands the job to the new worker,
 * which starts the ZIP over; the export completes once, with one whole file.
 */
const RECORDINGS = 12;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-tests', 'rec-export-crash-'));
const prefix = uniquePrefix();
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let database: ServedDatabase;
let db: Db;
let account: SeededAccount;
let queue: RecordingExportQueue;
let events: QueueEvents;
const workers: Spawned[] = [];
const connection = createRedisConnection(REDIS_URL);

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'recexportcrash');
  database = await openServedDatabase(scratch?.url, dataDir);
  db = database.db;
  account = await seedAccount(db, 'Crash Corp');
  const wav = path.join(dataDir, 'recordings', 'call.wav');
  await makeWav(wav, 2);
  for (let i = 0; i < RECORDINGS; i++) {
    await insertRecordedCall(db, {
      accountId: account.accountId,
      callerExtensionId: account.adminExtensionId,
      calleeExtensionId: null,
      direction: 'outbound',
      fromNumber: '101',
      toNumber: `+1555010${String(i).padStart(2, '0')}`,
      startedAt: new Date(Date.UTC(2026, 1, 1, 8, i)),
      wavPath: wav,
      seconds: 2,
    });
  }
  queue = createJobProducer(connection, prefix).queue('recording-export');
  events = new QueueEvents(QueueName.RecordingExport, { connection, prefix });
  await events.waitUntilReady();
}, 120_000);

afterAll(async () => {
  for (const w of workers) killIfRunning(w);
  await events?.close();
  await queue?.close();
  await connection.quit();
  await deletePrefix(prefix);
  await database?.close();
  await scratch?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const startWorker = async () => {
  // A short lock (and so stalled-check interval), as the transcription crash test uses: the dead
  // worker's job is handed on within seconds instead of a minute.
  const w = spawnWorkers(prefix, { DATABASE_URL: database.url, DATA_DIR: dataDir, WORKER_LOCK_MS: '3000' });
  workers.push(w);
  await w.waitForOutput(/"workers started"/);
  return w;
};

describe('recording export crash recovery', () => {
  it('survives kill -9 mid-export: after a restart it completes once, with one whole ZIP', { timeout: 120_000 }, async () => {
    const completions: string[] = [];
    events.on('completed', ({ jobId }) => completions.push(jobId));
    const first = await startWorker();
    const row = await db.insertInto('recording_exports').values({ account_id: account.accountId, requested_by: account.adminUserId, filters: JSON.stringify({ extensionId: null }) }).returning('id').executeTakeFirstOrThrow();
    const exportsDir = path.join(dataDir, 'exports', account.accountId);
    // The same options as the app's, plus the test-only pause that keeps the export in flight for a few seconds.
    await queue.add('export', { kind: 'export', exportId: row.id, accountId: account.accountId, userId: account.adminUserId, delayMsPerRecording: 400 }, { ...QUEUE_JOB_OPTIONS['recording-export'], jobId: row.id });

    const progress = async () => (await db.selectFrom('recording_exports').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow());
    const jobProgress = async () => (await Job.fromId(queue, row.id))!.progress as { percent?: number; stage?: string; owner?: object };
    // The row and the job are updated one after the other: wait for both (3 of 12 is 25 %).
    await waitFor(async () => (await progress()).progress_done >= 3 && (await jobProgress()).percent! >= 25, 30_000, 'the export to be a few recordings in');
    const midway = await progress();
    // The same progress on the BullMQ job, for whoever pushes it to the browser.
    const inFlight = await jobProgress();
    expect(inFlight).toMatchObject({ stage: 'exporting', owner: { accountId: account.accountId, userId: account.adminUserId } });
    expect(inFlight.percent).toBeGreaterThanOrEqual(25);
    expect(inFlight.percent).toBeLessThan(100);
    expect(midway).toMatchObject({ status: 'running', progress_total: RECORDINGS, file_path: null });
    expect(midway.progress_done).toBeLessThan(RECORDINGS);
    // Only the partial file exists: nothing a download could pick up.
    expect(fs.readdirSync(exportsDir).sort()).toEqual([`${row.id}.zip.part`, `${row.id}.zip.work`]);

    first.child.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');
    const job = (await Job.fromId(queue, row.id))!;
    expect(await job.getState()).toBe('active');

    const second = await startWorker();
    // BullMQ re-queues the job once the dead worker's lock has expired, at a stalled-job check.
    const result = (await job.waitUntilFinished(events, 60_000).catch(async (err: unknown) => {
      const state = await job.getState();
      const now = await Job.fromId(queue, row.id);
      throw new Error(`${String(err)}\nstate: ${state}, attemptsStarted ${now?.attemptsStarted}, stalledCounter ${now?.stalledCounter}, failedReason ${now?.failedReason}\nrow: ${JSON.stringify(await progress())}\nsecond worker: ${second.stdout()}\n${second.stderr()}`, { cause: err });
    })) as RecordingExportJobResult;
    expect(result).toMatchObject({ kind: 'export', recordings: RECORDINGS, skipped: 0 });
    expect(second.stdout()).toMatch(/job stalled: its worker went away, re-queued/);

    const done = await progress();
    expect(done).toMatchObject({ status: 'completed', progress_done: RECORDINGS, progress_total: RECORDINGS, error: null });
    expect(fs.readdirSync(exportsDir)).toEqual([`${row.id}.zip`]);
    const names = await zipEntryNames(done.file_path!);
    expect(names.filter((n) => n.endsWith('.mp3'))).toHaveLength(RECORDINGS);
    expect(new Set(names).size).toBe(names.length);
    const csv = parseCsv((await zipEntry(done.file_path!, 'recordings.csv')).toString('utf8'));
    expect(csv).toHaveLength(RECORDINGS);
    expect(csv.every((r) => r.Problem === '' && names.includes(r.File!))).toBe(true);
    const last = await decodeAudio(await zipEntry(done.file_path!, names.find((n) => n.endsWith('.mp3'))!));
    expect(last.seconds).toBeCloseTo(2, 1);
    expect(Math.min(...last.rms)).toBeGreaterThan(0.2);

    // Completed once: one completion event, and the job is not run again.
    await new Promise((r) => setTimeout(r, 1000));
    expect(completions.filter((id) => id === row.id)).toEqual([row.id]);
    expect(await (await Job.fromId(queue, row.id))!.getState()).toBe('completed');
  });
});
