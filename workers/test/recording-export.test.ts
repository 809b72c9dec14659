import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job, QueueEvents } from 'bullmq';
import type { AuthenticatedSession } from '@carillon/core';
import type { Db } from '@carillon/db';
import { openServedDatabase, type ServedDatabase } from '../../scripts/lib/database.ts';
import { createScratchDatabase, testPostgresUrl } from '../../tests/support/postgres.ts';
import { listCalls, callLogQuery } from '../../app/src/lib/server/call-log.ts';
import { createRedisConnection, enqueueRecordingExport, createJobProducer, type RecordingExportQueue } from '@carillon/core/jobs';
import { effectiveExportFilters, recordingExportRequest, type RecordingExportFilters } from '@carillon/contracts/recording-export-filters';
import { QueueName, type RecordingExportJobResult } from '@carillon/contracts/jobs';
import { deletePrefix, killIfRunning, REDIS_URL, spawnWorkers, uniquePrefix, type Spawned } from './support.ts';
import {
  addStandardUser,
  decodeAudio,
  insertRecordedCall,
  makeWav,
  parseCsv,
  seedAccount,
  zipEntry,
  zipEntryNames,
  type SeededAccount,
} from './recording-export-support.ts';

/**
 * Recording exports end to end on the workers side: a real worker process,
 * Redis, the database (PostgreSQL when the test run has one, PGlite served on
 * loopback otherwise), sox-made WAVs, ffmpeg and Debian's unzip.
 */
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-tests', 'rec-export-'));
const prefix = uniquePrefix();
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let database: ServedDatabase;
let db: Db;
let worker: Spawned | undefined;
let queue: RecordingExportQueue;
let events: QueueEvents;
const connection = createRedisConnection(REDIS_URL);

