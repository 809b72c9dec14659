import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { launchChromium } from '../support/browser.ts';
import { createStandardUsers, signIn } from '../support/softphone-users.ts';
import { decodeAudio, insertRecordedCall, makeWav, parseCsv, zipEntry, zipEntryNames } from '../../workers/test/recording-export-support.ts';

/**
 * Recording exports through the product as `npm start` runs it: the API
 * queues the export, the workers service builds the ZIP, the API serves it
 * until its link expires. Recordings are sox-made WAVs under the product's
 * DATA_DIR with call rows as the media-server writes them.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let admin: HttpClient;
let sam: HttpClient;
let beta: HttpClient;
let browser: Browser | undefined;
const PASSWORD = 'Meadow5Lantern';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-tests', 'rec-export-api-'));
const calls: Record<string, string> = {};

interface ExportStatus {
  id: string;
  status: string;
  progress: { done: number; total: number | null; skipped: number };
  error: string | null;
  sizeBytes: number | null;
  expiresAt: string | null;
  downloadUrl: string | null;
}

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'recexportapi');
  product = await startProduct(scratch ? { DATABASE_URL: scratch.url } : {});
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  await createStandardUsers(db, [
    { extension: '102', name: 'sam', password: PASSWORD },
    { extension: '103', name: 'manon', password: PASSWORD, role: 'manager' },
  ]);
  sam = new HttpClient(product.url);
  expect((await sam.form('/login', { identifier: 'sam@demo.carillon.localhost', password: PASSWORD })).status).toBe(303);
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example', '--country', 'FR', '--language', 'fr']);
  beta = new HttpClient(product.url);
  expect((await activate(beta, created.link)).status).toBe(303);

  const ext = async (n: string) => (await db.selectFrom('extensions').innerJoin('users', 'users.extension_id', 'extensions.id').select(['extensions.id', 'extensions.account_id']).where('users.email', '=', n).executeTakeFirstOrThrow());
  const e101 = await ext('admin@demo.carillon.localhost');
  const e102 = await ext('sam@demo.carillon.localhost');
  const wav = (name: string) => path.join(product.dataDir, 'recordings', `${name}.wav`);
  await makeWav(wav('a'), 2, [440, 660]);
  await makeWav(wav('b'), 3, [500, 700]);
  await makeWav(wav('c'), 1, [300, 900]);
  const at = (h: number) => new Date(Date.UTC(2026, 2, 2, h));
  const base = { accountId: e101.account_id };
  calls.adminToSam = (await insertRecordedCall(db, { ...base, callerExtensionId: e101.id, calleeExtensionId: e102.id, fromNumber: '101', toNumber: '102', startedAt: at(8), wavPath: wav('a'), seconds: 2 })).callId;
  calls.adminOut = (await insertRecordedCall(db, { ...base, callerExtensionId: e101.id, calleeExtensionId: null, direction: 'outbound', fromNumber: '101', toNumber: '+15550123', startedAt: at(9), wavPath: wav('b'), seconds: 3 })).callId;
  calls.samToAdmin = (await insertRecordedCall(db, { ...base, callerExtensionId: e102.id, calleeExtensionId: e101.id, fromNumber: '102', toNumber: '101', startedAt: at(10), wavPath: wav('c'), seconds: 1 })).callId;
  // A recording whose file is gone from storage.
  calls.lost = (await insertRecordedCall(db, { ...base, callerExtensionId: null, calleeExtensionId: e101.id, direction: 'inbound', fromNumber: '+15550999', toNumber: '101', startedAt: at(11), wavPath: wav('lost'), seconds: 4 })).callId;
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function waitUntilDone(client: HttpClient, id: string): Promise<{ final: ExportStatus; seen: ExportStatus[] }> {
  const seen: ExportStatus[] = [];
  const until = Date.now() + 60_000;
  for (;;) {
    const res = await client.get(`/api/calls/recordings-export/${id}`);
    expect(res.status).toBe(200);
    const s = (await res.json()) as ExportStatus;
    seen.push(s);
    if (s.status !== 'queued' && s.status !== 'running') return { final: s, seen };
    if (Date.now() > until) throw new Error(`export ${id} still ${s.status} after 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function download(client: HttpClient, url: string): Promise<{ res: Response; file: string }> {
  const res = await client.get(url);
  const file = path.join(tmp, `${Math.random().toString(36).slice(2)}.zip`);
  if (res.ok) fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  return { res, file };
}

describe('recording export API', () => {
  let adminExport: ExportStatus;

  it("exports the filtered call log's recordings (MP3) and a CSV as one ZIP to download", { timeout: 90_000 }, async () => {
    const started = await admin.json('POST', '/api/calls/recordings-export', { scope: 'company', direction: 'internal' });
    expect(started.status).toBe(202);
    const body = (await started.json()) as ExportStatus;
    expect(body).toMatchObject({ status: 'queued', progress: { done: 0 }, downloadUrl: null });
    expect(started.headers.get('location')).toBe(`/api/calls/recordings-export/${body.id}`);

    const { final } = await waitUntilDone(admin, body.id);
    expect(final).toMatchObject({ status: 'completed', progress: { done: 2, total: 2 }, error: null, downloadUrl: `/api/calls/recordings-export/${body.id}/download` });
    const hoursLeft = (Date.parse(final.expiresAt!) - Date.now()) / 3600_000;
    expect(hoursLeft).toBeGreaterThan(23.9);
    expect(hoursLeft).toBeLessThanOrEqual(24);
    adminExport = final;

    const { res, file } = await download(admin, final.downloadUrl!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="call-recordings-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}\.zip"$/);
    expect(Number(res.headers.get('content-length'))).toBe(final.sizeBytes);
    const names = await zipEntryNames(file);
    expect(names.filter((n) => n.endsWith('.mp3'))).toHaveLength(2);
    const csv = parseCsv((await zipEntry(file, 'recordings.csv')).toString('utf8'));
    // Internal calls only: the outbound one is filtered out.
    expect(csv.map((r) => `${r.From}>${r.To}`)).toEqual(['101>102', '102>101']);
    const audio = await decodeAudio(await zipEntry(file, csv[1]!.File!));
    expect(audio.seconds).toBeCloseTo(1, 1);
    expect(Math.min(...audio.rms)).toBeGreaterThan(0.2);
    // A recording lost from storage is counted apart, and the ZIP still comes out with the CSV saying why.
    const lost = (await (await admin.json('POST', '/api/calls/recordings-export', { direction: 'inbound' })).json()) as ExportStatus;
    const lostDone = (await waitUntilDone(admin, lost.id)).final;
    expect(lostDone).toMatchObject({ status: 'completed', progress: { done: 1, total: 1, skipped: 1 } });
    const lostZip = (await download(admin, lostDone.downloadUrl!)).file;
    expect(await zipEntryNames(lostZip)).toEqual(['recordings.csv']);
    expect(parseCsv((await zipEntry(lostZip, 'recordings.csv')).toString('utf8'))[0]).toMatchObject({ From: "'+15550999", File: '', Problem: 'recording file missing' });
    // Recorded in the audit trail.
    const audit = JSON.stringify(await (await admin.get('/api/audit-events?action=recording')).json());
    expect(audit).toContain('recording_export.requested');
  });

  it('lets a Standard user export only their own calls, and shows an export only to whoever asked for it', { timeout: 90_000 }, async () => {
    const started = await sam.json('POST', '/api/calls/recordings-export', { scope: 'company' });
    expect(started.status).toBe(202);
    const { final } = await waitUntilDone(sam, ((await started.json()) as ExportStatus).id);
    expect(final.status).toBe('completed');
    const { file } = await download(sam, final.downloadUrl!);
    const csv = parseCsv((await zipEntry(file, 'recordings.csv')).toString('utf8'));
    expect(csv.map((r) => `${r.From}>${r.To}`)).toEqual(['101>102', '102>101']);

    for (const url of [`/api/calls/recordings-export/${adminExport.id}`, adminExport.downloadUrl!]) expect((await sam.get(url)).status, url).toBe(404);
    expect((await admin.get(`/api/calls/recordings-export/${final.id}`)).status).toBe(404);
  });

  it("answers 404 to another account, whatever it asks of the export", async () => {
    for (const url of [`/api/calls/recordings-export/${adminExport.id}`, adminExport.downloadUrl!, '/api/calls/recordings-export/not-a-uuid']) {
      expect((await beta.get(url)).status, url).toBe(404);
    }
  });

  it('refuses bad filters by field, and a download before the ZIP is finished', async () => {
    const bad = await admin.json('POST', '/api/calls/recordings-export', { direction: 'sideways', from: 'yesterday', extra: true });
    expect(bad.status).toBe(400);
    const fields = ((await bad.json()) as { fields: Record<string, string> }).fields;
    expect(Object.keys(fields)).toEqual(expect.arrayContaining(['direction', 'from']));
    const backwards = await admin.json('POST', '/api/calls/recordings-export', { from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' });
    expect(backwards.status).toBe(400);
    expect(((await backwards.json()) as { fields: Record<string, string> }).fields).toHaveProperty('to');
    expect((await admin.request('POST', '/api/calls/recordings-export', '{not json')).status).toBe(400);

    // An export the worker is still writing: its status says so and nothing is served.
    const me = (await (await admin.get('/api/me')).json()) as { id: string; accountId: string };
    const running = await db.insertInto('recording_exports').values({ account_id: me.accountId, requested_by: me.id, filters: JSON.stringify({ extensionId: null }), status: 'running', progress_done: 1, progress_total: 5 }).returning('id').executeTakeFirstOrThrow();
    const status = (await (await admin.get(`/api/calls/recordings-export/${running.id}`)).json()) as ExportStatus;
    expect(status).toMatchObject({ status: 'running', progress: { done: 1, total: 5 }, downloadUrl: null });
    const early = await admin.get(`/api/calls/recordings-export/${running.id}/download`);
    expect(early.status).toBe(409);
    expect(await early.json()).toMatchObject({ error: 'export_not_ready', status: 'running' });
  });

  it('answers 410 with a clear message once the link has expired, and deletes the file', async () => {
    const row = await db.selectFrom('recording_exports').select('file_path').where('id', '=', adminExport.id).executeTakeFirstOrThrow();
    expect(fs.existsSync(row.file_path!)).toBe(true);
    await db.updateTable('recording_exports').set({ expires_at: new Date(Date.now() - 60_000) }).where('id', '=', adminExport.id).execute();
    const gone = await admin.get(adminExport.downloadUrl!);
    expect(gone.status).toBe(410);
    const body = (await gone.json()) as { error: string; message: string };
    expect(body.error).toBe('export_expired');
    expect(body.message).toMatch(/^This download link expired on \d{4}-\d{2}-\d{2}T.*Start a new export from the call log\.$/);
    expect(fs.existsSync(row.file_path!)).toBe(false);
    const status = (await (await admin.get(`/api/calls/recordings-export/${adminExport.id}`)).json()) as ExportStatus;
    expect(status).toMatchObject({ status: 'expired', downloadUrl: null });
    expect((await admin.get(adminExport.downloadUrl!)).status).toBe(410);
  });
});

describe('recording export on the call log page', () => {
  it('starts from the keyboard, shows progress, then the download link (English and French)', { timeout: 90_000 }, async () => {
    browser = await launchChromium();
    // A manager: the company call log, filtered to the one outbound call.
    const page = await signIn(browser, product.url, 'manon@demo.carillon.localhost', PASSWORD);
    await page.goto(`${product.url}/admin/call-log?direction=outbound`);
    const button = page.getByRole('button', { name: 'Export recordings (MP3 + CSV)' });
    await button.focus();
    await page.keyboard.press('Enter');
    // Queued first (the page polls once a second): a progress bar and the background notice.
    await page.getByRole('progressbar', { name: 'Export progress' }).waitFor({ timeout: 5000 });
    await expect(page.getByTestId('recordings-export-status').innerText()).resolves.toContain('It goes on in the background');
    const link = page.getByRole('link', { name: /^Download the ZIP \(\d+\.\d MB\)$/ });
    await link.waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('recordings-export-status').innerText()).resolves.toMatch(/Your export is ready: 1 recording\(s\)\.[\s\S]*The link expires on/);
    // The link is reachable by Tab and downloads the ZIP.
    const [dl] = await Promise.all([page.waitForEvent('download'), link.focus().then(() => page.keyboard.press('Enter'))]);
    const saved = path.join(tmp, 'from-browser.zip');
    await dl.saveAs(saved);
    expect((await zipEntryNames(saved)).filter((n) => n.endsWith('.mp3'))).toHaveLength(1);

    // Sam reads the portal in French: their own two recorded calls.
    await db.updateTable('users').set({ language: 'fr' }).where('email', '=', 'sam@demo.carillon.localhost').execute();
    const fr = await signIn(browser, product.url, 'sam@demo.carillon.localhost', PASSWORD);
    await fr.goto(`${product.url}/me/call-log`);
    await fr.getByRole('button', { name: 'Exporter les enregistrements (MP3 + CSV)' }).click();
    await fr.getByText('Votre exportation est prête : 2 enregistrement(s).').waitFor({ timeout: 60_000 });
    await fr.getByRole('link', { name: /^Télécharger le ZIP/ }).waitFor();
  });
});
