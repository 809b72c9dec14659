/// <reference lib="dom" />
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Db } from '@carillon/db';
import type { RunningProduct } from '../support/product.ts';
import { adminPages } from '../support/admin-pages.ts';
import { en } from '../../app/src/lib/i18n/en.ts';
import { en as queuesEn } from '../../app/src/lib/i18n/features/call-queues.ts';
import { en as rulesEn } from '../../app/src/lib/i18n/features/answering-rules.ts';
import { STRONG } from '../support/http-client.ts';
import { signIn } from '../support/softphone-users.ts';
import { seriousViolations } from '../support/axe.ts';

/**
 * The admin's pages of the phone system's groups (issue 15), in a real browser, with their unreleased areas
 * enabled for this product only: an admin creates a call queue with two members and business hours, sets a
 * manager (a refused PIN first, shown on the page), creates a paging group with a receiving device and a
 * pager, and a call monitoring group through its three-step wizard; the database then holds each. A
 * Standard user is refused every page (403). Each page has no serious accessibility violation.
 */
let product: RunningProduct;
let browser: Browser;
let db: Db;
let page: Page;
let accountId = '';
let ext: Record<string, string> = {};
let deskPhoneId = '';
const pages = adminPages({ scratchName: 'groupspages', unreleased: 'queues,paging,monitoring' });

beforeAll(async () => {
  ({ product, browser, db, page, accountId, extensions: ext } = await pages.start(async ({ admin, db, extensions }) => {
    const phone = await admin.json('POST', '/api/devices', { extensionId: extensions['202'], type: 'desk_phone', name: 'Warehouse phone' });
    expect(phone.status, await phone.clone().text()).toBe(201);
    deskPhoneId = (await db.selectFrom('devices').select('id').where('name', '=', 'Warehouse phone').executeTakeFirstOrThrow()).id;
  }));
}, 120_000);

