/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { conferenceCodesOf, saveConferenceSettings } from '@carillon/core/conference';
import { DEFAULT_CONFERENCE_SETTINGS } from '@carillon/domain';
import { openPostgres, type Db } from '@carillon/db';
import { seriousViolations } from '../support/axe.ts';
import { launchChromium } from '../support/browser.ts';
import { liveSocket } from '../support/live-socket.ts';
import { mediaServerSipTarget, printProductLogOnFailure, startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createStandardUsers, signIn } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { RtpPhone } from '../../media-server/test/support/rtp-phone.ts';
import { freeMediaPort, freeSipPort, startRegisteredSipp, startSipp, type SippRun } from '../../media-server/test/support/sipp.ts';

/**
 * The host's moderator console (issue 16 acceptance: "mute all, lock, remove a member (their SIP leg
 * gets BYE), dial out to a SIPp phone that then joins"), on the product as `npm start` runs it with
 * the area 'conference'. Alice (201) is the host: her desk phone dials in with the host code, two
 * more desk phones with the participant code; each is a SIPp phone whose media is the test's RTP
 * socket sending a tone of its own (RtpPhone), so who hears whom is read off the spectrum, as in
 * media-server/test/sipp/conference-calls.test.ts. Alice's console in Chromium shows them live and
 * its buttons act on the calls; the bad inputs and another user's attempts get clear refusals.
 */
const BRIDGE = '+14155550188';
const HOST_TONE = 500;
const P1_TONE = 900;
const P2_TONE = 1300;
const CALLED_TONE = 700;
/** A tone heard through the room (the phones send amplitude 6000; the mix scales talkers down a little). */
const HEARD = 1000;
const PASSWORD = 'Meadow5Lantern';

let product: RunningProduct;
let browser: Browser;
let db: Db;
let page: Page;
let sipTarget: string;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let codes: { host: string; participant: string };
let aliceExtensionId: string;
const desks: Record<string, { username: string; password: string }> = {};
const running: SippRun[] = [];
const phones: RtpPhone[] = [];

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'conferenceconsole');
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), ENABLE_UNRELEASED: 'conference' });
  db = openPostgres(product.databaseUrl(), 2);
  const admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  await createStandardUsers(db, [
    { extension: '201', name: 'alice', password: PASSWORD },
    { extension: '102', name: 'bob', password: PASSWORD },
    { extension: '103', name: 'carol', password: PASSWORD },
    { extension: '104', name: 'dave', password: PASSWORD },
    { extension: '105', name: 'erin', password: PASSWORD },
  ]);
  for (const number of ['201', '102', '103', '104', '105']) {
    const ext = await db.selectFrom('extensions').select('id').where('number', '=', number).executeTakeFirstOrThrow();
    if (number === '201') aliceExtensionId = ext.id;
    const issued = await admin.json('POST', '/api/devices', { extensionId: ext.id, type: 'desk_phone', name: `Desk ${number}` });
    expect(issued.status).toBe(201);
    desks[number] = ((await issued.json()) as { sip: { username: string; password: string } }).sip;
  }
  const account = await db.selectFrom('accounts').select('id').executeTakeFirstOrThrow();
  const bridge = await db.insertInto('phone_numbers').values({ account_id: account.id, e164: BRIDGE, type: 'additional_company', extension_id: null, site_id: null, nickname: null }).returning('id').executeTakeFirstOrThrow();
  await db.insertInto('conference_dial_ins').values({ phone_number_id: bridge.id, account_id: account.id }).execute();
  codes = (await conferenceCodesOf(db, account.id, aliceExtensionId))!;
  // No enter or exit tones (they would cover what is measured); participants may join before the host.
  await saveConferenceSettings(db, { userId: null, ip: null }, account.id, aliceExtensionId, { ...DEFAULT_CONFERENCE_SETTINGS, joinBeforeHost: true, enterTone: false, exitTone: false });
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  sipTarget = await mediaServerSipTarget(product, 60_000);
  browser = await launchChromium();
  page = await signIn(browser, product.url, 'alice@demo.carillon.localhost', PASSWORD);
  page.setDefaultTimeout(15_000);
}, 180_000);

