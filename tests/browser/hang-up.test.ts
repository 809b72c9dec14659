import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openPostgres, type Db } from '@carillon/db';
import { launchChromium } from '../support/browser.ts';
import { mediaServerSipTarget, startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { createStandardUsers, signIn } from '../support/softphone-users.ts';
import { freeMediaPort, freeSipPort, startRegisteredSipp, startSipp, type SippRun } from '../../media-server/test/support/sipp.ts';

/**
 * "Hang up" in the call log, in a real browser: the admin hangs up a live call of the company
 * from the company call log, and a user (in French) their own call from their call log. The
 * command goes through the control channel to media-server; both SIPp phones must get a BYE.
 */
const PASSWORD = 'Meadow5Lantern!';
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let browser: Browser;
let sipTarget = '';
let adminPhone: { username: string; password: string };
let samPhone: { username: string; password: string };
const running: SippRun[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'hangup');
  product = await startProduct(scratch ? { DATABASE_URL: scratch.url } : {});
  db = openPostgres(product.databaseUrl(), 2);
  const admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  const me = (await (await admin.get('/api/me')).json()) as { extensionId: string };
  // Past the setup wizard, which every page of an account not set up leads to.
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  await createStandardUsers(db, [{ extension: '102', name: 'sam', password: PASSWORD }]);
  await db.updateTable('users').set({ language: 'fr' }).where('email', '=', 'sam@demo.carillon.localhost').execute();
  const samExtension = (await db.selectFrom('users').select('extension_id').where('email', '=', 'sam@demo.carillon.localhost').executeTakeFirstOrThrow()).extension_id!;
  const desk = async (extensionId: string, name: string) => {
    const res = await admin.json('POST', '/api/devices', { extensionId, type: 'desk_phone', name });
    expect(res.status).toBe(201);
    return ((await res.json()) as { sip: { username: string; password: string } }).sip;
  };
  adminPhone = await desk(me.extensionId, 'Admin desk');
  samPhone = await desk(samExtension, 'Sam desk');
  sipTarget = await mediaServerSipTarget(product);
  browser = await launchChromium();
}, 180_000);

afterEach(async () => {
  for (const r of running.splice(0)) r.stop();
  for (const p of pages.splice(0)) await p.context().close();
});

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

/** Admin's desk phone calls Sam's (102), which answers; resolves once the call is answered, with both phones. */
async function liveCall(): Promise<{ caller: SippRun; callee: SippRun; id: string }> {
  const callee = await startRegisteredSipp({ target: sipTarget, credentials: samPhone, scenario: 'uas-answer.xml' });
  running.push(callee);
  const caller = startSipp({ scenario: 'uac-wait-bye.xml', target: sipTarget, localPort: await freeSipPort(), service: '102', auth: adminPhone, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
  running.push(caller);
  let id: string | undefined;
  await expect
    .poll(async () => (id = (await db.selectFrom('calls').select('id').where('answered_at', 'is not', null).where('ended_at', 'is', null).executeTakeFirst())?.id), { timeout: 20_000, interval: 50 })
    .toBeDefined();
  return { caller, callee, id: id! };
}

async function bothGotBye(call: { caller: SippRun; callee: SippRun }): Promise<void> {
  const [a, b] = await Promise.all([call.caller.done, call.callee.done]);
  expect(a.code, a.errors || a.output.slice(-1500)).toBe(0);
  expect(b.code, b.errors || b.output.slice(-1500)).toBe(0);
}

describe('Hang up in the call log', () => {
  it('lets the admin hang up a live call of the company from the company call log', async () => {
    const call = await liveCall();
    const page = await signIn(browser, product.url, 'admin@demo.carillon.localhost', STRONG.password);
    pages.push(page);
    await page.goto(`${product.url}/admin/call-log`);
    const row = page.locator(`tr[data-call-id="${call.id}"]`);
    await row.getByText('In progress').waitFor();
    await row.getByRole('button', { name: 'Hang up the call from' }).click();
    await page.getByTestId('hang-up-status').getByText('The call was hung up.').waitFor();
    await bothGotBye(call);
    await expect.poll(async () => (await db.selectFrom('calls').select('hangup_by').where('id', '=', call.id).executeTakeFirstOrThrow()).hangup_by, { timeout: 10_000, interval: 50 }).toBe('control');
  }, 90_000);

  it('lets a user hang up their own live call from their call log, in French', async () => {
    const call = await liveCall();
    const page = await signIn(browser, product.url, 'sam@demo.carillon.localhost', PASSWORD);
    pages.push(page);
    await page.goto(`${product.url}/me/call-log`);
    const row = page.locator(`tr[data-call-id="${call.id}"]`);
    await row.getByText('En cours').waitFor();
    await row.getByRole('button', { name: "Raccrocher l'appel de" }).click();
    await page.getByTestId('hang-up-status').getByText("L'appel a été raccroché.").waitFor();
    await bothGotBye(call);
  }, 90_000);
});
