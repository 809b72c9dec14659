/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openPostgres, type Db } from '@carillon/db';
import { launchChromium } from '../support/browser.ts';
import { printProductLogOnFailure, startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createStandardUsers, FAKE_MEDIA_FLAGS, signIn } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * Meetings end to end (issue 17, unreleased area 'meetings'): the host creates a meeting by API, two
 * Chromium pages with fake camera and microphone join it through the join page, and each receives the
 * other's video (frames decoded rising) and audio (energy rising) through our SFU, read off each
 * page's own RTCPeerConnection getStats(). When one leaves, the other's tile for them goes. A wrong
 * passcode is refused on the page, and a user of another account cannot open or join the meeting.
 */
const PASSWORD = 'Meadow5Lantern';
const PASSCODE = 'Tide42';

let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let browser: Browser;
let meetingNumber: string;

printProductLogOnFailure(() => product, /meeting|SFU/);

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'meetingjoin');
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), ENABLE_UNRELEASED: 'meetings' });
  db = openPostgres(product.databaseUrl(), 2);
  const admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  await createStandardUsers(db, [
    { extension: '201', name: 'alice', password: PASSWORD },
    { extension: '202', name: 'bob', password: PASSWORD },
  ]);
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  const alice = new HttpClient(product.url);
  expect((await alice.form('/login', { identifier: 'alice@demo.carillon.localhost', password: PASSWORD })).status).toBe(303);
  const created = await alice.json('POST', '/api/me/meetings', { topic: 'Weekly sync', passcode: PASSCODE });
  expect(created.status, await created.clone().text()).toBe(201);
  meetingNumber = ((await created.json()) as { meeting: { number: string } }).meeting.number;
  // media-server's SFU may finish starting after the app.
  const deadline = Date.now() + 60_000;
  while (!/meetings SFU listening/.test(product.output()) || !/meeting control channel listening/.test(product.output())) {
    if (Date.now() > deadline) throw new Error(`media-server's SFU did not start:\n${product.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await launchChromium(FAKE_MEDIA_FLAGS);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

/** Every RTCPeerConnection the page makes, kept where the test can read its stats. */
const RECORD_PEER_CONNECTIONS = () => {
  const Native = window.RTCPeerConnection;
  const made: RTCPeerConnection[] = [];
  (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs = made;
  window.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      made.push(this);
    }
  } as typeof RTCPeerConnection;
};

async function meetingPage(email: string): Promise<Page> {
  const page = await signIn(browser, product.url, email, PASSWORD, ['camera', 'microphone']);
  page.setDefaultTimeout(20_000);
  await page.addInitScript(RECORD_PEER_CONNECTIONS);
  await page.goto(`${product.url}/meetings/${meetingNumber}`);
  // The preview shows the camera before Join is possible.
  await page.getByRole('button', { name: 'Join' }).and(page.locator(':enabled')).waitFor();
  return page;
}

/** What the page receives: the sum over its inbound streams of decoded video frames and of audio energy. */
function received(page: Page): Promise<{ frames: number; energy: number; width: number }> {
  return page.evaluate(async () => {
    let frames = 0;
    let energy = 0;
    let width = 0;
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      (await pc.getStats()).forEach((s: { type: string; kind?: string; framesDecoded?: number; totalAudioEnergy?: number; frameWidth?: number }) => {
        if (s.type !== 'inbound-rtp') return;
        if (s.kind === 'video') {
          frames += s.framesDecoded ?? 0;
          width = Math.max(width, s.frameWidth ?? 0);
        }
        if (s.kind === 'audio') energy += s.totalAudioEnergy ?? 0;
      });
    }
    return { frames, energy, width };
  });
}

/** Waits until the page's received video frames and audio energy rise above `from`'s. */
async function receivingMore(page: Page, from: { frames: number; energy: number }, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await received(page);
    if (now.frames > from.frames + 10 && now.energy > from.energy) return now;
    if (Date.now() > deadline) throw new Error(`media did not arrive: ${JSON.stringify({ from, now })}`);
    await page.waitForTimeout(200);
  }
}

describe('a meeting through the SFU', () => {
  it('refuses a wrong passcode, then two browsers see and hear each other, and a leaver’s tile goes', async () => {
    const bob = await meetingPage('bob@demo.carillon.localhost');
    await bob.getByLabel('Passcode').fill('wrong99');
    await bob.getByRole('button', { name: 'Join' }).click();
    await bob.getByRole('alert').filter({ hasText: 'Wrong passcode.' }).waitFor();
    await bob.getByLabel('Passcode').fill(PASSCODE);
    await bob.getByRole('button', { name: 'Join' }).click();
    await bob.getByText('You are the only one here.').waitFor();

    // The host needs no passcode.
    const alice = await meetingPage('alice@demo.carillon.localhost');
    await expect(alice.getByLabel('Passcode').count()).resolves.toBe(0);
    await alice.getByRole('button', { name: 'Join' }).click();
    await alice.locator('figure[data-peer]').waitFor();
    await bob.locator('figure[data-peer]').waitFor();
    await expect(alice.locator('figure[data-peer] figcaption').innerText()).resolves.toBe('bob Test');
    await expect(bob.locator('figure[data-peer] figcaption').innerText()).resolves.toBe('alice Test');

    // Each receives the other's video and audio, still flowing a moment later.
    for (const page of [alice, bob]) {
      const first = await receivingMore(page, { frames: 0, energy: 0 });
      expect(first.width).toBeGreaterThan(0);
      await receivingMore(page, first);
    }

    await bob.getByRole('button', { name: 'Leave' }).click();
    await bob.getByText('You left the meeting.').waitFor();
    await alice.locator('figure[data-peer]').waitFor({ state: 'detached' });
    await alice.getByText('You are the only one here.').waitFor();
    await alice.getByRole('button', { name: 'Leave' }).click();
    await alice.context().close();
    await bob.context().close();
  }, 120_000);

  it('does not let a user of another account open or join the meeting by its ID', async () => {
    const beta = new HttpClient(product.url);
    expect((await activate(beta, (await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example'])).link)).status).toBe(303);
    // Past the setup wizard, so the portal's pages answer for themselves.
    await db.updateTable('accounts').set({ setup_completed_at: new Date() }).where('setup_completed_at', 'is', null).execute();
    const join = await beta.json('POST', `/api/meetings/${meetingNumber}/join`, { passcode: PASSCODE });
    expect(join.status).toBe(404);
    const page = await beta.get(`/meetings/${meetingNumber}`);
    expect(page.status).toBe(404);
  });
});
