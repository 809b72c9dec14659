/// <reference lib="dom" />
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';

/**
 * The first admin's journey in a real browser, on the product as `npm start`
 * runs it: activation link, credential rules, quick setup, French Home,
 * language switch, sign-out, sign-in by e-mail and by number + extension,
 * lockout.
 */
const GOOD_PASSWORD = 'Lantern7Meadow!';
const GOOD_PIN = '482915';
const ANSWER = 'Biscuit the cat';

let product: RunningProduct;
let browser: Browser;
let page: Page;
let mainNumber = '';

beforeAll(async () => {
  product = await startProduct();
  mainNumber = product.output().match(/Main number (\+\d+)/)![1]!;
  browser = await launchChromium();
  page = await browser.newPage({ locale: 'en-US' });
  page.setDefaultTimeout(10_000);
}, 120_000);

// A failing step leaves a screenshot of what the user saw.
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') await page.screenshot({ path: `${product.dataDir}/failure.png` }).catch(() => {});
  if (ctx.task.result?.state === 'fail') console.error(`screenshot: ${product.dataDir}/failure.png at ${page.url()}`);
});

afterAll(async () => {
  await browser?.close();
  expect(await product?.stop()).toBe(0);
});

async function signOut(p: Page) {
  await p.getByRole('button', { name: /^(Log out|Se déconnecter)$/ }).click();
  await p.waitForURL(/\/login\?loggedOut=1/);
}

