/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openPostgres, type Db } from '@carillon/db';
import { seriousViolations } from '../support/axe.ts';
import { launchChromium } from '../support/browser.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';
import { createStandardUsers, signIn } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * My Extension › Call Handling & Forwarding in the browser (issue 13,
 * deliverable 1; the area is enabled for this product only): a user sets
 * specific hours, adds a forwarding number and a custom rule, saves, and the
 * database holds it; a bad number is refused with the field named and nothing
 * saved; the page has no serious accessibility violation.
 */

let product: RunningProduct;
let browser: Browser;
let db: Db;
let page: Page;
let aliceId = '';
let scratch: { url: string; drop: () => Promise<void> } | undefined;

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'answeringbrowser');
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), ENABLE_UNRELEASED: 'answering_rules' });
  db = openPostgres(product.databaseUrl(), 2);
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  await createStandardUsers(db, [{ extension: '201', name: 'alice', password: STRONG.password }]);
  const alice = await db.selectFrom('users').select(['id', 'account_id', 'extension_id']).where('email', '=', 'alice@demo.carillon.localhost').executeTakeFirstOrThrow();
  aliceId = alice.id;
  await db.insertInto('devices').values({ account_id: alice.account_id, extension_id: alice.extension_id, type: 'desk_phone', name: 'Alice desk phone', sip_username: `alice-desk-${Date.now()}` }).execute();
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  browser = await launchChromium();
  page = await signIn(browser, product.url, 'alice@demo.carillon.localhost', STRONG.password);
  page.setDefaultTimeout(15_000);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

const rules = () => db.selectFrom('answering_rules').select(['kind', 'name', 'conditions', 'handling']).where('user_id', '=', aliceId).orderBy('kind').orderBy('position').execute();

describe('Call Handling & Forwarding page', () => {
  it('saves hours, a forwarding number and a custom rule', { timeout: 60_000 }, async () => {
    await page.goto(`${product.url}/me`);
    await page.getByRole('link', { name: 'Call Handling & Forwarding' }).click();
    await page.waitForURL(`${product.url}/me/call-handling`);
    await page.getByRole('heading', { level: 1, name: 'Call Handling & Forwarding' }).waitFor();
    await expect.poll(() => page.getByText('Alice desk phone').count()).toBe(1);

    await page.getByLabel('Specific hours').check();
    await page.getByRole('button', { name: 'Add hours on Monday' }).click();
    await page.getByRole('button', { name: 'Add a forwarding number' }).click();
    await page.getByLabel('Number', { exact: true }).fill('+33612345678');
    // Callers hear music rather than ring-back while the user-hours rule rings.
    await page.getByLabel('Audio while connecting').first().selectOption('latin');

    await page.getByRole('tab', { name: 'Custom Rules' }).click();
    await page.getByRole('button', { name: 'Add a custom rule' }).click();
    await page.getByLabel('Rule name').fill('Boss');
    await page.getByLabel('When the caller is one of these numbers (comma-separated)').fill('+14155550123');
    // Forwarded calls must be accepted with 1 (a mobile's voicemail cannot take them).
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByLabel('Press 1 to accept forwarded calls').check();
    // Screening of outside callers, the connecting message, and two blocked numbers.
    await page.getByLabel('Call screening').selectOption('outside');
    await page.getByLabel('Connecting message: “Please hold while I try to connect you.”').check();
    await page.getByLabel('Blocked numbers (comma-separated)').fill('+14155550666, +14155550667');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('answering-notice').getByText('Saved.').waitFor();
    const settings = await db.selectFrom('user_call_settings').select('settings').where('user_id', '=', aliceId).executeTakeFirstOrThrow();
    expect(settings.settings).toMatchObject({
      confirmForwardedCalls: true,
      screening: 'outside',
      connectingMessage: { enabled: true },
      blocking: { anonymous: false, numbers: ['+14155550666', '+14155550667'] },
    });

    const hours = (await db.selectFrom('users').select('user_hours').where('id', '=', aliceId).executeTakeFirstOrThrow()).user_hours as { mode: string; days: Record<string, unknown[]> };
    expect(hours.mode).toBe('custom');
    expect(hours.days.mon).toEqual([{ from: '09:00', to: '17:00' }]);
    const saved = await rules();
    expect(saved.map((r) => [r.kind, r.name])).toEqual([
      ['after_hours', null],
      ['custom', 'Boss'],
      ['in_hours', null],
    ]);
    const inHours = saved.find((r) => r.kind === 'in_hours')!.handling as { ringPlan: { rows: { target: { kind: string; number?: string } }[] }; audioWhileConnecting: unknown };
    expect(inHours.audioWhileConnecting).toEqual({ kind: 'music', track: 'latin' });
    const devices = await db.selectFrom('devices').select('id').where('extension_id', 'in', db.selectFrom('users').select('extension_id').where('id', '=', aliceId)).execute();
    expect(inHours.ringPlan.rows.map((r) => r.target.number ?? r.target.kind)).toEqual([...devices.map(() => 'device'), '+33612345678']);
    expect(saved.find((r) => r.kind === 'custom')!.conditions).toEqual([{ type: 'caller_id', numbers: ['+14155550123'], contactIds: [], anonymous: false }]);
  });

  it('refuses a bad forwarding number with the field named, and saves nothing', { timeout: 60_000 }, async () => {
    const before = await rules();
    await page.getByRole('tab', { name: 'User Hours' }).click();
    await page.getByLabel('Number', { exact: true }).fill('0612');
    await page.getByRole('button', { name: 'Save' }).click();
    const notice = page.getByTestId('answering-notice');
    await notice.getByText('Nothing was saved. Fix these fields:').waitFor();
    expect(await notice.textContent()).toMatch(/inHours\.ringPlan\.rows\.\d+\.target\.number: an E\.164 number/);
    expect(await rules()).toEqual(before);
  });

  it('has no serious or critical accessibility violation', { timeout: 60_000 }, async () => {
    await page.goto(`${product.url}/me/call-handling`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
  });
});
