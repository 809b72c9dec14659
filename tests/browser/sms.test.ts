/// <reference lib="dom" />
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { secretBox } from '@carillon/core';
import { createSmsCarrier } from '@carillon/core/sms';
import { openPostgres, type Db } from '@carillon/db';
import { launchChromium } from '../support/browser.ts';
import { seriousViolations } from '../support/axe.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createStandardUsers, signIn } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { redisUrl } from '../support/env.ts';
import { startTestSmsc, type TestSmsc } from '../../workers/test/test-smsc.ts';

/**
 * Two users text each other through the test SMSC (issue 18): what one sends
 * reaches the SMSC, which sends it back as an inbound text to the other's
 * number; the other's Messages page shows it live, with its unread badge,
 * without a reload. The composer's counter follows the text as it is typed,
 * and its emoji picker inserts at the caret.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let browser: Browser;
let db: Db;
let smsc: TestSmsc;
let samPage: Page;
let tomPage: Page;
const key = randomBytes(32);
const PASSWORD = 'Meadow5Lantern';
const SAM_NUMBER = '+14155550101';
const TOM_NUMBER = '+14155550102';

/** The SMSC loop: the text submitted to `to` comes back to it as an inbound text (from the sender). */
async function loopBack(text: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const submitted = smsc.received.find((r) => r.text === text);
    if (submitted) {
      await smsc.sendInbound(submitted.from, submitted.to, submitted.text);
      return;
    }
    if (Date.now() > deadline) throw new Error(`the SMSC never received ${JSON.stringify(text)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'smsui');
  smsc = await startTestSmsc({ systemId: 'loop', password: 'loop-secret-pw' });
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), REDIS_URL: redisUrl(), ENABLE_UNRELEASED: 'sms', SECRET_KEY: key.toString('base64') });
  db = openPostgres(product.databaseUrl(), 2);
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  await createStandardUsers(db, [
    { extension: '201', name: 'sam', password: PASSWORD },
    { extension: '202', name: 'tom', password: PASSWORD },
  ]);
  const users = await db.selectFrom('users').select(['email', 'extension_id', 'account_id']).execute();
  const samU = users.find((u) => u.email.startsWith('sam@'))!;
  const tomU = users.find((u) => u.email.startsWith('tom@'))!;
  await db
    .insertInto('phone_numbers')
    .values([
      { account_id: samU.account_id, e164: SAM_NUMBER, type: 'direct', extension_id: samU.extension_id },
      { account_id: samU.account_id, e164: TOM_NUMBER, type: 'direct', extension_id: tomU.extension_id },
    ])
    .execute();
  await createSmsCarrier(db, secretBox(key), samU.account_id, { name: 'Loop SMSC', trafficClass: 'p2p', host: '127.0.0.1', port: smsc.port, systemId: 'loop', password: 'loop-secret-pw' });
  browser = await launchChromium();
  samPage = await signIn(browser, product.url, 'sam@demo.carillon.localhost', PASSWORD);
  tomPage = await signIn(browser, product.url, 'tom@demo.carillon.localhost', PASSWORD);
  for (const page of [samPage, tomPage]) {
    await page.goto(`${product.url}/me/messages`);
    await page.getByTestId('sms-composer').waitFor();
  }
}, 180_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    await samPage?.screenshot({ path: `${product.dataDir}/sam-failure.png` }).catch(() => {});
    await tomPage?.screenshot({ path: `${product.dataDir}/tom-failure.png` }).catch(() => {});
    console.error(`screenshots in ${product.dataDir}`);
  }
});

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await smsc?.close();
  await scratch?.drop();
});

async function compose(page: Page, to: string, body: string, group = false): Promise<void> {
  const composer = page.getByTestId('sms-composer');
  await composer.locator('input[name="to"]').fill(to);
  await composer.locator('input[name="group"]').setChecked(group);
  await composer.locator('textarea[name="body"]').fill(body);
  await composer.getByRole('button', { name: 'Send' }).click();
}

describe('texting through the SMSC loop', () => {
  it('counts segments as the text is typed: GSM-7, then UCS-2 with an emoji', async () => {
    const composer = samPage.getByTestId('sms-composer');
    await composer.locator('textarea[name="body"]').fill('x'.repeat(400));
    await expect.poll(() => samPage.getByTestId('sms-counter').innerText()).toBe('GSM-7 · 3 segment(s) · 59 characters left');
    await composer.locator('textarea[name="body"]').fill('Hi 🙂');
    await expect.poll(() => samPage.getByTestId('sms-counter').innerText()).toBe('UCS-2 · 1 segment(s) · 65 characters left');
  });

  it('refuses a group text of 11 with a clear message on the page', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => `+1415555${String(3000 + i)}`).join(', ');
    await compose(samPage, eleven, 'Too many', true);
    await expect.poll(() => samPage.getByRole('alert').innerText()).toContain('a group text has at most 10 recipients (11 given)');
  });

  it('shows sam’s text in tom’s conversations live, with the unread badge, and clears it once read', async () => {
    await compose(samPage, TOM_NUMBER, 'Hello Tom, lunch?');
    await loopBack('Hello Tom, lunch?');
    const conversation = tomPage.getByTestId('sms-conversations').getByRole('button', { name: new RegExp(SAM_NUMBER.replace('+', '\\+')) });
    await conversation.waitFor();
    await expect.poll(() => tomPage.getByTestId('sms-unread').innerText()).toBe('1 unread');
    await conversation.click();
    await expect.poll(() => tomPage.getByTestId('sms-message').last().innerText()).toContain('Hello Tom, lunch?');
    await tomPage.getByTestId('sms-unread').waitFor({ state: 'detached' });
  });

  it('tom answers; sam sees the answer live in the conversation he has open', { timeout: 90_000 }, async () => {
    await samPage.getByTestId('sms-conversations').getByRole('button', { name: new RegExp(TOM_NUMBER.replace('+', '\\+')) }).click();
    await tomPage.getByRole('button', { name: 'Reply' }).click();
    await tomPage.getByTestId('sms-composer').locator('textarea[name="body"]').fill('Sure, at noon');
    await tomPage.getByTestId('sms-composer').getByRole('button', { name: 'Send' }).click();
    await loopBack('Sure, at noon');
    await expect.poll(() => samPage.getByTestId('sms-conversation').innerText(), { timeout: 30_000 }).toContain('Sure, at noon');
    // Sam's own text reached the SMSC once, and its receipt marked it delivered.
    expect(smsc.received.filter((r) => r.text === 'Hello Tom, lunch?')).toHaveLength(1);
    await expect.poll(() => samPage.getByTestId('sms-conversation').innerText(), { timeout: 30_000 }).toContain('delivered');
  });

  // Its own waits (30 s for the list, 60 s for the SMSC) outlast the default test timeout on a busy machine.
  it('a group text of 3 makes one conversation; a bulk text of 50 makes 50', { timeout: 120_000 }, async () => {
    const list = samPage.getByTestId('sms-conversations').locator('li');
    const before = await list.count();
    await compose(samPage, '+14155554001; +14155554002, +14155554003', 'Team meeting at 3', true);
    await samPage.getByTestId('sms-conversation').getByText('+14155554001, +14155554002, +14155554003').first().waitFor();
    await expect.poll(() => list.count()).toBe(before + 1);
    const fifty = Array.from({ length: 50 }, (_, i) => `+1415555${String(5000 + i)}`).join('; ');
    await compose(samPage, fifty, 'Our store opens at 9');
    await expect.poll(() => list.count(), { timeout: 30_000 }).toBe(before + 51);
    await expect.poll(() => smsc.received.filter((r) => r.text === 'Our store opens at 9').length, { timeout: 60_000 }).toBe(50);
    expect(smsc.received.filter((r) => r.text === 'Team meeting at 3').map((r) => r.to).sort()).toEqual(['14155554001', '14155554002', '14155554003']); // SMPP addresses carry no '+' (TON international)
  });

  it('finds texts by a word or part of a number, and opens the conversation found', async () => {
    const search = tomPage.getByTestId('sms-search');
    const results = tomPage.getByTestId('sms-search-results');
    await search.locator('input[name="q"]').fill('LUNCH');
    await search.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => results.locator('li').count()).toBe(1);
    expect(await results.innerText()).toContain('Hello Tom, lunch?');
    await results.getByRole('button').click();
    await expect.poll(() => tomPage.getByTestId('sms-conversation').innerText()).toContain('Sure, at noon');
    // Both texts with sam, found by the end of his number.
    await search.locator('input[name="q"]').fill(SAM_NUMBER.slice(-7));
    await search.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => results.locator('li').count()).toBe(2);
    await search.locator('input[name="q"]').fill('no text says this');
    await search.getByRole('button', { name: 'Search', exact: true }).click();
    await tomPage.getByText('No text matches.').waitFor();
    await search.getByRole('button', { name: 'Clear search' }).click();
    await results.waitFor({ state: 'detached' });
  });

  it('offers the user’s contacts in To and sends to the one picked', async () => {
    const created = await samPage.request.post(`${product.url}/api/me/contacts`, { data: { firstName: 'Tom', lastName: 'Office', phone: TOM_NUMBER } });
    expect(created.status()).toBe(201);
    const composer = samPage.getByTestId('sms-composer');
    await composer.locator('input[name="to"]').fill('');
    await composer.locator('input[name="to"]').pressSequentially('Tom O');
    await samPage.getByTestId('sms-contact-suggestions').getByRole('button', { name: /Tom Office/ }).click();
    await expect.poll(() => composer.locator('input[name="to"]').inputValue()).toBe('Tom Office, ');
    await composer.locator('input[name="group"]').setChecked(false);
    await composer.locator('textarea[name="body"]').fill('Sent to a contact');
    await composer.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => smsc.received.filter((r) => r.text === 'Sent to a contact').map((r) => r.to), { timeout: 30_000 }).toEqual([TOM_NUMBER.slice(1)]);
  });

  it('inserts an emoji from the picker at the caret, by keyboard, and the text reaches the SMSC with it', async () => {
    const composer = samPage.getByTestId('sms-composer');
    const field = composer.locator('textarea[name="body"]');
    await composer.locator('input[name="to"]').fill('+14155550199');
    await composer.locator('input[name="group"]').setChecked(false);
    await field.fill('See you at noon');
    await field.evaluate((el: HTMLTextAreaElement) => el.setSelectionRange(7, 7));
    await samPage.getByTestId('sms-emoji-toggle').click();
    const grid = samPage.getByTestId('sms-emoji-grid');
    expect(await seriousViolations(samPage)).toEqual([]);
    // The first emoji has the focus; down a row (6) and right twice: the 9th, thumbs up.
    await samPage.keyboard.press('ArrowDown');
    await samPage.keyboard.press('ArrowRight');
    await samPage.keyboard.press('ArrowRight');
    expect(await samPage.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Thumbs up');
    await samPage.keyboard.press('Enter');
    await expect.poll(() => field.inputValue()).toBe('See you👍 at noon');
    await expect.poll(() => samPage.getByTestId('sms-counter').innerText()).toBe('UCS-2 · 1 segment(s) · 53 characters left');
    // Escape closes the grid and gives the focus back to its button.
    await samPage.keyboard.press('Escape');
    await grid.waitFor({ state: 'detached' });
    expect(await samPage.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('sms-emoji-toggle');
    await composer.getByRole('button', { name: 'Send' }).click();
    // UCS-2 on the air (data_coding 8, SMPP 3.4 §5.2.19).
    await expect.poll(() => smsc.received.filter((r) => r.text === 'See you👍 at noon').map((r) => [r.to, r.dataCoding]), { timeout: 30_000 }).toEqual([['14155550199', 8]]);
  });
});
