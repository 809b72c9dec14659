import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser.ts';
import { createStandardUsers, signIn } from '../support/softphone-users.ts';
import { makePdf, pdfPages } from '../../workers/test/fax-support.ts';

/**
 * FaxOut through the product as `npm start` runs it: the API stores and
 * queues the fax, the workers service renders and delivers it, the API shows
 * the preview, the statuses and the recipient's Messages.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let admin: HttpClient;
let sam: HttpClient;
const PASSWORD = 'Meadow5Lantern';
const SAM_FAX = '+18575550102';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-tests', 'fax-api-'));
let twoPages: Buffer;
let browser: Browser | undefined;
const ADMIN_FAX = '+18575550101';

interface FaxView {
  id: string;
  status: string;
  pageCount: number | null;
  attachments: { name: string; status: string; pages: number | null; error: string | null }[];
  recipients: { number: string; status: string; reason: string | null }[];
  previewUrls: string[];
}

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'faxapi');
  // A small upload limit, to see the 413 without sending megabytes.
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), FAX_MAX_UPLOAD_MB: '1' });
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  await createStandardUsers(db, [{ extension: '102', name: 'sam', password: PASSWORD }]);
  sam = new HttpClient(product.url);
  expect((await sam.form('/login', { identifier: 'sam@demo.carillon.localhost', password: PASSWORD })).status).toBe(303);
  const samUser = await db.selectFrom('users').select(['account_id', 'extension_id']).where('email', '=', 'sam@demo.carillon.localhost').executeTakeFirstOrThrow();
  await db.insertInto('phone_numbers').values({ account_id: samUser.account_id, e164: SAM_FAX, type: 'direct', extension_id: samUser.extension_id, fax_capable: true }).execute();
  const adminUser = await db.selectFrom('users').select(['account_id', 'extension_id']).where('email', '=', 'admin@demo.carillon.localhost').executeTakeFirstOrThrow();
  await db.insertInto('phone_numbers').values({ account_id: adminUser.account_id, e164: ADMIN_FAX, type: 'direct', extension_id: adminUser.extension_id, fax_capable: true }).execute();
  await makePdf(path.join(tmp, 'two.pdf'), 2);
  twoPages = fs.readFileSync(path.join(tmp, 'two.pdf'));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function faxForm(fields: Record<string, string | string[]>, files: { name: string; data: Uint8Array; type?: string }[]): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) form.append(k, x);
  for (const f of files) form.append('attachments', new Blob([new Uint8Array(f.data)], { type: f.type ?? 'application/pdf' }), f.name);
  return form;
}

async function waitForFax(client: HttpClient, id: string): Promise<FaxView> {
  const until = Date.now() + 60_000;
  for (;;) {
    const fax = (await (await client.get(`/api/faxes/${id}`)).json()) as FaxView;
    if (fax.status === 'completed' || fax.status === 'failed') return fax;
    if (Date.now() > until) throw new Error(`fax still ${fax.status}: ${JSON.stringify(fax)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('FaxOut API', () => {
  it('sends a fax with a cover page to a number of the account: preview, per-recipient status, and the PDF in Messages', { timeout: 90_000 }, async () => {
    const res = await admin.request('POST', '/api/faxes', faxForm({ recipients: `(857) 555-0102\n+44 20 7946 0000`, coverPage: 'true', to: 'Sam', subject: 'Contract', message: 'Two pages.', resolution: 'fine' }, [{ name: 'contract.pdf', data: twoPages }]));
    expect(res.status).toBe(202);
    const queued = (await res.json()) as FaxView;
    expect(queued.recipients.map((r) => r.number)).toEqual([SAM_FAX, '+442079460000']);
    const fax = await waitForFax(admin, queued.id);
    expect(fax).toMatchObject({ status: 'completed', pageCount: 3 });
    expect(fax.recipients).toEqual([
      { number: SAM_FAX, status: 'delivered', reason: null },
      { number: '+442079460000', status: 'failed', reason: 'no outbound fax route' },
    ]);
    expect(fax.previewUrls).toHaveLength(3);
    const preview = await admin.get(fax.previewUrls[0]!);
    expect(preview.status).toBe(200);
    expect(preview.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await preview.arrayBuffer());
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(600);
    expect((await admin.get(`/api/faxes/${fax.id}/preview/4`)).status).toBe(404);
    expect(((await (await admin.get('/api/faxes')).json()) as FaxView[]).map((f) => f.id)).toContain(fax.id);

    // Sam's Messages: the fax, from the admin, 3 pages, unread until opened.
    const inbox = (await (await sam.get('/api/fax-messages')).json()) as { id: string; pageCount: number; fromName: string; read: boolean; pdfUrl: string }[];
    expect(inbox).toHaveLength(1);
    expect(inbox[0]).toMatchObject({ pageCount: 3, read: false });
    expect(inbox[0]!.fromName).not.toBe('');
    const pdf = await sam.get(inbox[0]!.pdfUrl);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    fs.writeFileSync(path.join(tmp, 'received.pdf'), Buffer.from(await pdf.arrayBuffer()));
    expect(await pdfPages(path.join(tmp, 'received.pdf'))).toBe(3);
    expect(((await (await sam.get('/api/fax-messages')).json()) as { read: boolean }[])[0]!.read).toBe(true);

    // Each sees only their own: the sender's fax is not Sam's, Sam's message is not the sender's.
    expect((await sam.get(`/api/faxes/${fax.id}`)).status).toBe(404);
    expect((await sam.get(fax.previewUrls[0]!)).status).toBe(404);
    expect((await admin.get(inbox[0]!.pdfUrl)).status).toBe(404);
    expect((await (await admin.get('/api/fax-messages')).json()) as unknown[]).toEqual([]);
  });

  it('refuses bad input with clear errors and stores nothing', async () => {
    const before = (await db.selectFrom('faxes').select(db.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n;
    const pdf = [{ name: 'a.pdf', data: twoPages }];
    const tooMany = await admin.request('POST', '/api/faxes', faxForm({ recipients: Array.from({ length: 51 }, (_, i) => `+1857555${String(1000 + i)}`) }, pdf));
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({ error: 'invalid_body', fields: { recipients: 'at most 50 recipients' } });
    const badNumber = await admin.request('POST', '/api/faxes', faxForm({ recipients: 'call me' }, pdf));
    expect(badNumber.status).toBe(400);
    expect(((await badNumber.json()) as { message: string }).message).toMatch(/"call me" is not a fax number/);
    const noFile = await admin.request('POST', '/api/faxes', faxForm({ recipients: SAM_FAX }, []));
    expect(noFile.status).toBe(400);
    expect(((await noFile.json()) as { message: string }).message).toBe('attach at least one document');
    const past = await admin.request('POST', '/api/faxes', faxForm({ recipients: SAM_FAX, sendAt: '2020-01-01T00:00:00Z' }, pdf));
    expect(((await past.json()) as { fields: Record<string, string> }).fields.sendAt).toBe('the scheduled time is in the past');
    const big = await admin.request('POST', '/api/faxes', faxForm({ recipients: SAM_FAX }, [{ name: 'big.pdf', data: new Uint8Array(1_300_000) }]));
    expect(big.status).toBe(413);
    expect(((await big.json()) as { message: string }).message).toMatch(/1 MB/);
    // FAX_MAX_PAGES (200 by default): a 201-page PDF is refused at upload, counted before it is queued.
    await makePdf(path.join(tmp, 'long.pdf'), 201);
    const long = await admin.request('POST', '/api/faxes', faxForm({ recipients: SAM_FAX, coverPage: 'false' }, [{ name: 'long.pdf', data: fs.readFileSync(path.join(tmp, 'long.pdf')) }]));
    expect(long.status).toBe(400);
    expect(await long.json()).toMatchObject({ error: 'invalid_body', message: 'the fax would have 201 pages, and at most 200 are allowed' });
    const json = await admin.json('POST', '/api/faxes', { recipients: [SAM_FAX] });
    expect(json.status).toBe(400);
    expect((await db.selectFrom('faxes').select(db.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n).toBe(before);
  });

  it('composes and sends from the FaxOut page with the keyboard, shows the status and previews, and the fax in the recipient\'s Messages', { timeout: 120_000 }, async () => {
    browser = await launchChromium();
    const page = await signIn(browser, product.url, 'sam@demo.carillon.localhost', PASSWORD);
    await page.goto(`${product.url}/me/fax`);
    await page.getByLabel(/^To \(fax numbers/).fill(ADMIN_FAX);
    await page.getByLabel('Subject', { exact: true }).fill('From the browser');
    await page.getByLabel('Attach files').setInputFiles(path.join(tmp, 'two.pdf'));
    await page.getByRole('button', { name: 'Send now' }).focus();
    await page.keyboard.press('Enter');
    const item = page.locator(`[data-testid="sent-faxes"] li[data-number="${ADMIN_FAX}"][data-status="delivered"]`);
    await item.waitFor({ timeout: 60_000 });
    const thumbnails = page.getByRole('img', { name: /^Page \d$/ });
    await expect.poll(() => thumbnails.count(), { timeout: 10_000 }).toBe(3);
    await expect.poll(() => thumbnails.first().evaluate((img: HTMLImageElement) => img.naturalWidth), { timeout: 10_000 }).toBe(600);
    const inbox = (await (await admin.get('/api/fax-messages')).json()) as { pageCount: number; fromName: string }[];
    expect(inbox).toHaveLength(1);
    expect(inbox[0]).toMatchObject({ pageCount: 3, fromName: 'sam Test' });
  });

  it('keeps the extra addresses allowed to send faxes by e-mail, one owner per address, in the audit trail', async () => {
    const initial = (await (await sam.get('/api/me/fax-settings')).json()) as { emailDomain: string; loginEmail: string; allowedSenders: string[] };
    expect(initial).toMatchObject({ emailDomain: 'fax.carillon.localhost', loginEmail: 'sam@demo.carillon.localhost', allowedSenders: [] });
    const saved = await sam.json('PUT', '/api/me/fax-settings', { allowedSenders: ['Scanner@Office.example', 'scanner@office.example', 'home@sam.example'] });
    expect(saved.status).toBe(200);
    expect(((await saved.json()) as { allowedSenders: string[] }).allowedSenders).toEqual(['home@sam.example', 'scanner@office.example']);
    const bad = await sam.json('PUT', '/api/me/fax-settings', { allowedSenders: ['not an address'] });
    expect(bad.status).toBe(400);
    const taken = await admin.json('PUT', '/api/me/fax-settings', { allowedSenders: ['scanner@office.example'] });
    expect(taken.status).toBe(409);
    expect(((await taken.json()) as { message: string }).message).toBe('already allowed for another user: scanner@office.example');
    expect(((await (await sam.get('/api/me/fax-settings')).json()) as { allowedSenders: string[] }).allowedSenders).toEqual(['home@sam.example', 'scanner@office.example']);
    const audit = await db.selectFrom('audit_events').select(['action', 'after']).where('action', '=', 'fax_email_senders.updated').execute();
    expect(audit).toHaveLength(1);
  });

  it('keeps the outbound fax settings: cover page template and info (the account\'s numbers only), used by the next fax, audited', { timeout: 90_000 }, async () => {
    type Settings = { coverTemplate: string; omitCoverWhenSubjectBlank: boolean; coverInfo: Record<string, string>; accountNumbers: { e164: string }[] };
    const initial = (await (await sam.get('/api/me/fax-settings')).json()) as Settings;
    expect(initial).toMatchObject({ coverTemplate: 'contempo', omitCoverWhenSubjectBlank: true, coverInfo: { company: '', phoneNumber: '', faxNumber: '' } });
    expect(initial.accountNumbers.map((n) => n.e164)).toEqual(expect.arrayContaining([ADMIN_FAX, SAM_FAX]));
    const info = { company: 'Sam & Co', street: '1 Main St', street2: '', city: 'Boston', state: 'MA', postalCode: '02110', country: 'United States', phoneNumber: SAM_FAX, faxNumber: SAM_FAX };

    // Refused: a number of another account, an unknown template, an unknown field; nothing is saved.
    const foreign = await sam.json('PUT', '/api/me/fax-settings', { coverInfo: { ...info, faxNumber: '+33123456789' } });
    expect(foreign.status).toBe(400);
    expect(((await foreign.json()) as { fields: Record<string, string> }).fields).toEqual({ 'coverInfo.faxNumber': '+33123456789 is not a number of this account' });
    expect((await sam.json('PUT', '/api/me/fax-settings', { coverTemplate: 'fancy' })).status).toBe(400);
    expect((await sam.json('PUT', '/api/me/fax-settings', { coverInfo: { ...info, logo: 'x' } })).status).toBe(400);
    expect(await db.selectFrom('fax_cover_settings').selectAll().execute()).toEqual([]);

    const saved = await sam.json('PUT', '/api/me/fax-settings', { coverTemplate: 'confidential', omitCoverWhenSubjectBlank: false, coverInfo: info });
    expect(saved.status).toBe(200);
    expect(await saved.json()).toMatchObject({ coverTemplate: 'confidential', omitCoverWhenSubjectBlank: false, coverInfo: info, allowedSenders: ['home@sam.example', 'scanner@office.example'] });
    const audit = await db.selectFrom('audit_events').select(['action', 'after']).where('action', '=', 'fax_settings.updated').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.after).toMatchObject({ coverTemplate: 'confidential', coverInfo: { company: 'Sam & Co' } });

    // The next fax takes the template and a copy of the info; a template named in the form wins.
    const send = async (fields: Record<string, string>) => {
      const res = await sam.request('POST', '/api/faxes', faxForm({ recipients: ADMIN_FAX, subject: 'Settings', ...fields }, [{ name: 'one.pdf', data: twoPages }]));
      expect(res.status).toBe(202);
      const fax = await waitForFax(sam, ((await res.json()) as { id: string }).id);
      return { fax, row: await db.selectFrom('faxes').select(['cover_page', 'cover_template', 'cover_info']).where('id', '=', fax.id).executeTakeFirstOrThrow() };
    };
    const byDefault = await send({});
    expect(byDefault.row).toMatchObject({ cover_page: true, cover_template: 'confidential', cover_info: { company: 'Sam & Co', phoneNumber: SAM_FAX } });
    expect(byDefault.fax.pageCount).toBe(3);
    expect((await send({ coverTemplate: 'classic' })).row).toMatchObject({ cover_page: true, cover_template: 'classic' });
    expect((await sam.request('POST', '/api/faxes', faxForm({ recipients: ADMIN_FAX, coverTemplate: 'fancy' }, [{ name: 'one.pdf', data: twoPages }]))).status).toBe(400);

    // Template "None": no cover page unless the sender asks for one.
    expect((await sam.json('PUT', '/api/me/fax-settings', { coverTemplate: 'none' })).status).toBe(200);
    const none = await send({});
    expect(none.row.cover_page).toBe(false);
    expect(none.fax.pageCount).toBe(2);
  });

  it('saves the cover page settings from the FaxOut page, in French', { timeout: 60_000 }, async () => {
    await db.updateTable('users').set({ language: 'fr' }).where('email', '=', 'sam@demo.carillon.localhost').execute();
    browser ??= await launchChromium();
    const page = await signIn(browser, product.url, 'sam@demo.carillon.localhost', PASSWORD);
    await page.goto(`${product.url}/me/fax`);
    const settings = page.getByTestId('fax-cover-settings');
    // The page shows what was saved through the API: template None, so a new fax starts without a cover page.
    await expect.poll(() => settings.getByLabel('Page de couverture').inputValue(), { timeout: 10_000 }).toBe('none');
    expect(await page.getByLabel('Activer la page de couverture').isChecked()).toBe(false);
    await settings.getByLabel('Page de couverture').selectOption('contempo');
    await settings.getByLabel('Entreprise').fill('Sam SARL');
    await settings.getByLabel('Numéro de fax').selectOption(SAM_FAX);
    await settings.getByRole('button', { name: 'Enregistrer les paramètres de fax' }).click();
    await expect.poll(() => settings.getByTestId('fax-cover-status').textContent(), { timeout: 10_000 }).toBe('Paramètres de fax enregistrés.');
    expect(await (await sam.get('/api/me/fax-settings')).json()).toMatchObject({ coverTemplate: 'contempo', coverInfo: { company: 'Sam SARL', faxNumber: SAM_FAX, city: 'Boston' } });
    await page.reload();
    await expect.poll(() => page.getByLabel('Activer la page de couverture').isChecked(), { timeout: 10_000 }).toBe(true);
    expect(await page.getByLabel('Modèle').inputValue()).toBe('contempo');
  });
});
