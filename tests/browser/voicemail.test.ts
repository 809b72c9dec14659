/// <reference lib="dom" />
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { openPostgres, type Db } from '@carillon/db';
import { VOICEMAIL_EVENTS_CHANNEL } from '@carillon/contracts/voicemail-events';
import { launchChromium } from '../support/browser.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createStandardUsers, signIn } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { redisClient, redisUrl } from '../support/env.ts';
import { depositVoicemail } from '../support/voicemail.ts';

/**
 * The voicemail inbox in the browser (issue 13, acceptance "a playwright
 * test"): a message left as media-server leaves it (row, WAV, transcript, and
 * the 'deposited' event on Redis) raises the new-voicemail badge live on
 * whatever page the user is on; in My Extension › Messages the user plays it
 * (the audio element really plays, and seeks), reads the transcript, and
 * deletes it to the trash; the badge follows each change.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let browser: Browser;
let db: Db;
let publisher: Redis;
let page: Page;
let accountId = '';
let samExtension = '';
const PASSWORD = 'Meadow5Lantern';
const TRANSCRIPT = 'Hello Sam, this is Alice from accounting, please call me back about the delivery on Monday.';

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'voicemailui');
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), REDIS_URL: redisUrl(), ENABLE_UNRELEASED: 'voicemail' });
  db = openPostgres(product.databaseUrl(), 2);
  publisher = redisClient();
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  await createStandardUsers(db, [{ extension: '201', name: 'sam', password: PASSWORD }]);
  const sam = await db.selectFrom('users').select(['account_id', 'extension_id']).where('email', '=', 'sam@demo.carillon.localhost').executeTakeFirstOrThrow();
  accountId = sam.account_id;
  samExtension = sam.extension_id;
  // Playing starts from the page's script, as a click on the player's own button would.
  browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
  page = await signIn(browser, product.url, 'sam@demo.carillon.localhost', PASSWORD);
}, 180_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    await page?.screenshot({ path: `${product.dataDir}/voicemail-failure.png` }).catch(() => {});
    console.error(`screenshot in ${product.dataDir}`);
  }
});

afterAll(async () => {
  await browser?.close();
  await publisher?.quit();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

/** A message left in Sam's mailbox, announced as media-server announces it. */
async function leaveMessage(seconds: number, fromName: string) {
  const m = await depositVoicemail(db, product.dataDir, { accountId, mailboxExtensionId: samExtension, fromName, seconds, transcript: TRANSCRIPT });
  await publisher.publish(VOICEMAIL_EVENTS_CHANNEL, JSON.stringify({ kind: 'deposited', accountId, mailboxExtensionId: samExtension, messageId: m.id }));
  return m;
}

describe('the voicemail inbox', () => {
  it('raises the badge live on another page when a message is left', async () => {
    await page.goto(`${product.url}/me`);
    // Once the badge has counted and its socket is connected, a message can only reach it live.
    await page.locator('[data-testid="voicemail-live"][data-ready="true"]').waitFor({ state: 'attached', timeout: 30_000 });
    expect(await page.getByTestId('voicemail-badge').count()).toBe(0);
    await leaveMessage(6, 'Alice Martin');
    await expect.poll(() => page.getByTestId('voicemail-badge').innerText(), { timeout: 30_000 }).toBe('Voicemail: 1 new');
  }, 90_000);

  it('plays the message (the audio really plays, and seeks), shows the transcript, marks it read, and the badge follows', async () => {
    await page.getByTestId('voicemail-badge').click();
    await page.waitForURL((u) => u.pathname === '/me/messages');
    const item = page.getByTestId('voicemail-message').first();
    await item.waitFor();
    expect(await item.getAttribute('data-status')).toBe('new');
    expect(await item.innerText()).toContain('Alice Martin (+33612345678)');
    expect(await item.innerText()).toContain('6 s');
    expect(await item.getByTestId('voicemail-transcript').innerText()).toBe(TRANSCRIPT);
    await expect.poll(() => page.getByTestId('voicemail-unread').innerText()).toBe('1 new');

    const audio = item.getByTestId('voicemail-audio');
    await audio.evaluate((el: HTMLAudioElement) => el.play());
    // The clock of the element advances only if the audio is really decoded and played.
    await expect.poll(() => audio.evaluate((el: HTMLAudioElement) => el.currentTime), { timeout: 30_000 }).toBeGreaterThan(0.5);
    expect(await audio.evaluate((el: HTMLAudioElement) => el.duration)).toBeCloseTo(6, 0);
    // Seeking asks the server for a byte range; playing goes on from there.
    await audio.evaluate((el: HTMLAudioElement) => {
      el.currentTime = 4;
    });
    await expect.poll(() => audio.evaluate((el: HTMLAudioElement) => el.currentTime), { timeout: 30_000 }).toBeGreaterThan(4.2);
    // Listening marked it read: the inbox count and the badge on every page go.
    await expect.poll(() => item.getAttribute('data-status'), { timeout: 30_000 }).toBe('heard');
    await page.getByTestId('voicemail-unread').waitFor({ state: 'detached' });
    await page.getByTestId('voicemail-badge').waitFor({ state: 'detached' });
    await audio.evaluate((el: HTMLAudioElement) => el.pause());
  }, 120_000);

  it('marks it unread again, then deletes it to the trash and restores it', async () => {
    const item = page.getByTestId('voicemail-message').first();
    await item.getByRole('button', { name: 'Mark as unread' }).click();
    await expect.poll(() => page.getByTestId('voicemail-badge').innerText(), { timeout: 30_000 }).toBe('Voicemail: 1 new');
    await item.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.getByTestId('voicemail-message').count()).toBe(0);
    await page.getByTestId('voicemail-badge').waitFor({ state: 'detached' });
    await page.getByTestId('voicemail-trash').click();
    const trashed = page.getByTestId('voicemail-message');
    await expect.poll(() => trashed.count()).toBe(1);
    expect(await trashed.innerText()).toContain('Deleted');
    await trashed.getByRole('button', { name: 'Restore' }).click();
    await expect.poll(() => trashed.count()).toBe(0);
    await expect.poll(() => page.getByTestId('voicemail-badge').innerText(), { timeout: 30_000 }).toBe('Voicemail: 1 new');
  }, 90_000);
});
