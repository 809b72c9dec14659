/// <reference lib="dom" />
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Db } from '@carillon/db';
import type { RunningProduct } from '../support/product.ts';
import { adminPages } from '../support/admin-pages.ts';
import { en as ivrEn } from '../../app/src/lib/i18n/features/ivr.ts';
import { seriousViolations } from '../support/axe.ts';

/**
 * The IVR editor's "try it" simulator dials extension numbers as a call does (issue 14), in a real
 * browser with the unreleased area 'ivr' enabled for this product only. The account: the admin (101),
 * alice (201) and bob (202, disabled in the last test); the top menu 1001 maps key 1 to 202. The keypad
 * keys 2 0 1 connect to alice; 1 and a pause is key 1 (bob); a disabled extension is no number to dial.
 */
let product: RunningProduct;
let db: Db;
let page: Page;
const pages = adminPages({ scratchName: 'ivrtrydial', unreleased: 'ivr' });

beforeAll(async () => {
  ({ product, db, page } = await pages.start(async ({ admin }) => {
    const created = await admin.json('POST', '/api/ivr/menus', { number: '1001', name: 'Main', language: 'en' });
    expect(created.status).toBe(201);
    const { menu } = (await created.json()) as { menu: { id: string } };
    const keys = await admin.json('PATCH', `/api/ivr/menus/${menu.id}`, { prompt: { mode: 'tts', text: 'Welcome. For Bob, press 1.' }, keys: { '1': { type: 'connect', extension: '202' } } });
    expect(keys.status).toBe(200);
    const { settings } = (await (await admin.get('/api/ivr')).json()) as { settings: Record<string, unknown> };
    expect((await admin.json('PUT', '/api/ivr/settings', { ...settings, mode: 'multi', businessHoursMenu: '1001' })).status).toBe(200);
  }));
}, 120_000);

const keypad = () => page.getByRole('group', { name: ivrEn['ivr.try.keypad'] });
const log = () => page.locator('ol.log > li');
const said = (key: keyof typeof ivrEn, params: Record<string, string>): string => Object.entries(params).reduce<string>((text, [k, v]) => text.replace(`{${k}}`, v), ivrEn[key]);

/** The editor has read the saved IVR (the simulator's "Call" does nothing before). */
const loaded = () => page.locator('#startAt option', { hasText: 'Main (1001)' }).waitFor({ state: 'attached' });

/** A new simulated call at the top menu, its prompt the first line of the log. */
async function call(): Promise<void> {
  await page.getByRole('button', { name: ivrEn['ivr.try.start'], exact: true }).click();
  await expect.poll(() => log().count()).toBe(1);
}

async function press(keys: string): Promise<void> {
  for (const k of keys) await keypad().getByRole('button', { name: k, exact: true }).click();
}

describe('the IVR simulator dials extension numbers', () => {
  it('2 0 1 connects to alice (201), each digit before the last shown as dialling; 1 then a pause is key 1 (bob, 202)', { timeout: 90_000 }, async () => {
    await page.goto(`${product.url}/admin/phone-system/ivr/editor`);
    await loaded();
    await call();
    await press('20');
    await expect.poll(() => log().nth(2).textContent()).toContain('Dialling 20…');
    expect(await log().nth(1).textContent()).toContain('Dialling 2…');
    // Mid-number the silence button is the pause that ends the number.
    await page.getByRole('button', { name: ivrEn['ivr.try.pause'] }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await press('1');
    await expect.poll(() => log().nth(3).textContent()).toContain(said('ivr.try.end.connect', { extension: '201' }));

    await call();
    await press('1');
    await page.getByRole('button', { name: ivrEn['ivr.try.pause'] }).click();
    await expect.poll(() => log().nth(2).textContent()).toContain(said('ivr.try.end.connect', { extension: '202' }));
  });

  it('does not dial a disabled extension: 2 0 2 with bob disabled is an invalid entry, the menu again', { timeout: 60_000 }, async () => {
    await db.updateTable('extensions').set({ status: 'disabled' }).where('number', '=', '202').execute();
    await page.reload();
    await loaded();
    await call();
    await press('202');
    await expect.poll(() => log().nth(3).textContent()).toContain(ivrEn['ivr.try.reason.invalid_key']);
    expect(await log().allTextContents()).not.toContainEqual(expect.stringContaining(said('ivr.try.end.connect', { extension: '202' })));
  });
});
