/// <reference lib="dom" />
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Db } from '@carillon/db';
import type { RunningProduct } from '../support/product.ts';
import { adminPages } from '../support/admin-pages.ts';
import { en } from '../../app/src/lib/i18n/en.ts';
import { en as linesEn } from '../../app/src/lib/i18n/features/shared-lines.ts';
import { seriousViolations } from '../support/axe.ts';
import { STRONG } from '../support/http-client.ts';
import { signIn } from '../support/softphone-users.ts';

/**
 * Phone System › Shared Lines (issue 15 point 3; SL-02, SL-03, SL-05, SL-07, SL-09) in a real browser,
 * with the unreleased area 'shared_lines' enabled for this product only: the admin creates a line through
 * the "+ New Shared Line" steps (site, name, manager's e-mail, number; then its devices and their order),
 * changes settings, reloads and finds them saved; the database holds them; a refused save says why, a
 * delete asks first. A Standard user is refused the pages (403). No serious accessibility violation.
 */
let product: RunningProduct;
let db: Db;
let page: Page;
let browser: Browser;
let lineId = '';
const phones: string[] = [];
const pages = adminPages({ scratchName: 'sharedlinespages', unreleased: 'shared_lines' });

beforeAll(async () => {
  ({ product, db, page, browser } = await pages.start(async ({ admin, db, extensions }) => {
    for (const [ext, name] of [
      ['201', 'Front desk phone'],
      ['202', 'Back office phone'],
    ] as const) {
      const res = await admin.json('POST', '/api/devices', { extensionId: extensions[ext], type: 'desk_phone', name });
      expect(res.status, await res.clone().text()).toBe(201);
      phones.push((await db.selectFrom('devices').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id);
    }
  }));
}, 120_000);

describe('shared lines (admin pages)', () => {
  it('creates a line through the steps, adds two devices in order, changes settings, and finds them after a reload', { timeout: 90_000 }, async () => {
    await page.goto(`${product.url}/admin/phone-system`);
    // The tab shows where the area is enabled.
    await page.getByRole('navigation', { name: en['nav.phoneSystem'] }).getByRole('link', { name: linesEn['sharedLines.tab'] }).click();
    await page.waitForURL((u) => u.pathname === '/admin/phone-system/shared-lines');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel(linesEn['sharedLines.name'], { exact: true }).fill('Front Desk');
    await page.getByLabel(linesEn['sharedLines.number'], { exact: true }).fill('650');
    await page.getByLabel(linesEn['sharedLines.managerEmail'], { exact: true }).fill('desk@example.com');
    await page.getByRole('button', { name: linesEn['sharedLines.add'] }).click();
    await page.waitForURL((u) => /^\/admin\/phone-system\/shared-lines\/[0-9a-f-]{36}$/.test(u.pathname));
    lineId = page.url().split('/').pop()!.split('?')[0]!;
    await page.getByRole('status').filter({ hasText: 'Front Desk' }).waitFor();

    // Devices: the back office phone first, then the front desk one moved above it.
    for (const [name, ext] of [
      ['Back office phone', '202'],
      ['Front desk phone', '201'],
    ]) {
      await page.getByLabel(linesEn['sharedLines.addDevice'], { exact: true }).selectOption({ label: `${name} (Desk phone), ext. ${ext}` });
      await page.getByRole('button', { name: linesEn['sharedLines.addDeviceButton'], exact: true }).click();
    }
    await page.getByRole('button', { name: /^Move Front desk phone/ }).click();
    await page.getByLabel(linesEn['sharedLines.ringSeconds']).selectOption('30');
    await page.getByRole('radio', { name: linesEn['sharedLines.blockAll'] }).check();
    await page.getByLabel(linesEn['sharedLines.callersHear']).selectOption('goodbye');
    await page.getByRole('checkbox', { name: linesEn['sharedLines.takeMessages'] }).uncheck();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByTestId('save-shared-line').click();
    await page.getByRole('status').filter({ hasText: en['common.saved'] }).waitFor();

    await page.reload();
    await expect.poll(() => page.getByTestId('line-devices').locator('li').allTextContents()).toEqual([expect.stringContaining('Front desk phone'), expect.stringContaining('Back office phone')]);
    expect(await page.getByLabel(linesEn['sharedLines.ringSeconds']).inputValue()).toBe('30');
    expect(await page.getByRole('radio', { name: linesEn['sharedLines.blockAll'] }).isChecked()).toBe(true);
    expect(await page.getByRole('checkbox', { name: linesEn['sharedLines.takeMessages'] }).isChecked()).toBe(false);
    expect(await page.getByLabel(linesEn['sharedLines.managerEmail'], { exact: true }).inputValue()).toBe('desk@example.com');

    const devices = await db.selectFrom('shared_line_devices').select(['device_id', 'position']).where('line_extension_id', '=', lineId).orderBy('position').execute();
    expect(devices.map((d) => d.device_id)).toEqual([phones[0], phones[1]]);
    const stored = await db.selectFrom('shared_lines').select('settings').where('extension_id', '=', lineId).executeTakeFirstOrThrow();
    expect(stored.settings).toMatchObject({ ringSeconds: 30, takeMessages: false, blocked: { mode: 'all', message: 'goodbye' }, managerEmail: 'desk@example.com' });

    // The list shows it, with its device count.
    await page.goto(`${product.url}/admin/phone-system/shared-lines`);
    await page.getByTestId('shared-lines').getByRole('link', { name: 'Front Desk' }).waitFor();
    expect(await page.getByTestId('shared-lines').locator('tbody tr td').nth(4).textContent()).toBe('2');
  });

  it('refuses the pages to a Standard user (403)', { timeout: 60_000 }, async () => {
    const standard = await signIn(browser, product.url, 'alice@demo.carillon.localhost', STRONG.password);
    try {
      for (const path of ['/admin/phone-system/shared-lines', `/admin/phone-system/shared-lines/${lineId}`]) {
        const res = await standard.goto(`${product.url}${path}`);
        expect(res?.status(), path).toBe(403);
      }
    } finally {
      await standard.context().close();
    }
  });

  it("says why a save is refused and keeps what was stored; deletes the line once the admin confirms", { timeout: 60_000 }, async () => {
    await page.goto(`${product.url}/admin/phone-system/shared-lines/${lineId}`);
    // 201 is Alice's extension: the save is refused in the feature's words, and nothing changes.
    await page.getByLabel(linesEn['sharedLines.number'], { exact: true }).fill('201');
    await page.getByTestId('save-shared-line').click();
    await page.getByRole('alert').filter({ hasText: linesEn['sharedLines.error.number_taken'] }).waitFor();
    const line = () => db.selectFrom('extensions').select('number').where('id', '=', lineId).executeTakeFirst();
    expect((await line())?.number).toBe('650');

    // Delete asks first (dismissed: the line stays), then goes back to the list once confirmed.
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.getByRole('button', { name: linesEn['sharedLines.delete'] }).click();
    expect(page.url()).toContain(lineId);
    expect(await line()).toBeDefined();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: linesEn['sharedLines.delete'] }).click();
    await page.waitForURL((u) => u.pathname === '/admin/phone-system/shared-lines');
    await expect.poll(line).toBeUndefined();
    expect(await db.selectFrom('shared_line_devices').select('device_id').where('line_extension_id', '=', lineId).execute()).toEqual([]);
  });
});