afterAll(async () => {
  for (const r of running) r.stop();
  for (const p of phones) p.close();
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

printProductLogOnFailure(() => product, /\[media-server\].*"msg":"(call|conference|control)/i);

interface Member {
  rtp: RtpPhone;
  sipp: SippRun;
}

/** A desk phone dials the bridge; once the code prompt reaches it, it keys `code` and `#`. */
async function dialIn(desk: string, tone: number, code: string): Promise<Member> {
  const rtp = await RtpPhone.open(tone);
  phones.push(rtp);
  const sipp = startSipp({ scenario: 'uac-listen-until-bye.xml', target: sipTarget, localPort: await freeSipPort(), service: BRIDGE, auth: desks[desk]!, timeoutSeconds: 120, vars: { rtpport: String(rtp.port) }, extra: ['-mp', String(await freeMediaPort())] });
  running.push(sipp);
  await expect.poll(() => rtp.connected, { timeout: 30_000 }).toBe(true);
  rtp.press(`${code}#`);
  return { rtp, sipp };
}

/** The amplitude of `hz` in the last `ms` a phone heard. */
const recent = (m: Member, hz: number, ms = 600) => m.rtp.levelSince(Date.now() - ms, hz);
const rows = () => page.getByTestId('conference-member');
const row = (number: string) => page.locator(`[data-testid="conference-member"][data-number="${number}"]`);
const mutedOf = (number: string) => row(number).getAttribute('data-muted');

let host: Member;
let p1: Member;
let p2: Member;

describe('the host\'s conference console', () => {
  it('shows the members live as they dial in, and has no serious accessibility violation', { timeout: 120_000 }, async () => {
    await page.goto(`${product.url}/me/conferencing`);
    await page.getByRole('link', { name: 'Open the moderator console' }).click();
    await page.waitForURL(/\/me\/conferencing\/console$/);
    await page.getByTestId('conference-not-live').waitFor();
    host = await dialIn('201', HOST_TONE, codes.host);
    p1 = await dialIn('102', P1_TONE, codes.participant);
    p2 = await dialIn('103', P2_TONE, codes.participant);
    await expect.poll(() => rows().count(), { timeout: 30_000 }).toBe(3);
    expect(await row('201').innerText()).toContain('Host');
    expect(await mutedOf('102')).toBe('false');
    // Everyone hears everyone: the room is live.
    await expect.poll(() => recent(host, P1_TONE) > HEARD && recent(host, P2_TONE) > HEARD && recent(p1, HOST_TONE) > HEARD, { timeout: 30_000 }).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('Mute all: the participants are muted (the host hears neither), and one unmuted from its row is heard again', { timeout: 60_000 }, async () => {
    await page.getByRole('button', { name: 'Mute all', exact: true }).click();
    await expect.poll(() => mutedOf('102')).toBe('true');
    await expect.poll(() => mutedOf('103')).toBe('true');
    expect(await mutedOf('201')).toBe('false');
    await expect.poll(() => recent(host, P1_TONE) < HEARD / 10 && recent(host, P2_TONE) < HEARD / 10, { timeout: 15_000 }).toBe(true);
    // The host is not muted: the participants still hear it.
    expect(recent(p1, HOST_TONE)).toBeGreaterThan(HEARD);
    await row('102').getByRole('button', { name: 'Unmute' }).click();
    await expect.poll(() => mutedOf('102')).toBe('false');
    await expect.poll(() => recent(host, P1_TONE) > HEARD, { timeout: 15_000 }).toBe(true);
    expect(recent(host, P2_TONE)).toBeLessThan(HEARD / 10);
  });

  it('Lock: a new joiner is refused with the announcement and never listed; Unlock opens it again', { timeout: 90_000 }, async () => {
    await page.getByRole('button', { name: 'Lock', exact: true }).click();
    await expect.poll(() => page.getByTestId('conference-lock-state').getAttribute('data-locked')).toBe('true');
    const refused = await dialIn('104', 1700, codes.participant);
    const result = await refused.sipp.done;
    expect(result.code, 'the refused joiner got its BYE').toBe(0);
    // It heard the announcement (speech), and nobody heard its tone.
    expect(refused.rtp.rmsSince(0)).toBeGreaterThan(300);
    expect(host.rtp.levelSince(0, 1700)).toBeLessThan(HEARD / 4);
    expect(await row('104').count()).toBe(0);
    await page.getByRole('button', { name: 'Unlock', exact: true }).click();
    await expect.poll(() => page.getByTestId('conference-lock-state').getAttribute('data-locked')).toBe('false');
  });

  it('Remove: the member\'s SIP leg gets its BYE and its row goes', { timeout: 60_000 }, async () => {
    await row('103').getByRole('button', { name: 'Remove' }).click();
    const result = await p2.sipp.done;
    expect(result.code, result.errors || result.output.slice(-1500)).toBe(0);
    await expect.poll(() => row('103').count()).toBe(0);
    expect(await rows().count()).toBe(2);
  });

  it('Dial out: a registered SIPp phone answers, is listed as called in, and is heard in the room', { timeout: 90_000 }, async () => {
    const called = await RtpPhone.open(CALLED_TONE);
    phones.push(called);
    const uas = await startRegisteredSipp({ target: sipTarget, credentials: desks['105']!, scenario: 'uas-socket-until-bye.xml', vars: { rtpport: String(called.port) }, timeoutSeconds: 90 });
    running.push(uas);
    await page.getByTestId('conference-dial-out').getByLabel('Call an extension into the conference').fill('105');
    await page.getByRole('button', { name: 'Dial out', exact: true }).click();
    await expect.poll(() => row('105').count(), { timeout: 30_000 }).toBe(1);
    expect(await row('105').innerText()).toContain('called in');
    await expect.poll(() => recent(host, CALLED_TONE) > HEARD && called.levelSince(Date.now() - 600, HOST_TONE) > HEARD, { timeout: 20_000 }).toBe(true);

    // An extension with no registered phone: the console says why it did not join, and lists no one more.
    await page.getByTestId('conference-dial-out').getByLabel('Call an extension into the conference').fill('104');
    await page.getByRole('button', { name: 'Dial out', exact: true }).click();
    await page.getByText('104 did not join: no phone of it can be reached.').waitFor();
    expect(await rows().count()).toBe(3);

    // The host's *3 ends the conference: every leg, the called-in one too, gets its BYE; the console shows it ended.
    host.rtp.press('*3');
    for (const run of [host.sipp, p1.sipp, uas]) {
      const r = await run.done;
      expect(r.code, r.errors || r.output.slice(-1500)).toBe(0);
    }
    await page.getByTestId('conference-not-live').waitFor();
    expect(await rows().count()).toBe(0);
    // Each command is in the audit trail, on the host's extension, with its outcome.
    const audited = await db.selectFrom('audit_events').select(['action', 'target_id', 'after']).where('action', 'like', 'conference.%').orderBy('occurred_at').execute();
    expect(audited.filter((a) => a.action !== 'conference.settings_saved').map((a) => [a.action, a.target_id, (a.after as { outcome: string }).outcome])).toEqual([
      ['conference.mute-all', aliceExtensionId, 'done'],
      ['conference.mute', aliceExtensionId, 'done'],
      ['conference.lock', aliceExtensionId, 'done'],
      ['conference.lock', aliceExtensionId, 'done'],
      ['conference.remove', aliceExtensionId, 'done'],
      ['conference.dial-out', aliceExtensionId, 'done'],
      ['conference.dial-out', aliceExtensionId, 'done'],
    ]);
  });
});

describe('bad input and other users', () => {
  it('refuses a command of the wrong shape, an unknown member or extension, a conference not in progress, and another host\'s socket subscription', { timeout: 60_000 }, async () => {
    const alice = new HttpClient(product.url);
    expect((await alice.form('/login', { identifier: 'alice@demo.carillon.localhost', password: PASSWORD })).status).toBe(303);
    const bad = await alice.json('POST', '/api/me/conference/console', { type: 'mute', memberId: 'everyone', muted: 'yes' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_body', fields: { memberId: expect.any(String), muted: expect.any(String) } });
    expect((await alice.json('POST', '/api/me/conference/console', { type: 'self-destruct' })).status).toBe(400);
    expect((await alice.json('POST', '/api/me/conference/console', { type: 'lock', locked: true, hostExtensionId: aliceExtensionId })).status).toBe(400);
    // Her conference ended: a command for it is refused as not in progress.
    const notLive = await alice.json('POST', '/api/me/conference/console', { type: 'lock', locked: true });
    expect(notLive.status).toBe(409);
    expect(await notLive.json()).toMatchObject({ error: 'not_live' });
    expect(await (await alice.get('/api/me/conference/console')).json()).toEqual({ live: false, roster: null });
    expect(await (await alice.json('POST', '/api/me/conference/console', { type: 'dial-out', number: '999' })).json()).toMatchObject({ error: 'unknown_extension' });

    // Live again (Alice's desk phone as host): an unknown member is named as such.
    const again = await dialIn('201', HOST_TONE, codes.host);
    await expect.poll(async () => ((await (await alice.get('/api/me/conference/console')).json()) as { live: boolean }).live, { timeout: 30_000 }).toBe(true);
    const unknown = await alice.json('POST', '/api/me/conference/console', { type: 'remove', memberId: crypto.randomUUID() });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'unknown_member' });

    // Bob can neither watch Alice's conference nor reach it through his own console (his is not in progress).
    const bob = new HttpClient(product.url);
    expect((await bob.form('/login', { identifier: 'bob@demo.carillon.localhost', password: PASSWORD })).status).toBe(303);
    const { socket } = await liveSocket(product.url, bob, 'conference');
    try {
      expect(await socket.emitWithAck('conference:watch', { hostExtensionId: aliceExtensionId })).toEqual({ error: 'forbidden' });
      expect(await socket.emitWithAck('conference:watch', { hostExtensionId: 'alice' })).toEqual({ error: 'invalid_payload' });
    } finally {
      socket.close();
    }
    expect((await bob.json('POST', '/api/me/conference/console', { type: 'lock', locked: true })).status).toBe(409);
    // Nor can the administrator of another account.
    const beta = new HttpClient(product.url);
    expect((await activate(beta, (await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example'])).link)).status).toBe(303);
    const betaSocket = (await liveSocket(product.url, beta, 'conference')).socket;
    try {
      expect(await betaSocket.emitWithAck('conference:watch', { hostExtensionId: aliceExtensionId })).toEqual({ error: 'forbidden' });
    } finally {
      betaSocket.close();
    }
    const betaCommand = await beta.json('POST', '/api/me/conference/console', { type: 'lock', locked: true });
    // Their command reaches only their own conference: not in progress (409), or none without an extension (404).
    const boss = await db.selectFrom('users').select('extension_id').where('email', '=', 'boss@beta.example').executeTakeFirstOrThrow();
    expect(betaCommand.status).toBe(boss.extension_id ? 409 : 404);
    expect(await (await alice.get('/api/me/conference/console')).json()).toMatchObject({ live: true, roster: { locked: false } });

    again.rtp.press('*3');
    expect((await again.sipp.done).code).toBe(0);
  });
});
