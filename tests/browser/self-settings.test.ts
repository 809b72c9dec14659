/// <reference lib="dom" />
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { verifySecret } from '@carillon/core';
import { openPostgres, type Db } from '@carillon/db';
import { en } from '../../app/src/lib/i18n/en.ts';
import { fr } from '../../app/src/lib/i18n/fr.ts';
import { launchChromium } from '../support/browser.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createStandardUsers, signIn } from '../support/softphone-users.ts';

/**
 * My Extension › Settings in a real browser, in English then in French (issue 20, point 17): each
 * section saves on its own and says so; a refusal says why, next to its form, and changes nothing.
 */
let product: RunningProduct;
let browser: Browser;
let db: Db;
let page: Page;
let samId = '';
let deviceId = '';
const PASSWORD = 'Meadow5Lantern';
const NEW_PASSWORD = 'Harbor8Quill!';
const EMAIL = 'sam@demo.carillon.localhost';

const sam = () => db.selectFrom('users').select(['language', 'time_zone', 'notification_email']).where('id', '=', samId).executeTakeFirstOrThrow();
const creds = () => db.selectFrom('user_credentials').select(['password_hash', 'pin_hash']).where('user_id', '=', samId).executeTakeFirstOrThrow();
const section = (name: string) => page.locator(`form[data-section="${name}"]`);
const notice = (name: string) => page.getByTestId(`notice-${name}`);

beforeAll(async () => {
  product = await startProduct();
  db = openPostgres(product.databaseUrl(), 2);
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  await createStandardUsers(db, [{ extension: '201', name: 'sam', password: PASSWORD }]);
  const u = await db.selectFrom('users').select(['id', 'account_id', 'extension_id']).where('email', '=', EMAIL).executeTakeFirstOrThrow();
  samId = u.id;
  await db.insertInto('phone_numbers').values({ account_id: u.account_id, e164: '+14155550201', type: 'direct', extension_id: u.extension_id }).execute();
  deviceId = (await db.insertInto('devices').values({ account_id: u.account_id, extension_id: u.extension_id, type: 'desk_phone', name: 'Desk', sip_username: `sam-${Date.now()}` }).returning('id').executeTakeFirstOrThrow()).id;
  browser = await launchChromium();
}, 120_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page) {
    await page.screenshot({ path: `${product.dataDir}/failure.png` }).catch(() => {});
    console.error(`screenshot: ${product.dataDir}/failure.png at ${page.url()}`);
  }
});

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
});

