/// <reference lib="dom" />
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Db } from '@carillon/db';
import type { RunningProduct } from '../support/product.ts';
import { adminPages } from '../support/admin-pages.ts';
import { en } from '../../app/src/lib/i18n/en.ts';
import { en as ivrEn } from '../../app/src/lib/i18n/features/ivr.ts';
import { seriousViolations } from '../support/axe.ts';

/**
 * Single-level company call handling (AR-01) on the IVR settings page, in a real browser with the
 * unreleased area 'ivr' enabled for this product only: the kinds of target the account has no extension
 * of are greyed out; the admin sends after-hours calls to a user's extension (202), picks "Disconnect" if
 * the caller enters no action, saves, and after a reload the page shows what the database holds. The page
 * has no serious accessibility violation.
 */
let product: RunningProduct;
let db: Db;
let page: Page;
let accountId = '';
const pages = adminPages({ scratchName: 'ivrsinglelevel', unreleased: 'ivr' });

beforeAll(async () => {
  ({ product, db, page, accountId } = await pages.start());
}, 120_000);

const stored = async () => ((await db.selectFrom('ivr_settings').select('settings').where('account_id', '=', accountId).executeTakeFirst())?.settings as { singleLevel?: unknown } | undefined)?.singleLevel;

describe('company call handling in single-level mode (admin page)', () => {
  it('greys out kinds with no extension, sends after hours to 202 with "Disconnect", and shows it again after a reload', { timeout: 90_000 }, async () => {
    const queues = await db.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('type', '=', 'call_queue').execute();
    await page.goto(`${product.url}/admin/phone-system/ivr`);
    const after = page.getByLabel(ivrEn['ivr.single.afterHours']);
    await after.waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    // Defaults: the company greeting in both schedules, "Connect to operator".
    expect(await page.getByLabel(ivrEn['ivr.single.businessHours']).inputValue()).toBe('company_greeting');
    expect(await after.inputValue()).toBe('company_greeting');
    expect(await page.getByLabel(ivrEn['ivr.single.noAction'], { exact: true }).inputValue()).toBe('operator');
    // A kind the account has none of is greyed; users it has.
    expect(await after.locator('option[value="shared_lines"]').isDisabled()).toBe(true);
    expect(await after.locator('option[value="call_queue"]').isDisabled()).toBe(queues.length === 0);
    expect(await after.locator('option[value="user"]').isDisabled()).toBe(false);

    await after.selectOption('user');
    await page.locator('#ext-afterHours').selectOption('202');
    await page.getByLabel(ivrEn['ivr.single.noAction'], { exact: true }).selectOption('disconnect');
    await page.locator('form[aria-labelledby="ivr-settings"]').getByRole('button', { name: en['common.save'] }).click();
    await expect.poll(stored).toEqual({ businessHours: { type: 'company_greeting' }, afterHours: { type: 'extension', extension: '202' }, greeting: { mode: 'default' }, noAction: 'disconnect' });

    await page.reload();
    await after.waitFor();
    await expect.poll(() => after.inputValue()).toBe('user');
    expect(await page.locator('#ext-afterHours').inputValue()).toBe('202');
    expect(await page.getByLabel(ivrEn['ivr.single.noAction'], { exact: true }).inputValue()).toBe('disconnect');
  });
});
