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
 * More > API tokens in a real browser, in English and in French: create a
 * token (the secret is shown once, and works), a bad expiry is refused with
 * the name kept, and revoke it (the secret then gets 401).
 */
let product: RunningProduct;
let browser: Browser;
let db: Db;
let page: Page;
const PASSWORD = 'Meadow5Lantern';

const bearerStatus = async (secret: string, path: string) => (await fetch(product.url + path, { headers: { authorization: `Bearer ${secret}` } })).status;

beforeAll(async () => {
  product = await startProduct();
  db = openPostgres(product.databaseUrl(), 2);
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  // A second Super Admin who reads the portal in French.
  const admin = await db.selectFrom('users').innerJoin('extensions', 'extensions.id', 'users.extension_id').select(['users.account_id', 'extensions.site_id']).where('users.email', '=', 'admin@demo.carillon.localhost').executeTakeFirstOrThrow();
  const role = await db.selectFrom('roles').select('id').where('key', '=', 'super_admin').executeTakeFirstOrThrow();
  const ext = await db.insertInto('extensions').values({ account_id: admin.account_id, site_id: admin.site_id, number: '206', type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  const user = await db
    .insertInto('users')
    .values({ account_id: admin.account_id, extension_id: ext.id, role_id: role.id, first_name: 'Françoise', last_name: 'Admin', email: 'francoise@demo.example', language: 'fr', setup_progress: JSON.stringify({}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('user_credentials').values({ user_id: user.id, password_hash: await hashSecret(PASSWORD) }).execute();
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

async function createAndRevoke(p: Page, t: { heading: string; nameLabel: string; name: string; roleLabel: string; role: string; once: string; secretLabel: string; expiry: string; pastError: string; create: string; revoke: string; revoked: string }) {
  await p.goto(`${product.url}/admin/more/api-tokens`);
  await p.getByRole('heading', { name: t.heading, level: 1 }).waitFor();

  // A date in the past is refused; the name typed is kept.
  await p.getByLabel(t.nameLabel, { exact: true }).fill(t.name);
  await p.getByLabel(t.expiry).fill('2001-01-01');
  await p.getByRole('button', { name: t.create }).click();
  await p.getByRole('alert').filter({ hasText: t.pastError }).waitFor();
  expect(await p.locator('#name').inputValue()).toBe(t.name);
  expect(await db.selectFrom('api_tokens').select('id').where('name', '=', t.name).execute()).toEqual([]);

  await p.getByLabel(t.expiry).fill('');
  await p.getByLabel(t.roleLabel, { exact: true }).selectOption({ label: t.role });
  await p.getByRole('button', { name: t.create }).click();
  await p.getByText(t.once).waitFor();
  const secret = await p.getByLabel(t.secretLabel).inputValue();
  expect(secret).toMatch(/^crl_/);
  expect(await bearerStatus(secret, '/api/me')).toBe(200);

  // Shown once: after a reload only the prefix is on the page.
  await p.reload();
  await p.getByRole('heading', { name: t.heading, level: 1 }).waitFor();
  const row = p.locator('[data-testid="api-tokens"] tbody tr', { hasText: t.name });
  await row.waitFor();
  expect(await row.innerText()).toContain(secret.slice(0, 12));
  expect(await p.content()).not.toContain(secret);

  await row.getByRole('button', { name: `${t.revoke} ${t.name}` }).click();
  await p.getByRole('status').filter({ hasText: t.name }).waitFor();
  await expect.poll(() => row.innerText()).toContain(t.revoked);
  expect(await bearerStatus(secret, '/api/me')).toBe(401);
}

describe('API tokens page in the browser', () => {
  it('in English: refuses a past expiry, creates a token shown once, and revokes it', async () => {
    page = await signIn(browser, product.url, 'admin@demo.carillon.localhost', STRONG.password);
    page.setDefaultTimeout(20_000);
    await createAndRevoke(page, {
      heading: 'API tokens',
      nameLabel: 'Name',
      name: 'CRM sync',
      roleLabel: 'Role',
      role: 'User Admin',
      once: 'Copy this token now: it will not be shown again.',
      secretLabel: 'Token for CRM sync',
      expiry: 'Expires on (optional)',
      pastError: 'The expiry date must be in the future.',
      create: 'Create token',
      revoke: 'Revoke',
      revoked: 'Revoked',
    });
    await page.close();
  }, 90_000);

  it('en français : refuse une date passée, crée un jeton affiché une seule fois, puis le révoque', async () => {
    page = await signIn(browser, product.url, 'francoise@demo.example', PASSWORD);
    page.setDefaultTimeout(20_000);
    await createAndRevoke(page, {
      heading: "Jetons d'API",
      nameLabel: 'Nom',
      name: 'Intégration paie',
      roleLabel: 'Rôle',
      role: 'Standard',
      once: 'Copiez ce jeton maintenant : il ne sera plus affiché.',
      secretLabel: 'Jeton « Intégration paie »',
      expiry: "Date d'expiration (facultative)",
      pastError: "La date d'expiration doit être dans le futur.",
      create: 'Créer le jeton',
      revoke: 'Révoquer',
      revoked: 'Révoqué',
    });
    await page.close();
  }, 90_000);
});
