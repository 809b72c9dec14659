import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { createJobProducer, createRedisConnection, failedJobsOf, retryFailedJob, type JobProducer } from '@carillon/core/jobs';
import { deletePrefix, killIfRunning, REDIS_URL, spawnWorkers, startSmtpReceiver, uniquePrefix, waitFor, type Spawned } from './support.ts';

const ACCOUNT = '11111111-1111-4111-8111-111111111111';
const OTHER_ACCOUNT = '22222222-2222-4222-8222-222222222222';

describe('email queue', () => {
  const prefix = uniquePrefix();
  let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
  let worker: Spawned;
  let connection: Redis;
  let producer: JobProducer;
  let events: QueueEvents;

  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    connection = createRedisConnection(REDIS_URL);
    producer = createJobProducer(connection, prefix);
    events = new QueueEvents('email', { connection, prefix });
    await events.waitUntilReady();
    worker = spawnWorkers(prefix, { SMTP_URL: smtp.url, MAIL_FROM: 'Carillon <no-reply@carillon.test>' });
    await worker.waitForOutput(/"workers started"/);
  });

  afterAll(async () => {
    worker.child.kill('SIGTERM');
    await worker.exited;
    killIfRunning(worker);
    await events.close();
    await producer.close();
    await connection.quit();
    await smtp.stop();
    await deletePrefix(prefix);
  });

  const mail = (to: string, subject: string) => ({ accountId: ACCOUNT, userId: null, purpose: 'test', to, subject, text: `Body of ${subject}` });

  it('fails a job whose payload breaks the email contract at once, without retrying it', { timeout: 30_000 }, async () => {
    const job = await producer.add('email', 'test', { ...mail('bad@example.test', 'No recipient'), to: undefined } as unknown as ReturnType<typeof mail>);
    await expect(job.waitUntilFinished(events, 20_000)).rejects.toThrow(/breaks the email contract \(to\)/);
    const failed = await producer.queue('email').getJob(job.id!);
    expect(failed?.attemptsMade).toBe(1);
    expect(smtp.received.some((m) => m.raw.includes('Subject: No recipient'))).toBe(false);
  });

  it('sends through SMTP, retrying with backoff after the server first refuses', { timeout: 30_000 }, async () => {
    const before = smtp.attempts.length;
    smtp.refuse((n) => n === before + 1);
    const job = await producer.add('email', 'test', mail('ana@example.test', 'Greylisted once'));
    const result = await job.waitUntilFinished(events, 20_000);

    expect(result.to).toBe('ana@example.test');
    const delivered = smtp.received.filter((m) => m.raw.includes('Subject: Greylisted once'));
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.to).toEqual(['ana@example.test']);
    expect(delivered[0]!.raw).toContain('Body of Greylisted once');
    const tries = smtp.attempts.slice(before);
    expect(tries).toHaveLength(2);
    // Exponential backoff starts at 2 s (QUEUE_JOB_OPTIONS.email).
    expect(tries[1]! - tries[0]!).toBeGreaterThanOrEqual(1900);
    const done = await producer.queue('email').getJob(job.id!);
    expect(done?.attemptsMade).toBe(2);
  });

  it('keeps a job that failed every attempt, with its reason, for its own account only, until retried', { timeout: 30_000 }, async () => {
    smtp.refuse(() => true);
    const job = await producer.add('email', 'test', mail('bo@example.test', 'Refused for now'), { attempts: 2, backoff: { type: 'fixed', delay: 100 } });
    await expect(job.waitUntilFinished(events, 15_000)).rejects.toThrow(/451/);

    const failed = await failedJobsOf(connection, prefix, ACCOUNT);
    const listed = failed.find((f) => f.id === job.id);
    expect(listed).toMatchObject({ queue: 'email', purpose: 'test', attemptsMade: 2, maxAttempts: 2 });
    expect(listed?.reason).toMatch(/451/);
    expect(JSON.stringify(listed)).not.toContain('bo@example.test');
    expect((await failedJobsOf(connection, prefix, OTHER_ACCOUNT)).map((f) => f.id)).not.toContain(job.id);
    expect(await retryFailedJob(connection, prefix, OTHER_ACCOUNT, 'email', job.id!)).toBe('not_found');
    expect(await retryFailedJob(connection, prefix, ACCOUNT, 'system-health', job.id!)).toBe('not_found');

    smtp.refuse(() => false);
    expect(await retryFailedJob(connection, prefix, ACCOUNT, 'email', job.id!)).toBe('retried');
    await waitFor(async () => smtp.received.some((m) => m.raw.includes('Subject: Refused for now')), 15_000, 'the retried e-mail');
    await waitFor(async () => (await producer.queue('email').getJob(job.id!))?.finishedOn !== undefined && (await job.getState()) === 'completed', 5000, 'the job to complete');
    expect((await failedJobsOf(connection, prefix, ACCOUNT)).map((f) => f.id)).not.toContain(job.id);
    expect(await retryFailedJob(connection, prefix, ACCOUNT, 'email', job.id!)).toBe('not_failed');
    expect(smtp.received.filter((m) => m.raw.includes('Subject: Refused for now'))).toHaveLength(1);
  });
});
