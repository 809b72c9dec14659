/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createCallQueue, saveCallQueue } from '@carillon/core/queues';
import { DEFAULT_QUEUE_SETTINGS } from '@carillon/domain';
import { openPostgres, type Db } from '@carillon/db';
import { seriousViolations } from '../support/axe.ts';
import { launchChromium } from '../support/browser.ts';
import { mediaServerSipTarget, printProductLogOnFailure, startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';
import { createStandardUsers, signIn } from '../support/softphone-users.ts';
import { freeMediaPort, freeSipPort, startRegisteredSipp, startSipp, type SippRun } from '../../media-server/test/support/sipp.ts';

/**
 * The call queues' supervisor view in the browser (issue 15), on the product as `npm start` runs it
 * with the area 'queues': queue 600 has one member, Alice (201), logged out of it, whose desk phone is
 * a registered SIPp agent that answers. A desk phone (105, SIPp) calls the queue: the administrator's
 * view shows the caller waiting, its wait growing; Alice ticks "accept calls" in her own browser, the
 * queue offers her the call, the view shows her on the call and the caller gone from the waiting
 * list; the caller hangs up, Alice is in wrap-up, then available, and today's figures count the call
 * entered and answered. Alice logging out shows too. Nothing polls: each change is pushed.
 */
let product: RunningProduct;
let browser: Browser;
let db: Db;
let supervisor: Page;
let alice: Page;
let sipTarget: string;
let aliceDesk: { username: string; password: string };
let deskPhone: { username: string; password: string };
const PASSWORD = 'Meadow5Lantern';
const running: SippRun[] = [];

beforeAll(async () => {
  product = await startProduct({ ENABLE_UNRELEASED: 'queues' });
  db = openPostgres(product.databaseUrl(), 2);
  const admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  await createStandardUsers(db, [
    { extension: '201', name: 'alice', password: PASSWORD },
    { extension: '105', name: 'desk', password: PASSWORD },
  ]);
  const phoneOf = async (number: string) => {
    const ext = await db.selectFrom('extensions').select('id').where('number', '=', number).executeTakeFirstOrThrow();
    const issued = await admin.json('POST', '/api/devices', { extensionId: ext.id, type: 'desk_phone', name: `Desk ${number}` });
    expect(issued.status).toBe(201);
    return ((await issued.json()) as { sip: { username: string; password: string } }).sip;
  };
  aliceDesk = await phoneOf('201');
  deskPhone = await phoneOf('105');
  const account = await db.selectFrom('users').select('account_id').where('email', '=', 'alice@demo.carillon.localhost').executeTakeFirstOrThrow();
  const system = { userId: null, ip: null };
  const q = await createCallQueue(db, system, account.account_id, { number: '600', name: 'Sales' });
  await saveCallQueue(db, system, account.account_id, q.extensionId, { settings: { ...DEFAULT_QUEUE_SETTINGS, wrapUpSeconds: 3 }, members: [{ extension: '201', accepting: false }] });
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  sipTarget = await mediaServerSipTarget(product, 60_000);
  browser = await launchChromium();
  supervisor = await signIn(browser, product.url, 'admin@demo.carillon.localhost', STRONG.password);
  alice = await signIn(browser, product.url, 'alice@demo.carillon.localhost', PASSWORD);
  supervisor.setDefaultTimeout(15_000);
  alice.setDefaultTimeout(15_000);
}, 180_000);

afterAll(async () => {
  for (const r of running) r.stop();
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
});

printProductLogOnFailure(() => product, /\[media-server\].*"msg":"(call|queue)/i);

const sales = () => supervisor.locator('[data-testid="supervised-queue"][data-queue="600"]');
const aliceState = () => sales().locator('[data-testid="agent"][data-extension="201"] [data-testid="agent-state"]').getAttribute('data-state');
const waitingRows = () => sales().locator('[data-testid="waiting-caller"]');
const figure = (name: string) => sales().locator(`[data-testid="${name}"]`).innerText();
/** m:ss as shown, in seconds. */
const seconds = (text: string) => text.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);

describe('the supervisor view', () => {
  it('follows a call as it enters, is answered by an agent who logged in from the browser, and leaves', { timeout: 120_000 }, async () => {
    // The agent's desk phone answers the queue's call and keeps it until the caller's BYE.
    running.push(await startRegisteredSipp({ target: sipTarget, credentials: aliceDesk, scenario: 'uas-answer.xml', timeoutSeconds: 90 }));
    // The administrator reaches the view from the queues' admin page.
    await supervisor.goto(`${product.url}/admin/phone-system/call-queues`);
    await supervisor.getByRole('link', { name: 'Supervisor view' }).click();
    await supervisor.waitForURL(`${product.url}/me/call-queues/supervisor`);
    await expect.poll(aliceState).toBe('logged_out');
    expect(await figure('entered')).toBe('0');
    expect(await waitingRows().count()).toBe(0);

    // The caller hangs up 15 s after the queue answered it.
    const call = startSipp({ scenario: 'uac-bye-after-15s.xml', target: sipTarget, localPort: await freeSipPort(), service: '600', auth: deskPhone, timeoutSeconds: 60, extra: ['-mp', String(await freeMediaPort())] });
    running.push(call);
    await expect.poll(() => waitingRows().count(), { timeout: 15_000 }).toBe(1);
    expect(await waitingRows().first().innerText()).toContain('105');
    expect(await figure('entered')).toBe('1');
    // The wait is counted live on the page.
    const waitCell = waitingRows().first().locator('[data-testid="wait"]');
    await expect.poll(async () => seconds(await waitCell.innerText()), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);

    // Alice logs in to the queue from her browser: the queue offers her the call, her phone answers.
    await alice.goto(`${product.url}/me/call-queues`);
    await alice.getByLabel('Accept calls of Sales (ext. 600)').check();
    await expect.poll(aliceState, { timeout: 15_000 }).toBe('on_call');
    await expect.poll(() => waitingRows().count()).toBe(0);
    expect(await figure('answered')).toBe('1');

    // The caller hangs up: Alice's wrap-up, then available (the end of the wrap-up is pushed too).
    const done = await call.done;
    expect(done.code, done.errors || done.output.slice(-1500)).toBe(0);
    await expect.poll(aliceState, { timeout: 10_000 }).toBe('wrap_up');
    await expect.poll(aliceState, { timeout: 10_000 }).toBe('available');
    expect(await figure('entered')).toBe('1');
    expect(await figure('abandoned')).toBe('0');

    // Alice logs out: the view shows it.
    await alice.getByLabel('Accept calls of Sales (ext. 600)').uncheck();
    await expect.poll(aliceState).toBe('logged_out');
  });

  it('has no serious or critical accessibility violation', { timeout: 60_000 }, async () => {
    await supervisor.goto(`${product.url}/me/call-queues/supervisor`);
    await sales().locator('[data-testid="agent"]').first().waitFor();
    expect(await seriousViolations(supervisor)).toEqual([]);
  });
});
