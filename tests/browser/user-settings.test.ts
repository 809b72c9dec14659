/// <reference lib="dom" />
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { hashSecret } from '@carillon/core';
import { openPostgres, type Db, type ExtensionStatus } from '@carillon/db';
import { en, type Dictionary } from '../../app/src/lib/i18n/en.ts';
import { fr } from '../../app/src/lib/i18n/fr.ts';
import { launchChromium } from '../support/browser.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';
import { signIn } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * Templates and the user details page in a real browser, in English and in
 * French: a template made on Users > Templates with one section switched on,
 * applied from the Users list with the job tray's progress bar, then a user's
 * details page (a section saved, a bad value refused and kept), and Reset &
 * Assign on a deactivated extension.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let browser: Browser;
let db: Db;
let page: Page;
const PASSWORD = 'Meadow5Lantern';
const ids: Record<string, string> = {};
const EXTRA = 40;

async function addUser(u: { key: string; first: string; last: string; email: string; ext: string; status: ExtensionStatus; role: string; language?: 'en' | 'fr'; password?: boolean }) {
  const admin = await db.selectFrom('users').innerJoin('extensions', 'extensions.id', 'users.extension_id').select(['users.account_id', 'extensions.site_id']).where('users.email', '=', 'admin@demo.carillon.localhost').executeTakeFirstOrThrow();
  const role = await db.selectFrom('roles').select('id').where('key', '=', u.role).executeTakeFirstOrThrow();
  const ext = await db.insertInto('extensions').values({ account_id: admin.account_id, site_id: admin.site_id, number: u.ext, type: 'user', status: u.status }).returning('id').executeTakeFirstOrThrow();
  const user = await db
    .insertInto('users')
    .values({ account_id: admin.account_id, extension_id: ext.id, role_id: role.id, first_name: u.first, last_name: u.last, email: u.email, language: u.language ?? null, setup_progress: JSON.stringify({}), job_title: 'Own title' })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('user_credentials').values({ user_id: user.id, password_hash: u.password ? await hashSecret(PASSWORD) : null }).execute();
  ids[u.key] = user.id;
}

beforeAll(async () => {
  // On PostgreSQL when the machine has one: the workers apply the template while the app answers the
  // page, and the embedded PGlite's socket server has been seen to mix two clients' statements then
  // ("bind message supplies 5 parameters, but prepared statement requires 3"), reported apart.
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'usersettingsui');
  product = await startProduct(scratch ? { DATABASE_URL: scratch.url } : {});
  db = openPostgres(product.databaseUrl(), 2);
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  await addUser({ key: 'francoise', first: 'Françoise', last: 'Admin', email: 'francoise@demo.example', ext: '206', status: 'activated', role: 'super_admin', language: 'fr', password: true });
  await addUser({ key: 'alice', first: 'Alice', last: 'Martin', email: 'alice@demo.example', ext: '201', status: 'activated', role: 'standard' });
  await addUser({ key: 'claire', first: 'Claire', last: 'Dupont', email: 'claire@demo.example', ext: '204', status: 'activated', role: 'standard' });
  await addUser({ key: 'bob', first: 'Bob', last: 'Alison', email: 'bob@demo.example', ext: '203', status: 'disabled', role: 'standard' });
  for (let i = 0; i < EXTRA; i++) await addUser({ key: `u${i}`, first: 'User', last: String(300 + i), email: `u${i}@demo.example`, ext: String(300 + i), status: 'activated', role: 'standard' });
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  browser = await launchChromium();
}, 120_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page) {
    await page.screenshot({ path: `${product.dataDir}/failure.png` }).catch(() => {});
    console.error(`screenshot: ${product.dataDir}/failure.png at ${page.url()}`);
    console.error(product.output().split('\n').filter((l) => /error|"level":"(warn|error)"/i.test(l)).slice(-20).join('\n'));
  }
});

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

