import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';

/**
 * "Forgot password" by e-mail link and by security question, and the
 * session-timeout warning, in Chromium against the running product.
 */
let product: RunningProduct;
let browser: Browser;
const email = 'admin@demo.carillon.localhost';

beforeAll(async () => {
  product = await startProduct();
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  expect(await product?.stop()).toBe(0);
});

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ locale: 'en-US' });
  page.setDefaultTimeout(10_000);
  return page;
}

async function signIn(page: Page, password: string) {
  await page.goto(product.url + '/login');
  await page.fill('#identifier', email);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.fill('#password', password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * The newest message in the product's outbox (no SMTP server is configured) that matches `pattern`.
 * Mail goes through the e-mail queue, so it is waited for rather than read at once, and an older
 * message already there is not taken for it.
 */
async function mailMatching(pattern: RegExp): Promise<string> {
  const dir = path.join(product.dataDir, 'outbox');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).sort().reverse() : [];
    for (const file of files) {
      // Undo quoted-printable soft line breaks so the link reads in one piece.
      const mail = fs.readFileSync(path.join(dir, file), 'utf8').replace(/=\r?\n/g, '');
      if (pattern.test(mail)) return mail;
    }
    if (Date.now() > deadline) throw new Error(`no e-mail matching ${pattern} in the outbox after 30 s (${files.length} others)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('forgot password', () => {
  it('resets by a link sent by e-mail', async () => {
    const page = await newPage();
    await page.goto(product.url + '/login');
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    // The sign-in page has an #identifier too: fill the one of the page the link leads to.
    await page.waitForURL(/\/forgot-password$/);
    await page.fill('#identifier', email);
    await page.getByRole('button', { name: 'Send me a link by e-mail' }).click();
    await page.getByText('we sent a reset link').waitFor();

    const mail = await mailMatching(/\/reset-password\/[A-Za-z0-9_-]+/);
    expect(mail).toMatch(/^To: admin@demo\.carillon\.localhost/m);
    const link = mail.match(/http:\/\/\S+\/reset-password\/[A-Za-z0-9_-]+/)![0];
    await page.goto(link);
    await page.fill('#password', 'Short1');
    await page.fill('#passwordConfirm', 'Short1');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.locator('.field-error').waitFor();
    expect(await page.locator('.field-error').textContent()).toContain('8 to 32 characters');

    await page.fill('#password', 'Orchard4Violet!');
    await page.fill('#passwordConfirm', 'Orchard4Violet!');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL(/\/login\?reset=1/);
    await page.goto(link);
    expect(await page.getByRole('alert').textContent()).toContain('already used');

    await signIn(page, STRONG.password);
    await page.getByTestId('login-error').waitFor();
    await signIn(page, 'Orchard4Violet!');
    await page.waitForURL(/\/setup\/company$/);
    await page.close();
  });

  it('resets by the security question, refusing a wrong answer', async () => {
    const page = await newPage();
    await page.goto(product.url + '/forgot-password');
    await page.fill('#identifier', email);
    await page.getByRole('button', { name: 'Answer my security question' }).click();
    await page.getByLabel('What was the name of your first pet?').waitFor();
    await page.getByLabel('What was the name of your first pet?').fill('Rex');
    await page.getByRole('button', { name: 'Check my answer' }).click();
    await page.getByText('That answer is not right.').waitFor();

    // Case and spacing do not matter.
    await page.getByLabel('What was the name of your first pet?').fill('  biscuit THE cat ');
    await page.getByRole('button', { name: 'Check my answer' }).click();
    await page.waitForURL(/\/reset-password\//);
    await page.fill('#password', 'Harbor8Willow$');
    await page.fill('#passwordConfirm', 'Harbor8Willow$');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL(/\/login\?reset=1/);
    await signIn(page, 'Harbor8Willow$');
    await page.waitForURL(/\/setup\/company$/);
    await page.close();
  });
});

describe('sign-in before the page is interactive', () => {
  // A click on Next that lands before hydration must still reach the password step (it used to do nothing).
  it('signs in with JavaScript off: Next posts the identifier, a wrong password is refused, the right one lands', async () => {
    const context = await browser.newContext({ locale: 'en-US', javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      await signIn(page, 'Wrong4Password!');
      await page.getByTestId('login-error').waitFor();
      expect(await page.inputValue('#identifier')).toBe(email);
      await page.fill('#password', 'Harbor8Willow$');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/setup\/company$/);
    } finally {
      await context.close();
    }
  });
});

describe('session timeout', () => {
  it('warns after the idle interval, keeps the session on OK, and signs out without an answer', async () => {
    const page = await newPage();
    await page.clock.install();
    await signIn(page, 'Harbor8Willow$');
    await page.waitForURL(/\/setup\/company$/);
    // Finish setup quickly so the portal (with its idle watch) is reachable.
    for (const step of ['company', 'my_info', 'regional']) {
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL((u) => !u.pathname.endsWith(step));
    }
    for (const [field, value] of [['#street', '1 Main St'], ['#city', 'Austin'], ['#state', 'TX'], ['#postalCode', '78701']] as const) await page.fill(field, value);
    await page.check('input[name="acceptTerms"]');
    await page.getByRole('button', { name: 'Accept and continue' }).click();
    await page.getByRole('button', { name: 'Confirm setup' }).click();
    await page.waitForURL(/\/admin/);

    const dialog = page.getByTestId('session-warning');
    expect(await dialog.isVisible()).toBe(false);
    await page.clock.fastForward('29:50'); // the account default is 30 minutes
    expect(await dialog.isVisible()).toBe(false);
    await page.clock.fastForward('00:15');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.textContent()).toContain('about to expire');
    await page.getByRole('button', { name: 'OK' }).click();
    await dialog.waitFor({ state: 'hidden' });

    await page.clock.fastForward('30:05');
    await dialog.waitFor({ state: 'visible' });
    await page.clock.fastForward('01:05');
    await page.waitForURL(/\/login\?loggedOut=1/);
    await page.close();
  });
});