let a: SeededAccount;
let b: SeededAccount;
let sam: { userId: string; extensionId: string };
/** WAV length of each recording of A by recording id. */
const wavSeconds = new Map<string, number>();
const ids: Record<string, { callId: string; recordingId: string }> = {};

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'recexport');
  database = await openServedDatabase(scratch?.url, dataDir);
  db = database.db;
  a = await seedAccount(db, 'Alpha Corp');
  b = await seedAccount(db, 'Beta Corp');
  sam = await addStandardUser(db, a, '102');
  const rec = (name: string) => path.join(dataDir, 'recordings', `${name}.wav`);

  await makeWav(rec('r1'), 3, [440, 660]);
  await makeWav(rec('r2'), 2, [500, 700]);
  await makeWav(rec('r3'), 4, [300, 900]);
  await fs.promises.writeFile(rec('corrupt'), Buffer.from('RIFF....WAVEnot really audio at all'.repeat(20)));
  await makeWav(rec('b1'), 2);
  await makeWav(rec('ongoing'), 1);
  const day = (d: number) => new Date(Date.UTC(2026, 0, d, 9, 30));
  ids.r1 = await insertRecordedCall(db, { accountId: a.accountId, callerExtensionId: a.adminExtensionId, calleeExtensionId: sam.extensionId, fromNumber: '101', toNumber: '102', startedAt: day(10), wavPath: rec('r1'), seconds: 3 });
  ids.r2 = await insertRecordedCall(db, { accountId: a.accountId, callerExtensionId: sam.extensionId, calleeExtensionId: a.adminExtensionId, fromNumber: '102', toNumber: '101', startedAt: day(11), wavPath: rec('r2'), seconds: 2 });
  ids.r3 = await insertRecordedCall(db, { accountId: a.accountId, callerExtensionId: a.adminExtensionId, calleeExtensionId: null, direction: 'outbound', fromNumber: '101', toNumber: '+33123456789', startedAt: day(12), wavPath: rec('r3'), seconds: 4 });
  // Lost from storage, and a number that would be a formula in a spreadsheet.
  ids.missing = await insertRecordedCall(db, { accountId: a.accountId, callerExtensionId: null, calleeExtensionId: a.adminExtensionId, direction: 'inbound', fromNumber: '=HYPERLINK("x")', toNumber: '101', startedAt: day(13), wavPath: rec('gone'), seconds: 5 });
  ids.corrupt = await insertRecordedCall(db, { accountId: a.accountId, callerExtensionId: a.adminExtensionId, calleeExtensionId: null, direction: 'outbound', fromNumber: '101', toNumber: '+15550100', startedAt: day(14), wavPath: rec('corrupt'), seconds: 1 });
  ids.b1 = await insertRecordedCall(db, { accountId: b.accountId, callerExtensionId: b.adminExtensionId, calleeExtensionId: null, direction: 'outbound', fromNumber: '101', toNumber: '+15550199', startedAt: day(10), wavPath: rec('b1'), seconds: 2 });
  // A call still going on: its recording is not finished, so no export takes it.
  const ongoing = await insertRecordedCall(db, { accountId: a.accountId, callerExtensionId: a.adminExtensionId, calleeExtensionId: sam.extensionId, fromNumber: '101', toNumber: '102', startedAt: day(15), wavPath: rec('ongoing'), seconds: 1 });
  await db.updateTable('calls').set({ ended_at: null, result: null, duration_seconds: null }).where('id', '=', ongoing.callId).execute();
  // A call without a recording.
  await db.insertInto('calls').values({ account_id: a.accountId, sip_call_id: 'plain@test', direction: 'internal', from_number: '101', to_number: '102', started_at: day(10), ended_at: day(10), result: 'missed', caller_extension_id: a.adminExtensionId, callee_extension_id: sam.extensionId }).execute();
  for (const [key, s] of [['r1', 3], ['r2', 2], ['r3', 4]] as const) wavSeconds.set(ids[key]!.recordingId, s);

  queue = createJobProducer(connection, prefix).queue('recording-export');
  events = new QueueEvents(QueueName.RecordingExport, { connection, prefix });
  await events.waitUntilReady();
  worker = spawnWorkers(prefix, { DATABASE_URL: database.url, DATA_DIR: dataDir, LOG_LEVEL: 'info' });
  await worker.waitForOutput(/"workers started"/);
}, 120_000);