/** Makes a user-settings template on Users > Templates with only the job title switched on. */
async function makeTemplate(p: Page, L: Dictionary, name: string, title: string) {
  await p.goto(`${product.url}/admin/users/templates`);
  await p.getByRole('heading', { name: L['templates.title'], level: 1 }).waitFor();
  await p.getByLabel(L['templates.newName']).fill(name);
  await p.getByRole('button', { name: L['templates.addButton'] }).click();
  await p.getByTestId('templates-message').getByText(L['templates.created']).waitFor();
  const jobTitle = p.locator('fieldset[data-section="jobTitle"]');
  await jobTitle.getByLabel(L['templates.override']).check();
  await jobTitle.getByLabel(L['settings.jobTitle']).fill(title);
  await p.getByRole('button', { name: L['templates.save'] }).click();
  await p.getByTestId('templates-message').getByText(L['templates.saved']).waitFor();
}

/** Applies `template` from the Users list to the users ticked by `select`, and follows the job tray to the end; returns the progress values seen. */
async function applyFromList(p: Page, L: Dictionary, template: string, select: () => Promise<void>, expected: number) {
  await p.goto(`${product.url}/admin/users?limit=200`);
  await select();
  await p.getByRole('button', { name: L['usersList.applyTemplate'] }).click();
  const dialog = p.getByTestId('bulk-confirm');
  await dialog.getByLabel(template).check();
  // Every value the tray's bar takes is recorded, to see it move.
  await p.evaluate(() => {
    const seen: number[] = [];
    (window as unknown as { seen: number[] }).seen = seen;
    new MutationObserver(() => {
      for (const bar of document.querySelectorAll('[data-testid="job-tray"] progress')) seen.push(Number((bar as HTMLProgressElement).value));
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['value'] });
  });
  await dialog.getByRole('button', { name: L['usersList.confirm.ok'] }).click();
  await p.getByTestId('bulk-report').getByText(L['usersList.templateApplying'].replace('{n}', String(expected))).waitFor();
  const tray = p.getByTestId('job-tray');
  await tray.getByText(`${L['jobs.queue.template-apply']} · ${L['jobs.done']}`).waitFor({ timeout: 30_000 });
  expect(await tray.locator('progress').first().getAttribute('value')).toBe('100');
  return p.evaluate(() => (window as unknown as { seen: number[] }).seen);
}