describe('phone system groups (admin pages)', () => {
  it('creates a call queue with two members and business hours, sets a manager with a PIN, and copies its settings to a second queue', { timeout: 90_000 }, async () => {
    await page.goto(`${product.url}/admin/phone-system`);
    // The tab shows where the area is enabled.
    await page.getByRole('navigation', { name: en['nav.phoneSystem'] }).getByRole('link', { name: queuesEn['callQueues.admin.tab'] }).click();
    await page.waitForURL((u) => u.pathname === '/admin/phone-system/call-queues');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel(queuesEn['callQueues.admin.name'], { exact: true }).fill('Sales');
    await page.getByLabel(queuesEn['callQueues.admin.number'], { exact: true }).fill('600');
    await page.getByRole('button', { name: queuesEn['callQueues.admin.create'] }).click();
    await page.waitForURL((u) => /^\/admin\/phone-system\/call-queues\/[0-9a-f-]{36}$/.test(u.pathname));
    const queueId = page.url().split('/').pop()!.split('?')[0]!;
    await page.getByTestId('queue-number').filter({ hasText: '600' }).waitFor();

    for (const number of ['201', '202']) {
      await page.locator('#q-new-member').selectOption(number);
      await page.locator('form[aria-labelledby="q-members"]').getByRole('button', { name: queuesEn['callQueues.admin.add'], exact: true }).click();
      await page.getByTestId('queue-members').getByRole('cell', { name: number, exact: true }).waitFor();
    }
    await page.locator('#q-distribution').selectOption('sequential');
    await page.locator('input[name="q-hours-mode"][value="custom"]').check();
    await page.locator('#q-afterhours-type').selectOption('extension');
    await page.locator('#q-afterhours-ext').fill('201');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByTestId('save-queue').click();
    await page.locator('form[aria-labelledby="q-members"] [role="status"]').filter({ hasText: en['common.saved'] }).waitFor();

    // The page says "saved" when the request answered; the rows are read until they are there.
    await expect
      .poll(async () => (await db.selectFrom('call_queue_members').select('member_extension_id').where('queue_extension_id', '=', queueId).orderBy('position').execute()).map((m) => m.member_extension_id), { timeout: 10_000, message: 'queue members' })
      .toEqual([ext['201'], ext['202']]);
    const saved = await db.selectFrom('call_queues').select(['settings', 'account_id']).where('extension_id', '=', queueId).executeTakeFirstOrThrow();
    expect(saved.account_id).toBe(accountId);
    const settings = saved.settings as { distribution: string; hours: { mode: string; days: Record<string, { from: string; to: string }[]> }; afterHours: unknown };
    expect(settings.distribution).toBe('sequential');
    expect(settings.hours.mode).toBe('custom');
    expect(settings.hours.days.mon).toEqual([{ from: '09:00', to: '17:00' }]);
    expect(settings.hours.days.sun).toEqual([]);
    expect(settings.afterHours).toEqual({ type: 'extension', extension: '201' });

    // Managers: a PIN typed twice differently is refused, and the page says which field.
    await page.locator('#q-new-manager').selectOption('201');
    await page.locator('form[aria-labelledby="q-managers"]').getByRole('button', { name: queuesEn['callQueues.admin.add'], exact: true }).click();
    await page.getByTestId('queue-managers').getByRole('cell', { name: '201', exact: true }).waitFor();
    await page.getByLabel(queuesEn['callQueues.admin.pin'], { exact: true }).fill(STRONG.pin);
    await page.getByLabel(queuesEn['callQueues.admin.pinConfirm'], { exact: true }).fill('999999');
    await page.getByTestId('save-managers').click();
    await expect.poll(() => page.locator('form[aria-labelledby="q-managers"] [role="alert"]').textContent(), { timeout: 10_000 }).toContain('pinConfirm');
    await page.getByLabel(queuesEn['callQueues.admin.pinConfirm'], { exact: true }).fill(STRONG.pin);
    await page.getByTestId('save-managers').click();
    await page.locator('form[aria-labelledby="q-managers"] [role="status"]').filter({ hasText: en['common.saved'] }).waitFor();
    const aliceId = (await db.selectFrom('users').select('id').where('email', '=', 'alice@demo.carillon.localhost').executeTakeFirstOrThrow()).id;
    const managers = await db.selectFrom('call_queue_managers').select(['user_id', 'permission']).where('queue_extension_id', '=', queueId).execute();
    expect(managers).toEqual([{ user_id: aliceId, permission: 'full' }]);
    expect((await db.selectFrom('call_queues').select('manager_pin_hash').where('extension_id', '=', queueId).executeTakeFirstOrThrow()).manager_pin_hash).not.toBeNull();
    // The page reloads what was saved: the PIN is now set.
    await page.getByText(queuesEn['callQueues.admin.pinSet']).waitFor();

    // Messages (CQ-09, CQ-10): Bob receives the queue's messages, transcribed.
    await page.getByLabel(queuesEn['callQueues.admin.recipient']).selectOption('202');
    await page.getByLabel(queuesEn['callQueues.admin.transcribe']).check();
    await page.getByTestId('save-voicemail').click();
    await page.locator('form[aria-labelledby="q-voicemail"] [role="status"]').filter({ hasText: en['common.saved'] }).waitFor();
    expect(await page.evaluate(async (id) => (await fetch(`/api/call-queues/${id}/voicemail`)).json(), queueId)).toEqual({ recipient: '202', transcribe: true });

    // Notifications (CQ-11): missed calls too, to the queue's own address; a bad address is refused in words and nothing is saved.
    const notifyForm = page.locator('form[aria-labelledby="q-notifications"]');
    await notifyForm.getByLabel(queuesEn['callQueues.admin.notifyMissed']).check();
    await notifyForm.getByLabel(queuesEn['callQueues.admin.notifyTo']).fill('sales-team@example.com');
    await page.getByTestId('save-notifications').click();
    await notifyForm.locator('[role="status"]').filter({ hasText: en['common.saved'] }).waitFor();
    const notifications = async () => ((await db.selectFrom('call_queues').select('settings').where('extension_id', '=', queueId).executeTakeFirstOrThrow()).settings as { notifications: unknown }).notifications;
    expect(await notifications()).toEqual({ email: 'sales-team@example.com', voicemail: { email: true, attachment: false, to: null }, missedCalls: { email: true, to: null } });

    // Custom rules and blocked calls (CQ-12): a VIP rule to 201, an outside number blocked.
    const rulesForm = page.locator('form[aria-labelledby="q-rules"]');
    await rulesForm.getByRole('button', { name: queuesEn['callQueues.admin.addRule'] }).click();
    await rulesForm.getByLabel(queuesEn['callQueues.admin.ruleName']).fill('VIP');
    await rulesForm.locator('#q-rule-0-target-type').selectOption('extension');
    await rulesForm.locator('#q-rule-0-target-ext').fill('201');
    // No condition yet: the server refuses the rule, and the page says so.
    await page.getByTestId('save-rules').click();
    await rulesForm.locator('[role="alert"]').waitFor();
    await rulesForm.getByLabel(rulesEn['answeringRules.cond.callerId']).fill('+14155550100');
    await rulesForm.getByLabel(queuesEn['callQueues.admin.blockedNumbers']).fill('+33612345678');
    await page.getByTestId('save-rules').click();
    await rulesForm.locator('[role="status"]').filter({ hasText: en['common.saved'] }).waitFor();
    const rules = (await db.selectFrom('call_queues').select('settings').where('extension_id', '=', queueId).executeTakeFirstOrThrow()).settings as { customRules: unknown[]; blocked: unknown };
    expect(rules.customRules).toEqual([{ name: 'VIP', enabled: true, conditions: [{ type: 'caller_id', numbers: ['+14155550100'], contactIds: [], anonymous: false }], target: { type: 'extension', extension: '201' } }]);
    expect(rules.blocked).toEqual({ anonymous: false, numbers: ['+33612345678'], message: 'not_accepting' });
    expect(await seriousViolations(page)).toEqual([]);

    // A second queue on the same number is refused, in words.
    await page.goto(`${product.url}/admin/phone-system/call-queues`);
    await page.getByTestId('call-queues').getByRole('link', { name: 'Sales' }).waitFor();
    await page.getByLabel(queuesEn['callQueues.admin.name'], { exact: true }).fill('Support');
    await page.getByLabel(queuesEn['callQueues.admin.number'], { exact: true }).fill('600');
    await page.getByLabel(queuesEn['callQueues.admin.copyFrom']).selectOption({ label: 'Sales (600)' });
    await page.getByRole('button', { name: queuesEn['callQueues.admin.create'] }).click();
    await page.getByRole('alert').filter({ hasText: queuesEn['callQueues.admin.error.number_taken'] }).waitFor();
    // On a free number, the new queue starts with the settings of the one it copies (not its members), then overflows to it.
    await page.getByLabel(queuesEn['callQueues.admin.number'], { exact: true }).fill('601');
    await page.getByRole('button', { name: queuesEn['callQueues.admin.create'] }).click();
    await page.waitForURL((u) => /^\/admin\/phone-system\/call-queues\/[0-9a-f-]{36}$/.test(u.pathname));
    const supportId = page.url().split('/').pop()!.split('?')[0]!;
    expect(await page.locator('#q-distribution').inputValue()).toBe('sequential');
    await page.locator('#q-greeting-mode').selectOption('tts');
    await page.locator('#q-greeting-text').fill('Thank you for calling support.');
    await page.getByRole('checkbox', { name: 'Sales (600)' }).check();
    await page.getByTestId('save-queue').click();
    await page.locator('form[aria-labelledby="q-members"] [role="status"]').filter({ hasText: en['common.saved'] }).waitFor();
    const support = (await db.selectFrom('call_queues').select('settings').where('extension_id', '=', supportId).executeTakeFirstOrThrow()).settings as Record<string, unknown>;
    expect(support).toMatchObject({ distribution: 'sequential', overflow: ['600'], greeting: { mode: 'tts', text: 'Thank you for calling support.' }, afterHours: { type: 'extension', extension: '201' } });
    expect(await db.selectFrom('call_queue_members').select('member_extension_id').where('queue_extension_id', '=', supportId).execute()).toEqual([]);
  });

  it('creates a paging group with a receiving device and a pager', { timeout: 60_000 }, async () => {
    await page.goto(`${product.url}/admin/phone-system/paging`);
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel('Group Name', { exact: true }).fill('Warehouse');
    await page.getByLabel('Extension Number', { exact: true }).fill('7300');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL((u) => /^\/admin\/phone-system\/paging\/[0-9a-f-]{36}$/.test(u.pathname));
    const groupId = page.url().split('/').pop()!.split('?')[0]!;
    await page.getByRole('checkbox', { name: /Warehouse phone/ }).check();
    await page.getByRole('checkbox', { name: 'alice Test, ext. 201' }).check();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByTestId('save-paging').click();
    await page.getByRole('status').filter({ hasText: en['common.saved'] }).waitFor();
    await expect
      .poll(() => db.selectFrom('paging_group_receivers').select('device_id').where('paging_extension_id', '=', groupId).execute(), { timeout: 10_000, message: 'paging receivers' })
      .toEqual([{ device_id: deskPhoneId }]);
    const api = await page.evaluate(async (id) => (await (await fetch(`/api/paging-groups/${id}`)).json()) as { group: { number: string; name: string; pagerExtensionIds: string[] } }, groupId);
    expect(api.group).toMatchObject({ number: '7300', name: 'Warehouse', pagerExtensionIds: [ext['201']] });
  });

  it('creates a call monitoring group through its three steps', { timeout: 60_000 }, async () => {
    await page.goto(`${product.url}/admin/phone-system/monitoring`);
    await page.getByRole('button', { name: 'New Call Monitoring' }).click();
    await page.getByLabel('Group Name', { exact: true }).fill('Supervisors');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Select users that can monitor' }).waitFor();
    await page.getByRole('checkbox', { name: 'alice Test, ext. 201' }).check();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Select users that can be monitored' }).waitFor();
    await page.getByRole('checkbox', { name: 'bob Test, ext. 202' }).check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('monitoring-groups').getByRole('cell', { name: 'Supervisors', exact: true }).waitFor();
    const api = await page.evaluate(async () => (await (await fetch('/api/monitoring-groups')).json()) as { groups: { name: string; monitorExtensionIds: string[]; monitoredExtensionIds: string[] }[] });
    expect(api.groups).toEqual([expect.objectContaining({ name: 'Supervisors', monitorExtensionIds: [ext['201']], monitoredExtensionIds: [ext['202']] })]);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('refuses every page to a Standard user (403)', { timeout: 60_000 }, async () => {
    const queue = await db.selectFrom('extensions').select('id').where('number', '=', '600').executeTakeFirstOrThrow();
    const paging = await db.selectFrom('extensions').select('id').where('number', '=', '7300').executeTakeFirstOrThrow();
    const standard = await signIn(browser, product.url, 'alice@demo.carillon.localhost', STRONG.password);
    try {
      for (const path of ['/admin/phone-system/call-queues', `/admin/phone-system/call-queues/${queue.id}`, '/admin/phone-system/paging', `/admin/phone-system/paging/${paging.id}`, '/admin/phone-system/monitoring']) {
        const res = await standard.goto(`${product.url}${path}`);
        expect(res?.status(), path).toBe(403);
      }
    } finally {
      await standard.context().close();
    }
  });
});
