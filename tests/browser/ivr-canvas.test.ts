/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import type { Db } from '@carillon/db';
import type { RunningProduct } from '../support/product.ts';
import { mediaServerSipTarget, printProductLogOnFailure } from '../support/product.ts';
import { adminPages } from '../support/admin-pages.ts';
import { seriousViolations } from '../support/axe.ts';
import { toneWav } from '../support/voicemail.ts';
import { en as ivrEn } from '../../app/src/lib/i18n/features/ivr.ts';
import { RtpPhone } from '../../media-server/test/support/rtp-phone.ts';
import { freeMediaPort, freeSipPort, startRegisteredSipp, startSipp, type SippRun } from '../../media-server/test/support/sipp.ts';

/**
 * Issue 14's Playwright acceptance for the visual IVR editor, on the product as `npm start` runs it with
 * the area 'ivr': the admin builds a two-level menu on the canvas (Main 801: key 1 → alice 401, key 2 →
 * the submenu Sales 802, linked by dragging from Main's "new key" port onto Sales; Sales: key 3 → bob
 * 402), validates it (Sales first shows its problems on its node: unreachable, no prompt, no key; then
 * none), saves it, walks a call in "try it" (2 then 3 reaches bob, the path drawn on the canvas), and a
 * SIPp call to 801 then follows the same path: the caller hears Main's prompt (697 Hz) and keys 2 as an
 * RFC 4733 event, hears Sales's (770 Hz) and keys 3, and bob's SIPp phone rings and answers. The prompts
 * are library audio uploaded before; the users' extensions begin with 4 so keys 2 and 3 act at once.
 */
const MAIN_HZ = 697;
const SALES_HZ = 770;
let product: RunningProduct;
let db: Db;
let page: Page;
let accountId = '';
let sipTarget = '';
let adminPhone: { username: string; password: string };
let bobPhone: { username: string; password: string };
let bobDeviceId = '';
const running: SippRun[] = [];
const pages = adminPages({
  scratchName: 'ivrcanvas',
  unreleased: 'ivr',
  users: [
    { extension: '401', name: 'alice' },
    { extension: '402', name: 'bob' },
  ],
});

beforeAll(async () => {
  ({ product, db, page, accountId } = await pages.start(async ({ admin, extensions }) => {
    for (const [name, hz] of [
      ['Main tone', MAIN_HZ],
      ['Sales tone', SALES_HZ],
    ] as const) {
      const form = new FormData();
      form.set('name', name);
      form.set('file', new File([new Uint8Array(toneWav(6, 8000, hz))], `${hz}.wav`, { type: 'audio/wav' }));
      const uploaded = await admin.request('POST', '/api/ivr/prompts', form);
      expect(uploaded.status, await uploaded.clone().text()).toBe(201);
    }
    const desk = async (extensionId: string, name: string) => {
      const res = await admin.json('POST', '/api/devices', { extensionId, type: 'desk_phone', name });
      expect(res.status).toBe(201);
      return (await res.json()) as { id: string; sip: { username: string; password: string } };
    };
    const me = (await (await admin.get('/api/me')).json()) as { extensionId: string };
    adminPhone = (await desk(me.extensionId, 'Admin desk')).sip;
    const bob = await desk(extensions['402']!, 'Bob desk');
    bobPhone = bob.sip;
    bobDeviceId = bob.id;
  }));
  sipTarget = await mediaServerSipTarget(product, 60_000);
}, 180_000);

afterAll(() => {
  for (const r of running) r.stop();
});

