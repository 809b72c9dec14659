import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openPostgres, type Db } from '@carillon/db';
import { printProductLogOnFailure, startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { launchChromium } from '../support/browser.ts';
import { freeMediaPort, freeSipPort, startSipp } from '../../media-server/test/support/sipp.ts';
import { RtpPhone } from '../../media-server/test/support/rtp-phone.ts';
import { createStandardUsers, FAKE_MEDIA_FLAGS, signInToPhone } from '../support/softphone-users.ts';

/**
 * A browser softphone in a paging group plays the page (issue 15 point 2), in the product as
 * `npm start` runs it with the unreleased area 'paging': a desk phone (SIPp, its media the test's
 * RTP socket sending a tone) dials `*84` + the group; Alice's softphone answers by itself (the
 * INVITE's Call-Info answer-after=0), receives audio with energy (Chromium's own RTP statistics),
 * and is not heard by the pager; the pager's BYE ends it.
 */
let product: RunningProduct;
let db: Db;
let browser: Browser;
let alice: Page;
let deskPhone: { username: string; password: string };
let sipTarget: string;
const PASSWORD = 'Meadow5Lantern';

interface MediaStats {
  packetsReceived: number;
  audioEnergy: number;
}

beforeAll(async () => {
  product = await startProduct({ ENABLE_UNRELEASED: 'paging' });
  db = openPostgres(product.databaseUrl(), 2);
  const admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  await createStandardUsers(db, [
    { extension: '102', name: 'alice', password: PASSWORD },
    { extension: '105', name: 'desk', password: PASSWORD },
  ]);
  const ext105 = await db.selectFrom('extensions').select('id').where('number', '=', '105').executeTakeFirstOrThrow();
  const issued = await admin.json('POST', '/api/devices', { extensionId: ext105.id, type: 'desk_phone', name: 'Desk phone' });
  expect(issued.status).toBe(201);
  deskPhone = ((await issued.json()) as { sip: { username: string; password: string } }).sip;
  let listening: RegExpExecArray | null = null;
  for (let i = 0; i < 300 && !listening; i++) {
    listening = /"msg":"SIP edge listening".*?"ports":\{[^}]*"UDP":(\d+)/.exec(product.output());
    if (!listening) await new Promise((r) => setTimeout(r, 100));
  }
  expect(listening, 'media-server did not log its SIP ports').not.toBeNull();
  sipTarget = `127.0.0.1:${listening![1]}`;
  browser = await launchChromium(FAKE_MEDIA_FLAGS);
  // Signing in to the phone creates Alice's softphone device and registers it.
  alice = await signInToPhone(browser, product.url, 'alice@demo.carillon.localhost', PASSWORD);
  const ext102 = await db.selectFrom('extensions').select('id').where('number', '=', '102').executeTakeFirstOrThrow();
  const softphone = await db.selectFrom('devices').select('id').where('extension_id', '=', ext102.id).where('type', '=', 'softphone').executeTakeFirstOrThrow();
  const group = await admin.json('POST', '/api/paging-groups', { name: 'Shop floor', number: '7300', receiverDeviceIds: [softphone.id], pagerExtensionIds: [ext105.id] });
  expect(group.status, await group.clone().text()).toBe(201);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
});

printProductLogOnFailure(() => product, /\[media-server\].*"msg":"(call|dial-out|page|room)/i);

const stats = (page: Page) => page.evaluate(() => (window as unknown as { carillonSoftphone: { mediaStats(): Promise<MediaStats | null> } }).carillonSoftphone.mediaStats());

describe('paging a browser softphone', () => {
  it('answers the page by itself, plays the pager\'s audio, is not heard back, and ends with the pager\'s BYE', async () => {
    const voice = await RtpPhone.open(900);
    try {
      const page = startSipp({
        scenario: 'uac-talk-then-bye.xml',
        target: sipTarget,
        localPort: await freeSipPort(),
        service: '*847300',
        auth: deskPhone,
        timeoutSeconds: 60,
        vars: { rtpport: String(voice.port), talkms: '6000' },
        extra: ['-mp', String(await freeMediaPort())],
      });
      // No click: the softphone answered the page itself.
      await alice.locator('[data-testid="call-state"][data-call="in-call"]').waitFor({ timeout: 15_000 });
      const since = Date.now();
      // The pager's tone reaches the browser: packets and audio energy, as Chromium counts them.
      await expect.poll(async () => (await stats(alice))?.packetsReceived ?? 0, { timeout: 10_000, interval: 200 }).toBeGreaterThan(50);
      await expect.poll(async () => (await stats(alice))?.audioEnergy ?? 0, { timeout: 10_000, interval: 200 }).toBeGreaterThan(0);
      const result = await page.done;
      expect(result.code, result.errors || result.output.slice(-1500)).toBe(0);
      // Alice's fake microphone (a beep) never reached the pager: a listener is not heard.
      expect(voice.rmsSince(since)).toBeLessThan(100);
      await alice.locator('[data-testid="call-state"]').waitFor({ state: 'detached', timeout: 15_000 });
    } finally {
      voice.close();
    }
  }, 90_000);
});
