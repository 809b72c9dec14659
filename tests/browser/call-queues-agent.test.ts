/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createCallQueue, saveCallQueue } from '@carillon/core/queues';
import { DEFAULT_QUEUE_SETTINGS } from '@carillon/domain';
import { openPostgres, type Db } from '@carillon/db';
import { seriousViolations } from '../support/axe.ts';
import { launchChromium } from '../support/browser.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';
import { createStandardUsers, signIn } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * My Extension › Call Queues in the browser (issue 15, "an agent toggles queue calls in the browser"; the
 * area is enabled for this product only): an agent member of two queues logs out of one, then of all,
 * then back in to all, and the database holds each change; the page has no serious accessibility violation.
 */

let product: RunningProduct;
let browser: Browser;
let db: Db;
let page: Page;
let aliceExtensionId = '';
let scratch: { url: string; drop: () => Promise<void> } | undefined;

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'queueagentbrowser');
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), ENABLE_UNRELEASED: 'queues' });
  db = openPostgres(product.databaseUrl(), 2);
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  await createStandardUsers(db, [{ extension: '201', name: 'alice', password: STRONG.password }]);
  const alice = await db.selectFrom('users').select(['account_id', 'extension_id']).where('email', '=', 'alice@demo.carillon.localhost').executeTakeFirstOrThrow();
  aliceExtensionId = alice.extension_id!;
  const system = { userId: null, ip: null };
  for (const [number, name] of [
    ['600', 'Sales'],
    ['601', 'Support'],
  ] as const) {
    const q = await createCallQueue(db, system, alice.account_id, { number, name });
    await saveCallQueue(db, system, alice.account_id, q.extensionId, { settings: DEFAULT_QUEUE_SETTINGS, members: [{ extension: '201', accepting: true }] });
  }
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  browser = await launchChromium();
  page = await signIn(browser, product.url, 'alice@demo.carillon.localhost', STRONG.password);
  page.setDefaultTimeout(15_000);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

/** Alice's log-in per queue, by queue number, as stored. */
const stored = async () =>
  Object.fromEntries(
    (
      await db
        .selectFrom('call_queue_members')
        .innerJoin('extensions', 'extensions.id', 'call_queue_members.queue_extension_id')
        .select(['extensions.number', 'call_queue_members.accepting'])
        .where('call_queue_members.member_extension_id', '=', aliceExtensionId)
        .execute()
    ).map((r) => [r.number, r.accepting]),
  );

describe('Call Queues page (agent)', () => {
  it('logs out of one queue, of all, and back in to all', { timeout: 60_000 }, async () => {
    await page.goto(`${product.url}/me`);
    await page.getByRole('link', { name: 'Call Queues' }).click();
    await page.waitForURL(`${product.url}/me/call-queues`);
    const sales = page.getByLabel('Accept calls of Sales (ext. 600)');
    const support = page.getByLabel('Accept calls of Support (ext. 601)');
    expect(await sales.isChecked()).toBe(true);
    await sales.uncheck();
    await expect.poll(stored).toEqual({ '600': false, '601': true });
    // The page shows what the server answered.
    await expect.poll(() => sales.isChecked()).toBe(false);
    await expect.poll(() => sales.isEnabled()).toBe(true);
    await page.getByRole('button', { name: 'Log out of all' }).click();
    await expect.poll(stored).toEqual({ '600': false, '601': false });
    await expect.poll(() => support.isChecked()).toBe(false);
    await page.getByRole('button', { name: 'Log in to all' }).click();
    await expect.poll(stored).toEqual({ '600': true, '601': true });
    await expect.poll(() => sales.isChecked()).toBe(true);
    // Audited as Alice.
    const trail = await db.selectFrom('audit_events').select('action').where('target_id', '=', aliceExtensionId).where('action', 'like', 'call_queue.member%').execute();
    expect(trail).toHaveLength(3);
  });

  it('has no serious or critical accessibility violation', { timeout: 60_000 }, async () => {
    await page.goto(`${product.url}/me/call-queues`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
  });
});