printProductLogOnFailure(() => product, /\[media-server\].*"msg":"(call|ivr)/i);

const node = (id: string): Locator => page.locator(`[data-testid="canvas-node"][data-node="${id}"]`);
const edge = (from: string, key: string): Locator => page.locator(`[data-testid="canvas-edge"][data-from="${from}"][data-key="${key}"]`);
const keypad = () => page.getByRole('group', { name: ivrEn['ivr.try.keypad'] });

async function addMenu(number: string, name: string): Promise<void> {
  await page.locator('#newNumber').fill(number);
  await page.locator('#newName').fill(name);
  await page.getByRole('button', { name: ivrEn['ivr.canvas.addMenu'], exact: true }).click();
  await node(`m:${number}`).waitFor();
  // The new menu is the one the side panel edits.
  await page.getByRole('heading', { name: ivrEn['ivr.canvas.panel'].replace('{name}', name).replace('{number}', number) }).waitFor();
}

/** The side panel's prompt (a library prompt) and one key's target, as the admin picks them. */
async function editSelected(prompt: string, key: string, extension: string): Promise<void> {
  await page.locator('#promptMode').selectOption('audio');
  await page.locator('#promptAudio').selectOption(prompt);
  await page.getByLabel(ivrEn['ivr.key'].replace('{key}', key), { exact: true }).selectOption('connect');
  await page.getByLabel(ivrEn['ivr.target'].replace('{key}', key), { exact: true }).fill(extension);
}

/** Drags from a port (the centre of its dot) onto the middle of a node, with the mouse as an admin does. */
async function drag(from: Locator, to: Locator): Promise<void> {
  const a = (await from.boundingBox())!;
  const b = (await to.boundingBox())!;
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x + b.width / 2) / 2, (a.y + b.y + b.height / 2) / 2, { steps: 5 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
  await page.mouse.up();
}

describe('the visual IVR editor', () => {
  it('builds a two-level menu, shows a problem on its node then none, saves it, and "try it" walks 2 then 3 to bob with the path drawn', { timeout: 120_000 }, async () => {
    await page.goto(`${product.url}/admin/phone-system/ivr/canvas`);
    await page.getByRole('heading', { level: 2, name: ivrEn['ivr.canvas.title'] }).waitFor();

    await addMenu('801', 'Main');
    await editSelected('Main tone', '1', '401');
    await page.getByRole('button', { name: ivrEn['ivr.canvas.setTop'] }).click();
    await page.getByText(ivrEn['ivr.canvas.isTop']).waitFor();
    // The unsaved key is drawn already: an edge from key 1 to a leaf for alice.
    await edge('801', '1').waitFor({ state: 'attached' });
    expect(await edge('801', '1').getAttribute('data-to')).toBe('l:801:1');

    await addMenu('802', 'Sales');
    await page.getByRole('button', { name: ivrEn['ivr.validate'], exact: true }).click();
    // The canvas's copy validated: Main's unsaved prompt and key count (the stored Main has neither), and
    // Sales's problems are on its own node: no top menu reaches it, it has no prompt and no key.
    await expect.poll(() => node('m:801').getAttribute('data-issues')).toBe('');
    expect(await node('m:802').getAttribute('data-issues')).toBe('missing_prompt empty_menu unreachable_menu');
    expect(await node('m:802').textContent()).toContain(ivrEn['ivr.canvas.rule.unreachable_menu']);
    expect(await seriousViolations(page)).toEqual([]);

    // Key 2 of Main → Sales, by dragging Main's "new key" port onto the Sales node.
    await drag(page.locator('[data-testid="canvas-port"][data-menu="801"][data-key="new"]'), node('m:802'));
    await expect.poll(() => edge('801', '2').getAttribute('data-to')).toBe('m:802');
    // Dragging does not change which menu the side panel edits: still Sales.
    await page.getByRole('heading', { name: ivrEn['ivr.canvas.panel'].replace('{name}', 'Sales').replace('{number}', '802') }).waitFor();
    await editSelected('Sales tone', '3', '402');
    await page.getByRole('button', { name: ivrEn['ivr.validate'], exact: true }).click();
    await page.getByTestId('canvas-valid').waitFor();
    expect(await node('m:802').getAttribute('data-issues')).toBe('');

    // Nothing is stored before Save; Save stores both menus through the editor's PATCH.
    const keysOf = async (number: string) => (await db.selectFrom('ivr_menus').innerJoin('extensions', 'extensions.id', 'ivr_menus.extension_id').select(['ivr_menus.keys', 'ivr_menus.prompt']).where('extensions.account_id', '=', accountId).where('extensions.number', '=', number).executeTakeFirstOrThrow());
    expect((await keysOf('801')).keys).toEqual({});
    await page.getByRole('button', { name: ivrEn['ivr.canvas.saveAll'] }).click();
    await page.getByTestId('canvas-message').getByText(ivrEn['ivr.canvas.saved'].replace('{n}', '2')).waitFor();
    expect(await keysOf('801')).toEqual({ keys: { '1': { type: 'connect', extension: '401' }, '2': { type: 'connect', extension: '802' } }, prompt: { mode: 'audio', prompt: 'Main tone' } });
    expect(await keysOf('802')).toEqual({ keys: { '3': { type: 'connect', extension: '402' } }, prompt: { mode: 'audio', prompt: 'Sales tone' } });

    // Try it: the call starts at Main (highlighted); 2 enters Sales along the edge of key 2; 3 reaches bob.
    await page.getByRole('button', { name: ivrEn['ivr.try.start'], exact: true }).click();
    await expect.poll(() => node('m:801').getAttribute('data-current')).toBe('true');
    await keypad().getByRole('button', { name: '2', exact: true }).click();
    await expect.poll(() => node('m:802').getAttribute('data-current')).toBe('true');
    expect(await node('m:801').getAttribute('data-current')).toBe('false');
    expect(await edge('801', '2').getAttribute('data-taken')).toBe('true');
    expect(await edge('801', '1').getAttribute('data-taken')).toBe('false');
    await keypad().getByRole('button', { name: '3', exact: true }).click();
    await expect.poll(() => node('l:802:3').getAttribute('data-current')).toBe('true');
    expect(await edge('802', '3').getAttribute('data-taken')).toBe('true');
    await expect.poll(() => page.locator('ol.log > li').last().textContent()).toContain(ivrEn['ivr.try.end.connect'].replace('{extension}', '402'));
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('works from the keyboard: a node opens with Enter and moves with the arrows; a menu in use is not deleted', { timeout: 60_000 }, async () => {
    await node('m:801').focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: ivrEn['ivr.canvas.panel'].replace('{name}', 'Main').replace('{number}', '801') }).waitFor();
    const before = await node('m:801').getAttribute('transform');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => node('m:801').getAttribute('transform')).not.toBe(before);
    // The list view reaches the same menus; Sales is key 2 of Main, so it stays.
    await page.getByRole('button', { name: 'Sales (802)', exact: true }).click();
    await page.getByRole('button', { name: ivrEn['ivr.canvas.deleteMenu'] }).click();
    await page.getByTestId('canvas-message').getByText(ivrEn['ivr.canvas.usedByKey'].replace('{key}', '2').replace('{menu}', '801')).waitFor();
    expect(await node('m:802').count()).toBe(1);
    expect(await db.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('number', '=', '802').executeTakeFirst()).toBeDefined();
  });

  it('a SIPp call to 801 follows the same path: Main’s prompt, RFC 4733 key 2, Sales’s prompt, key 3, bob’s phone rings and answers', { timeout: 120_000 }, async () => {
    const bob = await startRegisteredSipp({ target: sipTarget, credentials: bobPhone, scenario: 'uas-bye.xml', timeoutSeconds: 60 });
    running.push(bob);
    const phone = await RtpPhone.open();
    const call = startSipp({ scenario: 'uac-listen-until-bye.xml', target: sipTarget, localPort: await freeSipPort(), service: '801', auth: adminPhone, timeoutSeconds: 60, vars: { rtpport: String(phone.port) }, extra: ['-mp', String(await freeMediaPort())] });
    running.push(call);
    const heard = async (since: number, hz: number) => {
      await expect.poll(() => phone.pureToneFramesSince(since, hz), { timeout: 20_000, interval: 20 }).toBeGreaterThanOrEqual(10);
      return Date.now();
    };
    let mainAt = 0;
    let salesAt = 0;
    try {
      mainAt = await heard(0, MAIN_HZ);
      phone.press('2');
      salesAt = await heard(mainAt, SALES_HZ);
      phone.press('3');
      const [caller, callee] = await Promise.all([call.done, bob.done]);
      expect(caller.code, caller.errors || caller.output.slice(-1500)).toBe(0);
      expect(callee.code, `bob's phone got the INVITE, answered and hung up: ${callee.errors}`).toBe(0);
    } finally {
      phone.close();
    }
    // The prompts carried energy, each in its own place: Main's before key 2, Sales's after it and not before.
    const main = phone.heardSince(0, salesAt);
    const rms = Math.sqrt(main.reduce((s, v) => s + v * v, 0) / main.length);
    expect(rms, 'Main’s prompt has energy').toBeGreaterThan(1000);
    expect(phone.pureToneFramesSince(0, SALES_HZ, mainAt)).toBe(0);
    // The call's record is written once its legs have ended.
    const lastCall = () => db.selectFrom('calls').select(['id', 'to_number', 'result']).where('account_id', '=', accountId).where('ended_at', 'is not', null).orderBy('started_at', 'desc').executeTakeFirst();
    await expect.poll(lastCall, { timeout: 15_000, interval: 50 }).toMatchObject({ to_number: '801', result: 'answered' });
    const record = (await lastCall())!;
    const legs = await db.selectFrom('call_legs').select(['role', 'result', 'device_id']).where('call_id', '=', record.id).orderBy('started_at').execute();
    expect(legs.filter((l) => l.role === 'callee').map((l) => [l.result, l.device_id])).toEqual([['answered', bobDeviceId]]);
  });
});
