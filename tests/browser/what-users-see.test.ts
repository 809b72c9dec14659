/// <reference lib="dom" />
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openPostgres, type Db } from '@carillon/db';
import { en } from '../../app/src/lib/i18n/en.ts';
import { fr } from '../../app/src/lib/i18n/fr.ts';
import { launchChromium } from '../support/browser.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';
import { createStandardUsers, signIn } from '../support/softphone-users.ts';

/**
 * The small things a user sees (issue 20, point 16), in a real browser: timestamps in the user's
 * own time zone and language, audit details as readable lines (a date as a date, never `{}`),
 * dialogs that keep and give back the keyboard focus, no settings for features that do not exist
 * yet, and French wording.
 */
let product: RunningProduct;
let browser: Browser;
let db: Db;
let page: Page;
const ADMIN = 'admin@demo.carillon.localhost';
// Tokyo has no daylight saving time, and is far from UTC: a UTC date shown as is cannot pass.
const TOKYO_FR = (iso: string | Date) => new Intl.DateTimeFormat('fr-FR', { timeZone: 'Asia/Tokyo', hour12: false, dateStyle: 'medium', timeStyle: 'long' }).format(new Date(iso));

beforeAll(async () => {
  product = await startProduct();
  db = openPostgres(product.databaseUrl(), 2);
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  await createStandardUsers(db, [{ extension: '201', name: 'alice', password: STRONG.password }]);
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  browser = await launchChromium();
}, 120_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page) {
    await page.screenshot({ path: `${product.dataDir}/failure.png` }).catch(() => {});
    console.error(`screenshot: ${product.dataDir}/failure.png at ${page.url()}`);
  }
});

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
});

describe('what users see', () => {
  it("shows the audit trail in the reader's time zone and language, with details as field: value lines and dates as dates", { timeout: 60_000 }, async () => {
    await db.updateTable('users').set({ language: 'fr', time_zone: 'Asia/Tokyo', time_format: '24h' }).where('email', '=', ADMIN).execute();
    page = await signIn(browser, product.url, ADMIN, STRONG.password);
    page.setDefaultTimeout(15_000);
    await page.goto(`${product.url}/admin/more/audit-trail`);
    // A number reservation records when it expires: a Date, once stored as {}.
    const held = await page.evaluate(async () => {
      const pool = (await (await fetch('/api/numbers/pool?country=US&areaCode=415&limit=1')).json()) as { e164: string }[];
      const res = await fetch('/api/numbers/reservations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ numbers: [pool[0]!.e164] }) });
      return ((await res.json()) as { reservations: { e164: string; expiresAt: string }[] }).reservations[0]!;
    });
    await page.goto(`${product.url}/admin/more/audit-trail`);
    const row = page.locator('tr[data-action="number.reserved"]');
    await row.waitFor();
    const event = await db.selectFrom('audit_events').select('occurred_at').where('action', '=', 'number.reserved').executeTakeFirstOrThrow();
    const after = row.locator('td').nth(5);
    expect(await after.locator('dt').allTextContents()).toEqual(['numbers', 'expiresAt']);
    expect(await after.locator('dd').allTextContents()).toEqual([held.e164, TOKYO_FR(held.expiresAt)]);
    expect(await row.textContent()).not.toMatch(/[{}"]/);
    expect(await row.locator('td').first().textContent()).toBe(TOKYO_FR(event.occurred_at));
  });

  it('keeps the keyboard in a dialog while it is open, closes it with Escape, and gives the focus back to its opener', { timeout: 60_000 }, async () => {
    await db.updateTable('users').set({ language: 'en', time_zone: null, time_format: null }).where('email', '=', ADMIN).execute();
    page = await signIn(browser, product.url, ADMIN, STRONG.password);
    page.setDefaultTimeout(15_000);
    await page.goto(`${product.url}/admin/users`);
    await page.getByRole('checkbox', { name: en['usersList.selectUser'].replace('{name}', 'alice Test') }).check();
    const opener = page.getByTestId('bulk-assign-role');
    await opener.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByTestId('bulk-confirm');
    await dialog.getByTestId('bulk-role').waitFor();
    const focusInDialog = () => page.evaluate(() => !!document.activeElement?.closest('dialog[open]'));
    expect(await focusInDialog()).toBe(true);
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      expect(await focusInDialog(), `after Tab ${i + 1}`).toBe(true);
    }
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Shift+Tab');
      expect(await focusInDialog(), `after Shift+Tab ${i + 1}`).toBe(true);
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('bulk-assign-role');
  });

  it('offers no setting or permission of a feature that does not exist yet', { timeout: 60_000 }, async () => {
    page ??= await signIn(browser, product.url, ADMIN, STRONG.password);
    await page.goto(`${product.url}/admin/users/roles`);
    await page.getByRole('button', { name: en['roles.new'] }).click();
    await page.locator('[data-permission="users.view"]').waitFor();
    for (const p of ['meetings.manage', 'billing.view', 'billing.manage', 'reports.view']) expect(await page.locator(`[data-permission="${p}"]`).count(), p).toBe(0);
    const alice = await db.selectFrom('users').select('id').where('email', '=', 'alice@demo.carillon.localhost').executeTakeFirstOrThrow();
    await page.goto(`${product.url}/admin/users/${alice.id}`);
    const notifications = page.locator('form[data-section="notifications"]');
    await notifications.getByText(en['settings.notify.fax']).waitFor();
    expect(await notifications.getByText(en['settings.notify.voicemail']).count()).toBe(0);
    expect(await notifications.getByText(en['settings.notify.textMessages']).count()).toBe(0);
  });

  it('speaks proper French when adding users', { timeout: 60_000 }, async () => {
    await db.updateTable('users').set({ language: 'fr' }).where('email', '=', ADMIN).execute();
    page = await signIn(browser, product.url, ADMIN, STRONG.password);
    await page.goto(`${product.url}/admin/users/add`);
    await page.getByText(fr['addUsers.step.type']).waitFor();
    await page.getByRole('radio', { name: /^Utilisateur standard/ }).waitFor();
    expect(await page.locator('body').textContent()).not.toContain("d'Office");
  });
});
