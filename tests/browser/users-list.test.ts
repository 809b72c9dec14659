/// <reference lib="dom" />
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { hashSecret } from '@carillon/core';
import { openPostgres, type Db, type ExtensionStatus } from '@carillon/db';
import { launchChromium } from '../support/browser.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';
import { signIn } from '../support/softphone-users.ts';

/**
 * The admin Users list in a real browser, in English and in French: search,
 * a filter, choosing a column (remembered after a reload), and a bulk disable
 * that asks for confirmation first (and changes nothing when cancelled).
 */
let product: RunningProduct;
let browser: Browser;
let db: Db;
let page: Page;
const PASSWORD = 'Meadow5Lantern';

async function addUser(u: { first: string; last: string; email: string; ext: string; status: ExtensionStatus; role: string; department?: string; language?: 'en' | 'fr'; password?: boolean }) {
  const admin = await db.selectFrom('users').innerJoin('extensions', 'extensions.id', 'users.extension_id').select(['users.account_id', 'extensions.site_id']).where('users.email', '=', 'admin@demo.carillon.localhost').executeTakeFirstOrThrow();
  const role = await db.selectFrom('roles').select('id').where('key', '=', u.role).executeTakeFirstOrThrow();
  const ext = await db.insertInto('extensions').values({ account_id: admin.account_id, site_id: admin.site_id, number: u.ext, type: 'user', status: u.status }).returning('id').executeTakeFirstOrThrow();
  const user = await db
    .insertInto('users')
    .values({ account_id: admin.account_id, extension_id: ext.id, role_id: role.id, first_name: u.first, last_name: u.last, email: u.email, department: u.department ?? null, language: u.language ?? null, setup_progress: JSON.stringify({}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('user_credentials').values({ user_id: user.id, password_hash: u.password ? await hashSecret(PASSWORD) : null }).execute();
}

const rowNames = async (p: Page) => (await p.locator('[data-testid="users-table"] tbody tr[data-user-id] [data-name]').allInnerTexts()).map((s) => s.trim());
const statusOf = (p: Page, name: string) => p.locator('[data-testid="users-table"] tbody tr', { hasText: name }).getAttribute('data-status');

beforeAll(async () => {
  product = await startProduct();
  db = openPostgres(product.databaseUrl(), 2);
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  await addUser({ first: 'Alice', last: 'Martin', email: 'alice@demo.example', ext: '201', status: 'activated', role: 'standard', department: 'Sales' });
  await addUser({ first: 'Albert', last: 'Durand', email: 'albert@demo.example', ext: '202', status: 'not_activated', role: 'standard', department: 'Support' });
  await addUser({ first: 'Bob', last: 'Alison', email: 'bob@demo.example', ext: '203', status: 'disabled', role: 'standard', department: 'Sales' });
  await addUser({ first: 'Claire', last: 'Dupont', email: 'claire@demo.example', ext: '204', status: 'activated', role: 'standard', department: 'Support' });
  await addUser({ first: 'Denis', last: 'Dupuis', email: 'denis@demo.example', ext: '205', status: 'activated', role: 'standard', department: 'Sales' });
  await addUser({ first: 'Françoise', last: 'Admin', email: 'francoise@demo.example', ext: '206', status: 'activated', role: 'super_admin', language: 'fr', password: true });
  // Quick setup is done: the portal opens straight away.
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

describe('Users list in the browser', () => {
  it('in English: searches, filters, chooses a column and bulk-disables after confirmation', async () => {
    page = await signIn(browser, product.url, 'admin@demo.carillon.localhost', STRONG.password);
    page.setDefaultTimeout(10_000);
    await page.goto(`${product.url}/admin/users`);
    await page.getByRole('heading', { name: 'Users with extensions' }).waitFor();
    expect(await page.getByTestId('users-range').innerText()).toBe('1–7 of 7');

    // Search as you type: first or last name prefix.
    await page.getByLabel('Search users').fill('al');
    await page.waitForURL(/q=al/);
    await expect.poll(() => rowNames(page)).toEqual(['Albert Durand', 'Alice Martin', 'Bob Alison']);

    // A filter on top of it.
    await page.getByTestId('filter-status').selectOption('disabled');
    await page.waitForURL(/status=disabled/);
    await expect.poll(() => rowNames(page)).toEqual(['Bob Alison']);
    await page.getByRole('link', { name: 'Clear filters' }).click();
    await expect.poll(() => rowNames(page)).toHaveLength(7);

    // Department is hidden by default; choose it, and it stays chosen after a reload.
    expect(await page.locator('th[data-column="department"]').count()).toBe(0);
    await page.getByText('Customize columns').click();
    await page.getByRole('checkbox', { name: 'Department' }).check();
    await page.getByTestId('save-columns').click();
    await page.locator('th[data-column="department"]').waitFor();
    await page.reload();
    await page.locator('th[data-column="department"]').waitFor();
    expect(await page.locator('tr', { hasText: 'Alice Martin' }).locator('td[data-column="department"]').innerText()).toBe('Sales');

    // Sorting by a column header, by keyboard.
    await page.getByRole('button', { name: 'Sort by Name' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/order=desc/);
    await expect.poll(async () => (await rowNames(page))[0]).toBe('Françoise Admin');
    expect(await page.locator('tr', { hasText: 'Françoise Admin' }).getByText('(Super Admin)').count()).toBe(1);

    // Bulk disable: cancelled first (nothing changes), then confirmed from the keyboard.
    await page.getByRole('checkbox', { name: 'Select Alice Martin' }).check();
    await page.getByRole('checkbox', { name: 'Select Claire Dupont' }).check();
    await page.getByRole('button', { name: 'Disable' }).click();
    const dialog = page.getByTestId('bulk-confirm');
    await dialog.getByText('Disable 2 user(s)?').waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await statusOf(page, 'Alice Martin')).toBe('activated');
    await page.getByRole('button', { name: 'Disable' }).click();
    await dialog.getByText('Disable 2 user(s)?').waitFor();
    await page.keyboard.press('Enter'); // the Confirm button has the focus
    await page.getByTestId('bulk-report').getByText('2 changed, 0 already so, 0 refused.').waitFor();
    await expect.poll(() => statusOf(page, 'Alice Martin')).toBe('disabled');
    expect(await statusOf(page, 'Claire Dupont')).toBe('disabled');
    expect(await statusOf(page, 'Denis Dupuis')).toBe('activated');
  });

  it('in French: the same list, its filter, columns and a bulk disable', async () => {
    page = await signIn(browser, product.url, 'francoise@demo.example', PASSWORD);
    page.setDefaultTimeout(10_000);
    await page.goto(`${product.url}/admin/users`);
    await page.getByRole('heading', { name: 'Utilisateurs avec extensions' }).waitFor();

    await page.getByLabel('Rechercher des utilisateurs').fill('dup');
    await page.waitForURL(/q=dup/);
    await expect.poll(() => rowNames(page)).toEqual(['Claire Dupont', 'Denis Dupuis']);
    await page.getByTestId('filter-status').selectOption('activated');
    await expect.poll(() => rowNames(page)).toEqual(['Denis Dupuis']);

    // Columns are chosen per admin: Françoise starts from the default, without Department.
    expect(await page.locator('th[data-column="department"]').count()).toBe(0);
    await page.getByText('Personnaliser les colonnes').click();
    await page.getByRole('checkbox', { name: 'E-mail' }).uncheck();
    await page.getByRole('checkbox', { name: 'Département' }).check();
    await page.getByRole('button', { name: 'Enregistrer' }).click();
    await page.locator('th[data-column="department"]').waitFor();
    expect(await page.locator('th[data-column="email"]').count()).toBe(0);

    await page.getByRole('checkbox', { name: 'Sélectionner Denis Dupuis' }).check();
    await page.getByRole('button', { name: 'Désactiver' }).click();
    await page.getByTestId('bulk-confirm').getByText('Désactiver 1 utilisateur(s) ?', { exact: false }).waitFor();
    await page.getByRole('button', { name: 'Confirmer' }).click();
    await page.getByTestId('bulk-report').getByText('1 modifié(s), 0 déjà dans cet état, 0 refusé(s).').waitFor();
    // Disabled now, so the "activated" filter no longer lists him.
    await expect.poll(() => rowNames(page)).toEqual([]);
    await page.getByText('Aucun utilisateur ne correspond.').waitFor();
  });
  it('assigns and deletes unassigned extensions from their own view', async () => {
    const admin = await db.selectFrom('users').innerJoin('extensions', 'extensions.id', 'users.extension_id').select(['users.account_id', 'extensions.site_id']).where('users.email', '=', 'admin@demo.carillon.localhost').executeTakeFirstOrThrow();
    for (const number of ['301', '302'])
      await db.insertInto('extensions').values({ account_id: admin.account_id, site_id: admin.site_id, number, type: 'user', status: 'unassigned', name: 'Ext. with no device assigned' }).execute();
    page = await signIn(browser, product.url, 'admin@demo.carillon.localhost', STRONG.password);
    page.setDefaultTimeout(10_000);
    await page.goto(`${product.url}/admin/users`);
    await page.getByRole('link', { name: 'Unassigned extensions' }).click();
    await page.getByRole('heading', { name: 'Unassigned extensions' }).waitFor();
    expect(await page.locator('[data-testid="unassigned-table"] tbody tr[data-extension-id]').count()).toBe(2);

    await page.getByRole('button', { name: 'Assign extension 301' }).click();
    await page.getByLabel('First name').fill('Gina');
    await page.getByLabel('Last name').fill('Newcomer');
    await page.getByLabel('E-mail').fill('gina@demo.example');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('unassigned-message').getByText("Extension 301 is now Gina Newcomer's.").waitFor();
    await page.getByRole('button', { name: 'Delete extension 302' }).click();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByTestId('unassigned-message').getByText('Extension 302 deleted.').waitFor();
    await page.getByText('No unassigned extension.').waitFor();

    await page.getByRole('link', { name: 'Users with extensions' }).click();
    await page.getByRole('heading', { name: 'Users with extensions' }).waitFor();
    await page.getByLabel('Search users').fill('gina');
    await page.waitForURL(/q=gina/);
    await expect.poll(() => rowNames(page)).toEqual(['Gina Newcomer']);
    expect(await statusOf(page, 'Gina Newcomer')).toBe('not_activated');
  });
});
