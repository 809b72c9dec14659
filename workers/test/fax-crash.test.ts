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
import { addNumber, makePdf, makeSlowPdf, pdfPages, tiffInfo } from './fax-support.ts';

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
    const faxId = await createFax(db, dataDir, owner, faxComposeRequest.parse({ recipients: ['+18575550301', '+33123456789'] }), Array.from({ length: ATTACHMENTS }, (_, i) => ({ name: `doc-${i}.pdf`, mediaType: 'application/pdf', data })), { maxBytes: 20 * 1048576, maxPages: 200 });
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

  it('leaves no ghostscript running when its worker is killed with SIGKILL mid-render', { timeout: 60_000 }, async () => {
    // 199 pages (with the cover, the 200 allowed) that each take ghostscript a while: it is still rendering when its worker dies.
    const pdf = path.join(dataDir, 'slow.pdf');
    await makeSlowPdf(pdf, 199);
    // The job must go to this worker: none other may be left from the test before.
    for (const w of workers) killIfRunning(w);
    const worker = await startWorker();
    const owner = { accountId: account.accountId, userId: account.adminUserId };
    const faxId = await createFax(db, dataDir, owner, faxComposeRequest.parse({ recipients: ['+18575550301'] }), [{ name: 'slow.pdf', mediaType: 'application/pdf', data: fs.readFileSync(pdf) }], { maxBytes: 20 * 1048576, maxPages: 200 });
    await enqueueFax(queue, faxId, owner, { sendAt: null });
    let gs: number[] = [];
    await waitFor(async () => (gs = childrenNamed(worker.child.pid!, 'gs')).length > 0, 30_000, 'ghostscript to render for the worker');
    worker.child.kill('SIGKILL');
    expect((await worker.exited).signal).toBe('SIGKILL');
    // Ghostscript has seconds of pages left: only its parent's death stops it now.
    await waitFor(async () => gs.every((pid) => !fs.existsSync(`/proc/${pid}`) || processState(pid) === 'Z'), 3000, 'the dead worker\'s ghostscript to stop');
  });
});

/** Pids of the processes named `name` whose parent is `parent`, from /proc. */
function childrenNamed(parent: number, name: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.ppid === parent && stat.comm === name) found.push(Number(entry));
  }
  return found;
}

function processState(pid: number): string | undefined {
  return readStat(pid)?.state;
}

/** /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses, so split at the last ')'. */
function readStat(pid: number): { comm: string; state: string; ppid: number } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(')');
  const [state, ppid] = text.slice(close + 2).split(' ');
  return { comm: text.slice(text.indexOf('(') + 1, close), state: state!, ppid: Number(ppid) };
}
