/// <reference lib="dom" />
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Db } from '@carillon/db';
import type { RunningProduct } from '../support/product.ts';
import { adminPages } from '../support/admin-pages.ts';
import { en } from '../../app/src/lib/i18n/en.ts';
import { en as parkEn } from '../../app/src/lib/i18n/features/park.ts';
import { en as monitoringEn } from '../../app/src/lib/i18n/features/monitoring.ts';
import { HttpClient } from '../support/http-client.ts';

/**
 * The group pages' shared parts (lib/components/groups), in a real browser, where the pages' own tests do
 * not go: the member picker's search, site filter and "show selected only", its filters starting empty at
 * each step and when another group's form opens, the heading taking the focus, Back keeping what was
 * ticked, Cancel, Delete (confirmed or not, and a refusal shown as an alert), and members listed by
 * extension number on every page (monitoring included).
 */
let product: RunningProduct;
let db: Db;
let page: Page;
let admin: HttpClient;
let ext: Record<string, string> = {};
const pages = adminPages({ scratchName: 'grouppicker', unreleased: 'park,monitoring' });
const ALICE = 'alice Test, ext. 201';
const BOB = 'bob Test, ext. 202';

const focusedId = () => page.evaluate(() => document.activeElement?.id ?? '');
const box = (name: string) => page.getByRole('checkbox', { name, exact: true });

beforeAll(async () => {
  ({ product, db, page, admin, extensions: ext } = await pages.start(async ({ admin, db, extensions }) => {
    // Bob works in Lyon: the pickup page's site filter tells him apart.
    const site = await admin.json('POST', '/api/sites', { name: 'Lyon' });
    expect(site.status, await site.clone().text()).toBe(201);
    await db.updateTable('extensions').set({ site_id: ((await site.json()) as { id: string }).id }).where('id', '=', extensions['202']!).execute();
  }));
}, 120_000);

