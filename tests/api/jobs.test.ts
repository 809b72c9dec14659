import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { SESSION_COOKIE } from '@carillon/core';
import { openPostgres, type Db } from '@carillon/db';
import { ffmpegPath } from '../../workers/src/transcription/audio.ts';
import { startSmtpReceiver } from '../../workers/test/support.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * Transcriptions and the job queues through the running product: the API,
 * the workers, socket.io progress and the completion e-mail over real SMTP.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
let db: Db;
let aClient: HttpClient;
let bClient: HttpClient;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-jobs-api-'));
let voicemail: Buffer;
/** A transcription job of A that completed, set by the first test. */
let completedId = '';

interface Transcription { id: string; status: string; text: string | null; words: { word: string; startMs: number; endMs: number; confidence: number }[] | null; error: string | null; language: string; durationMs: number | null }

const upload = (client: HttpClient, name: string, bytes: Buffer, fields: Record<string, string> = {}) => {
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(bytes)]), name);
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return client.request('POST', '/api/transcriptions', form);
};

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'jobs');
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), SMTP_URL: smtp.url, TRANSCRIPTION_MAX_UPLOAD_MB: '1' });
  db = openPostgres(product.databaseUrl(), 2);
  aClient = new HttpClient(product.url);
  expect((await activate(aClient, product.activationLink)).status).toBe(303);
  const created = await product.createAccount(['--company', 'Gamma Corp', '--email', 'boss@gamma.example', '--language', 'fr', '--country', 'FR']);
  bClient = new HttpClient(product.url);
  expect((await activate(bClient, created.link)).status).toBe(303);

  const spoken = path.join(work, 'voicemail.wav');
  execFileSync('espeak-ng', ['-v', 'en-us+klatt', '-s', '160', '-g', '4', '-w', spoken, 'Hello, this is a test voicemail. Please call me back tomorrow morning about the meeting.']);
  const mp3 = path.join(work, 'voicemail.mp3');
  execFileSync(ffmpegPath(process.env.FFMPEG_PATH), ['-nostdin', '-loglevel', 'error', '-y', '-i', spoken, '-c:a', 'libmp3lame', '-b:a', '32k', mp3]);
  voicemail = fs.readFileSync(mp3);
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
  await smtp?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('transcription API', () => {
  it('transcribes an uploaded MP3 with word timings, pushes progress over socket.io, and e-mails the owner when done', { timeout: 90_000 }, async () => {
    const socket: Socket = connectSocket(product.url, { path: '/socket.io', transports: ['websocket'], extraHeaders: { cookie: `${SESSION_COOKIE}=${aClient.cookie(SESSION_COOKIE)}` } });
    const progress: { jobId: string; percent: number; stage: string }[] = [];
    const finished: { jobId: string; ok: boolean }[] = [];
    socket.on('job:progress', (e: { jobId: string; percent: number; stage: string }) => progress.push(e));
    socket.on('job:finished', (e: { jobId: string; ok: boolean }) => finished.push(e));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    try {
      const res = await upload(aClient, 'voicemail.mp3', voicemail, { notify: 'true' });
      expect(res.status).toBe(202);
      const queued = (await res.json()) as Transcription;
      expect(queued).toMatchObject({ language: 'en', text: null });
      // Read back after it was queued: a free worker may have started it already.
      expect(['queued', 'processing']).toContain(queued.status);

      const done = await until(async () => (await (await aClient.get(`/api/transcriptions/${queued.id}`)).json()) as Transcription, (t) => t.status === 'completed' || t.status === 'failed', 60_000, 'the transcription');
      expect(done.status, done.error ?? '').toBe('completed');
      completedId = queued.id;
      expect(done.text).toMatch(/voicemail|call me back|tomorrow/);
      expect(done.durationMs).toBeGreaterThan(3000);
      expect(done.words!.length).toBeGreaterThan(5);
      expect(done.words!.every((w) => w.endMs > w.startMs && w.confidence >= 0 && w.confidence <= 1)).toBe(true);

      await until(async () => finished.filter((f) => f.jobId === queued.id), (f) => f.length > 0, 10_000, 'job:finished');
      const mine = progress.filter((p) => p.jobId === queued.id);
      expect(mine.map((p) => p.stage)).toContain('recognising');
      expect(mine.at(-1)?.percent).toBe(100);
      expect(mine.map((p) => p.percent)).toEqual([...mine.map((p) => p.percent)].sort((x, y) => x - y));
      expect(finished.find((f) => f.jobId === queued.id)?.ok).toBe(true);

      const list = (await (await aClient.get('/api/transcriptions')).json()) as Transcription[];
      expect(list.map((t) => t.id)).toContain(queued.id);
      await until(async () => smtp.received.filter((m) => m.raw.includes('Transcription ready: voicemail.mp3')), (m) => m.length === 1, 15_000, 'the completion e-mail');
      expect(smtp.received.find((m) => m.raw.includes('voicemail.mp3'))?.to).toEqual(['admin@demo.carillon.localhost']);

      // Another company's admin cannot read it, list it, or learn it exists.
      expect((await bClient.get(`/api/transcriptions/${queued.id}`)).status).toBe(404);
      expect(((await (await bClient.get('/api/transcriptions')).json()) as Transcription[]).map((t) => t.id)).not.toContain(queued.id);
      expect(progress.length + finished.length).toBeGreaterThan(0);
    } finally {
      socket.close();
    }
  });

  it('refuses an oversized upload with 413 and the limit, and keeps nothing of it', async () => {
    const big = Buffer.alloc(1.5 * 1024 * 1024);
    big.write('RIFF', 0, 'ascii');
    big.write('WAVE', 8, 'ascii');
    const res = await upload(aClient, 'big.wav', big);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'file_too_large', maxBytes: 1024 * 1024 });
    expect(await db.selectFrom('transcriptions').select('id').where('file_name', '=', 'big.wav').execute()).toHaveLength(0);
  });

  it('refuses a file that is not audio with 415, and a body that is not a form with 400', async () => {
    const res = await upload(aClient, 'notes.mp3', Buffer.from('Dear customer, please find attached...\n'));
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({ error: 'not_audio' });
    expect((await upload(aClient, 'empty.wav', Buffer.alloc(0))).status).toBe(400);
    expect((await aClient.json('POST', '/api/transcriptions', { file: 'x' })).status).toBe(400);
  });

  it("fails a French user's transcription with a clear reason: pocketsphinx has no French model", { timeout: 60_000 }, async () => {
    const res = await upload(bClient, 'message.mp3', voicemail);
    expect(res.status).toBe(202);
    const queued = (await res.json()) as Transcription;
    expect(queued.language).toBe('fr');
    const done = await until(async () => (await (await bClient.get(`/api/transcriptions/${queued.id}`)).json()) as Transcription, (t) => t.status === 'failed' || t.status === 'completed', 30_000, 'the failure');
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/no model for language "fr"/);
    expect(done.text).toBeNull();
  });
});