afterAll(async () => {
  killIfRunning(worker);
  await events?.close();
  await queue?.close();
  await connection.quit();
  await deletePrefix(prefix);
  await database?.close();
  await scratch?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Stores an export as the app does and queues it; resolves with the job's result once the worker is done. */
async function runExport(account: SeededAccount, requestedBy: string, filters: RecordingExportFilters): Promise<{ id: string; result: RecordingExportJobResult }> {
  const row = await db.insertInto('recording_exports').values({ account_id: account.accountId, requested_by: requestedBy, filters: JSON.stringify(filters) }).returning('id').executeTakeFirstOrThrow();
  await enqueueRecordingExport(queue, row.id, { accountId: account.accountId, userId: requestedBy });
  const job = (await Job.fromId(queue, row.id))!;
  const result = (await job.waitUntilFinished(events, 60_000)) as RecordingExportJobResult;
  return { id: row.id, result };
}

async function exportedRecordingIds(zip: string): Promise<string[]> {
  const names = await zipEntryNames(zip);
  return names.filter((n) => n.endsWith('.mp3')).map((n) => n.match(/_([0-9a-f-]{36})\.mp3$/)![1]!).sort();
}

const companyFilters = (over: Partial<RecordingExportFilters> = {}): RecordingExportFilters => ({ extensionId: null, ...over });

describe('recording export', () => {
  it('puts every finished recording of the company in one ZIP: MP3s that play the calls, and a CSV of them', { timeout: 60_000 }, async () => {
    const { id, result } = await runExport(a, a.adminUserId, companyFilters());
    expect(result).toMatchObject({ kind: 'export', exportId: id, recordings: 3, skipped: 2 });
    const row = await db.selectFrom('recording_exports').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'completed', progress_done: 5, progress_total: 5, progress_skipped: 2, error: null });
    expect(row.file_path).toBe(path.join(dataDir, 'exports', a.accountId, `${id}.zip`));
    expect(Number(row.size_bytes)).toBe(fs.statSync(row.file_path!).size);
    // 24 h by default.
    expect(new Date(row.expires_at!).getTime() - new Date(row.completed_at!).getTime()).toBe(24 * 3600_000);
    // Nothing else left beside it: no partial file, no work directory.
    expect(fs.readdirSync(path.dirname(row.file_path!))).toEqual([`${id}.zip`]);
    const job = (await Job.fromId(queue, id))!;
    // Reported through the shared helper: what the app pushes to the owner's progress tray.
    expect(job.progress).toEqual({ percent: 100, stage: 'exporting', owner: { accountId: a.accountId, userId: a.adminUserId } });

    const names = await zipEntryNames(row.file_path!);
    expect(names.filter((n) => !n.endsWith('.mp3'))).toEqual(['recordings.csv']);
    expect(await exportedRecordingIds(row.file_path!)).toEqual([ids.r1!, ids.r2!, ids.r3!].map((x) => x.recordingId).sort());

    const tones: Record<string, [number, number]> = { [ids.r1!.recordingId]: [440, 660], [ids.r2!.recordingId]: [500, 700], [ids.r3!.recordingId]: [300, 900] };
    for (const name of names.filter((n) => n.endsWith('.mp3'))) {
      const recordingId = name.match(/_([0-9a-f-]{36})\.mp3$/)![1]!;
      const audio = await decodeAudio(await zipEntry(row.file_path!, name));
      expect(audio.seconds, name).toBeGreaterThan(wavSeconds.get(recordingId)! - 0.1);
      expect(audio.seconds, name).toBeLessThan(wavSeconds.get(recordingId)! + 0.1);
      // Not silent, and each side of the call stays on its own channel.
      expect(Math.min(...audio.rms), name).toBeGreaterThan(0.2);
      expect(audio.frequency[0]! / tones[recordingId]![0]).toBeCloseTo(1, 1);
      expect(audio.frequency[1]! / tones[recordingId]![1]).toBeCloseTo(1, 1);
    }

    const csv = parseCsv((await zipEntry(row.file_path!, 'recordings.csv')).toString('utf8'));
    expect(csv).toHaveLength(5);
    expect(Object.keys(csv[0]!)).toEqual(['Date', 'Direction', 'From', 'From name', 'To', 'Result', 'Duration (s)', 'Recording started', 'Recording duration (s)', 'File', 'Problem']);
    // Oldest first, each row naming its file in the ZIP, or why it has none.
    expect(csv.map((r) => r.Date)).toEqual([10, 11, 12, 13, 14].map((d) => new Date(Date.UTC(2026, 0, d, 9, 30)).toISOString()));
    expect(csv.slice(0, 3).map((r) => r.File)).toEqual(names.filter((n) => n.endsWith('.mp3')).sort((x, y) => x.localeCompare(y)));
    // A leading + is quoted away as in the call log CSV: spreadsheets read it as a formula.
    expect(csv[2]).toMatchObject({ Direction: 'outbound', From: '101', To: "'+33123456789", Result: 'answered', 'Duration (s)': '4', 'Recording duration (s)': '4', Problem: '' });
    expect(csv[3]).toMatchObject({ From: `'=HYPERLINK("x")`, File: '', Problem: 'recording file missing' });
    expect(csv[4]!.File).toBe('');
    expect(csv[4]!.Problem).toMatch(/^ffmpeg could not convert the recording \(exit code \d+\)/);
    expect(csv[4]!.Problem).not.toContain(dataDir);

    // Whoever asked is told by e-mail, once, with the link (no SMTP here: the outbox).
    const outbox = path.join(dataDir, 'outbox');
    const mails = async () => (fs.existsSync(outbox) ? fs.readdirSync(outbox).map((f) => fs.readFileSync(path.join(outbox, f), 'utf8').replace(/=\r?\n/g, '')) : []);
    await expect.poll(async () => (await mails()).filter((m) => m.includes(id)).length, { timeout: 15_000 }).toBe(1);
    const mail = (await mails()).find((m) => m.includes(id))!;
    expect(mail).toMatch(/^Subject: Recordings export ready \(3\)/m);
    expect(mail).toContain(`/api/calls/recordings-export/${id}/download`);
  });

  it('applies the call log filters and scope: the same calls as the call log lists with recordings', { timeout: 60_000 }, async () => {
    const samAuth = { account: { id: a.accountId }, user: { id: sam.userId, extension_id: sam.extensionId }, permissions: new Set(['self.calls']) } as unknown as AuthenticatedSession;
    const adminAuth = { account: { id: a.accountId }, user: { id: a.adminUserId, extension_id: a.adminExtensionId }, permissions: new Set(['self.calls', 'reports.company_call_log']) } as unknown as AuthenticatedSession;
    const cases: { auth: AuthenticatedSession; mayExportCompany: boolean; request: Record<string, string>; expected: string[] }[] = [
      // A Standard user asking for the company gets their own calls only.
      { auth: samAuth, mayExportCompany: false, request: { scope: 'company' }, expected: ['r1', 'r2'] },
      { auth: adminAuth, mayExportCompany: true, request: { scope: 'mine' }, expected: ['r1', 'r2', 'r3', 'missing', 'corrupt'] },
      { auth: adminAuth, mayExportCompany: true, request: { direction: 'outbound' }, expected: ['r3', 'corrupt'] },
      { auth: adminAuth, mayExportCompany: true, request: { from: '2026-01-11T00:00:00Z', to: '2026-01-12T00:00:00Z' }, expected: ['r2'] },
      { auth: adminAuth, mayExportCompany: true, request: { result: 'missed' }, expected: [] },
    ];
    for (const c of cases) {
      const request = recordingExportRequest.parse(c.request);
      const filters = effectiveExportFilters(request, { extensionId: c.auth.user.extension_id, mayExportCompany: c.mayExportCompany });
      const { id } = await runExport(a, c.auth.user.id, filters);
      const row = await db.selectFrom('recording_exports').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      expect(row.status).toBe('completed');
      const csv = parseCsv((await zipEntry(row.file_path!, 'recordings.csv')).toString('utf8'));
      expect(csv.length, JSON.stringify(c.request)).toBe(c.expected.length);
      expect(row.progress_total).toBe(c.expected.length);
      // The call log, asked the same thing, lists the same recorded calls.
      const logged = await listCalls(db, c.auth, callLogQuery.parse({ ...c.request, recorded: 'yes', limit: 1000 }));
      const finished = logged.filter((r) => r.ended_at !== null).map((r) => r.id).sort();
      expect(finished).toEqual(c.expected.map((k) => ids[k]!.callId).sort());
    }
  });

  it("keeps accounts apart: an export holds only its account's recordings, and another account's export id is refused", { timeout: 60_000 }, async () => {
    const { id } = await runExport(b, b.adminUserId, companyFilters());
    const row = await db.selectFrom('recording_exports').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.file_path).toContain(path.join('exports', b.accountId));
    expect(await exportedRecordingIds(row.file_path!)).toEqual([ids.b1!.recordingId]);

    // A job naming B's export under A's account finds nothing and fails without retrying.
    const job = await queue.add('export', { kind: 'export', exportId: id, accountId: a.accountId, userId: a.adminUserId }, { attempts: 3 });
    await expect(job.waitUntilFinished(events, 20_000)).rejects.toThrow(/does not exist in this account/);
    expect((await Job.fromId(queue, job.id!))!.attemptsMade).toBe(1);
    expect((await db.selectFrom('recording_exports').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('completed');
  });

  it('deletes expired exports on the periodic sweep', { timeout: 60_000 }, async () => {
    const { id } = await runExport(a, a.adminUserId, companyFilters({ direction: 'internal' }));
    const before = await db.selectFrom('recording_exports').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(fs.existsSync(before.file_path!)).toBe(true);
    const kept = await runExport(a, a.adminUserId, companyFilters({ direction: 'outbound' }));
    await db.updateTable('recording_exports').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', id).execute();
    // An export whose job was lost two days ago, its partial ZIP left behind.
    const abandoned = await db
      .insertInto('recording_exports')
      .values({ account_id: a.accountId, requested_by: a.adminUserId, filters: JSON.stringify(companyFilters()), status: 'running', created_at: new Date(Date.now() - 48 * 3600_000) })
      .returning('id')
      .executeTakeFirstOrThrow();
    const leftover = path.join(dataDir, 'exports', a.accountId, `${abandoned.id}.zip.part`);
    fs.writeFileSync(leftover, 'PK half a zip');
    const sweep = await queue.add('sweep-expired', { kind: 'sweep-expired' });
    expect(await sweep.waitUntilFinished(events, 20_000)).toEqual({ kind: 'sweep-expired', expired: 1, voicemailPurged: 0, voicemailRetainedOut: 0 });
    const after = await db.selectFrom('recording_exports').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(after).toMatchObject({ status: 'expired', file_path: null });
    expect(fs.existsSync(before.file_path!)).toBe(false);
    expect(await db.selectFrom('recording_exports').select(['status', 'error']).where('id', '=', abandoned.id).executeTakeFirstOrThrow()).toEqual({ status: 'failed', error: 'the export did not finish; start a new one' });
    expect(fs.existsSync(leftover)).toBe(false);
    const other = await db.selectFrom('recording_exports').selectAll().where('id', '=', kept.id).executeTakeFirstOrThrow();
    expect(other.status).toBe('completed');
    expect(fs.existsSync(other.file_path!)).toBe(true);
    // The hourly sweep was scheduled when the exports were queued.
    expect((await queue.getJobSchedulers()).map((s) => s.name)).toContain('sweep-expired');
  });
});

describe('recording export failures', () => {
  it('fails with a clear reason when ffmpeg cannot be run, and leaves no file', { timeout: 60_000 }, async () => {
    const otherPrefix = uniquePrefix();
    const broken = spawnWorkers(otherPrefix, { DATABASE_URL: database.url, DATA_DIR: dataDir, FFMPEG_PATH: '/nonexistent/ffmpeg' });
    const q = createJobProducer(connection, otherPrefix).queue('recording-export');
    const ev = new QueueEvents(QueueName.RecordingExport, { connection, prefix: otherPrefix });
    try {
      await broken.waitForOutput(/"workers started"/);
      await ev.waitUntilReady();
      const row = await db.insertInto('recording_exports').values({ account_id: a.accountId, requested_by: a.adminUserId, filters: JSON.stringify(companyFilters()) }).returning('id').executeTakeFirstOrThrow();
      const job = await q.add('export', { kind: 'export', exportId: row.id, accountId: a.accountId, userId: a.adminUserId }, { jobId: row.id, attempts: 1 });
      await expect(job.waitUntilFinished(ev, 20_000)).rejects.toThrow(/cannot run ffmpeg \(\/nonexistent\/ffmpeg\)/);
      const failed = await db.selectFrom('recording_exports').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
      expect(failed.status).toBe('failed');
      expect(failed.error).toMatch(/cannot run ffmpeg \(\/nonexistent\/ffmpeg\): .*ENOENT/);
      expect(failed.file_path).toBeNull();
      expect(fs.readdirSync(path.join(dataDir, 'exports', a.accountId)).filter((f) => f.startsWith(row.id))).toEqual([]);
    } finally {
      killIfRunning(broken);
      await ev.close();
      await q.close();
      await deletePrefix(otherPrefix);
    }
  });
});
