import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openPostgres, type Db } from '@carillon/db';
import { launchChromium } from '../support/browser.ts';
import { seriousViolations } from '../support/axe.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';
import { signIn } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { redisUrl } from '../support/env.ts';

/**
 * The high-volume SMS page (issue 18, deliverable 2) in Chromium: the content
 * check warns as the template is typed (the same function the server runs),
 * the "require clean content" setting is saved and then refuses a campaign
 * with a shortened link, with the server's sentence on the page; without it
 * the campaign is created and its warnings listed.
 */
const NUMBER = '+14155550800';
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let browser: Browser;
let page: Page;
let accountId = '';

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'hvsmsui');
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), REDIS_URL: redisUrl(), ENABLE_UNRELEASED: 'sms' });
  db = openPostgres(product.databaseUrl(), 2);
  const admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  accountId = ((await (await admin.get('/api/me')).json()) as { accountId: string }).accountId;
  await db.insertInto('phone_numbers').values({ account_id: accountId, e164: NUMBER, type: 'additional_company' }).execute();
  const registered = await admin.json('POST', '/api/sms/registrations', { phoneNumber: NUMBER, businessName: 'Demo Dental', useCase: 'reminders', sampleMessage: 'See you at 10:00.', expectedDailyVolume: 100 });
  const { id } = (await registered.json()) as { id: string };
  expect((await admin.json('POST', `/api/sms/registrations/${id}/review`, { decision: 'approve' })).status).toBe(200);
  browser = await launchChromium();
  page = await signIn(browser, product.url, 'admin@demo.carillon.localhost', STRONG.password);
  await page.goto(`${product.url}/admin/phone-system/high-volume-sms`);
}, 180_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    await page?.screenshot({ path: `${product.dataDir}/hvsms-failure.png` }).catch(() => {});
    console.error(`screenshot in ${product.dataDir}`);
  }
});

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

async function submitCampaign(name: string, template: string): Promise<void> {
  await page.getByLabel('Name', { exact: true }).last().fill(name);
  await page.locator('select[required]').selectOption(NUMBER);
  await page.getByLabel('Message', { exact: true }).fill(template);
  await page.locator('input[type="file"]').setInputFiles({ name: 'list.csv', mimeType: 'text/csv', buffer: Buffer.from('phone,firstName\n+14155558001,Ada\n') });
  await page.getByRole('button', { name: 'Create the campaign' }).click();
}

describe('high-volume SMS page: content check', () => {
  it('warns as the template is typed, and says nothing of a clean one', async () => {
    const template = page.getByLabel('Message', { exact: true });
    await template.fill('Hi {{firstName}}, book at https://bit.ly/3xYz. Act now!');
    await expect.poll(() => page.getByTestId('sms-content-warnings').innerText()).toContain('bit.ly is a URL shortener');
    expect(await page.getByTestId('sms-content-warnings').innerText()).toContain('“act now” reads like spam');
    await template.fill('Hi {{firstName}}, see you tomorrow at 10:00.');
    await page.getByTestId('sms-content-warnings').waitFor({ state: 'detached' });
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('saves "require clean content" (audited), which then refuses a campaign with a shortened link, the reason on the page', async () => {
    await page.getByTestId('hvsms-require-clean').check();
    await page.getByTestId('hvsms-require-clean').locator('xpath=ancestor::form').getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByTestId('hvsms-message').innerText()).toBe('Content policy saved.');
    expect((await db.selectFrom('sms_campaign_settings').select('require_clean_content').where('account_id', '=', accountId).executeTakeFirstOrThrow()).require_clean_content).toBe(true);
    expect(await db.selectFrom('audit_events').select('action').where('account_id', '=', accountId).where('action', '=', 'sms_content_policy.updated').execute()).toHaveLength(1);

    await submitCampaign('Links', 'Hi {{firstName}}, book at bit.ly/3xYz');
    await expect.poll(() => page.getByTestId('hvsms-message').innerText()).toContain('the account requires clean content: bit.ly is a URL shortener');
    expect(await db.selectFrom('sms_campaigns').select('id').where('account_id', '=', accountId).execute()).toEqual([]);
  });

  it('without the setting, creates the campaign and lists its warnings', async () => {
    await page.reload();
    await expect.poll(() => page.getByTestId('hvsms-require-clean').isChecked()).toBe(true);
    await page.getByTestId('hvsms-require-clean').uncheck();
    await page.getByTestId('hvsms-require-clean').locator('xpath=ancestor::form').getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByTestId('hvsms-message').innerText()).toBe('Content policy saved.');
    await submitCampaign('Links allowed', 'Hi {{firstName}}, book at bit.ly/3xYz');
    await expect.poll(() => page.getByTestId('hvsms-message').innerText()).toBe('1 recipients accepted, 0 lines refused.');
    expect(await page.getByTestId('hvsms-row-errors').innerText()).toContain('bit.ly is a URL shortener');
    expect(await db.selectFrom('sms_campaigns').select('name').where('account_id', '=', accountId).execute()).toEqual([{ name: 'Links allowed' }]);
  });
});
