/// <reference lib="dom" />
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { hashSecret } from '@carillon/core';
import { openPostgres, type Db } from '@carillon/db';
import { launchChromium } from '../support/browser.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';
import { signIn } from '../support/softphone-users.ts';

/**
 * Bulk edit of users by file in a real browser, in English and in French (issue 5 acceptance):
 * the downloaded list, edited with one bad row, is reported row by row and nothing is applied;
 * fixed, it applies after the confirmation; the audit trail shows it and its CSV holds it.
 */
let product: RunningProduct;
let browser: Browser;
let db: Db;
let page: Page;
const PASSWORD = 'Meadow5Lantern';

async function addUser(u: { first: string; last: string; email: string; ext: string; role?: string; department?: string; language?: 'en' | 'fr' }) {
  const admin = await db.selectFrom('users').innerJoin('extensions', 'extensions.id', 'users.extension_id').select(['users.account_id', 'extensions.site_id']).where('users.email', '=', 'admin@demo.carillon.localhost').executeTakeFirstOrThrow();
  const role = await db.selectFrom('roles').select('id').where('key', '=', u.role ?? 'standard').executeTakeFirstOrThrow();
  const ext = await db.insertInto('extensions').values({ account_id: admin.account_id, site_id: admin.site_id, number: u.ext, type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  const user = await db
    .insertInto('users')
    .values({ account_id: admin.account_id, extension_id: ext.id, role_id: role.id, first_name: u.first, last_name: u.last, email: u.email, department: u.department ?? null, language: u.language ?? null, setup_progress: JSON.stringify({}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('user_credentials').values({ user_id: user.id, password_hash: await hashSecret(PASSWORD) }).execute();
}

const userRow = (email: string) => db.selectFrom('users').select(['first_name', 'last_name', 'email', 'department']).where('email', '=', email).executeTakeFirst();

/** The template as the page offers it: the CSV export, fetched by the browser with its session. */
async function template(p: Page): Promise<string[][]> {
  const href = await p.getByTestId('bulk-template-csv').getAttribute('href');
  const text = await p.evaluate(async (url) => (await fetch(url!)).text(), href);
  return text.trim().split('\r\n').map((l) => l.split(','));
}
const edit = (rows: string[][], first: string, column: string, value: string) => {
  const i = rows[0]!.indexOf(column);
  expect(i, column).toBeGreaterThanOrEqual(0);
  return rows.map((r) => (r[0] === first ? r.map((c, j) => (j === i ? value : c)) : r));
};
const csvOf = (rows: string[][]) => rows.map((r) => r.join(',')).join('\r\n') + '\r\n';

async function uploadFile(p: Page, content: string, button: string) {
  await p.locator('input[type="file"][name="file"]').setInputFiles({ name: 'users.csv', mimeType: 'text/csv', buffer: Buffer.from(content) });
  await p.getByRole('button', { name: button }).click();
  await p.getByTestId('bulk-edit-report').waitFor();
}

beforeAll(async () => {
  product = await startProduct();
  db = openPostgres(product.databaseUrl(), 2);
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  await addUser({ first: 'Alice', last: 'Martin', email: 'alice@demo.example', ext: '201', department: 'Sales' });
  await addUser({ first: 'Bob', last: 'Stone', email: 'bob@demo.example', ext: '202' });
  await addUser({ first: 'Claire', last: 'Dupont', email: 'claire@demo.example', ext: '203' });
  await addUser({ first: 'Denis', last: 'Dupuis', email: 'denis@demo.example', ext: '204', department: 'Support' });
  await addUser({ first: 'Françoise', last: 'Admin', email: 'francoise@demo.example', ext: '206', role: 'super_admin', language: 'fr' });
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

describe('Bulk edit of users in the browser', () => {
  it('in English: a file with one bad row is reported and changes nothing; fixed, it applies after confirmation and shows in the audit trail and its CSV', async () => {
    page = await signIn(browser, product.url, 'admin@demo.carillon.localhost', STRONG.password);
    page.setDefaultTimeout(10_000);
    await page.goto(`${product.url}/admin/users`);
    await page.getByRole('link', { name: 'Bulk edit' }).click();
    await page.getByRole('heading', { name: 'Edit user information in bulk' }).waitFor();

    const rows = edit(await template(page), 'Alice', 'Department', 'Marketing');
    const bad = edit(rows, 'Bob', 'E-mail', 'bob-at-nowhere');
    await uploadFile(page, csvOf(bad), 'Upload and check');
    await page.getByText('1 problem(s) found. Nothing has been changed.', { exact: false }).waitFor();
    const issue = page.getByTestId('bulk-edit-issues').locator('tbody tr');
    expect(await issue.count()).toBe(1);
    expect((await issue.locator('td').allInnerTexts()).map((s) => s.trim())).toEqual([String(rows.findIndex((r) => r[0] === 'Bob') + 1), 'E-mail', 'not a valid e-mail address']);
    expect(await page.getByTestId('bulk-edit-confirm').count()).toBe(0);
    expect((await userRow('alice@demo.example'))!.department).toBe('Sales');
    expect(await userRow('bob-at-nowhere')).toBeUndefined();

    // Fixed: the changes are listed, and only the confirmation applies them.
    await uploadFile(page, csvOf(edit(rows, 'Bob', 'E-mail', 'bob.stone@demo.example')), 'Upload and check');
    const changes = page.getByTestId('bulk-edit-changes');
    await changes.getByText('bob.stone@demo.example').waitFor();
    await changes.getByText('Marketing').waitFor();
    expect((await userRow('alice@demo.example'))!.department).toBe('Sales');
    await page.getByText('You are about to make changes for all users in the file.', { exact: false }).waitFor();
    await page.getByTestId('bulk-edit-confirm').click();
    await page.getByTestId('bulk-edit-applied').getByText('Applied: 2 user(s) changed.').waitFor();
    expect((await userRow('alice@demo.example'))!.department).toBe('Marketing');
    expect((await userRow('bob.stone@demo.example'))!.last_name).toBe('Stone');

    // The audit trail shows each change, and its CSV download holds them.
    await page.goto(`${product.url}/admin/more/audit-trail?action=user.bulk_updated`);
    const audit = page.locator('[data-testid="audit-table"] tbody tr[data-action="user.bulk_updated"]');
    await expect.poll(() => audit.count()).toBe(2);
    await audit.first().getByText('User changed by bulk edit').waitFor();
    const href = await page.getByTestId('audit-csv').getAttribute('href');
    const csv = await page.evaluate(async (url) => (await fetch(url!)).text(), href);
    const lines = csv.trim().split('\r\n');
    expect(lines.filter((l) => l.includes('user.bulk_updated'))).toHaveLength(2);
    expect(lines.some((l) => l.includes('bob.stone@demo.example'))).toBe(true);
    expect(lines.some((l) => l.includes('Marketing'))).toBe(true);
  }, 90_000);

  it('in English: moving a user to a site where the extension is taken is refused, or renumbered to the next free one', async () => {
    const admin = await db.selectFrom('users').select('account_id').where('email', '=', 'admin@demo.carillon.localhost').executeTakeFirstOrThrow();
    const lyon = await db.insertInto('sites').values({ account_id: admin.account_id, name: 'Lyon', site_code: '44' }).returning('id').executeTakeFirstOrThrow();
    const role = await db.selectFrom('roles').select('id').where('key', '=', 'standard').executeTakeFirstOrThrow();
    const ext = await db.insertInto('extensions').values({ account_id: admin.account_id, site_id: lyon.id, number: '201', type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
    await db.insertInto('users').values({ account_id: admin.account_id, extension_id: ext.id, role_id: role.id, first_name: 'Lea', last_name: 'Lyon', email: 'lea@demo.example', setup_progress: JSON.stringify({}) }).execute();

    page = await signIn(browser, product.url, 'admin@demo.carillon.localhost', STRONG.password);
    page.setDefaultTimeout(10_000);
    await page.goto(`${product.url}/admin/users`);
    const aliceBox = page.getByRole('checkbox', { name: 'Select Alice Martin' });
    const move = async (renumber: 'refuse' | 'next_free') => {
      // The list reloads after an action and starts a new selection: select once it has.
      await expect.poll(() => aliceBox.isChecked()).toBe(false);
      await expect.poll(() => page.getByText('0 selected').count()).toBe(1);
      await aliceBox.check();
      await page.getByRole('button', { name: 'Change site' }).click();
      const dialog = page.getByTestId('bulk-confirm');
      await dialog.getByRole('combobox', { name: 'New site', exact: true }).selectOption({ label: 'Lyon' });
      await dialog.getByTestId('bulk-renumber').selectOption(renumber);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
    };
    await move('refuse');
    await page.getByTestId('bulk-report').getByText('0 changed, 0 already so, 1 refused.').waitFor();
    await page.getByTestId('bulk-report').getByText('Alice Martin: the extension number is already used on that site').waitFor();
    await move('next_free');
    await page.getByTestId('bulk-report').getByText('1 changed, 0 already so, 0 refused.').waitFor();
    await page.getByTestId('bulk-renumbered').getByText('Alice Martin: extension 201 → 44202').waitFor();
    const alice = await db.selectFrom('users').innerJoin('extensions', 'extensions.id', 'users.extension_id').select(['extensions.number', 'extensions.site_id']).where('users.email', '=', 'alice@demo.example').executeTakeFirstOrThrow();
    expect(alice).toEqual({ number: '202', site_id: lyon.id });
  }, 90_000);

  it('in French: the same journey with an unknown site, then the fixed file', async () => {
    page = await signIn(browser, product.url, 'francoise@demo.example', PASSWORD);
    page.setDefaultTimeout(10_000);
    await page.goto(`${product.url}/admin/users`);
    await page.getByRole('link', { name: 'Modification en masse' }).click();
    await page.getByRole('heading', { name: "Modifier les informations relatives à l'utilisateur en masse" }).waitFor();

    const rows = edit(await template(page), 'Denis', 'Department', 'Ventes');
    await uploadFile(page, csvOf(edit(rows, 'Claire', 'Site', 'Atlantide')), 'Charger et vérifier');
    await page.getByText("1 problème(s) trouvé(s). Rien n'a été modifié.", { exact: false }).waitFor();
    const issue = page.getByTestId('bulk-edit-issues').locator('tbody tr');
    expect((await issue.locator('td').allInnerTexts()).map((s) => s.trim())).toEqual([String(rows.findIndex((r) => r[0] === 'Claire') + 1), 'Site', 'aucun site ne s\'appelle « Atlantide »']);
    expect((await userRow('denis@demo.example'))!.department).toBe('Support');

    await uploadFile(page, csvOf(rows), 'Charger et vérifier');
    await page.getByTestId('bulk-edit-changes').getByText('Ventes').waitFor();
    await page.getByText('Vous êtes sur le point de modifier tous les utilisateurs du fichier.', { exact: false }).waitFor();
    await page.getByRole('button', { name: 'Oui, appliquer les modifications' }).click();
    await page.getByTestId('bulk-edit-applied').getByText('Appliqué : 1 utilisateur(s) modifié(s).').waitFor();
    expect((await userRow('denis@demo.example'))!.department).toBe('Ventes');

    await page.goto(`${product.url}/admin/more/audit-trail?action=user.bulk_updated`);
    const audit = page.locator('[data-testid="audit-table"] tbody tr[data-action="user.bulk_updated"]');
    await expect.poll(() => audit.count()).toBe(3);
    await audit.first().getByText('Utilisateur modifié en masse').waitFor();
    const href = await page.getByTestId('audit-csv').getAttribute('href');
    const csv = await page.evaluate(async (url) => (await fetch(url!)).text(), href);
    expect(csv.split('\r\n').some((l) => l.includes('user.bulk_updated') && l.includes('Ventes'))).toBe(true);
  }, 90_000);
});