describe('My Extension › Settings', () => {
  it('in English: time zone, caller ID and notification e-mail saved; a wrong current password, PIN 1111 and a bad e-mail refused; then French', { timeout: 90_000 }, async () => {
    page = await signIn(browser, product.url, EMAIL, PASSWORD);
    page.setDefaultTimeout(15_000);
    await page.goto(`${product.url}/me/settings`);
    await page.getByRole('heading', { name: en['me.settings'], level: 1 }).waitFor();

    await section('timeZone').getByLabel(en['settings.timeZone']).selectOption('Europe/Paris');
    await section('timeZone').getByRole('button', { name: en['me.saveSection'] }).click();
    await notice('timeZone').getByText(en['common.saved']).waitFor();
    expect((await sam()).time_zone).toBe('Europe/Paris');

    await section('callerId').getByLabel(en['me.callerId.label']).selectOption({ label: '+14155550201' });
    await section('callerId').getByRole('button', { name: en['me.saveSection'] }).click();
    await notice('callerId').getByText(en['common.saved']).waitFor();
    const device = await db.selectFrom('devices').innerJoin('phone_numbers', 'phone_numbers.id', 'devices.caller_id_number_id').select('phone_numbers.e164').where('devices.id', '=', deviceId).executeTakeFirstOrThrow();
    expect(device.e164).toBe('+14155550201');

    // The browser takes "sam@localhost" as an e-mail; the server's rule wants a domain with a dot.
    await section('notificationEmail').getByLabel(en['me.notificationEmail.label']).fill('sam@localhost');
    await section('notificationEmail').getByRole('button', { name: en['me.saveSection'] }).click();
    await notice('notificationEmail').getByText(en['me.notificationEmail.invalid']).waitFor();
    expect((await sam()).notification_email).toBeNull();
    await section('notificationEmail').getByLabel(en['me.notificationEmail.label']).fill('alerts@example.com');
    await section('notificationEmail').getByRole('button', { name: en['me.saveSection'] }).click();
    await notice('notificationEmail').getByText(en['common.saved']).waitFor();
    expect((await sam()).notification_email).toBe('alerts@example.com');

    const before = await creds();
    const password = section('password');
    await password.getByLabel(en['me.password.current']).fill('Wrong9Guess');
    await password.getByLabel(en['me.password.new'], { exact: true }).fill(NEW_PASSWORD);
    await password.getByLabel(en['me.password.confirm']).fill(NEW_PASSWORD);
    await password.getByRole('button', { name: en['me.password.save'] }).click();
    await notice('password').getByText(en['me.password.wrong']).waitFor();

    const pin = section('pin');
    await pin.getByLabel(en['me.pin.pin'], { exact: true }).fill('1111');
    await pin.getByLabel(en['me.pin.confirm']).fill('1111');
    await pin.getByRole('button', { name: en['me.pin.save'] }).click();
    await notice('pin').getByText(en['rule.pin.noRuns'], { exact: false }).waitFor();
    expect(await creds()).toEqual(before);

    // French, from the page itself: it comes back in French.
    await section('language').getByLabel(en['me.language']).selectOption('fr');
    await section('language').getByRole('button', { name: en['me.saveSection'] }).click();
    await page.getByRole('heading', { name: fr['me.settings'], level: 1 }).waitFor();
    expect((await sam()).language).toBe('fr');
  });

  it('in French: PIN and password changed, with their messages in French', { timeout: 90_000 }, async () => {
    page = await signIn(browser, product.url, EMAIL, PASSWORD);
    page.setDefaultTimeout(15_000);
    await page.goto(`${product.url}/me/settings`);
    await page.getByRole('heading', { name: fr['me.settings'], level: 1 }).waitFor();

    const pin = section('pin');
    await pin.getByLabel(fr['me.pin.pin'], { exact: true }).fill('1234');
    await pin.getByLabel(fr['me.pin.confirm']).fill('1234');
    await pin.getByRole('button', { name: fr['me.pin.save'] }).click();
    await notice('pin').getByText(fr['rule.pin.noRuns'], { exact: false }).waitFor();
    await pin.getByLabel(fr['me.pin.pin'], { exact: true }).fill('590372');
    await pin.getByLabel(fr['me.pin.confirm']).fill('590372');
    await pin.getByRole('button', { name: fr['me.pin.save'] }).click();
    await notice('pin').getByText(fr['me.pin.saved']).waitFor();
    expect(await verifySecret((await creds()).pin_hash, '590372')).toBe(true);

    const password = section('password');
    await password.getByLabel(fr['me.password.current']).fill(PASSWORD);
    await password.getByLabel(fr['me.password.new'], { exact: true }).fill(NEW_PASSWORD);
    await password.getByLabel(fr['me.password.confirm']).fill(NEW_PASSWORD);
    await password.getByRole('button', { name: fr['me.password.save'] }).click();
    await notice('password').getByText(fr['me.password.changed']).waitFor();
    expect(await verifySecret((await creds()).password_hash, NEW_PASSWORD)).toBe(true);
    const audited = await db.selectFrom('audit_events').select('action').where('target_id', '=', samId).where('actor_user_id', '=', samId).execute();
    expect(audited.map((a) => a.action)).toEqual(expect.arrayContaining(['user.updated', 'user.voicemail_pin_changed', 'user.password_changed']));
  });
});
