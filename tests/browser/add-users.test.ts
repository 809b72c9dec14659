/// <reference lib="dom" />
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { hashSecret } from '@carillon/core';
import { openPostgres, type Db } from '@carillon/db';
import { launchChromium } from '../support/browser.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';
import { signIn } from '../support/softphone-users.ts';

/**
 * The Add Users wizard in a real browser, in English and in French (issue 5
 * acceptance): three users in one batch with one invalid e-mail; the error is
 * shown on that row, the other two rows are created, the bad row is kept to be
 * fixed and then created; one user gets a number from the inventory; the audit
 * trail shows each user.created, and its CSV export holds them.
 */
let product: RunningProduct;
let browser: Browser;
let db: Db;
let page: Page;
let accountId = '';
const PASSWORD = 'Meadow5Lantern';

beforeAll(async () => {
  product = await startProduct();
  db = openPostgres(product.databaseUrl(), 2);
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  const admin = await db.selectFrom('users').innerJoin('extensions', 'extensions.id', 'users.extension_id').select(['users.account_id', 'extensions.site_id']).where('users.email', '=', 'admin@demo.carillon.localhost').executeTakeFirstOrThrow();
  accountId = admin.account_id;
  // A French-speaking Super Admin for the French journey.
  const role = await db.selectFrom('roles').select('id').where('key', '=', 'super_admin').executeTakeFirstOrThrow();
  const ext = await db.insertInto('extensions').values({ account_id: accountId, site_id: admin.site_id, number: '150', type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  const fr = await db
    .insertInto('users')
    .values({ account_id: accountId, extension_id: ext.id, role_id: role.id, first_name: 'Françoise', last_name: 'Admin', email: 'francoise@demo.example', language: 'fr', setup_progress: JSON.stringify({}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('user_credentials').values({ user_id: fr.id, password_hash: await hashSecret(PASSWORD) }).execute();
  for (const e164 of ['+14155550101', '+33140000201']) await db.insertInto('phone_numbers').values({ account_id: accountId, e164, type: 'direct' }).execute();
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

const rows = () => page.getByTestId('add-row');
const row = (n: number) => rows().nth(n - 1);

async function fillRow(n: number, email: string, first: string, last: string) {
  await row(n).getByTestId('row-email').fill(email);
  await row(n).getByTestId('row-first').fill(first);
  await row(n).getByTestId('row-last').fill(last);
}

async function userOf(email: string) {
  return db
    .selectFrom('users')
    .innerJoin('extensions', 'extensions.id', 'users.extension_id')
    .leftJoin('phone_numbers', 'phone_numbers.extension_id', 'extensions.id')
    .select(['users.id', 'users.first_name', 'extensions.status', 'phone_numbers.e164'])
    .where('users.account_id', '=', accountId)
    .where('users.email', '=', email)
    .executeTakeFirst();
}

/** The audit trail, searched for user.created: its rows and its CSV download. */
async function auditShows(heading: string, label: string, emails: string[]) {
  await page.goto(`${product.url}/admin/more/audit-trail?action=user.created`);
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
  const actions = await page.locator('[data-testid="audit-table"] tbody tr').evaluateAll((tr) => tr.map((r) => r.getAttribute('data-action')));
  expect(actions.filter((a) => a === 'user.created').length).toBeGreaterThanOrEqual(emails.length);
  expect(await page.locator('[data-testid="audit-table"] tbody tr[data-action="user.created"]').first().innerText()).toContain(label);
  const href = await page.getByTestId('audit-csv').getAttribute('href');
  const csv = await page.evaluate(async (url) => (await fetch(url!)).text(), href);
  for (const email of emails) expect(csv).toContain(email);
  expect(csv).toContain('user.created');
}

describe('Add Users wizard in the browser', () => {
  it('in English: 3 users with one bad e-mail, the error on its row, the others created, one with an inventory number', async () => {
    page = await signIn(browser, product.url, 'admin@demo.carillon.localhost', STRONG.password);
    page.setDefaultTimeout(10_000);
    await page.goto(`${product.url}/admin/users`);
    await page.getByTestId('add-users').click();
    await page.getByRole('heading', { name: 'Add users', level: 1 }).waitFor();
    expect(await page.getByRole('radio', { name: /Office user/ }).isChecked()).toBe(true);

    await fillRow(1, 'hanna@demo.example', 'Hanna', 'Berg');
    await row(1).getByTestId('row-number').selectOption({ label: '+14155550101' });
    // Two more rows: one duplicated from the first (its choices, not its names), one added blank.
    await page.getByRole('button', { name: 'Duplicate row 1' }).click();
    expect(await rows().count()).toBe(2);
    expect(await row(2).getByTestId('row-email').inputValue()).toBe('');
    // The number went with the first row only: a number is for one user.
    expect(await row(2).getByTestId('row-number').inputValue()).toBe('');
    await page.getByTestId('add-count').fill('1');
    await page.getByTestId('add-rows').click();
    expect(await rows().count()).toBe(3);
    await fillRow(2, 'not-an-email', 'Igor', 'Petrov');
    await fillRow(3, 'jade@demo.example', 'Jade', 'Moreau');
    await page.getByRole('radio', { name: /Activate later/ }).check();
    await page.getByTestId('add-submit').click();

    // The bad row stays, with what is wrong; the two good rows are created.
    await page.getByTestId('created-users').getByText('hanna@demo.example').waitFor();
    await page.getByTestId('row-errors').getByText('Row 1, E-mail: not a valid e-mail address').waitFor();
    expect(await rows().count()).toBe(1);
    expect(await row(1).getByTestId('row-email').inputValue()).toBe('not-an-email');
    expect(await row(1).getByTestId('row-first').inputValue()).toBe('Igor');
    expect(await page.getByTestId('created-users').innerText()).toContain('jade@demo.example');
    expect(await page.getByTestId('created-users').innerText()).toContain('+14155550101');
    expect((await userOf('hanna@demo.example'))?.e164).toBe('+14155550101');
    expect((await userOf('jade@demo.example'))?.status).toBe('not_activated');
    expect(await userOf('not-an-email')).toBeUndefined();

    // Fixed, and created in its turn.
    await row(1).getByTestId('row-email').fill('igor@demo.example');
    await page.getByTestId('add-submit').click();
    await page.getByTestId('created-users').getByText('igor@demo.example').waitFor();
    expect(await page.getByTestId('row-errors').count()).toBe(0);
    expect((await userOf('igor@demo.example'))?.first_name).toBe('Igor');

    // From the Users list: Set credentials for Jade (a weak password is refused with the rules), then Send invite to Igor.
    await page.goto(`${product.url}/admin/users?q=jade`);
    await page.getByRole('checkbox', { name: 'Select Jade Moreau' }).check();
    const dialog = page.getByTestId('bulk-confirm');
    await page.getByRole('button', { name: 'Set credentials' }).click();
    await dialog.getByLabel('Password', { exact: true }).fill('short');
    await dialog.getByLabel('Re-enter password').fill('short');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByTestId('bulk-report').getByText('0 changed, 0 already so, 1 refused.').waitFor();
    expect(await page.getByTestId('bulk-report').innerText()).toContain('8 to 32 characters');
    // The list reloads after an action and the selection starts over.
    await expect.poll(() => page.getByRole('checkbox', { name: 'Select Jade Moreau' }).isChecked()).toBe(false);
    await page.getByRole('checkbox', { name: 'Select Jade Moreau' }).check();
    await page.getByRole('button', { name: 'Set credentials' }).click();
    await dialog.getByLabel('Password', { exact: true }).fill('Orchard4Violet!');
    await dialog.getByLabel('Re-enter password').fill('Orchard4Violet!');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByTestId('bulk-report').getByText('1 changed, 0 already so, 0 refused.').waitFor();
    await expect.poll(async () => (await userOf('jade@demo.example'))?.status).toBe('activated');

    await auditShows('Audit trail', 'User added', ['hanna@demo.example', 'jade@demo.example', 'igor@demo.example']);
  }, 90_000);

  it('in French: the same batch, the error in French, an invitation sent to the created users', async () => {
    page = await signIn(browser, product.url, 'francoise@demo.example', PASSWORD);
    page.setDefaultTimeout(10_000);
    await page.goto(`${product.url}/admin/users/add`);
    await page.getByRole('heading', { name: 'Ajouter des utilisateurs', level: 1 }).waitFor();

    await fillRow(1, 'karim@demo.example', 'Karim', 'Benali');
    await page.getByTestId('add-count').fill('2');
    await page.getByRole('button', { name: 'Ajouter', exact: true }).click();
    expect(await rows().count()).toBe(3);
    await fillRow(2, 'lea@demo.example', 'Léa', 'Roux');
    await row(2).getByTestId('row-number').selectOption({ label: '+33140000201' });
    await fillRow(3, 'marc@@demo', 'Marc', 'Blanc');
    expect(await page.getByRole('radio', { name: /Envoyer une invitation/ }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Suivant' }).click();

    await page.getByTestId('created-users').getByText('lea@demo.example').waitFor();
    await page.getByTestId('row-errors').getByText("Ligne 1, E-mail : ce n'est pas une adresse e-mail valide").waitFor();
    expect(await rows().count()).toBe(1);
    expect(await row(1).getByTestId('row-first').inputValue()).toBe('Marc');
    expect(await page.getByTestId('created-users').innerText()).toContain('invitation envoyée');
    expect((await userOf('lea@demo.example'))?.e164).toBe('+33140000201');
    // The invitation went through the e-mail queue; without SMTP the workers write it to the outbox, in the account's language.
    const outbox = path.join(product.dataDir, 'outbox');
    const mails = () => (fs.existsSync(outbox) ? fs.readdirSync(outbox).map((f) => fs.readFileSync(path.join(outbox, f), 'utf8').replace(/=\r?\n/g, '')) : []);
    await expect.poll(() => mails().filter((m) => /^To: lea@demo\.example/m.test(m)), { timeout: 15_000 }).toHaveLength(1);
    expect(mails().find((m) => /^To: lea@demo\.example/m.test(m))).toMatch(/\/activate\/[A-Za-z0-9_-]+/);

    await row(1).getByTestId('row-email').fill('marc@demo.example');
    await page.getByRole('button', { name: 'Suivant' }).click();
    await page.getByTestId('created-users').getByText('marc@demo.example').waitFor();
    expect((await userOf('marc@demo.example'))?.status).toBe('not_activated');

    await auditShows("Piste d'audit", 'Utilisateur ajouté', ['karim@demo.example', 'lea@demo.example', 'marc@demo.example']);
  }, 90_000);
});
