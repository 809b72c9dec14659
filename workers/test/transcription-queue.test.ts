import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { createAccount } from '@carillon/core';
import type { Db } from '@carillon/db';
import { createJobProducer, createRedisConnection, type JobProducer } from '@carillon/core/jobs';
import { type JobProgress } from '@carillon/contracts/jobs';
import { TESTDATA_DIR } from './speech-samples.ts';
import { deletePrefix, killIfRunning, REDIS_URL, spawnWorkers, startSmtpReceiver, startTestDatabase, uniquePrefix, waitFor, type Spawned } from './support.ts';

/**
 * The transcription queue end to end with real processes: a worker killed
 * with SIGKILL mid-job and one stopped with SIGTERM mid-job. Each case
 * checks the one visible result (the row) and the one notification e-mail.
 */
describe('transcription queue', () => {
  const prefix = uniquePrefix();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-transcription-queue-'));
  let database: Awaited<ReturnType<typeof startTestDatabase>>;
  let db: Db;
  let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
  let connection: Redis;
  let producer: JobProducer;
  let events: QueueEvents;
  let account: { accountId: string; userId: string };
  const workers: Spawned[] = [];
  let longAudio: string;
  let shortAudio: string;
  let veryLongAudio: string;

  const startWorker = (env: Record<string, string> = {}) => {
    const w = spawnWorkers(prefix, {
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      SMTP_URL: smtp.url,
      // Short locks so a killed worker's job is re-queued within seconds, not a minute.
      WORKER_LOCK_MS: '2000',
      WORKER_CONCURRENCY_TRANSCRIPTION: '1',
      ...env,
    });
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    database = await startTestDatabase();
    db = database.db;
    smtp = await startSmtpReceiver();
    connection = createRedisConnection(REDIS_URL);
    producer = createJobProducer(connection, prefix);
    events = new QueueEvents('transcription', { connection, prefix });
    await events.waitUntilReady();
    const created = await createAccount(db, { company: 'Queue Test', email: 'owner@queue.test', firstName: 'Olga', lastName: 'Owner' }, { activationTtlHours: 1 });
    account = { accountId: created.accountId, userId: created.userId };
    // About 35 s of read speech: several seconds of recognition, long enough to be caught mid-job.
    fs.mkdirSync(path.join(dataDir, 'transcriptions'), { recursive: true });
    longAudio = path.join(dataDir, 'long.wav');
    const librivox = fs.readdirSync(path.join(TESTDATA_DIR, 'librivox')).filter((f) => f.endsWith('.wav')).map((f) => path.join(TESTDATA_DIR, 'librivox', f));
    execFileSync('sox', [...librivox, ...librivox.slice(0, 2), longAudio]);
    // About 10 s: a few seconds of recognition, finished within the minute that its worker's shutdown waits.
    shortAudio = path.join(dataDir, 'short.wav');
    execFileSync('sox', [...librivox.slice(0, 2), shortAudio]);
    // About 70 s: recognition takes well over the second that its worker's shutdown waits.
    veryLongAudio = path.join(dataDir, 'very-long.wav');
    execFileSync('sox', [longAudio, longAudio, veryLongAudio]);
  });

  // One case's leftovers (a worker still recognising, a job still queued) must not become the next
  // case's: a worker left busy would take the next case's job (concurrency 1) and mislead it.
  afterEach(async () => {
    const running = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    for (const w of running) killIfRunning(w);
    await Promise.all(running.map((w) => w.exited));
    await producer.queue('transcription').obliterate({ force: true });
  });

  afterAll(async () => {
    for (const w of workers) killIfRunning(w);
    await events?.close();
    await producer?.close();
    await connection?.quit();
    await smtp?.stop();
    await database?.stop();
    await deletePrefix(prefix);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function submit(label: string, source = longAudio): Promise<string> {
    const relative = `transcriptions/${label}.wav`;
    fs.copyFileSync(source, path.join(dataDir, relative));
    const row = await db
      .insertInto('transcriptions')
      .values({ account_id: account.accountId, user_id: account.userId, language: 'en', file_name: `${label}.wav`, size_bytes: fs.statSync(longAudio).size, audio_path: relative, notify_email: true })
      .returning('id')
      .executeTakeFirstOrThrow();
    await producer.add('transcription', 'transcribe', { ...account, transcriptionId: row.id }, { jobId: row.id });
    return row.id;
  }

  const rowOf = (id: string) => db.selectFrom('transcriptions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const mailsAbout = (fileName: string) => smtp.received.filter((m) => m.raw.includes(fileName));

  it('finishes a job whose worker was killed with SIGKILL mid-recognition: one result, one e-mail', { timeout: 240_000 }, async () => {
    const first = startWorker();
    await first.waitForOutput(/"workers started"/);
    const id = await submit('crash');
    // Recognition under way: past decoding, progress reported by the engine.
    await waitFor(async () => ((await producer.queue('transcription').getJob(id))?.progress as JobProgress | undefined)?.stage === 'recognising', 20_000, 'recognition to start');
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect((await rowOf(id)).status).toBe('processing');
    expect(await producer.queue('transcription').getJobState(id)).toBe('active');

    const second = startWorker();
    // The second attempt recognises the whole 35 s again: several times slower on a loaded machine.
    await waitFor(async () => (await rowOf(id)).status === 'completed', 180_000, 'the restarted worker to finish the job');
    const row = await rowOf(id);
    expect(row.attempts).toBe(2);
    expect(row.engine).toBe('pocketsphinx');
    expect(row.text).toMatch(/consider how much there might be/);
    expect(row.words!.length).toBeGreaterThan(50);
    expect(row.duration_ms).toBeGreaterThan(30_000);
    expect(row.error).toBeNull();
    await waitFor(async () => (await producer.queue('transcription').getJobState(id)) === 'completed', 10_000, 'the job to complete');
    const job = await producer.queue('transcription').getJob(id);
    expect(job?.processedBy).toContain(String(second.child.pid));
    expect(await db.selectFrom('transcriptions').select('id').where('account_id', '=', account.accountId).where('file_name', '=', 'crash.wav').execute()).toHaveLength(1);
    await waitFor(async () => mailsAbout('crash.wav').length > 0, 15_000, 'the completion e-mail');
    // Give a duplicate the time to show up if there were one.
    await new Promise((r) => setTimeout(r, 1000));
    expect(mailsAbout('crash.wav')).toHaveLength(1);
    expect(mailsAbout('crash.wav')[0]!.to).toEqual(['owner@queue.test']);

    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });

  // Each case sets its worker's shutdown wait far from the recognition time, so that a loaded machine
  // (recognition several times slower) cannot turn one case into the other.
  it('finishes the transcription in flight on SIGTERM before exiting 0', { timeout: 120_000 }, async () => {
    const w = startWorker({ WORKER_SHUTDOWN_MS: '90000' });
    await w.waitForOutput(/"workers started"/);
    const id = await submit('sigterm', shortAudio);
    await waitFor(async () => (await rowOf(id)).status === 'processing', 20_000, 'the job to start');
    const signalledAt = Date.now();
    w.child.kill('SIGTERM');
    const exit = await w.exited;
    expect(exit, w.stderr()).toMatchObject({ code: 0, signal: null });
    const row = await rowOf(id);
    expect(row.status).toBe('completed');
    expect(row.attempts).toBe(1);
    expect(row.completed_at!.getTime()).toBeGreaterThanOrEqual(signalledAt);
    expect(await producer.queue('transcription').getJobState(id)).toBe('completed');
  });

  it('hands a job longer than the shutdown wait back to the queue on SIGTERM; another worker finishes it once', { timeout: 300_000 }, async () => {
    const w = startWorker({ WORKER_SHUTDOWN_MS: '1000' });
    await w.waitForOutput(/"workers started"/);
    const id = await submit('long-sigterm', veryLongAudio);
    await waitFor(async () => (await rowOf(id)).status === 'processing', 20_000, 'the job to start');
    w.child.kill('SIGTERM');
    const exit = await w.exited;
    // 1: the process says it left a job behind rather than pretending to have drained.
    expect(exit.code).toBe(1);
    expect(w.stdout()).toMatch(/shutdown timed out/);
    expect((await rowOf(id)).status).toBe('processing');

    const next = startWorker();
    // 70 s of speech recognised from the start: minutes on a loaded machine.
    await waitFor(async () => (await rowOf(id)).status === 'completed', 240_000, 'another worker to finish the job');
    expect((await rowOf(id)).attempts).toBe(2);
    expect((await rowOf(id)).duration_ms).toBeGreaterThan(60_000);
    await waitFor(async () => mailsAbout('long-sigterm.wav').length > 0, 15_000, 'the completion e-mail');
    await new Promise((r) => setTimeout(r, 1000));
    expect(mailsAbout('long-sigterm.wav')).toHaveLength(1);
    next.child.kill('SIGTERM');
    expect((await next.exited).code).toBe(0);
  });

  it('fails at once, with the reason, on a file that is not audio or a language without a model', { timeout: 60_000 }, async () => {
    const w = startWorker();
    const relative = 'transcriptions/not-audio.ogg';
    fs.writeFileSync(path.join(dataDir, relative), 'this is a text file, not audio\n'.repeat(100));
    const bad = await db.insertInto('transcriptions').values({ account_id: account.accountId, user_id: account.userId, language: 'en', file_name: 'not-audio.ogg', size_bytes: 3100, audio_path: relative }).returning('id').executeTakeFirstOrThrow();
    fs.copyFileSync(longAudio, path.join(dataDir, 'transcriptions/french.wav'));
    const french = await db.insertInto('transcriptions').values({ account_id: account.accountId, user_id: account.userId, language: 'fr', file_name: 'french.wav', size_bytes: 1000, audio_path: 'transcriptions/french.wav' }).returning('id').executeTakeFirstOrThrow();
    for (const id of [bad.id, french.id]) await producer.add('transcription', 'transcribe', { ...account, transcriptionId: id }, { jobId: id });

    await waitFor(async () => (await rowOf(bad.id)).status === 'failed' && (await rowOf(french.id)).status === 'failed', 30_000, 'both jobs to fail');
    expect((await rowOf(bad.id)).error).toMatch(/^not an audio file ffmpeg can decode/);
    expect((await rowOf(french.id)).error).toMatch(/no model for language "fr"/);
    for (const id of [bad.id, french.id]) {
      // The row is marked failed before the processor throws; BullMQ records the attempt just after.
      await waitFor(async () => (await producer.queue('transcription').getJob(id)?.then((j) => j?.getState())) === 'failed', 30_000, 'the job to be failed in the queue');
      const job = await producer.queue('transcription').getJob(id);
      // Unrecoverable: one attempt, not three.
      expect(job?.attemptsMade).toBe(1);
    }
    w.child.kill('SIGTERM');
    expect((await w.exited).code).toBe(0);
  });
});
