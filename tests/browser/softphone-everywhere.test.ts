import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { hashSecret } from '@carillon/core';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { launchChromium } from '../support/browser.ts';
import { createStandardUsers, FAKE_MEDIA_FLAGS, signIn } from '../support/softphone-users.ts';

/**
 * The softphone belongs to the whole signed-in app, not to the Phone page:
 * it registers at sign-in, calls ring on any page with the call bar, and
 * moving between pages (SvelteKit's client-side navigation) keeps the call
 * and its audio. Audio is checked with Chromium's own RTP statistics.
 */
let product: RunningProduct;
let db: Db;
let browser: Browser;
let alice: Page;
let bea: Page;
/** What Bea's pages sent to the SIP edge over their WebSockets. */
const beaSipSent: string[] = [];
const PASSWORD = 'Meadow5Lantern';

interface MediaStats {
  packetsReceived: number;
  audioEnergy: number;
}

type WithSoftphone = { carillonSoftphone?: { state: { status: string }; mediaStats(): Promise<MediaStats | null> } };

beforeAll(async () => {
  product = await startProduct();
  db = openPostgres(product.databaseUrl(), 2);
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  await createStandardUsers(db, [
    { extension: '102', name: 'alice', password: PASSWORD },
    { extension: '103', name: 'bea', password: PASSWORD },
  ]);
  browser = await launchChromium(FAKE_MEDIA_FLAGS);
  // The admin finished the setup wizard: signing in then lands on My Extension's overview, not on the Phone page.
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  alice = await signIn(browser, product.url, 'alice@demo.carillon.localhost', PASSWORD, ['microphone']);
  bea = await signIn(browser, product.url, 'bea@demo.carillon.localhost', PASSWORD, ['microphone']);
  for (const page of [alice, bea]) expect(new URL(page.url()).pathname).toBe('/me');
  bea.on('websocket', (ws) => !ws.url().includes('/socket.io') && ws.on('framesent', (frame) => beaSipSent.push(String(frame.payload))));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
});

const registered = (page: Page) =>
  page.waitForFunction(() => (window as unknown as WithSoftphone).carillonSoftphone?.state.status === 'registered', null, { timeout: 15_000 }).catch(async (err: unknown) => {
    throw new Error(`${page.url()}: the softphone did not register; the page says: ${await page.locator('body').innerText()}`, { cause: err });
  });

const stats = async (page: Page) => (await page.evaluate(() => (window as unknown as WithSoftphone).carillonSoftphone!.mediaStats()))!;

/** Waits until every page received more RTP packets and more audio energy than it had in `before`. */
async function expectAudioSince(pages: Page[], before: MediaStats[]) {
  await expect
    .poll(async () => (await Promise.all(pages.map(stats))).map((now, i) => now.packetsReceived - before[i]!.packetsReceived > 25 && now.audioEnergy > before[i]!.audioEnergy), { timeout: 10_000 })
    .toEqual(pages.map(() => true));
}

/** Follows a link of the page as a user would: SvelteKit swaps the page without loading a new document. */
async function follow(page: Page, href: string) {
  await page.locator(`a[href="${href}"]`).first().click();
  await page.waitForURL((u) => u.pathname === href);
}

const sameDocument = (page: Page) => page.evaluate(() => (window as unknown as { beforeNavigation?: boolean }).beforeNavigation === true);

