/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openPostgres, type Db } from '@carillon/db';
import { seriousViolations } from '../support/axe.ts';
import { launchChromium } from '../support/browser.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';
import { createStandardUsers, signIn } from '../support/softphone-users.ts';

/**
 * The accessibility check of the main pages (issue 20, acceptance): axe-core,
 * injected into each page, finds no violation of impact serious or critical,
 * on the sign-in page and on every main page an admin visits.
 */
let product: RunningProduct;
let browser: Browser;
let db: Db;
let page: Page;
let userId = '';

beforeAll(async () => {
  product = await startProduct();
  db = openPostgres(product.databaseUrl(), 2);
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  await createStandardUsers(db, [{ extension: '201', name: 'alice', password: STRONG.password }]);
  userId = (await db.selectFrom('users').select('id').where('email', '=', 'alice@demo.carillon.localhost').executeTakeFirstOrThrow()).id;
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
});

describe('accessibility of the main pages (axe-core)', () => {
  it('the sign-in page has no serious or critical violation', { timeout: 60_000 }, async () => {
    const p = await browser.newPage();
    await p.goto(`${product.url}/login`);
    await p.locator('#identifier').waitFor();
    expect(await seriousViolations(p)).toEqual([]);
    await p.close();
  });

  const pages: [string, () => string, string][] = [
    ['Phone', () => '/me/phone', 'main h1'],
    ['Call Log', () => '/me/call-log', 'main h1'],
    ['Messages', () => '/me/messages', 'main h1'],
    ['Fax', () => '/me/fax', 'main h1'],
    ['My Extension settings', () => '/me/settings', 'main h1'],
    ['Users list', () => '/admin/users', '[data-testid="users-table"]'],
    ['User details', () => `/admin/users/${userId}`, 'main h1'],
    ['Roles', () => '/admin/users/roles', 'main h1'],
    ['Phone numbers', () => '/admin/phone-system/numbers', 'main h1'],
    ['Devices', () => '/admin/phone-system/devices', 'main h1'],
    ['Audit trail', () => '/admin/more/audit-trail', 'main h1'],
    ['Company call log', () => '/admin/call-log', 'main h1'],
  ];
  for (const [name, path, ready] of pages) {
    it(`${name} has no serious or critical violation`, { timeout: 60_000 }, async () => {
      page ??= await signIn(browser, product.url, 'admin@demo.carillon.localhost', STRONG.password);
      page.setDefaultTimeout(15_000);
      await page.goto(`${product.url}${path()}`);
      await page.locator(ready).first().waitFor();
      expect(await seriousViolations(page)).toEqual([]);
    });
  }
});