describe('first admin in the browser', () => {
  it('activates with the rules checked live and on the server', async () => {
    await page.goto(product.activationLink);
    await expect(page.getByRole('heading', { name: 'Activate your account' }).isVisible()).resolves.toBe(true);

    // A password with a run of consecutive characters: the checklist says so while typing…
    await page.fill('#password', 'abcd1234');
    await page.fill('#passwordConfirm', 'abcd1234');
    const runsRule = page.locator('#password-rules li', { hasText: 'No repeated' });
    expect(await runsRule.getAttribute('data-ok')).toBe('false');
    expect(await page.locator('#password-rules li', { hasText: 'At least one digit' }).getAttribute('data-ok')).toBe('true');
    await page.fill('#pin', GOOD_PIN);
    await page.fill('#pinConfirm', GOOD_PIN);
    await page.selectOption('#securityQuestion', 'first_pet');
    await page.fill('#securityAnswer', ANSWER);
    // …and the server refuses it with an inline error beside the field.
    await page.getByRole('button', { name: 'Continue' }).click();
    const pwError = page.getByTestId('password-error');
    await pwError.waitFor();
    expect(await pwError.textContent()).toContain('No repeated');
    expect(await page.locator('#password').getAttribute('aria-invalid')).toBe('true');

    // A good password, a bad PIN.
    await page.fill('#password', GOOD_PASSWORD);
    await page.fill('#passwordConfirm', GOOD_PASSWORD);
    expect(await runsRule.getAttribute('data-ok')).toBe('true');
    await page.fill('#pin', '123456');
    await page.fill('#pinConfirm', '123456');
    await page.getByRole('button', { name: 'Continue' }).click();
    const pinError = page.getByTestId('pin-error');
    await pinError.waitFor();
    expect(await pinError.textContent()).toContain('consecutive');
    await expect(page.getByTestId('password-error').count()).resolves.toBe(0);

    // A good PIN: the account is activated and quick setup begins.
    await page.fill('#pin', GOOD_PIN);
    await page.fill('#pinConfirm', GOOD_PIN);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/setup\/company$/);
  });

  it('finishes quick setup, each step saved, and lands on Home in French', async () => {
    expect(await page.inputValue('#operatorExtension')).toBe('101');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/setup\/my_info$/);

    await page.fill('#firstName', 'Camille');
    await page.fill('#lastName', 'Martin');
    await page.fill('#email', 'not-an-email');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByTestId('error-email').waitFor();
    expect(await page.getByTestId('error-email').textContent()).toContain('valid e-mail');
    await page.fill('#email', 'camille@demo.carillon.localhost');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/setup\/regional$/);

    // Leaving and coming back loses nothing.
    await page.goto(product.url + '/setup');
    await page.waitForURL(/\/setup\/regional$/);
    await page.goto(product.url + '/setup/my_info');
    expect(await page.inputValue('#firstName')).toBe('Camille');
    await page.goto(product.url + '/setup/regional');

    await page.selectOption('#country', 'FR');
    await page.selectOption('#timeZone', 'Europe/Paris');
    await page.check('input[name="timeFormat"][value="24h"]');
    await page.selectOption('#language', 'fr');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/setup\/emergency$/);

    // From here the account speaks French.
    await page.fill('#street', '10 rue de Rivoli');
    await page.fill('#city', 'Paris');
    await page.fill('#state', 'Île-de-France');
    await page.fill('#postalCode', '75004');
    await page.getByRole('button', { name: 'Accepter et continuer' }).click();
    await page.getByTestId('error-acceptTerms').waitFor();
    expect(await page.getByTestId('error-acceptTerms').textContent()).toContain("conditions des services d'urgence");
    await page.check('input[name="acceptTerms"]');
    await page.getByRole('button', { name: 'Accepter et continuer' }).click();
    await page.waitForURL(/\/setup\/review$/);
    expect(await page.locator('.review').textContent()).toContain('10 rue de Rivoli');

    await page.getByRole('button', { name: 'Confirmer la configuration' }).click();
    await page.waitForURL(/\/admin\?welcome=1$/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Accueil');
    expect(await page.locator('html').getAttribute('lang')).toBe('fr');
    const tabs = await page.locator('nav.tabs a').allTextContents();
    expect(tabs).toEqual(['Accueil', 'Utilisateurs', 'Système téléphonique', 'Journal des appels', 'Plus']);
    expect(await page.getByRole('link', { name: "Piste d'audit" }).isVisible()).toBe(true);
  });

  it('searches the audit trail in French: quick setup\'s changes by change code, and the CSV link downloads that search', async () => {
    await page.getByRole('link', { name: "Piste d'audit" }).click();
    await page.getByRole('heading', { name: "Piste d'audit", level: 1 }).waitFor();
    const rows = () => page.locator('[data-testid="audit-table"] tbody tr').evaluateAll((tr) => tr.map((r) => r.getAttribute('data-action')));
    const all = await rows();
    expect(all.length).toBeGreaterThan(0);
    const code = all[0]!;
    await page.getByLabel('Modification', { exact: true }).fill(code);
    await page.selectOption('select[name="period"]', '0');
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await page.waitForURL(/action=/);
    const found = await rows();
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((a) => a!.startsWith(code))).toBe(true);
    const href = await page.getByTestId('audit-csv').getAttribute('href');
    const csv = await page.evaluate(async (url) => (await fetch(url!)).text(), href);
    // The header and one line per row shown.
    expect(csv.trim().split('\r\n')).toHaveLength(found.length + 1);
    await page.goto(`${product.url}/admin`);
  });

  it('switches to English', async () => {
    await page.selectOption('#lang-select', 'en');
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Home');
    expect(await page.locator('nav.tabs a').allTextContents()).toEqual(['Home', 'Users', 'Phone System', 'Call Log', 'More']);
    // The choice is the user's own: it survives a reload.
    await page.reload();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Home');
  });

  it('adds sites with site codes, and refuses a site code already in use with a clear message', async () => {
    await page.goto(`${product.url}/admin/phone-system/sites`);
    const add = page.getByRole('form', { name: 'Add a site' });
    await add.getByLabel('Site name').fill('Lyon');
    await add.getByLabel('Site code').fill('7');
    await add.getByRole('button', { name: 'Add a site' }).click();
    await page.locator('[data-testid="sites"] tr[data-site="Lyon"][data-code="7"]').waitFor({ timeout: 5000 });
    await add.getByLabel('Site name').fill('Nice');
    await add.getByLabel('Site code').fill('7');
    await add.getByRole('button', { name: 'Add a site' }).click();
    await expect.poll(() => page.getByTestId('site-problem').textContent()).toContain('already used by another site');
    expect(await page.locator('[data-testid="sites"] tr[data-site="Nice"]').count()).toBe(0);
    // What was typed stays, to be fixed.
    expect(await add.getByLabel('Site name').inputValue()).toBe('Nice');
    await page.goto(`${product.url}/admin`);
  });

  it('logs out, then signs in by e-mail and by number + extension', async () => {
    await signOut(page);

    await page.fill('#identifier', 'camille@demo.carillon.localhost');
    await page.getByRole('button', { name: 'Next' }).click();
    expect(await page.locator('#extension').count()).toBe(0);
    await page.fill('#password', GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/admin$/);
    expect(await page.getByTestId('who').textContent()).toContain('Camille Martin');
    await signOut(page);

    await page.fill('#identifier', mainNumber);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.selectOption('#country', 'US');
    await page.fill('#extension', '101');
    await page.fill('#password', GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/admin$/);
    expect(await page.getByTestId('who').textContent()).toContain('Ext. 101');
    await signOut(page);
  });

  it('locks the account after repeated failures, with a clear message', async () => {
    const errorText = page.getByTestId('login-error');
    for (let i = 0; i < 5; i++) {
      await page.fill('#identifier', 'camille@demo.carillon.localhost');
      if (await page.getByRole('button', { name: 'Next' }).count()) await page.getByRole('button', { name: 'Next' }).click();
      await page.fill('#password', `Wrong${i}Guess!`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      // The message of the previous attempt is still on screen: wait for this attempt's.
      const expected = i < 4 ? `${4 - i} attempt(s) left` : 'Your account is locked';
      await page.waitForFunction((text) => document.querySelector('[data-testid="login-error"]')?.textContent?.includes(text), expected);
    }
    const message = (await errorText.textContent()) ?? '';
    expect(message).toContain('Your account is locked');
    // Even the right password is refused while locked.
    await page.fill('#password', GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="login-error"]')?.textContent?.includes('locked'));
    expect(page.url()).toContain('/login');
  });

  it('never logs a password, PIN or security answer', () => {
    const logs = product.output();
    for (const secret of [GOOD_PASSWORD, GOOD_PIN, ANSWER, 'abcd1234', 'Wrong0Guess!']) expect(logs).not.toContain(secret);
  });
});