describe('queue health API', () => {
  it('shows counts and live workers, lists a failed job with its reason to its own account only, and retries it', { timeout: 60_000 }, async () => {
    // A WAV header over noise-free garbage passes the sniffing, then fails to decode in the worker.
    const corrupt = Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WAVEjunk', 'latin1'), Buffer.alloc(4000, 7)]);
    const res = await upload(aClient, 'corrupt.wav', corrupt);
    expect(res.status).toBe(202);
    const queued = (await res.json()) as Transcription;
    const failed = await until(async () => (await (await aClient.get(`/api/transcriptions/${queued.id}`)).json()) as Transcription, (t) => t.status === 'failed', 30_000, 'the corrupt file to fail');
    expect(failed.error).toMatch(/^not an audio file ffmpeg can decode/);

    interface Health { queues: { name: string; counts: Record<string, number>; workers: number | null }[]; failed: { queue: string; id: string; reason: string; attemptsMade: number }[] }
    const health = await until(async () => (await (await aClient.get('/api/queues')).json()) as Health, (h) => h.failed.some((f) => f.id === queued.id), 10_000, 'the failed job in the list');
    expect(health.queues.map((q) => q.name).sort()).toEqual(['email', 'fax-render', 'missed-call-notify', 'recording-export', 'sms-send', 'system-health', 'template-apply', 'transcription', 'voicemail-notify']);
    const transcription = health.queues.find((q) => q.name === 'transcription')!;
    expect(transcription.workers).toBeGreaterThanOrEqual(1);
    expect(transcription.counts.completed).toBeGreaterThanOrEqual(1);
    expect(transcription.counts.failed).toBeGreaterThanOrEqual(1);
    const listed = health.failed.find((f) => f.id === queued.id)!;
    expect(listed).toMatchObject({ queue: 'transcription', attemptsMade: 1 });
    expect(listed.reason).toMatch(/not an audio file/);

    const other = (await (await bClient.get('/api/queues')).json()) as Health;
    expect(other.failed.map((f) => f.id)).not.toContain(queued.id);
    expect((await bClient.json('POST', `/api/queues/transcription/jobs/${queued.id}/retry`)).status).toBe(404);
    expect((await aClient.json('POST', `/api/queues/no-such-queue/jobs/${queued.id}/retry`)).status).toBe(404);

    const retry = await aClient.json('POST', `/api/queues/transcription/jobs/${queued.id}/retry`);
    expect(retry.status).toBe(200);
    // The job really ran again (and failed again: the file is still corrupt).
    await until(async () => db.selectFrom('transcriptions').select(['attempts', 'status']).where('id', '=', queued.id).executeTakeFirstOrThrow(), (r) => r.attempts === 2 && r.status === 'failed', 30_000, 'the second attempt');
    const audit = JSON.stringify(await (await aClient.get('/api/audit-events?action=job')).json());
    expect(audit).toContain('job.retried');
    expect(audit).toContain(`transcription/${queued.id}`);
    // Retrying a job that did not fail is a conflict, not a second run.
    expect(completedId).not.toBe('');
    const conflict = await aClient.json('POST', `/api/queues/transcription/jobs/${completedId}/retry`);
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toEqual({ error: 'not_failed' });
  });
});
