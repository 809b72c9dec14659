/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { openPostgres, type Db } from '@carillon/db';
import { launchChromium } from '../support/browser.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';
import { FAKE_MEDIA_FLAGS, signIn } from '../support/softphone-users.ts';

/**
 * The Content-Security-Policy allows what the app really does (issue 20,
 * point 10): the main pages hydrate, live figures come over socket.io, and
 * the softphone registers over its SIP WebSocket, with no violation reported.
 */
let product: RunningProduct;
let browser: Browser;
let db: Db;

beforeAll(async () => {
  product = await startProduct();
  db = openPostgres(product.databaseUrl(), 2);
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  // Quick setup is done: the portal opens straight away.
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  browser = await launchChromium(FAKE_MEDIA_FLAGS);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  await product?.stop();
});

describe('content security policy', () => {
  it('lets the main pages, live events and the softphone work, with no violation', { timeout: 120_000 }, async () => {
    const page = await signIn(browser, product.url, 'admin@demo.carillon.localhost', STRONG.password, ['microphone']);
    const violations: string[] = [];
    await page.exposeFunction('reportCspViolation', (v: string) => violations.push(v));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => void (window as unknown as { reportCspViolation: (v: string) => void }).reportCspViolation(`${e.violatedDirective} ${e.blockedURI} on ${location.pathname}`));
    });
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });

    for (const path of ['/admin', '/admin/users', '/admin/more/audit-trail', '/admin/call-log', '/me/call-log', '/me/fax', '/me/contacts']) {
      expect((await page.goto(`${product.url}${path}`))?.status(), path).toBe(200);
    }
    // socket.io on the app's origin.
    await page.goto(`${product.url}/admin/more/health`);
    await page.locator('[data-testid="health-table"][data-live="true"]').waitFor({ timeout: 20_000 });
    // The SIP WebSocket to the media-server, on its own port.
    await page.goto(`${product.url}/me/phone`);
    await page.locator('[data-testid="phone-status"][data-status="registered"]').waitFor({ timeout: 20_000 });

    expect(violations).toEqual([]);
  });
});