describe('softphone on every page', () => {
  it('registers at sign-in, and a call goes on with audio both ways while both users visit five other pages', async () => {
    await Promise.all([registered(alice), registered(bea)]);
    await follow(alice, '/me/phone');
    await alice.fill('#dial', '103');
    await alice.getByRole('button', { name: 'Call', exact: true }).click();
    // Bea is on her overview page: the call bar rings there.
    const incoming = bea.getByTestId('call-bar').getByRole('alertdialog', { name: 'Incoming call' });
    await incoming.waitFor({ timeout: 10_000 });
    expect(await incoming.textContent()).toContain('alice');
    await incoming.getByRole('button', { name: 'Answer' }).click();
    await alice.locator('[data-testid="call-state"][data-call="in-call"]').waitFor({ timeout: 10_000 });
    await bea.locator('[data-testid="call-bar"] [data-call="in-call"]').waitFor({ timeout: 10_000 });
    // The call's record is written at its answer, a moment after the phones show it.
    await expect.poll(async () => (await db.selectFrom('calls').select('id').where('answered_at', 'is not', null).where('ended_at', 'is', null).execute()).length, { timeout: 10_000, interval: 50 }).toBeGreaterThan(0);
    const calls = (await db.selectFrom('calls').select('id').execute()).length;

    for (const page of [alice, bea]) await page.evaluate(() => ((window as unknown as { beforeNavigation: boolean }).beforeNavigation = true));
    for (const href of ['/me/call-log', '/me/contacts', '/me/settings', '/me/fax', '/me']) {
      const before = await Promise.all([alice, bea].map(stats));
      await Promise.all([follow(alice, href), follow(bea, href)]);
      for (const page of [alice, bea]) {
        expect(await sameDocument(page), `${href} was loaded as a new document`).toBe(true);
        // The call bar shows the call on this page, with its timer.
        expect(await page.locator('[data-testid="call-bar"] [data-call="in-call"]').count()).toBe(1);
        expect(await page.getByTestId('call-bar-timer').textContent()).toMatch(/^\d+:\d\d$/);
      }
      await expectAudioSince([alice, bea], before);
    }
    // Still the one call: nothing was hung up and redialled on the way.
    expect((await db.selectFrom('calls').select('id').execute()).length).toBe(calls);

    // Back to the Phone page from the call bar: the page shows the same call, and the bar steps aside.
    await alice.getByRole('link', { name: 'Open the Phone page' }).click();
    await alice.waitForURL((u) => u.pathname === '/me/phone');
    await alice.locator('[data-testid="call-state"][data-call="in-call"]').waitFor({ timeout: 10_000 });
    expect(await alice.getByTestId('call-bar').count()).toBe(0);
    expect(await sameDocument(alice)).toBe(true);
    await expectAudioSince([alice, bea], await Promise.all([alice, bea].map(stats)));
    await alice.getByRole('button', { name: 'Hang up', exact: true }).click();
    await bea.getByTestId('call-bar').waitFor({ state: 'detached', timeout: 10_000 });
  }, 120_000);

  it('rings on the Call Log page, is answered and hung up from the call bar by keyboard, with audio both ways', async () => {
    await bea.goto(`${product.url}/me/call-log`);
    await registered(bea);
    await alice.fill('#dial', '103');
    await alice.getByRole('button', { name: 'Call', exact: true }).click();
    const incoming = bea.getByRole('alertdialog', { name: 'Incoming call' });
    await incoming.waitFor({ timeout: 10_000 });
    expect(await incoming.textContent()).toContain('alice');
    await incoming.getByRole('button', { name: 'Answer' }).focus();
    await bea.keyboard.press('Enter');
    await alice.locator('[data-testid="call-state"][data-call="in-call"]').waitFor({ timeout: 10_000 });
    // Once connected, the focus is on the call's Hang up button.
    const focused = () => bea.evaluate(() => document.activeElement?.textContent?.trim());
    await expect.poll(focused, { timeout: 10_000 }).toBe('Hang up');
    await expectAudioSince([alice, bea], await Promise.all([alice, bea].map(stats)));
    // Mute from the bar, as a toggle button.
    const bar = bea.getByTestId('call-bar');
    const mute = bar.getByRole('button', { name: 'Mute', exact: true });
    await mute.focus();
    await bea.keyboard.press('Enter');
    expect(await bar.getByRole('button', { name: 'Unmute', exact: true }).getAttribute('aria-pressed')).toBe('true');
    // The call bar's own button: the Call Log page also lists the live call, with a Hang up button of its own ("Hang up the call from 102 to 103").
    await bar.getByRole('button', { name: 'Hang up', exact: true }).focus();
    await bea.keyboard.press('Enter');
    await alice.locator('[data-testid="call-state"]').waitFor({ state: 'detached', timeout: 10_000 });
    await bea.getByTestId('call-bar').waitFor({ state: 'detached', timeout: 10_000 });
    // The focus stayed in the bar's place rather than falling back to the top of the document.
    expect(await bea.evaluate(() => document.activeElement?.classList.contains('call-bar'))).toBe(true);
  }, 60_000);

  it('signing out unregisters (REGISTER with expires 0): the user is offline for colleagues', async () => {
    const presence = () => alice.locator('[data-testid="colleagues"] li[data-extension="103"]').getAttribute('data-presence', { timeout: 2000 }).catch(() => null);
    await expect.poll(presence, { timeout: 10_000 }).toBe('available');
    await bea.getByRole('button', { name: 'Log out', exact: true }).click();
    await bea.waitForURL((u) => u.pathname === '/login');
    // The registration was removed before the page went (RFC 3261 §10.2.2: expires 0), not left to the connection's end.
    expect(beaSipSent.some((m) => m.startsWith('REGISTER ') && /^Contact: .*;expires=0\b|^Expires: 0\b/im.test(m))).toBe(true);
    await expect.poll(presence, { timeout: 10_000 }).toBe('offline');
  }, 60_000);

  it('does not register for a user whose role cannot make calls', async () => {
    const admin = await db.selectFrom('users').select(['account_id', 'extension_id']).where('email', '=', 'admin@demo.carillon.localhost').executeTakeFirstOrThrow();
    const site = await db.selectFrom('extensions').select('site_id').where('id', '=', admin.extension_id).executeTakeFirstOrThrow();
    const role = await db.insertInto('roles').values({ account_id: admin.account_id, name: 'Settings only' }).returning('id').executeTakeFirstOrThrow();
    await db.insertInto('role_permissions').values({ role_id: role.id, permission: 'self.settings' }).execute();
    const ext = await db.insertInto('extensions').values({ account_id: admin.account_id, site_id: site.site_id, number: '109', type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
    const user = await db.insertInto('users').values({ account_id: admin.account_id, extension_id: ext.id, role_id: role.id, first_name: 'noah', last_name: 'Test', email: 'noah@demo.carillon.localhost', setup_progress: JSON.stringify({}) }).returning('id').executeTakeFirstOrThrow();
    await db.insertInto('user_credentials').values({ user_id: user.id, password_hash: await hashSecret(PASSWORD) }).execute();

    const asked: string[] = [];
    const noah = await signIn(browser, product.url, 'noah@demo.carillon.localhost', PASSWORD, ['microphone']);
    noah.on('request', (r) => r.url().includes('/api/me/softphone') && asked.push(r.url()));
    noah.on('websocket', (ws) => !ws.url().includes('/socket.io') && asked.push(ws.url()));
    // A full load of another page, then a client-side navigation: neither asks for a SIP registration.
    await noah.goto(`${product.url}/me/settings`);
    await follow(noah, '/me');
    expect(asked).toEqual([]);
    expect(await noah.evaluate(() => (window as unknown as WithSoftphone).carillonSoftphone)).toBeUndefined();
    await noah.context().close();
  }, 60_000);
});
