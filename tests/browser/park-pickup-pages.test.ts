/// <reference lib="dom" />
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Db } from '@carillon/db';
import type { RunningProduct } from '../support/product.ts';
import { adminPages } from '../support/admin-pages.ts';
import { en } from '../../app/src/lib/i18n/en.ts';
import { en as parkEn } from '../../app/src/lib/i18n/features/park.ts';
import { STRONG } from '../support/http-client.ts';
import { signIn } from '../support/softphone-users.ts';
import { seriousViolations } from '../support/axe.ts';

/**
 * Phone System › Park Locations and Call Pickup (issue 15 points 4, 5), in a real browser, with the unreleased
 * area 'park' enabled for this product only: an admin creates a park location with two members (a number
 * taken first, refused in words), edits its members, and creates a directed call pickup group through its
 * two steps; each is there after a reload, and in the database. A Standard user is refused both pages (403).
 * Each page has no serious accessibility violation.
 */
let product: RunningProduct;
let browser: Browser;
let db: Db;
let page: Page;
let ext: Record<string, string> = {};
const pages = adminPages({ scratchName: 'parkpages', unreleased: 'park' });

beforeAll(async () => {
  ({ product, browser, db, page, extensions: ext } = await pages.start());
}, 120_000);

const parkRow = (number: string) => page.getByTestId('park-locations').getByRole('row').filter({ has: page.getByRole('cell', { name: number, exact: true }) });

