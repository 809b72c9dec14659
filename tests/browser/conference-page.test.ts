/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openPostgres, type Db } from '@carillon/db';
import { parseMail } from '../../workers/src/fax/mime-message.ts';
import { startSmtpReceiver } from '../../workers/test/support.ts';
import { seriousViolations } from '../support/axe.ts';
import { launchChromium } from '../support/browser.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';
import { createStandardUsers, signIn } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * My Extension › Conferencing in the browser (issue 16; the area is enabled for this product only): the
 * user sees the bridge's number and their codes, gets a new participant code, saves a setting that a
 * reload shows, and sends an invite that a real SMTP server receives with the new code; the page has
 * no serious accessibility violation.
 */
let product: RunningProduct;
let browser: Browser;
let db: Db;
let page: Page;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
let scratch: { url: string; drop: () => Promise<void> } | undefined;

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'conferencepage');
  smtp = await startSmtpReceiver();
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), ENABLE_UNRELEASED: 'conference', SMTP_URL: smtp.url });
  db = openPostgres(product.databaseUrl(), 2);
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  await createStandardUsers(db, [{ extension: '201', name: 'alice', password: STRONG.password }]);
  const account = await db.selectFrom('accounts').select('id').executeTakeFirstOrThrow();
  const number = await db.insertInto('phone_numbers').values({ account_id: account.id, e164: '+14155550177', type: 'additional_company', extension_id: null, site_id: null, nickname: null }).returning('id').executeTakeFirstOrThrow();
  await db.insertInto('conference_dial_ins').values({ phone_number_id: number.id, account_id: account.id }).execute();
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  browser = await launchChromium();
  page = await signIn(browser, product.url, 'alice@demo.carillon.localhost', STRONG.password);
  page.setDefaultTimeout(15_000);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await smtp?.stop();
  await scratch?.drop();
});

describe('Conferencing page', () => {
  it('is reached from My Extension, shows the number and codes, and has no serious accessibility violation', async () => {
    await page.goto(`${product.url}/me`);
    await page.getByRole('link', { name: 'Conferencing' }).click();
    await page.waitForURL(/\/me\/conferencing$/);
    await expect.poll(() => page.getByTestId('conference-dial-ins').innerText()).toBe('+14155550177');
    expect(await page.getByTestId('conference-host-code').innerText()).toMatch(/^\d{6}$/);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('gives a new participant code, keeps the host code, and the database holds it', async () => {
    const host = await page.getByTestId('conference-host-code').innerText();
    const before = await page.getByTestId('conference-participant-code').innerText();
    await page.getByRole('button', { name: 'New participant code' }).click();
    await expect.poll(() => page.getByTestId('conference-participant-code').innerText()).not.toBe(before);
    const after = await page.getByTestId('conference-participant-code').innerText();
    expect(await page.getByTestId('conference-host-code').innerText()).toBe(host);
    const stored = await db.selectFrom('conference_access_codes').select(['role', 'code']).execute();
    expect(stored.find((c) => c.role === 'participant')?.code).toBe(after);
  });

  it('saves a setting that a reload shows', async () => {
    const form = page.getByTestId('conference-settings');
    await form.getByLabel('Participants may join before the host').setChecked(true);
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Settings saved.').waitFor();
    await page.reload();
    await expect.poll(() => page.getByTestId('conference-settings').getByLabel('Participants may join before the host').isChecked()).toBe(true);
  });

  it('sends an invite with the current participant code, received by the SMTP server', async () => {
    const code = await page.getByTestId('conference-participant-code').innerText();
    const form = page.getByTestId('conference-invite');
    await form.locator('textarea[name="to"]').fill('guest@partner.test');
    await form.getByLabel('Topic').fill('Quarterly review');
    await form.getByRole('button', { name: 'Send invite' }).click();
    await page.getByText('Invitation sent to 1 recipient(s).').waitFor();
    await expect.poll(() => smtp.received.filter((m) => m.to.includes('guest@partner.test')).length, { timeout: 30_000 }).toBe(1);
    const mail = parseMail(Buffer.from(smtp.received.find((m) => m.to.includes('guest@partner.test'))!.raw));
    expect(mail.subject).toBe('Invitation: Quarterly review');
    expect(mail.text).toContain(`Participant access code: ${code} #`);
    expect(mail.attachments.some((a) => a.mediaType === 'text/calendar')).toBe(true);
  });
});
