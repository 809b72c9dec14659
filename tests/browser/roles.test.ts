/// <reference lib="dom" />
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { hashSecret } from '@carillon/core';
import { openPostgres, type Db } from '@carillon/db';
import { launchChromium } from '../support/browser.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';
import { createStandardUsers, signIn } from '../support/softphone-users.ts';

/**
 * Issue 5's roles journey in a real browser, in English and in French: the
 * admin creates a custom role without user management from the Roles page,
 * gives it to a user from the Users list, that user signs in and sees no
 * Users tab and gets 403 from /api/users, and the audit trail and its CSV
 * hold the role's creation.
 */
let product: RunningProduct;
let browser: Browser;
let db: Db;
let page: Page;
const PASSWORD = 'Meadow5Lantern';

interface Words {
  users: string;
  roles: string;
  newRole: string;
  roleName: string;
  adminPortal: string;
  manageUsers: string;
  create: string;
  created: (name: string) => string;
  select: (name: string) => string;
  assignRole: string;
  confirm: string;
  changed: string;
  auditTrail: string;
  change: string;
  search: string;
  roleCreated: string;
}

const EN: Words = {
  users: 'Users',
  roles: 'Roles',
  newRole: 'New role',
  roleName: 'Role name',
  adminPortal: 'Open the Admin Portal',
  manageUsers: 'Manage users',
  create: 'Create role',
  created: (n) => `Role ${n} created.`,
  select: (n) => `Select ${n}`,
  assignRole: 'Assign role',
  confirm: 'Confirm',
  changed: '1 changed, 0 already so, 0 refused.',
  auditTrail: 'Audit trail',
  change: 'Change',
  search: 'Search',
  roleCreated: 'Role created',
};
const FR: Words = {
  users: 'Utilisateurs',
  roles: 'Rôles',
  newRole: 'Nouveau rôle',
  roleName: 'Nom du rôle',
  adminPortal: "Ouvrir le portail d'administration",
  manageUsers: 'Gérer les utilisateurs',
  create: 'Créer un rôle',
  created: (n) => `Rôle ${n} créé.`,
  select: (n) => `Sélectionner ${n}`,
  assignRole: 'Attribuer un rôle',
  confirm: 'Confirmer',
  changed: '1 modifié(s), 0 déjà dans cet état, 0 refusé(s).',
  auditTrail: "Piste d'audit",
  change: 'Modification',
  search: 'Rechercher',
  roleCreated: 'Rôle créé',
};

beforeAll(async () => {
  product = await startProduct();
  db = openPostgres(product.databaseUrl(), 2);
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  await createStandardUsers(db, [
    { extension: '301', name: 'nora', password: PASSWORD },
    { extension: '302', name: 'noe', password: PASSWORD },
  ]);
  // A French-speaking Super Admin runs the French journey.
  const admin = await db.selectFrom('users').innerJoin('extensions', 'extensions.id', 'users.extension_id').select(['users.account_id', 'extensions.site_id']).where('users.email', '=', 'admin@demo.carillon.localhost').executeTakeFirstOrThrow();
  const superAdmin = await db.selectFrom('roles').select('id').where('key', '=', 'super_admin').executeTakeFirstOrThrow();
  const ext = await db.insertInto('extensions').values({ account_id: admin.account_id, site_id: admin.site_id, number: '206', type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  const fr = await db
    .insertInto('users')
    .values({ account_id: admin.account_id, extension_id: ext.id, role_id: superAdmin.id, first_name: 'Françoise', last_name: 'Admin', email: 'francoise@demo.example', language: 'fr', setup_progress: JSON.stringify({}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('user_credentials').values({ user_id: fr.id, password_hash: await hashSecret(PASSWORD) }).execute();
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

async function journey(w: Words, adminEmail: string, adminPassword: string, roleName: string, user: string) {
  page = await signIn(browser, product.url, adminEmail, adminPassword);
  page.setDefaultTimeout(10_000);
  await page.goto(`${product.url}/admin`);
  await page.locator('nav.tabs').getByRole('link', { name: w.users, exact: true }).click();
  await page.waitForURL(/\/admin\/users$/);
  await page.getByRole('link', { name: w.roles, exact: true }).click();
  await page.getByRole('heading', { name: w.roles, level: 1 }).waitFor();

  // New role from Standard (International), the default base: no user management.
  await page.getByRole('button', { name: w.newRole }).click();
  await page.getByLabel(w.roleName).fill(roleName);
  await page.getByLabel(w.adminPortal).check();
  expect(await page.getByLabel(w.manageUsers).isChecked()).toBe(false);
  await page.getByRole('button', { name: w.create }).click();
  await expect.poll(() => page.getByTestId('roles-message').innerText()).toBe(w.created(roleName));
  await page.locator('[data-testid="roles-table"] tbody tr', { hasText: roleName }).waitFor();

  // Given to the user from the Users list's bulk action.
  await page.goto(`${product.url}/admin/users`);
  await page.getByLabel(w.select(`${user} Test`)).check();
  await page.getByRole('button', { name: w.assignRole }).click();
  await page.getByTestId('bulk-role').selectOption({ label: roleName });
  await page.getByRole('button', { name: w.confirm }).click();
  await expect.poll(() => page.getByTestId('bulk-report').innerText()).toContain(w.changed);
  const held = await db.selectFrom('users').innerJoin('roles', 'roles.id', 'users.role_id').select('roles.name').where('users.email', '=', `${user}@demo.carillon.localhost`).executeTakeFirstOrThrow();
  expect(held.name).toBe(roleName);

  // The user signs in: no Users tab, and the server refuses the Users API and page.
  const theirs = await signIn(browser, product.url, `${user}@demo.carillon.localhost`, PASSWORD);
  await theirs.goto(`${product.url}/admin`);
  const tabs = await theirs.locator('nav.tabs a').allTextContents();
  expect(tabs.map((s) => s.trim())).not.toContain(w.users);
  expect(await theirs.evaluate(async () => (await fetch('/api/users')).status)).toBe(403);
  expect(await theirs.evaluate(async () => (await fetch('/admin/users')).status)).toBe(403);
  await theirs.context().close();

  // The audit trail shows the creation, and its CSV holds it.
  await page.goto(`${product.url}/admin/more/audit-trail`);
  await page.getByRole('heading', { name: w.auditTrail, level: 1 }).waitFor();
  await page.getByLabel(w.change, { exact: true }).fill('role.created');
  await page.getByRole('button', { name: w.search }).click();
  await page.waitForURL(/action=role.created/);
  const row = page.locator('[data-testid="audit-table"] tbody tr[data-action="role.created"]', { hasText: roleName });
  await row.waitFor();
  expect(await row.innerText()).toContain(w.roleCreated);
  const href = await page.getByTestId('audit-csv').getAttribute('href');
  const csv = await page.evaluate(async (url) => (await fetch(url!)).text(), href);
  const line = csv.split('\r\n').find((l) => l.includes(roleName));
  expect(line).toContain('role.created');
  await page.context().close();
}

describe('custom roles in the browser', () => {
  it('in English: a role without user management hides the Users tab and the API answers 403; audited', async () => {
    await journey(EN, 'admin@demo.carillon.localhost', STRONG.password, 'Front desk', 'nora');
  });

  it('en français : un rôle sans gestion des utilisateurs masque l’onglet Utilisateurs et l’API répond 403 ; audité', async () => {
    await journey(FR, 'francoise@demo.example', PASSWORD, 'Accueil clients', 'noe');
  });
});