describe('park locations and call pickup (admin pages)', () => {
  it('creates a park location with two members, refuses a number taken, edits its members; all there after a reload', { timeout: 90_000 }, async () => {
    await page.goto(`${product.url}/admin/phone-system`);
    // The tab shows where the area is enabled.
    await page.getByRole('navigation', { name: en['nav.phoneSystem'] }).getByRole('link', { name: parkEn['park.tab'] }).click();
    await page.waitForURL((u) => u.pathname === '/admin/phone-system/park');
    await page.getByText(parkEn['park.none']).waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    // A number a user already has: refused, and the page says why.
    await page.getByRole('button', { name: parkEn['park.new'] }).click();
    await page.getByLabel(parkEn['park.name'], { exact: true }).fill('Front desk');
    await page.getByLabel(parkEn['park.number'], { exact: true }).fill('201');
    await page.getByRole('checkbox', { name: 'alice Test, ext. 201' }).check();
    await page.getByRole('checkbox', { name: 'bob Test, ext. 202' }).check();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: parkEn['park.add'] }).click();
    await page.getByTestId('park-form').getByRole('alert').filter({ hasText: parkEn['park.error.number_taken'] }).waitFor();

    await page.getByLabel(parkEn['park.number'], { exact: true }).fill('801');
    await page.getByRole('button', { name: parkEn['park.add'] }).click();
    // PK-03: the save reminds the admin of the members' presence keys.
    await page.getByRole('status').filter({ hasText: parkEn['park.presenceReminder'] }).waitFor();
    const stored = await db.selectFrom('extensions').select(['id', 'type', 'name', 'status']).where('number', '=', '801').executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ type: 'park_location', name: 'Front desk', status: 'activated' });
    const members = await db.selectFrom('park_location_members').select('member_extension_id').where('park_extension_id', '=', stored.id).execute();
    expect(members.map((m) => m.member_extension_id).sort()).toEqual([ext['201'], ext['202']].sort());

    await page.reload();
    await parkRow('801').getByRole('cell', { name: 'Front desk', exact: true }).waitFor();
    expect(await parkRow('801').textContent()).toContain('alice Test, ext. 201; bob Test, ext. 202');
    expect(await seriousViolations(page)).toEqual([]);

    // Bob leaves the location, which is disabled.
    await parkRow('801').getByRole('button', { name: parkEn['park.edit'].replace('{name}', 'Front desk') }).click();
    await page.getByRole('heading', { name: parkEn['park.details'].replace('{name}', 'Front desk') }).waitFor();
    await page.getByRole('checkbox', { name: 'bob Test, ext. 202' }).uncheck();
    await page.getByRole('checkbox', { name: parkEn['park.enabled'] }).uncheck();
    await page.getByRole('button', { name: en['common.save'] }).click();
    await page.getByRole('status').filter({ hasText: parkEn['park.saved'].replace('{name}', 'Front desk') }).waitFor();
    await page.reload();
    await parkRow('801').getByRole('cell', { name: 'Front desk', exact: true }).waitFor();
    expect(await parkRow('801').textContent()).toContain('alice Test, ext. 201');
    expect(await parkRow('801').textContent()).not.toContain('bob Test');
    expect(await parkRow('801').textContent()).toContain(parkEn['park.disabledMark']);
    const api = await page.evaluate(async () => (await (await fetch('/api/park-locations')).json()) as { locations: { number: string; enabled: boolean; memberExtensionIds: string[] }[] });
    expect(api.locations).toEqual([expect.objectContaining({ number: '801', enabled: false, memberExtensionIds: [ext['201']] })]);
  });

  it('creates a directed call pickup group through its two steps; it is there after a reload', { timeout: 60_000 }, async () => {
    await page.goto(`${product.url}/admin/phone-system/park`);
    await page.getByRole('navigation', { name: en['nav.phoneSystem'] }).getByRole('link', { name: parkEn['pickup.tab'] }).click();
    await page.waitForURL((u) => u.pathname === '/admin/phone-system/pickup');
    await page.getByText(parkEn['pickup.none']).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: parkEn['pickup.new'] }).click();
    await page.getByLabel(parkEn['pickup.name'], { exact: true }).fill('Emerald');
    const site = await db.selectFrom('sites').select(['id', 'name']).where('is_main', '=', true).executeTakeFirstOrThrow();
    await page.getByLabel(parkEn['pickup.site'], { exact: true }).selectOption(site.id);
    await page.getByRole('button', { name: en['common.next'] }).click();
    await page.getByRole('heading', { name: parkEn['pickup.step2'] }).waitFor();
    await page.getByRole('checkbox', { name: 'alice Test, ext. 201' }).check();
    await page.getByRole('checkbox', { name: 'bob Test, ext. 202' }).check();
    // "Show selected" counts what is ticked.
    await page.getByRole('checkbox', { name: parkEn['pickup.showSelected'].replace('{n}', '2') }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: en['common.save'] }).click();
    await page.getByRole('status').filter({ hasText: parkEn['pickup.saved'].replace('{name}', 'Emerald') }).waitFor();

    await page.reload();
    const row = page.getByTestId('pickup-groups').getByRole('row').filter({ has: page.getByRole('cell', { name: 'Emerald', exact: true }) });
    await row.waitFor();
    expect(await row.textContent()).toContain(site.name);
    expect(await row.textContent()).toContain('alice Test, ext. 201; bob Test, ext. 202');
    const stored = await db.selectFrom('pickup_groups').select(['id', 'site_id']).where('name', '=', 'Emerald').executeTakeFirstOrThrow();
    expect(stored.site_id).toBe(site.id);
    const members = await db.selectFrom('pickup_group_members').select('extension_id').where('group_id', '=', stored.id).execute();
    expect(members.map((m) => m.extension_id).sort()).toEqual([ext['201'], ext['202']].sort());
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('refuses both pages to a Standard user (403)', { timeout: 60_000 }, async () => {
    const standard = await signIn(browser, product.url, 'alice@demo.carillon.localhost', STRONG.password);
    try {
      for (const path of ['/admin/phone-system/park', '/admin/phone-system/pickup']) {
        const res = await standard.goto(`${product.url}${path}`);
        expect(res?.status(), path).toBe(403);
      }
    } finally {
      await standard.context().close();
    }
  });
});