describe('the group pages’ member picker, wizard and list', () => {
  it('pickup: filters by search and site, shows the selected only, keeps the ticks across Back, and starts each step unfiltered', { timeout: 60_000 }, async () => {
    await page.goto(`${product.url}/admin/phone-system/pickup`);
    await page.getByRole('button', { name: parkEn['pickup.new'] }).click();
    await page.getByRole('heading', { name: parkEn['pickup.step1'] }).waitFor();
    await expect.poll(focusedId).toBe('pickup-step');
    await page.getByLabel(parkEn['pickup.name'], { exact: true }).fill('Ruby');
    await page.getByRole('button', { name: en['common.next'] }).click();
    await page.getByRole('heading', { name: parkEn['pickup.step2'] }).waitFor();
    await expect.poll(focusedId).toBe('pickup-step');

    // The site filter: Lyon has Bob only.
    await page.getByLabel(parkEn['pickup.siteFilter'], { exact: true }).selectOption({ label: 'Lyon' });
    await box(BOB).waitFor();
    expect(await box(ALICE).count()).toBe(0);
    await page.getByLabel(parkEn['pickup.siteFilter'], { exact: true }).selectOption({ label: parkEn['pickup.allSites'] });
    // The search: by name, by extension number, and nothing.
    const search = page.getByLabel(parkEn['pickup.search'], { exact: true });
    await search.fill('ALI');
    await box(ALICE).waitFor();
    expect(await box(BOB).count()).toBe(0);
    await search.fill('202');
    await box(BOB).waitFor();
    expect(await box(ALICE).count()).toBe(0);
    await search.fill('nobody');
    await page.getByText(parkEn['pickup.noUsers']).waitFor();
    expect(await page.getByTestId('pickup-wizard').getByRole('checkbox').count()).toBe(1); // "Show selected only" alone
    await search.fill('');

    // Show selected only (n): counts the ticks, and hides the others.
    await box(ALICE).check();
    await box(parkEn['pickup.showSelected'].replace('{n}', '1')).check();
    await expect.poll(() => box(BOB).count()).toBe(0);
    await box(ALICE).waitFor();

    // Back to the details and Next again: the name and the tick are kept, the filters are not.
    await page.getByRole('button', { name: en['common.back'] }).click();
    await page.getByRole('heading', { name: parkEn['pickup.step1'] }).waitFor();
    await expect.poll(focusedId).toBe('pickup-step');
    expect(await page.getByLabel(parkEn['pickup.name'], { exact: true }).inputValue()).toBe('Ruby');
    await page.getByRole('button', { name: en['common.next'] }).click();
    await page.getByRole('heading', { name: parkEn['pickup.step2'] }).waitFor();
    expect(await page.getByLabel(parkEn['pickup.search'], { exact: true }).inputValue()).toBe('');
    expect(await box(parkEn['pickup.showSelected'].replace('{n}', '1')).isChecked()).toBe(false);
    expect(await box(ALICE).isChecked()).toBe(true);
    expect(await box(BOB).isChecked()).toBe(false);
    await page.getByRole('button', { name: en['common.save'] }).click();
    await page.getByRole('status').filter({ hasText: parkEn['pickup.saved'].replace('{name}', 'Ruby') }).waitFor();
    const stored = await db.selectFrom('pickup_groups').select('id').where('name', '=', 'Ruby').executeTakeFirstOrThrow();
    expect(await db.selectFrom('pickup_group_members').select('extension_id').where('group_id', '=', stored.id).execute()).toEqual([{ extension_id: ext['201'] }]);

    // Edit opens the wizard on the group's details; Cancel closes it and brings New back.
    await page.getByRole('button', { name: parkEn['pickup.edit'].replace('{name}', 'Ruby') }).click();
    expect(await page.getByLabel(parkEn['pickup.name'], { exact: true }).inputValue()).toBe('Ruby');
    expect(await page.getByRole('button', { name: parkEn['pickup.new'] }).count()).toBe(0);
    await page.getByRole('button', { name: en['common.cancel'] }).click();
    await page.getByRole('button', { name: parkEn['pickup.new'] }).waitFor();
    expect(await page.getByTestId('pickup-wizard').count()).toBe(0);
  });

  it('park: another location’s form opens unfiltered with the focus on its heading; Delete asks, and says why it is refused', { timeout: 60_000 }, async () => {
    for (const [name, number] of [['North', '811'], ['South', '812']] as const) {
      const res = await admin.json('POST', '/api/park-locations', { name, number, enabled: true, memberExtensionIds: [ext['202'], ext['201']] });
      expect(res.status, await res.clone().text()).toBe(201);
    }
    await page.goto(`${product.url}/admin/phone-system/park`);
    const row = (name: string) => page.getByTestId('park-locations').getByRole('row').filter({ has: page.getByRole('cell', { name, exact: true }) });
    // Members by extension number, whatever order they were given in.
    expect(await row('North').textContent()).toContain(`${ALICE}; ${BOB}`);

    await row('North').getByRole('button', { name: parkEn['park.edit'].replace('{name}', 'North') }).click();
    await page.getByRole('heading', { name: parkEn['park.details'].replace('{name}', 'North') }).waitFor();
    await expect.poll(focusedId).toBe('park-form');
    await page.getByLabel(parkEn['park.search'], { exact: true }).fill('bob');
    await expect.poll(() => box(ALICE).count()).toBe(0);
    await row('South').getByRole('button', { name: parkEn['park.edit'].replace('{name}', 'South') }).click();
    await page.getByRole('heading', { name: parkEn['park.details'].replace('{name}', 'South') }).waitFor();
    await expect.poll(focusedId).toBe('park-form');
    expect(await page.getByLabel(parkEn['park.search'], { exact: true }).inputValue()).toBe('');
    await box(ALICE).waitFor();
    await page.getByRole('button', { name: en['common.cancel'] }).click();

    // Delete, declined: nothing happens.
    page.once('dialog', (d) => void d.dismiss());
    await row('North').getByRole('button', { name: parkEn['park.delete'].replace('{name}', 'North') }).click();
    await page.reload();
    await row('North').waitFor();
    expect(await db.selectFrom('extensions').select('id').where('number', '=', '811').execute()).toHaveLength(1);
    // Delete, confirmed: gone from the page and the database.
    page.once('dialog', (d) => void d.accept());
    await row('North').getByRole('button', { name: parkEn['park.delete'].replace('{name}', 'North') }).click();
    await expect.poll(() => row('North').count()).toBe(0);
    expect(await db.selectFrom('extensions').select('id').where('number', '=', '811').execute()).toEqual([]);
    // South is deleted elsewhere meanwhile: the page's Delete is refused, in words, as an alert.
    const south = await db.selectFrom('extensions').select('id').where('number', '=', '812').executeTakeFirstOrThrow();
    expect((await admin.json('DELETE', `/api/park-locations/${south.id}`)).status).toBe(204);
    page.once('dialog', (d) => void d.accept());
    await row('South').getByRole('button', { name: parkEn['park.delete'].replace('{name}', 'South') }).click();
    await page.getByRole('alert').filter({ hasText: parkEn['park.error.not_found'] }).waitFor();
  });

  it('monitoring: lists members by extension number; each of steps 2 and 3 has its own list and starts unfiltered', { timeout: 60_000 }, async () => {
    const res = await admin.json('POST', '/api/monitoring-groups', { name: 'Leads', monitorExtensionIds: [ext['202'], ext['201']], monitoredExtensionIds: [ext['202']] });
    expect(res.status, await res.clone().text()).toBe(201);
    await page.goto(`${product.url}/admin/phone-system/monitoring`);
    const row = page.getByTestId('monitoring-groups').getByRole('row').filter({ has: page.getByRole('cell', { name: 'Leads', exact: true }) });
    expect(await row.textContent()).toContain(`${ALICE}; ${BOB}`);

    await row.getByRole('button', { name: monitoringEn['monitoring.edit'].replace('{name}', 'Leads') }).click();
    await page.getByRole('button', { name: en['common.next'] }).click();
    await page.getByRole('heading', { name: monitoringEn['monitoring.step2'] }).waitFor();
    await box(monitoringEn['monitoring.showSelected'].replace('{n}', '2')).waitFor();
    await page.getByLabel(monitoringEn['monitoring.search'], { exact: true }).fill('201');
    await box(ALICE).uncheck();
    await page.getByRole('button', { name: en['common.next'] }).click();
    await page.getByRole('heading', { name: monitoringEn['monitoring.step3'] }).waitFor();
    await expect.poll(focusedId).toBe('mon-step');
    expect(await page.getByLabel(monitoringEn['monitoring.search'], { exact: true }).inputValue()).toBe('');
    await box(monitoringEn['monitoring.showSelected'].replace('{n}', '1')).waitFor();
    expect(await box(BOB).isChecked()).toBe(true);
    expect(await box(ALICE).isChecked()).toBe(false);
    await box(ALICE).check();
    await page.getByRole('button', { name: en['common.save'] }).click();
    await page.getByRole('status').filter({ hasText: monitoringEn['monitoring.saved'].replace('{name}', 'Leads') }).waitFor();
    const api = await page.evaluate(async () => (await (await fetch('/api/monitoring-groups')).json()) as { groups: { monitorExtensionIds: string[]; monitoredExtensionIds: string[] }[] });
    expect(api.groups).toEqual([expect.objectContaining({ monitorExtensionIds: [ext['202']], monitoredExtensionIds: [ext['201'], ext['202']].sort() })]);
  });
});
