import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openPostgres, type Db } from '@carillon/db';
import { printProductLogOnFailure, startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { launchChromium } from '../support/browser.ts';
import { freeMediaPort, freeSipPort, startRegisteredSipp, startSipp } from '../../media-server/test/support/sipp.ts';
import { analyseWav } from '../../media-server/test/support/wav.ts';
import { createStandardUsers, FAKE_MEDIA_FLAGS, signIn, signInToPhone } from '../support/softphone-users.ts';
import { waitForCallResults } from '../support/call-records.ts';

/**
 * The browser softphone end to end, in the product as `npm start` runs it:
 * two users signed in to two Chromium contexts with fake microphones, sip.js
 * in the page over SIP/WebSocket to media-server. Audio is checked with
 * Chromium's own RTP statistics on both sides, not with the UI's state.
 */
let product: RunningProduct;
let db: Db;
let browser: Browser;
let alice: Page;
let bea: Page;
let carol: Page;
let deskPhone: { username: string; password: string };
let sipTarget: string;
const PASSWORD = 'Meadow5Lantern';

interface MediaStats {
  packetsReceived: number;
  audioEnergy: number;
  packetsSent: number;
}

beforeAll(async () => {
  product = await startProduct();
  db = openPostgres(product.databaseUrl(), 2);
  const adminClient = new HttpClient(product.url);
  expect((await activate(adminClient, product.activationLink)).status).toBe(303);
  await createStandardUsers(db, [
    { extension: '102', name: 'alice', password: PASSWORD },
    { extension: '103', name: 'bea', password: PASSWORD },
    { extension: '104', name: 'carol', password: PASSWORD },
    { extension: '105', name: 'desk', password: PASSWORD },
    { extension: '106', name: 'manon', password: PASSWORD, role: 'manager' },
  ]);
  // A desk phone on extension 105 (SIPp), with the SIP credentials the admin API issues.
  const ext105 = await db.selectFrom('extensions').select('id').where('number', '=', '105').executeTakeFirstOrThrow();
  const issued = await adminClient.json('POST', '/api/devices', { extensionId: ext105.id, type: 'desk_phone', name: 'Desk phone' });
  expect(issued.status).toBe(201);
  deskPhone = ((await issued.json()) as { sip: { username: string; password: string } }).sip;
  // media-server may finish starting after the app: its log line says where SIP listens.
  let listening: RegExpExecArray | null = null;
  for (let i = 0; i < 300 && !listening; i++) {
    listening = /"msg":"SIP edge listening".*?"ports":\{[^}]*"UDP":(\d+)/.exec(product.output());
    if (!listening) await new Promise((r) => setTimeout(r, 100));
  }
  expect(listening, 'media-server did not log its SIP ports').not.toBeNull();
  sipTarget = `127.0.0.1:${listening![1]}`;
  browser = await launchChromium(FAKE_MEDIA_FLAGS);
  // Each user signs in and opens the phone: it registers on its own.
  alice = await phoneFor('alice@demo.carillon.localhost', PASSWORD);
  bea = await phoneFor('bea@demo.carillon.localhost', PASSWORD);
  carol = await phoneFor('carol@demo.carillon.localhost', PASSWORD);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
});

// media-server's call and DTMF lines too: the browser tests' failures are mostly about what it saw.
printProductLogOnFailure(() => product, /\[media-server\].*"msg":"(call|dtmf|on-demand|recording)/i);

/**
 * Each test starts with no call on any phone: a test that failed midway must not leave a call up
 * for the next ones (their locators would find two calls, and presence would stay "on a call").
 */
afterEach(async () => {
  const phones = [alice, bea, carol].filter((p): p is Page => p !== undefined && !p.isClosed());
  for (const page of phones) {
    await page
      .evaluate(async () => {
        const phone = (window as unknown as { carillonSoftphone?: { state: { calls: { id: string }[] }; hangUp(id: string): Promise<void> } }).carillonSoftphone;
        for (const call of phone?.state.calls ?? []) await phone!.hangUp(call.id);
      })
      .catch(() => {});
  }
  for (const page of phones) await page.locator('[data-testid="call-state"]').first().waitFor({ state: 'detached', timeout: 15_000 }).catch(() => {});
});

const phoneFor = (email: string, password: string) => signInToPhone(browser, product.url, email, password);

async function connectCall(from: Page, to: Page, number: string) {
  await from.fill('#dial', number);
  await from.getByRole('button', { name: 'Call', exact: true }).click();
  const incoming = to.getByRole('alertdialog', { name: 'Incoming call' });
  await incoming.waitFor({ timeout: 10_000 });
  // The caller is told the far end rings (180 from media-server), before anyone answers.
  await from.getByTestId('ringing').waitFor({ timeout: 10_000 });
  await incoming.getByRole('button', { name: 'Answer' }).click();
  await from.locator('[data-testid="call-state"][data-call="in-call"]').waitFor({ timeout: 10_000 });
  await to.locator('[data-testid="call-state"][data-call="in-call"]').waitFor({ timeout: 10_000 });
}

/** Packets and energy received over `ms`, on both pages at once. */
async function receivedDuring(pages: Page[], ms: number) {
  const before = await Promise.all(pages.map(stats));
  await new Promise((r) => setTimeout(r, ms));
  const after = await Promise.all(pages.map(stats));
  return after.map((a, i) => ({ packets: a!.packetsReceived - before[i]!.packetsReceived, energy: a!.audioEnergy - before[i]!.audioEnergy }));
}

const stats = (page: Page) => page.evaluate(() => (window as unknown as { carillonSoftphone: { mediaStats(): Promise<MediaStats | null> } }).carillonSoftphone.mediaStats());

describe('browser softphone', () => {
  it('calls a colleague by extension after both registered on sign-in, and audio flows both ways', async () => {
    await connectCall(alice, bea, '103');

    // Both sides receive the other's fake microphone: packets and non-zero audio energy, as Chromium counts them.
    await alice.waitForTimeout(3000);
    const [a, b] = await Promise.all([stats(alice), stats(bea)]);
    expect(a!.packetsReceived).toBeGreaterThan(50);
    expect(b!.packetsReceived).toBeGreaterThan(50);
    expect(a!.audioEnergy).toBeGreaterThan(0);
    expect(b!.audioEnergy).toBeGreaterThan(0);
    expect(await alice.getByTestId('call-timer').textContent()).toMatch(/^0:0[2-9]$/);
    // The live quality indicator: on loopback, no loss and little jitter.
    const quality = alice.getByTestId('call-quality');
    await quality.waitFor({ timeout: 5000 });
    expect(await quality.getAttribute('data-grade')).toBe('good');
    expect(await quality.textContent()).toMatch(/loss 0\.0 %, jitter \d+ ms/);

    await alice.getByRole('button', { name: 'Hang up', exact: true }).click();
    await alice.locator('[data-testid="call-state"]').waitFor({ state: 'detached', timeout: 10_000 });
    await bea.locator('[data-testid="call-state"]').waitFor({ state: 'detached', timeout: 10_000 });

    // The call record, as media-server wrote it.
    await waitForCallResults(db);
    const record = await db.selectFrom('calls').select(['result', 'from_number', 'to_number', 'duration_seconds']).orderBy('started_at', 'desc').executeTakeFirstOrThrow();
    expect(record).toMatchObject({ result: 'answered', from_number: '102', to_number: '103' });
    expect(record.duration_seconds).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('survives a dropped WebSocket: reconnects, registers again, restarts ICE, and the call goes on without a hang-up', async () => {
    await connectCall(alice, bea, '103');
    const calls = await db.selectFrom('calls').select('id').execute();
    // Cut Alice's WebSocket under the call, as a network blip or a proxy restart would.
    await alice.evaluate(() => (window as unknown as { carillonSoftphone: { ua: { transport: { ws: WebSocket } } } }).carillonSoftphone.ua.transport.ws.close());
    await alice.waitForFunction(() => (window as unknown as { carillonSoftphone: { state: { recoveries: number; status: string } } }).carillonSoftphone.state.recoveries === 1, null, { timeout: 10_000 });
    await alice.locator('[data-testid="phone-status"][data-status="registered"]').waitFor({ timeout: 10_000 }).catch(async (err: unknown) => {
      throw new Error(`not registered again: ${await alice.evaluate(() => JSON.stringify((window as unknown as { carillonSoftphone: { state: unknown } }).carillonSoftphone.state))}`, { cause: err });
    });
    // The call's media path was renegotiated with new ICE credentials (re-INVITE accepted by media-server).
    await alice.waitForFunction(() => (window as unknown as { carillonSoftphone: { state: { iceRestarts: number } } }).carillonSoftphone.state.iceRestarts === 1, null, { timeout: 5000 });
    // Both sides still hear each other, and neither saw the call end.
    const [a, b] = await receivedDuring([alice, bea], 2000);
    expect(a!.packets).toBeGreaterThan(50);
    expect(b!.packets).toBeGreaterThan(50);
    expect(a!.energy).toBeGreaterThan(0);
    expect(b!.energy).toBeGreaterThan(0);
    expect(await bea.locator('[data-testid="call-state"][data-call="in-call"]').count()).toBe(1);
    expect(await alice.locator('[data-testid="call-state"][data-call="in-call"]').count()).toBe(1);
    expect((await db.selectFrom('calls').select('id').execute()).length).toBe(calls.length);
    // Bea hangs up: the BYE reaches Alice over her new connection.
    await bea.getByRole('button', { name: 'Hang up', exact: true }).click();
    await alice.locator('[data-testid="call-state"]').waitFor({ state: 'detached', timeout: 10_000 });
  }, 90_000);

  it('holds and resumes: the held party hears music, and the call comes back', async () => {
    await connectCall(alice, bea, '103');
    await alice.getByRole('button', { name: 'Hold' }).click();
    await alice.getByRole('button', { name: 'Resume' }).waitFor({ timeout: 5000 });
    // On hold Bea still receives audio (the hold music), Alice's microphone no longer reaches her.
    const [held] = await receivedDuring([bea], 2000);
    expect(held!.packets).toBeGreaterThan(50);
    expect(held!.energy).toBeGreaterThan(0);
    await alice.getByRole('button', { name: 'Resume' }).click();
    await alice.getByRole('button', { name: 'Hold' }).waitFor({ timeout: 5000 });
    const [a, b] = await receivedDuring([alice, bea], 2000);
    expect(a!.packets).toBeGreaterThan(50);
    expect(b!.packets).toBeGreaterThan(50);
    await alice.getByRole('button', { name: 'Hang up', exact: true }).click();
    await bea.locator('[data-testid="call-state"]').waitFor({ state: 'detached', timeout: 10_000 });
  }, 90_000);

  it('Do Not Disturb "take no calls": the call is refused with 480, the caller is told, and the log records it', async () => {
    await bea.selectOption('#dnd', 'no_calls');
    await bea.locator('#dnd[data-saved="true"]').waitFor({ timeout: 5000 });
    await alice.fill('#dial', '103');
    await alice.getByRole('button', { name: 'Call', exact: true }).click();
    const failure = alice.getByTestId('call-failure');
    await failure.waitFor({ timeout: 10_000 });
    expect(await failure.getAttribute('data-status')).toBe('480');
    expect(await failure.textContent()).toContain('not taking calls');
    expect(await bea.getByRole('alertdialog').count()).toBe(0);
    // A call that never connects is written whole at its end, a moment after the caller hears the 480.
    await expect
      .poll(async () => (await db.selectFrom('calls').select(['result', 'from_number', 'to_number']).orderBy('started_at', 'desc').executeTakeFirst()) ?? null, { timeout: 10_000, interval: 100 })
      .toMatchObject({ result: 'unavailable', from_number: '102', to_number: '103' });
    // Back to "take all calls": the next call rings again.
    await bea.selectOption('#dnd', 'take_all_calls');
    await bea.locator('#dnd[data-saved="true"]').waitFor({ timeout: 5000 });
    await connectCall(alice, bea, '103');
    await alice.getByRole('button', { name: 'Hang up', exact: true }).click();
    await bea.locator('[data-testid="call-state"]').waitFor({ state: 'detached', timeout: 10_000 });
  }, 60_000);

  it('a declined call is told in words (603 Decline), never as a bare SIP code', async () => {
    await alice.fill('#dial', '103');
    await alice.getByRole('button', { name: 'Call', exact: true }).click();
    const incoming = bea.getByRole('alertdialog', { name: 'Incoming call' });
    await incoming.waitFor({ timeout: 10_000 });
    await incoming.getByRole('button', { name: 'Decline' }).click();
    const failure = alice.getByTestId('call-failure');
    await failure.waitFor({ timeout: 10_000 });
    expect(await failure.getAttribute('data-status')).toBe('603');
    expect(await failure.textContent()).toContain('The call was declined.');
    expect(await failure.textContent()).not.toMatch(/\d{3}/);
    await bea.getByRole('alertdialog').waitFor({ state: 'detached', timeout: 10_000 });
  }, 60_000);

  it('blind-transfers: Alice sends Bea to Carol, leaves, and Bea and Carol hear each other', async () => {
    await connectCall(alice, bea, '103');
    await alice.fill('input[name="transfer"]', '104');
    await alice.getByRole('button', { name: 'Transfer', exact: true }).click();
    const incoming = carol.getByRole('alertdialog', { name: 'Incoming call' });
    await incoming.waitFor({ timeout: 10_000 });
    await incoming.getByRole('button', { name: 'Answer' }).click();
    await carol.locator('[data-testid="call-state"][data-call="in-call"]').waitFor({ timeout: 10_000 });
    await alice.locator('[data-testid="call-state"]').waitFor({ state: 'detached', timeout: 10_000 });
    expect(await bea.locator('[data-testid="call-state"][data-call="in-call"]').count()).toBe(1);
    const [b, c] = await receivedDuring([bea, carol], 2000);
    expect(b!.packets).toBeGreaterThan(50);
    expect(c!.packets).toBeGreaterThan(50);
    expect(b!.energy).toBeGreaterThan(0);
    expect(c!.energy).toBeGreaterThan(0);
    await carol.getByRole('button', { name: 'Hang up', exact: true }).click();
    await bea.locator('[data-testid="call-state"]').waitFor({ state: 'detached', timeout: 10_000 });
  }, 60_000);

  it('attended transfer: Alice calls Bea, then Carol (Bea is held), then connects them; both of her calls end', async () => {
    await connectCall(alice, bea, '103');
    await connectCall(alice, carol, '104');
    // Placing the second call held the first.
    await alice.locator('[data-testid="call"][data-peer="103"][data-held="true"]').waitFor({ timeout: 5000 });
    await alice.locator('[data-testid="call"][data-peer="104"]').getByRole('button', { name: 'Transfer to 103' }).click();
    await alice.locator('[data-testid="call"]').first().waitFor({ state: 'detached', timeout: 10_000 });
    expect(await alice.locator('[data-testid="call"]').count()).toBe(0);
    const [b, c] = await receivedDuring([bea, carol], 2000);
    expect(b!.packets).toBeGreaterThan(50);
    expect(c!.packets).toBeGreaterThan(50);
    expect(b!.energy).toBeGreaterThan(0);
    expect(c!.energy).toBeGreaterThan(0);
    await bea.getByRole('button', { name: 'Hang up', exact: true }).click();
    await carol.locator('[data-testid="call-state"]').waitFor({ state: 'detached', timeout: 10_000 });
  }, 60_000);

  it('DTMF from the keypad: *9 starts and stops an on-demand recording of the browser call, which the call log serves', async () => {
    await connectCall(alice, bea, '103');
    // The call in progress (the earlier tests' calls have all ended).
    const call = await db.selectFrom('calls').select('id').where('from_number', '=', '102').where('to_number', '=', '103').where('ended_at', 'is', null).executeTakeFirstOrThrow();
    const keypad = alice.getByRole('group', { name: 'Keypad' });
    const press = async (keys: string) => {
      for (const key of keys) {
        await keypad.getByRole('button', { name: key, exact: true }).click();
        await alice.waitForTimeout(250);
      }
    };
    await press('*9');
    // media-server saw the RFC 4733 digits Chromium sent, and started recording.
    // A readiness wait: the recording starts after the announcement is queued and its row is written (PGlite under CI load).
    await expect.poll(async () => (await db.selectFrom('recordings').select('id').where('call_id', '=', call.id).execute()).length, { timeout: 30_000 }).toBe(1);
    await alice.waitForTimeout(4000);
    await press('*9');
    await expect
      .poll(async () => (await db.selectFrom('recordings').select('duration_seconds').where('call_id', '=', call.id).executeTakeFirst())?.duration_seconds ?? null, { timeout: 30_000 })
      .toBeGreaterThanOrEqual(2);
    await alice.getByRole('button', { name: 'Hang up', exact: true }).click();
    await bea.locator('[data-testid="call-state"]').waitFor({ state: 'detached', timeout: 10_000 });
    // The recording, fetched as the call log's player does: a WAV with both browsers' audio in it.
    const wav = await alice.evaluate(async (id) => {
      const res = await fetch(`/api/calls/${id}/recording`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      let binary = '';
      for (let i = 0; i < bytes.length; i += 8192) binary += String.fromCharCode(...bytes.subarray(i, i + 8192));
      return { status: res.status, type: res.headers.get('content-type'), base64: btoa(binary) };
    }, call.id);
    expect(wav).toMatchObject({ status: 200, type: 'audio/wav' });
    const file = path.join(os.tmpdir(), `carillon-rec-${call.id}.wav`);
    fs.writeFileSync(file, Buffer.from(wav.base64, 'base64'));
    const analysis = analyseWav(file, 1000);
    fs.rmSync(file, { force: true });
    expect(analysis.seconds).toBeGreaterThanOrEqual(2);
    expect(analysis.rms).toBeGreaterThan(100);
  }, 90_000);

  it('calls a SIPp desk phone and is called by one, with audio from it', async () => {
    const uas = await startRegisteredSipp({ target: sipTarget, credentials: deskPhone, scenario: 'uas-answer.xml' });
    await alice.fill('#dial', '105');
    await alice.getByRole('button', { name: 'Call', exact: true }).click();
    await alice.locator('[data-testid="call-state"][data-call="in-call"]').waitFor({ timeout: 10_000 });
    // SIPp plays PCMA from its pcap; Chromium decodes it (transcoded to Opus by media-server, or kept as PCMA).
    const [heard] = await receivedDuring([alice], 1500);
    expect(heard!.packets).toBeGreaterThan(30);
    expect(heard!.energy).toBeGreaterThan(0);
    await alice.getByRole('button', { name: 'Hang up', exact: true }).click();
    const answered = await uas.done;
    expect(answered.code, answered.errors).toBe(0);

    // The desk phone calls Alice: she answers in the browser and hears it, and SIPp hangs up.
    const uac = startSipp({ scenario: 'uac-call.xml', target: sipTarget, localPort: await freeSipPort(), service: '102', auth: deskPhone, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    const incoming = alice.getByRole('alertdialog', { name: 'Incoming call' });
    await incoming.waitFor({ timeout: 10_000 });
    await incoming.getByRole('button', { name: 'Answer' }).click();
    await alice.locator('[data-testid="call-state"][data-call="in-call"]').waitFor({ timeout: 10_000 });
    const [fromDesk] = await receivedDuring([alice], 1500);
    expect(fromDesk!.packets).toBeGreaterThan(30);
    expect(fromDesk!.energy).toBeGreaterThan(0);
    const done = await uac.done;
    expect(done.code, done.errors || done.output.slice(-1500)).toBe(0);
    await alice.locator('[data-testid="call-state"]').waitFor({ state: 'detached', timeout: 10_000 });
  }, 90_000);

  it('a second tab does not steal the first one: both ring, answering in one stops the other', async () => {
    const beaSecondTab = await bea.context().newPage();
    await beaSecondTab.goto(`${product.url}/me/phone`);
    await beaSecondTab.locator('[data-testid="phone-status"][data-status="registered"]').waitFor({ timeout: 15_000 });
    await alice.fill('#dial', '103');
    await alice.getByRole('button', { name: 'Call', exact: true }).click();
    await bea.getByRole('alertdialog', { name: 'Incoming call' }).waitFor({ timeout: 10_000 });
    await beaSecondTab.getByRole('alertdialog', { name: 'Incoming call' }).waitFor({ timeout: 10_000 });
    await beaSecondTab.getByRole('alertdialog', { name: 'Incoming call' }).getByRole('button', { name: 'Answer' }).click();
    await bea.getByRole('alertdialog').waitFor({ state: 'detached', timeout: 10_000 });
    await alice.locator('[data-testid="call-state"][data-call="in-call"]').waitFor({ timeout: 10_000 });
    const [a] = await receivedDuring([alice], 1500);
    expect(a!.packets).toBeGreaterThan(30);
    await alice.getByRole('button', { name: 'Hang up', exact: true }).click();
    await beaSecondTab.locator('[data-testid="call-state"]').waitFor({ state: 'detached', timeout: 10_000 });
    // The first tab is still registered and takes the next call.
    expect(await bea.locator('[data-testid="phone-status"][data-status="registered"]').count()).toBe(1);
    await beaSecondTab.close();
  }, 60_000);

  it('keeps personal contacts: added on the Contacts page (a bad number refused with its reason), found from the dial box by name, company or digits, and called from there', async () => {
    await carol.goto(`${product.url}/me/contacts`);
    await carol.getByLabel('First name').fill('Zoé');
    await carol.getByLabel('Last name').fill('Martin');
    await carol.getByLabel('Company').fill('Atelier Nord');
    await carol.getByLabel('Phone number').fill('12ab');
    await carol.getByRole('button', { name: 'Add', exact: true }).click();
    const error = carol.getByTestId('contact-error');
    await error.waitFor({ timeout: 5000 });
    expect(await error.textContent()).toContain('phone');
    // Nothing typed is lost: only the number needs fixing.
    expect(await carol.getByLabel('First name').inputValue()).toBe('Zoé');
    // Bea's extension as the contact's number, so that calling the contact reaches someone here.
    await carol.getByLabel('Phone number').fill('1 03');
    await carol.getByRole('button', { name: 'Add', exact: true }).click();
    await carol.locator('[data-testid="contacts"] li[data-phone="103"]').waitFor({ timeout: 5000 });

    await carol.goto(`${product.url}/me/phone`);
    await carol.locator('[data-testid="phone-status"][data-status="registered"]').waitFor({ timeout: 15_000 });
    const matches = () => carol.locator('[data-testid="contact-matches"] li').evaluateAll((li) => li.map((e) => e.getAttribute('data-phone')));
    for (const typed of ['zo', 'atel', '03']) {
      await carol.fill('#dial', typed);
      await expect.poll(matches, { timeout: 5000 }).toEqual(['103']);
    }
    await carol.fill('#dial', 'nobody');
    await expect.poll(matches, { timeout: 5000 }).toEqual([]);
    await carol.fill('#dial', 'martin');
    await carol.getByRole('button', { name: 'Call Zoé Martin at 103' }).click();
    const incoming = bea.getByRole('alertdialog', { name: 'Incoming call' });
    await incoming.waitFor({ timeout: 10_000 });
    await carol.getByRole('button', { name: 'Hang up', exact: true }).click();
    await incoming.waitFor({ state: 'detached', timeout: 10_000 });
    await carol.fill('#dial', '');
  }, 60_000);

  it("shows colleagues' presence live (available, ringing, on a call, on hold, Do Not Disturb, offline) and finds them by name or extension", async () => {
    const presence = (page: Page, extension: string) => page.locator(`[data-testid="colleagues"] li[data-extension="${extension}"]`).getAttribute('data-presence', { timeout: 2000 }).catch(() => null);
    await expect.poll(() => presence(carol, '102'), { timeout: 10_000 }).toBe('available');
    await expect.poll(() => presence(carol, '103'), { timeout: 10_000 }).toBe('available');
    await alice.fill('#dial', '103');
    await alice.getByRole('button', { name: 'Call', exact: true }).click();
    await expect.poll(() => presence(carol, '103'), { timeout: 10_000 }).toBe('ringing');
    await bea.getByRole('alertdialog', { name: 'Incoming call' }).getByRole('button', { name: 'Answer' }).click();
    await expect.poll(() => presence(carol, '103'), { timeout: 10_000 }).toBe('on_call');
    await expect.poll(() => presence(carol, '102'), { timeout: 10_000 }).toBe('on_call');
    // Alice holds: she is "on hold" for colleagues (her only call is one she holds), Bea still on a call.
    await alice.getByRole('button', { name: 'Hold' }).click();
    await expect.poll(() => presence(carol, '102'), { timeout: 10_000 }).toBe('on_hold');
    expect(await presence(carol, '103')).toBe('on_call');
    expect(await carol.locator('[data-testid="colleagues"] li[data-extension="102"] .state').innerText()).toBe('On hold');
    await alice.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => presence(carol, '102'), { timeout: 10_000 }).toBe('on_call');
    await alice.getByRole('button', { name: 'Hang up', exact: true }).click();
    await expect.poll(() => presence(carol, '103'), { timeout: 10_000 }).toBe('available');
    await bea.selectOption('#dnd', 'no_calls');
    await expect.poll(() => presence(carol, '103'), { timeout: 10_000 }).toBe('dnd');
    await bea.selectOption('#dnd', 'take_all_calls');
    await expect.poll(() => presence(carol, '103'), { timeout: 10_000 }).toBe('available');

    // The dial box searches colleagues, never listing oneself.
    await carol.fill('#dial', 'be');
    await expect.poll(() => carol.locator('[data-testid="colleagues"] li').evaluateAll((li) => li.map((e) => e.getAttribute('data-extension')))).toEqual(['103']);
    await carol.fill('#dial', '10');
    await expect.poll(() => carol.locator('[data-testid="colleagues"] li').evaluateAll((li) => li.map((e) => e.getAttribute('data-extension')))).toEqual(['101', '102', '103', '105', '106']);
    await carol.fill('#dial', '');

    // Bea closes her phone: it unregisters, and she goes offline.
    await bea.close();
    await expect.poll(() => presence(carol, '103'), { timeout: 10_000 }).toBe('offline');
  }, 90_000);

  it('works in French and by keyboard alone: dial with Enter, answer with Enter', async () => {
    expect((await carol.evaluate(async () => (await fetch('/api/me', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ language: 'fr' }) })).status))).toBe(200);
    await carol.reload();
    await carol.getByRole('heading', { name: 'Téléphone', exact: true }).waitFor({ timeout: 10_000 });
    await carol.locator('[data-testid="phone-status"][data-status="registered"]').waitFor({ timeout: 15_000 });
    expect(await carol.getByTestId('phone-status').textContent()).toBe('Prêt à appeler');
    await carol.locator('#dial').focus();
    await carol.keyboard.type('102');
    await carol.keyboard.press('Enter');
    const incoming = alice.getByRole('alertdialog', { name: 'Incoming call' });
    await incoming.waitFor({ timeout: 10_000 });
    await incoming.getByRole('button', { name: 'Answer' }).focus();
    await alice.keyboard.press('Enter');
    await carol.locator('[data-testid="call-state"][data-call="in-call"]').waitFor({ timeout: 10_000 });
    expect(await carol.getByTestId('call-state').textContent()).toContain('En communication avec');
    await carol.getByRole('button', { name: 'Raccrocher' }).focus();
    await carol.keyboard.press('Enter');
    await alice.locator('[data-testid="call-state"]').waitFor({ state: 'detached', timeout: 10_000 });
  }, 60_000);

  it('says clearly when no microphone is available', async () => {
    const noMic = await launchChromium(['--use-fake-ui-for-media-stream']);
    try {
      const page = await signIn(noMic, product.url, 'desk@demo.carillon.localhost', PASSWORD);
      await page.goto(`${product.url}/me/phone`);
      const alert = page.getByRole('alert');
      await alert.waitFor({ timeout: 10_000 });
      expect(await alert.textContent()).toContain('No microphone is available');
    } finally {
      await noMic.close();
    }
  }, 60_000);

  it('rings with a browser notification when the tab is hidden', async () => {
    await carol.context().grantPermissions(['notifications'], { origin: product.url });
    // The tab goes to the background, and what the page shows as notifications is recorded.
    await carol.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      const shown: { title: string; body: string | undefined }[] = [];
      const Real = window.Notification;
      class Recorded extends Real {
        constructor(title: string, options?: NotificationOptions) {
          super(title, options);
          shown.push({ title, body: options?.body });
        }
      }
      Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
      (window as unknown as { Notification: typeof Notification }).Notification = Recorded as unknown as typeof Notification;
      (window as unknown as { shownNotifications: typeof shown }).shownNotifications = shown;
    });
    await alice.fill('#dial', '104');
    await alice.getByRole('button', { name: 'Call', exact: true }).click();
    await carol.getByRole('alertdialog').waitFor({ timeout: 10_000 });
    await expect
      .poll(() => carol.evaluate(() => (window as unknown as { shownNotifications: { title: string; body?: string }[] }).shownNotifications), { timeout: 5000 })
      .toEqual([{ title: 'Appel entrant', body: expect.stringContaining('alice') }]);
    await alice.getByRole('button', { name: 'Hang up', exact: true }).click();
    await carol.getByRole('alertdialog').waitFor({ state: 'detached', timeout: 10_000 });
  }, 60_000);

  it('lists the calls in My Extension > Call Log with results and durations, filters them, and the CSV holds exactly the rows shown', async () => {
    await waitForCallResults(db);
    const ext = await db.selectFrom('extensions').select('id').where('number', '=', '102').executeTakeFirstOrThrow();
    const mine = await db
      .selectFrom('calls')
      .select(['id', 'result', 'duration_seconds'])
      .where((eb) => eb.or([eb('caller_extension_id', '=', ext.id), eb('callee_extension_id', '=', ext.id)]))
      .orderBy('started_at', 'desc')
      .execute();
    expect(mine.length).toBeGreaterThanOrEqual(5);
    await alice.goto(`${product.url}/me/call-log`);
    const rows = alice.locator('[data-testid="call-log"] tbody tr');
    expect(await rows.count()).toBe(mine.length);
    // Each row shows its call's result and duration as media-server recorded them; the first call lasted 3 s or more.
    for (const [i, call] of mine.entries()) {
      expect(await rows.nth(i).getAttribute('data-call-id')).toBe(call.id);
      expect(await rows.nth(i).locator('[data-result]').getAttribute('data-result')).toBe(call.result);
      expect(await rows.nth(i).locator('[data-seconds]').getAttribute('data-seconds')).toBe(call.duration_seconds === null ? null : String(call.duration_seconds));
    }
    expect(Number(await rows.last().locator('[data-seconds]').getAttribute('data-seconds'))).toBeGreaterThanOrEqual(3);

    // Filtered to the refused call, then downloaded: the CSV has the header and exactly the rows on screen.
    await alice.selectOption('select[name="result"]', 'unavailable');
    await alice.getByRole('button', { name: 'Apply' }).click();
    await alice.waitForURL(/result=unavailable/);
    expect(await rows.count()).toBe(1);
    const shown = await rows.first().getAttribute('data-call-id');
    const csv = await alice.evaluate(async () => (await fetch(document.querySelector<HTMLAnchorElement>('[data-testid="call-log-csv"]')!.href)).text());
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('Date,Direction,From,From name,To,Result,Duration (s),Recording');
    expect(lines.length).toBe(2);
    const refused = await db.selectFrom('calls').select(['started_at', 'duration_seconds']).where('id', '=', shown!).executeTakeFirstOrThrow();
    expect(lines[1]).toBe(`${new Date(refused.started_at).toISOString()},internal,102,alice Test,103,unavailable,${refused.duration_seconds ?? ''},no`);
  }, 60_000);

  it("gives a manager the company call log: every call of the account, and a Standard user only their own", async () => {
    await waitForCallResults(db);
    const manager = await signIn(browser, product.url, 'manon@demo.carillon.localhost', PASSWORD);
    await manager.goto(`${product.url}/admin/call-log?view=detailed`);
    const all = await db.selectFrom('calls').select('id').orderBy('started_at', 'desc').execute();
    const ids = await manager.locator('[data-testid="call-log"] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-call-id')));
    expect(ids).toEqual(all.map((c) => c.id));
    expect(await manager.getByRole('columnheader', { name: 'Hung up by' }).count()).toBe(1);
    // Who hung up is named in words, not as the stored code.
    const endedBy = await db.selectFrom('calls').select('id').where('hangup_by', '=', 'caller').executeTakeFirstOrThrow();
    const cells = await manager.locator(`[data-testid="call-log"] tbody tr[data-call-id="${endedBy.id}"] td`).allInnerTexts();
    expect(cells).toContain('Caller');
    // A Standard user is refused the company log, on the page and in the API.
    expect((await carol.goto(`${product.url}/admin/call-log`))!.status()).toBe(403);
    expect(await carol.evaluate(async () => (await fetch('/api/calls?scope=company')).json().then((rows: { caller_extension_id: string | null; callee_extension_id: string | null }[]) => rows.length))).toBeLessThan(all.length);
  }, 60_000);
});
