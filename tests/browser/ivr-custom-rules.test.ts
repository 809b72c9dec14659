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
 * The company's Custom Answering Rules page (issue 14, RULE-01…RULE-06) in a real browser with the
 * unreleased area 'ivr' enabled for this product only: an admin reaches it from the Auto-Receptionist's
 * tabs, adds a VIP rule (caller ID → extension 201), sees a rule without conditions refused in words,
 * adds a lunch-break rule with a weekly schedule (→ 202), moves it up, disables it and deletes the VIP
 * rule after confirming; the database holds what the page shows. The page has no serious accessibility
 * violation.
 */
let product: RunningProduct;
let db: Db;
let page: Page;
let accountId = '';
const pages = adminPages({ scratchName: 'ivrcustomrulespage', unreleased: 'ivr' });

beforeAll(async () => {
  ({ product, db, page, accountId } = await pages.start());
}, 120_000);

const stored = () => db.selectFrom('company_answering_rules').select(['name', 'enabled', 'position', 'conditions', 'target']).where('account_id', '=', accountId).orderBy('position').execute();
const form = () => page.getByTestId('company-rule-form');
const list = () => page.getByTestId('company-rules');
const ruleItem = (name: string) => list().locator('li', { hasText: name });
const summary = (count: number, active: number) => ivrEn['ivr.rules.summary'].replace('{count}', String(count)).replace('{active}', String(active));

async function fillRule(name: string, target: string): Promise<void> {
  await form().getByLabel(ivrEn['ivr.rules.name']).fill(name);
  await form().getByRole('radio', { name: ivrEn['ivr.rules.targetType.extension'] }).check();
  await form().getByLabel(ivrEn['ivr.rules.targetSelect']).selectOption(target);
}

describe('custom answering rules (admin page)', () => {
  it('adds, refuses in words, moves, disables and deletes rules; the database holds what the page shows', { timeout: 120_000 }, async () => {
    await page.goto(`${product.url}/admin/phone-system/ivr`);
    await page.getByRole('navigation', { name: ivrEn['ivr.title'] }).getByRole('link', { name: ivrEn['ivr.tab.customRules'] }).click();
    await page.waitForURL((u) => u.pathname === '/admin/phone-system/ivr/custom-rules');
    await page.getByText(ivrEn['ivr.rules.none']).waitFor();
    expect(await page.getByTestId('rules-summary').textContent()).toBe(summary(0, 0));

    // A rule without conditions is refused, with the reason shown.
    await page.getByRole('button', { name: ivrEn['ivr.rules.add'] }).click();
    await fillRule('VIP', '201');
    await form().getByRole('button', { name: en['common.save'] }).click();
    await page.getByRole('alert').getByText(ivrEn['ivr.rules.invalid']).waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('a custom rule needs at least one condition');
    expect(await stored()).toEqual([]);

    await form().getByLabel(rulesEn['answeringRules.cond.callerId']).fill('+14155550123, +14155550124');
    expect(await seriousViolations(page)).toEqual([]);
    await form().getByRole('button', { name: en['common.save'] }).click();
    await ruleItem('VIP').waitFor();
    expect(await form().count()).toBe(0);

    // A lunch break on weekdays (the schedule starts from office hours: Monday narrowed to 12:00–13:00).
    await page.getByRole('button', { name: ivrEn['ivr.rules.add'] }).click();
    await fillRule('Lunch', '202');
    await form().getByLabel(rulesEn['answeringRules.cond.schedule']).check();
    const monday = form().locator('tr[data-day="mon"]');
    await monday.getByLabel(rulesEn['answeringRules.hours.from']).fill('12:00');
    await monday.getByLabel(rulesEn['answeringRules.hours.to']).fill('13:00');
    await form().getByRole('button', { name: en['common.save'] }).click();
    await ruleItem('Lunch').waitFor();
    expect(await page.getByTestId('rules-summary').textContent()).toBe(summary(2, 2));
    expect(await stored()).toEqual([
      { name: 'VIP', enabled: true, position: 1, conditions: [{ type: 'caller_id', numbers: ['+14155550123', '+14155550124'], contactIds: [], anonymous: false }], target: { type: 'extension', extension: '201' } },
      {
        name: 'Lunch',
        enabled: true,
        position: 2,
        conditions: [{ type: 'schedule', schedule: expect.objectContaining({ mode: 'custom', days: expect.objectContaining({ mon: [{ from: '12:00', to: '13:00' }], tue: [{ from: '09:00', to: '17:00' }], sat: [] }) }) }],
        target: { type: 'extension', extension: '202' },
      },
    ]);

    // Lunch first, then disabled.
    await ruleItem('Lunch').getByRole('button', { name: ivrEn['ivr.rules.up'] }).click();
    await expect.poll(async () => (await stored()).map((r) => r.name)).toEqual(['Lunch', 'VIP']);
    await expect.poll(() => list().locator('li strong').allTextContents()).toEqual(['Lunch', 'VIP']);
    await ruleItem('Lunch').getByRole('button', { name: ivrEn['ivr.rules.disable'] }).click();
    await ruleItem('Lunch').getByText(ivrEn['ivr.rules.disabled']).waitFor();
    expect(await page.getByTestId('rules-summary').textContent()).toBe(summary(2, 1));
    expect((await stored()).map((r) => [r.name, r.enabled])).toEqual([
      ['Lunch', false],
      ['VIP', true],
    ]);

    // Edited: the form shows the rule as saved.
    await ruleItem('VIP').getByRole('button', { name: ivrEn['ivr.rules.edit'] }).click();
    expect(await form().getByLabel(rulesEn['answeringRules.cond.callerId']).inputValue()).toBe('+14155550123, +14155550124');
    expect(await form().getByLabel(ivrEn['ivr.rules.targetSelect']).inputValue()).toBe('201');
    await form().getByRole('button', { name: en['common.cancel'] }).click();

    // Deleted after the admin confirms.
    page.once('dialog', (d) => void d.accept());
    await ruleItem('VIP').getByRole('button', { name: ivrEn['ivr.rules.delete'] }).click();
    await expect.poll(async () => (await stored()).map((r) => r.name)).toEqual(['Lunch']);
    await expect.poll(() => list().locator('li strong').allTextContents()).toEqual(['Lunch']);
    expect(await seriousViolations(page)).toEqual([]);
  });
});