describe('templates and user details in the browser', () => {
  it('in English: makes a template, applies it to every user on the list with a progress bar, then edits a user', { timeout: 120_000 }, async () => {
    page = await signIn(browser, product.url, 'admin@demo.carillon.localhost', STRONG.password);
    page.setDefaultTimeout(10_000);
    await makeTemplate(page, en, 'New users', 'Agent');
    const total = EXTRA + 5;
    const seen = await applyFromList(page, en, 'New users', () => page.getByRole('checkbox', { name: en['usersList.selectAll'] }).check(), total);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe(100);
    const titles = await db.selectFrom('users').select('job_title').execute();
    expect(titles).toHaveLength(total);
    expect(titles.every((u) => u.job_title === 'Agent')).toBe(true);

    // The user details page, from the user's name in the list.
    await page.getByRole('link', { name: 'Alice Martin' }).click();
    await page.waitForURL(new RegExp(`/admin/users/${ids.alice}$`));
    await page.getByRole('heading', { name: /Alice Martin/ }).waitFor();
    const details = page.locator('form[data-section="details"]');
    await details.getByLabel(en['userDetails.department']).fill('Sales');
    await details.getByRole('button', { name: en['userDetails.save'] }).click();
    await page.getByTestId('user-saved').getByText(en['userDetails.saved']).waitFor();
    await expect.poll(async () => (await db.selectFrom('users').select('department').where('id', '=', ids.alice!).executeTakeFirstOrThrow()).department).toBe('Sales');
    // A bad value: refused with the reason, and what was typed stays.
    await details.getByLabel(en['userDetails.contactPhone']).fill('call me maybe');
    await details.getByRole('button', { name: en['userDetails.save'] }).click();
    await details.getByRole('alert').getByText(/a phone number such as/).waitFor();
    expect(await details.getByLabel(en['userDetails.contactPhone']).inputValue()).toBe('call me maybe');
    expect((await db.selectFrom('users').select('contact_phone').where('id', '=', ids.alice!).executeTakeFirstOrThrow()).contact_phone).toBeNull();
    // Notifications: missed calls by e-mail, saved from the keyboard.
    const notif = page.locator('form[data-section="notifications"]');
    await notif.locator('tr', { hasText: en['settings.notify.missedCalls'] }).getByLabel(en['settings.notify.email']).check();
    await notif.getByRole('button', { name: en['userDetails.save'] }).press('Enter');
    await expect.poll(async () => ((await db.selectFrom('users').select('notification_settings').where('id', '=', ids.alice!).executeTakeFirstOrThrow()).notification_settings as { missedCalls?: { email: boolean } }).missedCalls?.email).toBe(true);
    // Reset & Assign is only offered on a deactivated extension.
    expect(await page.getByRole('button', { name: en['userDetails.reset'] }).count()).toBe(0);
  });

  it('in French: the same journey, and Reset & Assign on a deactivated extension', { timeout: 120_000 }, async () => {
    page = await signIn(browser, product.url, 'francoise@demo.example', PASSWORD);
    page.setDefaultTimeout(10_000);
    await makeTemplate(page, fr, 'Support', 'Conseiller');
    const select = async () => {
      await page.getByRole('checkbox', { name: fr['usersList.selectUser'].replace('{name}', 'Alice Martin') }).check();
      await page.getByRole('checkbox', { name: fr['usersList.selectUser'].replace('{name}', 'Claire Dupont') }).check();
    };
    const seen = await applyFromList(page, fr, 'Support', select, 2);
    expect(seen.at(-1)).toBe(100);
    const rows = await db.selectFrom('users').select(['id', 'job_title']).execute();
    for (const r of rows) expect(r.job_title, r.id).toBe(r.id === ids.alice || r.id === ids.claire ? 'Conseiller' : 'Agent');

    await page.goto(`${product.url}/admin/users/${ids.claire}`);
    await page.getByRole('heading', { name: /Claire Dupont/ }).waitFor();
    const regional = page.locator('form[data-section="regional"]');
    await regional.getByLabel(fr['settings.timeZone']).selectOption('Europe/Paris');
    await regional.getByLabel(fr['settings.timeFormat']).selectOption('24h');
    await regional.getByRole('button', { name: fr['userDetails.save'] }).click();
    await page.getByTestId('user-saved').getByText(fr['userDetails.saved']).waitFor();
    await expect.poll(async () => (await db.selectFrom('users').select(['time_zone', 'time_format']).where('id', '=', ids.claire!).executeTakeFirstOrThrow())).toEqual({ time_zone: 'Europe/Paris', time_format: '24h' });
    // Specific hours whose end comes before the start: refused, nothing saved.
    const hours = page.locator('form[data-section="userHours"]');
    await hours.getByLabel(fr['settings.hours.custom']).check();
    await hours.locator('tr', { hasText: fr['settings.day.mon'] }).getByLabel(fr['settings.hours.to']).fill('08:00');
    await hours.getByRole('button', { name: fr['userDetails.save'] }).click();
    await hours.getByRole('alert').getByText(/end after/).waitFor();
    expect((await db.selectFrom('users').select('user_hours').where('id', '=', ids.claire!).executeTakeFirstOrThrow()).user_hours).toEqual({ mode: '24h' });

    // Reset & Assign: Bob's extension is deactivated.
    await page.goto(`${product.url}/admin/users/${ids.bob}`);
    await page.getByTestId('user-status').getByText(fr['userDetails.status.disabled']).waitFor();
    await page.getByRole('button', { name: fr['userDetails.reset'] }).click();
    const dialog = page.getByTestId('reset-dialog');
    await dialog.getByLabel(fr['userDetails.firstName'], { exact: true }).fill('Nina');
    await dialog.getByLabel(fr['userDetails.lastName'], { exact: true }).fill('Nord');
    await dialog.getByLabel(fr['userDetails.email'], { exact: true }).fill('nina@demo.example');
    await dialog.getByRole('button', { name: fr['userDetails.reset'] }).click();
    await page.getByTestId('user-saved').getByText(fr['userDetails.resetDone']).waitFor();
    await page.getByRole('heading', { name: /Nina Nord/ }).waitFor();
    await page.getByTestId('user-status').getByText(fr['userDetails.status.not_activated']).waitFor();
    expect(await page.getByRole('button', { name: fr['userDetails.reset'] }).count()).toBe(0);
    const audit = await db.selectFrom('audit_events').select('action').where('target_id', '=', ids.bob!).where('action', '=', 'user.reset_assigned').execute();
    expect(audit).toHaveLength(1);
  });
});
