import type { Browser, Page } from 'playwright-core';
import { hashSecret } from '@carillon/core';
import type { Db } from '@carillon/db';

/**
 * Standard users made directly in the database (until the admin portal adds
 * users), and a signed-in browser softphone for each: the test and benchmark
 * helpers of the softphone.
 */
export async function createStandardUsers(db: Db, users: { extension: string; name: string; password: string; role?: 'standard' | 'manager' }[]): Promise<void> {
  const admin = await db.selectFrom('users').innerJoin('extensions', 'extensions.id', 'users.extension_id').select(['users.account_id', 'extensions.site_id']).where('users.email', '=', 'admin@demo.carillon.localhost').executeTakeFirstOrThrow();
  for (const u of users) {
    const role = await db.selectFrom('roles').select('id').where('key', '=', u.role ?? 'standard').executeTakeFirstOrThrow();
    const ext = await db.insertInto('extensions').values({ account_id: admin.account_id, site_id: admin.site_id, number: u.extension, type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
    const user = await db.insertInto('users').values({ account_id: admin.account_id, extension_id: ext.id, role_id: role.id, first_name: u.name, last_name: 'Test', email: `${u.name}@demo.carillon.localhost`, setup_progress: JSON.stringify({}) }).returning('id').executeTakeFirstOrThrow();
    await db.insertInto('user_credentials').values({ user_id: user.id, password_hash: await hashSecret(u.password) }).execute();
  }
}

/** Signs in (e-mail, then password) in a new context of the browser; the page is wherever sign-in lands. */
export async function signIn(browser: Browser, baseUrl: string, email: string, password: string, permissions: string[] = []): Promise<Page> {
  const page = await (await browser.newContext({ permissions })).newPage();
  await page.goto(`${baseUrl}/login`);
  await page.fill('#identifier', email);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.fill('#password', password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  return page;
}

/** Signs in and opens the phone, registered. */
export async function signInToPhone(browser: Browser, baseUrl: string, email: string, password: string): Promise<Page> {
  const page = await signIn(browser, baseUrl, email, password, ['microphone']);
  await page.goto(`${baseUrl}/me/phone`);
  await page.locator('[data-testid="phone-status"][data-status="registered"]').waitFor({ timeout: 15_000 }).catch(async (err: unknown) => {
    throw new Error(`${email}: the softphone did not register; the page says: ${await page.locator('body').innerText()}`, { cause: err });
  });
  return page;
}

/** Flags for Chromium's fake microphone and autoplay, as the softphone needs them headless. */
export const FAKE_MEDIA_FLAGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required'];
