/// <reference lib="dom" />
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Db } from '@carillon/db';
import type { RunningProduct } from '../support/product.ts';
import { adminPages } from '../support/admin-pages.ts';
import { en } from '../../app/src/lib/i18n/en.ts';
import { en as ivrEn } from '../../app/src/lib/i18n/features/ivr.ts';
import { en as rulesEn } from '../../app/src/lib/i18n/features/answering-rules.ts';
import { seriousViolations } from '../support/axe.ts';

/**
 * The auto-receptionist's company hours and dial-by-name directory pages (issue 14, AR-03, AR-04), in a
 * real browser with the unreleased area 'ivr' enabled for this product only: an admin reaches them from
 * the Phone System tabs, sets two ranges on Monday and one on Friday, sees an overlap refused in words,
 * saves, and after a reload the page shows what the database holds; then the directory searched by first
 * name over one chosen extension, kept after a reload too. Each page has no serious accessibility violation.
 */
let product: RunningProduct;
let db: Db;
let page: Page;
let accountId = '';
const pages = adminPages({ scratchName: 'ivrcompanypages', unreleased: 'ivr' });

beforeAll(async () => {
  ({ product, db, page, accountId } = await pages.start());
}, 120_000);

const storedSettings = async () => (await db.selectFrom('ivr_settings').select('settings').where('account_id', '=', accountId).executeTakeFirst())?.settings as { hours?: unknown; directory?: unknown } | undefined;
const hoursForm = () => page.getByTestId('company-hours');
const row = (day: string) => hoursForm().locator(`tr[data-day="${day}"]`);

describe('company hours and the dial-by-name directory (admin pages)', () => {
  it('sets business hours with two ranges on a day, refuses an overlap in words, and keeps them after a reload', { timeout: 90_000 }, async () => {
    await page.goto(`${product.url}/admin/phone-system`);
    // The Auto-Receptionist's tab in the Phone System row, where the area is enabled.
    await page.getByRole('navigation', { name: en['nav.phoneSystem'] }).getByRole('link', { name: ivrEn['ivr.title'] }).click();
    await page.waitForURL((u) => u.pathname === '/admin/phone-system/ivr');
    await page.getByRole('navigation', { name: ivrEn['ivr.title'] }).getByRole('link', { name: ivrEn['ivr.tab.hours'] }).click();
    await page.waitForURL((u) => u.pathname === '/admin/phone-system/ivr/hours');
    await hoursForm().waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    await page.locator('input[name="company-hours-mode"][value="custom"]').check();
    // Starts from weekdays 09:00–17:00; Monday gets a second range that overlaps the first.
    await row('mon').getByRole('button', { name: rulesEn['answeringRules.hours.addRange'].replace('{day}', en['settings.day.mon']) }).click();
    const monFrom = row('mon').getByLabel(rulesEn['answeringRules.hours.from']);
    const monTo = row('mon').getByLabel(rulesEn['answeringRules.hours.to']);
    await monFrom.nth(1).fill('12:00');
    await monTo.nth(1).fill('18:00');
    expect(await seriousViolations(page)).toEqual([]);
    await hoursForm().getByRole('button', { name: en['common.save'] }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain(`${en['settings.day.mon']}, hours 2: ranges must be in order and not overlap`);
    // Nothing saved: no settings yet, or 24 hours.
    expect([undefined, { mode: '24h' }]).toContainEqual((await storedSettings())?.hours);

    // Monday 08:30–12:00 and 13:30–18:00; Tuesday, Wednesday and Thursday closed; Friday as it was.
    await monTo.nth(0).fill('12:00');
    await monFrom.nth(0).fill('08:30');
    await monFrom.nth(1).fill('13:30');
    for (const day of ['tue', 'wed', 'thu']) await row(day).getByRole('button', { name: rulesEn['answeringRules.hours.removeRange'] }).click();
    await hoursForm().getByRole('button', { name: en['common.save'] }).click();
    await page.getByRole('status').filter({ hasText: en['common.saved'] }).waitFor();
    const expected = {
      mode: 'custom',
      days: {
        mon: [
          { from: '08:30', to: '12:00' },
          { from: '13:30', to: '18:00' },
        ],
        tue: [],
        wed: [],
        thu: [],
        fri: [{ from: '09:00', to: '17:00' }],
        sat: [],
        sun: [],
      },
    };
    await expect.poll(async () => (await storedSettings())?.hours).toEqual(expected);
    const audit = await db.selectFrom('audit_events').select('after').where('account_id', '=', accountId).where('action', '=', 'ivr.hours_updated').executeTakeFirstOrThrow();
    expect(audit.after).toEqual({ hours: expected });

    await page.reload();
    await hoursForm().waitFor();
    expect(await page.locator('input[name="company-hours-mode"][value="custom"]').isChecked()).toBe(true);
    expect(await monFrom.evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value))).toEqual(['08:30', '13:30']);
    expect(await monTo.evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value))).toEqual(['12:00', '18:00']);
    expect(await row('wed').getByLabel(rulesEn['answeringRules.hours.from']).count()).toBe(0);
    expect(await row('fri').getByLabel(rulesEn['answeringRules.hours.to']).inputValue()).toBe('17:00');
  });

  it('searches the directory by first name over one chosen extension, kept after a reload', { timeout: 60_000 }, async () => {
    await page.getByRole('navigation', { name: ivrEn['ivr.title'] }).getByRole('link', { name: ivrEn['ivr.tab.directory'] }).click();
    await page.waitForURL((u) => u.pathname === '/admin/phone-system/ivr/directory');
    const form = page.getByTestId('directory');
    await form.waitFor();
    expect(await form.getByLabel(ivrEn['ivr.directory.enabled']).isChecked()).toBe(true);
    expect(await form.getByLabel(ivrEn['ivr.directory.by.last_name']).isChecked()).toBe(true);
    expect(await form.getByLabel(ivrEn['ivr.directory.all']).isChecked()).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);

    await form.getByLabel(ivrEn['ivr.directory.by.first_name']).check();
    await form.getByLabel(ivrEn['ivr.directory.some']).check();
    await form.getByLabel('bob Test').check();
    await form.getByText(ivrEn['ivr.directory.searchable'].replace('{n}', '1')).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await form.getByRole('button', { name: en['common.save'] }).click();
    await page.getByRole('status').filter({ hasText: en['common.saved'] }).waitFor();
    await expect.poll(async () => (await storedSettings())?.directory).toEqual({ enabled: true, searchBy: 'first_name', extensions: ['202'] });
    // The hours saved on the other page are kept.
    expect(((await storedSettings())?.hours as { mode: string }).mode).toBe('custom');

    await page.reload();
    await form.waitFor();
    expect(await form.getByLabel(ivrEn['ivr.directory.by.first_name']).isChecked()).toBe(true);
    expect(await form.getByLabel(ivrEn['ivr.directory.some']).isChecked()).toBe(true);
    expect(await form.getByLabel('bob Test').isChecked()).toBe(true);
    expect(await form.getByLabel('alice Test').isChecked()).toBe(false);

    // Switched off (AR-04): kept after a reload, the other settings with it.
    await form.getByLabel(ivrEn['ivr.directory.enabled']).uncheck();
    await form.getByRole('button', { name: en['common.save'] }).click();
    await expect.poll(async () => (await storedSettings())?.directory).toEqual({ enabled: false, searchBy: 'first_name', extensions: ['202'] });
    await page.reload();
    await form.waitFor();
    expect(await form.getByLabel(ivrEn['ivr.directory.enabled']).isChecked()).toBe(false);
    expect(await form.getByLabel('bob Test').isChecked()).toBe(true);
  });
});
