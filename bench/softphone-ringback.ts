/**
 * Click-to-ringback in the browser softphone, on loopback: the product as
 * `npm start` runs it (embedded PGlite, private Redis, app, media-server),
 * two Standard users signed in to two headless Chromium pages, and the time
 * from the click on "Call" to the moment the page shows that the far end
 * rings (sip.js got media-server's 180: INVITE, 407, INVITE with digest,
 * routing, the callee's browser alerting). Measured inside the caller's page
 * with performance.now(), so Playwright's own latency is not counted. The
 * callee declines each call, and the next starts once both pages are idle.
 *
 *   npx node bench/softphone-ringback.ts [--calls 60]
 */
import { openPostgres } from '@carillon/db';
import { startProduct } from '../tests/support/product.ts';
import { activate, HttpClient } from '../tests/support/http-client.ts';
import { launchChromium } from '../tests/support/browser.ts';
import { createStandardUsers, FAKE_MEDIA_FLAGS, signInToPhone } from '../tests/support/softphone-users.ts';

const argv = process.argv.slice(2);
const CALLS = Math.max(5, Math.min(500, Number(argv[argv.indexOf('--calls') + 1] ?? 60) || 60));
const PASSWORD = 'Meadow5Lantern';

const product = await startProduct();
const db = openPostgres(product.databaseUrl(), 2);
const browser = await launchChromium(FAKE_MEDIA_FLAGS);
try {
  if ((await activate(new HttpClient(product.url), product.activationLink)).status !== 303) throw new Error('activation failed');
  await createStandardUsers(db, [
    { extension: '102', name: 'caller', password: PASSWORD },
    { extension: '103', name: 'callee', password: PASSWORD },
  ]);
  const caller = await signInToPhone(browser, product.url, 'caller@demo.carillon.localhost', PASSWORD);
  const callee = await signInToPhone(browser, product.url, 'callee@demo.carillon.localhost', PASSWORD);
  await caller.fill('#dial', '103');
  const samples: number[] = [];
  for (let i = 0; i < CALLS + 3; i++) {
    // Armed in the page: the click's time, then the first appearance of the ringing line.
    const measured = caller.evaluate(
      () =>
        new Promise<number>((resolve, reject) => {
          const button = [...document.querySelectorAll('button[type="submit"]')].find((b) => b.textContent?.trim() === 'Call') as HTMLButtonElement;
          let clickedAt = 0;
          button.addEventListener('click', () => (clickedAt = performance.now()), { capture: true, once: true });
          const observer = new MutationObserver(() => {
            if (clickedAt && document.querySelector('[data-testid="ringing"]')) {
              observer.disconnect();
              resolve(performance.now() - clickedAt);
            }
          });
          observer.observe(document.body, { childList: true, subtree: true });
          setTimeout(() => reject(new Error('no ringback within 10 s')), 10_000);
        }),
    );
    await caller.getByRole('button', { name: 'Call', exact: true }).click();
    const ms = await measured;
    if (i >= 3) samples.push(ms); // the first calls warm up both browsers and the server
    await callee.getByRole('alertdialog', { name: 'Incoming call' }).getByRole('button', { name: 'Decline' }).click();
    await caller.locator('[data-testid="call"]').waitFor({ state: 'detached', timeout: 10_000 });
    await callee.getByRole('alertdialog').waitFor({ state: 'detached', timeout: 10_000 });
  }
  samples.sort((a, b) => a - b);
  const pct = (p: number) => samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)]!;
  console.log(`click-to-ringback over ${samples.length} calls: p50 ${pct(50).toFixed(0)} ms, p95 ${pct(95).toFixed(0)} ms, max ${samples.at(-1)!.toFixed(0)} ms (min ${samples[0]!.toFixed(0)} ms)`);
  console.log(`target p95 ≤ 300 ms: ${pct(95) <= 300 ? 'met' : 'not met'}`);
} finally {
  await browser.close();
  await db.destroy();
  await product.stop();
}
