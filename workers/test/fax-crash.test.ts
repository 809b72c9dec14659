import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job, QueueEvents } from 'bullmq';
import type { Db } from '@carillon/db';
import { openServedDatabase, type ServedDatabase } from '../../scripts/lib/database.ts';
import { createScratchDatabase, testPostgresUrl } from '../../tests/support/postgres.ts';
import { createFax, faxComposeRequest } from '@carillon/core/fax';
import { createJobProducer, createRedisConnection, enqueueFax, type FaxQueue } from '@carillon/core/jobs';
import { QueueName, type FaxJobResult } from '@carillon/contracts/jobs';
import { faxDirectory } from '@carillon/core/fax';
import { deletePrefix, killIfRunning, REDIS_URL, spawnWorkers, uniquePrefix, waitFor, type Spawned } from './support.ts';
import { addStandardUser, seedAccount, type SeededAccount } from './recording-export-support.ts';
import { addNumber, makePdf, pdfPages, tiffInfo } from './fax-support.ts';

/**
 * Issue 6 acceptance: a worker killed with SIGKILL in the middle of a fax
 * render. After a restart the job is handed to the new worker, which renders
 * afresh and delivers once: one message per recipient, one completion.
 */
const ATTACHMENTS = 6;
fs.mkdirSync(path.join(os.tmpdir(), 'carillon-tests'), { recursive: true });
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-tests', 'fax-crash-'));
const prefix = uniquePrefix();
const connection = createRedisConnection(REDIS_URL);
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let database: ServedDatabase;
let db: Db;
let account: SeededAccount;
let extA: string;
let queue: FaxQueue;
let events: QueueEvents;
const workers: Spawned[] = [];

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'faxcrash');
  database = await openServedDatabase(scratch?.url, path.join(dataDir, 'db'));
  db = database.db;
  account = await seedAccount(db, 'Crash Fax');
  extA = (await addStandardUser(db, account, '301')).extensionId;
  await addNumber(db, account, '+18575550301', extA);
  queue = createJobProducer(connection, prefix).queue('fax-render');
  events = new QueueEvents(QueueName.FaxRender, { connection, prefix });
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
  // A short lock, so the dead worker's job is handed on within seconds (see recording-export-crash.test.ts).
  const w = spawnWorkers(prefix, { DATABASE_URL: database.url, DATA_DIR: dataDir, WORKER_LOCK_MS: '3000' });
  workers.push(w);
  await w.waitForOutput(/"workers started"/);
  return w;
};

describe('fax render crash recovery', () => {
  it('survives kill -9 mid-render: after a restart it completes once, delivering one message', { timeout: 120_000 }, async () => {
    const completions: string[] = [];
    events.on('completed', ({ jobId }) => completions.push(jobId));
    const pdf = path.join(dataDir, 'doc.pdf');
    await makePdf(pdf, 2);
    const data = fs.readFileSync(pdf);
    const first = await startWorker();
    const owner = { accountId: account.accountId, userId: account.adminUserId };
    const faxId = await createFax(db, dataDir, owner, faxComposeRequest.parse({ recipients: ['+18575550301', '+33123456789'] }), Array.from({ length: ATTACHMENTS }, (_, i) => ({ name: `doc-${i}.pdf`, mediaType: 'application/pdf', data })), 20 * 1048576);
    // The test-only pause keeps the render in flight for a few seconds.
    await enqueueFax(queue, faxId, owner, { sendAt: null, delayMsPerAttachment: 600 });
    const jobId = `${faxId}-send`;
    const jobProgress = async () => ((await Job.fromId(queue, jobId))?.progress ?? {}) as { percent?: number; stage?: string; owner?: object };
    await waitFor(async () => ((await jobProgress()).percent ?? 0) >= 30, 30_000, 'the render to be a few attachments in');
    expect(await jobProgress()).toMatchObject({ stage: 'rendering', owner });
    const midway = await db.selectFrom('faxes').selectAll().where('id', '=', faxId).executeTakeFirstOrThrow();
    expect(midway).toMatchObject({ status: 'rendering', rendered_path: null, page_count: null });
    const faxDir = faxDirectory(dataDir, account.accountId, faxId);
    // Only scratch files so far: no fax anyone could see.
    expect(fs.readdirSync(faxDir).filter((f) => !f.startsWith('work-')).sort()).toEqual(['attachments']);

    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const job = (await Job.fromId(queue, jobId))!;
    expect(await job.getState()).toBe('active');

    const second = await startWorker();
    const result = (await job.waitUntilFinished(events, 60_000).catch(async (err: unknown) => {
      throw new Error(`${String(err)}\nsecond worker: ${second.stdout()}\n${second.stderr()}`, { cause: err });
    })) as FaxJobResult;
    expect(result).toEqual({ faxId, pages: 1 + 2 * ATTACHMENTS, delivered: 1, failed: 1 });
    expect(second.stdout()).toMatch(/job stalled: its worker went away, re-queued/);

    const fax = await db.selectFrom('faxes').selectAll().where('id', '=', faxId).executeTakeFirstOrThrow();
    expect(fax).toMatchObject({ status: 'completed', page_count: 13 });
    expect(await tiffInfo(fax.rendered_path!)).toHaveLength(13);
    // The retry cleared the killed run's scratch files along with its own: only whole files are left.
    expect(fs.readdirSync(faxDir).sort()).toEqual(['attachments', 'fax.pdf', 'fax.tif']);
    const messages = await db.selectFrom('fax_messages').selectAll().where('extension_id', '=', extA).execute();
    expect(messages).toHaveLength(1);
    expect(await pdfPages(messages[0]!.pdf_path)).toBe(13);

    await new Promise((r) => setTimeout(r, 1000));
    expect(completions.filter((id) => id === jobId)).toEqual([jobId]);
    expect(await db.selectFrom('fax_messages').select('id').where('extension_id', '=', extA).execute()).toHaveLength(1);
  });
});
