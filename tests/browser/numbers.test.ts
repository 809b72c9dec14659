/// <reference lib="dom" />
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { hashSecret } from '@carillon/core';
import { openPostgres, type Db } from '@carillon/db';
import { launchChromium } from '../support/browser.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';
import { signIn } from '../support/softphone-users.ts';

/**
 * Phone numbers in a real browser, in English and in French: search the carrier pool,
 * reserve a number (10 minutes), acquire it, assign it to a user with a nickname, find
 * it under "Numbers in use", then in the audit trail and in the trail's CSV download.
 */
let product: RunningProduct;
let browser: Browser;
let db: Db;
let page: Page;
const PASSWORD = 'Meadow5Lantern';

async function addUser(u: { first: string; last: string; email: string; ext: string; role: string; language?: 'en' | 'fr'; password?: boolean }) {
  const admin = await db.selectFrom('users').innerJoin('extensions', 'extensions.id', 'users.extension_id').select(['users.account_id', 'extensions.site_id']).where('users.email', '=', 'admin@demo.carillon.localhost').executeTakeFirstOrThrow();
  const role = await db.selectFrom('roles').select('id').where('key', '=', u.role).executeTakeFirstOrThrow();
  const ext = await db.insertInto('extensions').values({ account_id: admin.account_id, site_id: admin.site_id, number: u.ext, type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  const user = await db
    .insertInto('users')
    .values({ account_id: admin.account_id, extension_id: ext.id, role_id: role.id, first_name: u.first, last_name: u.last, email: u.email, language: u.language ?? null, setup_progress: JSON.stringify({}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('user_credentials').values({ user_id: user.id, password_hash: u.password ? await hashSecret(PASSWORD) : null }).execute();
}

const row = (p: Page, e164: string) => p.locator(`[data-testid="numbers-table"] tr[data-e164="${e164}"]`);

/** The journey, in the page's language: labels are given by the caller. */
async function acquireAndAssign(
  p: Page,
  o: { areaCode: string; user: string; nickname: string; l: { areaCode: string; searchPool: string; reserve: string; reservedUntil: string; acquire: string; acquired: string; edit: string; nickname: string; assignTo: string; save: string; saved: string; inUse: string; inventory: string; assigned: string } },
): Promise<string> {
  await p.goto(`${product.url}/admin/phone-system/numbers`);
  await p.getByLabel(o.l.areaCode, { exact: true }).fill(o.areaCode);
  await p.getByRole('button', { name: o.l.searchPool }).click();
  await p.waitForURL(new RegExp(`areaCode=${o.areaCode}`));
  const first = (await p.getByTestId('pool-numbers').locator('code').first().innerText()).trim();
  expect(first).toMatch(new RegExp(`^\\+1${o.areaCode}`));
  await p.getByRole('button', { name: `${o.l.reserve} ${first}` }).click();
  const held = p.getByTestId('reserved-numbers').locator('li', { hasText: first });
  await held.getByText(o.l.reservedUntil).waitFor();
  await p.getByRole('button', { name: o.l.acquire }).click();
  await p.getByText(o.l.acquired).waitFor();
  // Acquired without an assignment: it waits in the inventory.
  await p.getByRole('link', { name: o.l.inventory, exact: true }).click();
  await p.waitForURL(/view=inventory/);
  await row(p, first).waitFor();

  await row(p, first).getByRole('link', { name: `${o.l.edit} ${first}` }).click();
  const edit = p.getByTestId('number-edit');
  await edit.waitFor();
  await edit.getByLabel(o.l.nickname, { exact: true }).fill(o.nickname);
  await edit.getByLabel(o.l.assignTo).selectOption({ label: o.user });
  await edit.getByRole('button', { name: o.l.save }).click();
  await p.getByText(o.l.saved).waitFor();

  await p.getByRole('link', { name: o.l.inUse }).click();
  await p.waitForURL(/view=in_use/);
  await expect.poll(() => row(p, first).locator('[data-column="nickname"]').innerText()).toBe(o.nickname);
  expect(await row(p, first).locator('[data-column="assigned"]').innerText()).toBe(o.user.replace(/^\d+ /, ''));
  expect(await row(p, first).locator('[data-column="type"]').innerText()).toBe(o.l.assigned);
  return first;
}

/** The audit trail lists the change in the page's language, and its CSV download holds it. */
async function auditHolds(p: Page, e164: string, label: string) {
  await p.goto(`${product.url}/admin/more/audit-trail`);
  const entry = p.locator('[data-testid="audit-table"] tr[data-action="number.assigned"]', { hasText: e164 });
  await entry.waitFor();
  expect(await entry.locator('td').nth(2).innerText()).toBe(label);
  const [download] = await Promise.all([p.waitForEvent('download'), p.getByTestId('audit-csv').click()]);
  const csv = fs.readFileSync((await download.path())!, 'utf8');
  const line = csv.split('\r\n').find((l) => l.includes('number.assigned') && l.includes(e164));
  expect(line, csv.slice(0, 2000)).toBeDefined();
}

beforeAll(async () => {
  product = await startProduct();
  db = openPostgres(product.databaseUrl(), 2);
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  await addUser({ first: 'Alice', last: 'Martin', email: 'alice@demo.example', ext: '201', role: 'standard' });
  await addUser({ first: 'Bruno', last: 'Lefèvre', email: 'bruno@demo.example', ext: '202', role: 'standard' });
  await addUser({ first: 'Françoise', last: 'Admin', email: 'francoise@demo.example', ext: '206', role: 'super_admin', language: 'fr', password: true });
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

describe('Phone numbers in the browser', () => {
  it('in English: acquires a pool number, assigns it with a nickname, and finds it in use and in the audit trail', async () => {
    page = await signIn(browser, product.url, 'admin@demo.carillon.localhost', STRONG.password);
    page.setDefaultTimeout(10_000);
    const e164 = await acquireAndAssign(page, {
      areaCode: '415',
      user: '201 Alice Martin',
      nickname: 'Sales line',
      l: {
        areaCode: 'Area code',
        searchPool: 'Search numbers to add',
        reserve: 'Reserve',
        reservedUntil: 'reserved until',
        acquire: 'Acquire numbers',
        acquired: '1 number(s) acquired.',
        edit: 'Edit',
        nickname: 'Name',
        assignTo: 'Assign to',
        save: 'Save',
        saved: 'Number saved.',
        inUse: 'Numbers in use',
        inventory: 'Number inventory',
        assigned: 'Direct number',
      },
    });
    await auditHolds(page, e164, 'Number assigned');
  });

  it('in French: the same journey, in French', async () => {
    page = await signIn(browser, product.url, 'francoise@demo.example', PASSWORD);
    page.setDefaultTimeout(10_000);
    const e164 = await acquireAndAssign(page, {
      areaCode: '212',
      user: '202 Bruno Lefèvre',
      nickname: 'Accueil',
      l: {
        areaCode: 'Indicatif régional',
        searchPool: 'Rechercher des numéros à ajouter',
        reserve: 'Réserver',
        reservedUntil: 'réservé jusqu’à',
        acquire: 'Acquérir les numéros',
        acquired: '1 numéro(s) acquis.',
        edit: 'Modifier',
        nickname: 'Nom',
        assignTo: 'Attribuer à',
        save: 'Enregistrer',
        saved: 'Numéro enregistré.',
        inUse: "Numéros en cours d'utilisation",
        inventory: 'Inventaire de numéros',
        assigned: 'Numéro direct',
      },
    });
    await auditHolds(page, e164, 'Numéro attribué');
  });
});
