import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IVR_SETTINGS } from '@carillon/domain';
import { liveCounts } from '../../src/health.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { freeMediaPort, freeSipPort, startSipp, tellToHangUp, type SippRun } from '../support/sipp.ts';
import { toneWav } from '../support/wav.ts';

/**
 * An IVR key's external transfer (issue 14, IVR-13), end to end on the live edge with the unreleased
 * area 'ivr': a SIPp caller (101, its media the test's RtpPhone) walks a two-level menu with RFC 4733
 * keys — `2` to the submenu, `*` back, `#` to hear the menu again, `3` out to an outside number — and
 * is bridged through the account's trunk to a SIPp carrier (127.0.0.2, its media a second RtpPhone).
 * The menus' prompts are short bursts of their own tones followed by silence, so that each prompt's
 * start is heard apart (the top menu 697 Hz, the submenu 770 Hz); once bridged, the caller sends
 * 900 Hz and the outside party 1,500 Hz, and each must hear the other's.
 */
const DATA_DIR = '/tmp/carillon-tests';
const CARRIER_IP = '127.0.0.2';
const TOP_HZ = 697;
const SUB_HZ = 770;
const CALLER_HZ = 900;
const OUTSIDE_HZ = 1500;
/** Domestic (the account is in the US): within the account's calling permission. */
const OUTSIDE = '+12125550101';
/** Abroad: outside the account's calling permission (domestic). */
const ABROAD = '+33142685300';
let h: EdgeHarness;
let caller: TestPhone;
let carrierPort = 0;
const running: SippRun[] = [];

beforeAll(async () => {
  h = await startEdge({ unreleased: 'ivr' });
  caller = await h.addPhone('101');
  carrierPort = await h.addCarrierTrunk(CARRIER_IP);
  const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  const addMenu = async (number: string, hz: number, keys: object) => {
    const menu = await h.db.insertInto('extensions').values({ account_id: h.accountId, site_id: site.id, number, type: 'ivr_menu', name: `Menu ${number}`, status: 'activated' }).returning('id').executeTakeFirstOrThrow();
    const name = `menu ${number} ${randomBytes(3).toString('hex')}`;
    const file = path.posix.join('prompts', h.accountId, `${randomBytes(6).toString('hex')}.wav`);
    fs.mkdirSync(path.join(DATA_DIR, path.dirname(file)), { recursive: true });
    // 400 ms of the menu's tone, then 6 s of silence (the prompt plays on: a key cuts it).
    fs.writeFileSync(path.join(DATA_DIR, file), toneWav(hz, 400, 6000));
    await h.db.insertInto('ivr_prompts').values({ account_id: h.accountId, name, kind: 'audio', text: null, language: null, file, duration_ms: 6400, original_name: null, created_by: null }).execute();
    await h.db
      .insertInto('ivr_menus')
      .values({ extension_id: menu.id, account_id: h.accountId, language: 'en', prompt: JSON.stringify({ mode: 'audio', prompt: name }), keys: JSON.stringify(keys), generic_keys: null })
      .execute();
  };
  await addMenu('500', TOP_HZ, { '2': { type: 'connect', extension: '510' }, '3': { type: 'external', number: '2125550101' }, '4': { type: 'external', number: ABROAD } });
  await addMenu('510', SUB_HZ, {});
  // The global navigation keys as the defaults have them: # repeats the menu, * goes back to the previous one.
  const settings = JSON.stringify({ ...DEFAULT_IVR_SETTINGS, mode: 'multi', businessHoursMenu: '500' });
  await h.db.insertInto('ivr_settings').values({ account_id: h.accountId, settings }).onConflict((c) => c.column('account_id').doUpdateSet({ settings })).execute();
  h.configChanged('extensions', 'ivr');
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

afterEach(() => {
  for (const r of running.splice(0)) r.stop();
});

/**
 * Waits until the caller has heard a burst of `hz` that began after `since` and has ended (the menu's
 * prompt started over, and is in its silence now): when a key pressed then is a key on that prompt.
 */
async function heardPrompt(phone: RtpPhone, since: number, hz: number): Promise<number> {
  await expect
    .poll(() => phone.pureToneFramesSince(since, hz) >= 10 && phone.peakFrameLevelSince(Date.now() - 100, hz) < 300, { timeout: 15_000, interval: 20 })
    .toBe(true);
  return Date.now();
}

const legsOf = (callId: string) => h.db.selectFrom('call_legs').selectAll().where('call_id', '=', callId).orderBy('started_at').execute();

/** 101 calls the menu (500), its media `phone`, with a scenario that listens there. */
async function callMenu(phone: RtpPhone, scenario: string): Promise<SippRun> {
  return startSipp({ scenario, target: h.target, localPort: await freeSipPort(), service: '500', auth: caller, timeoutSeconds: 60, vars: { rtpport: String(phone.port) }, extra: ['-mp', String(await freeMediaPort())] });
}

async function expectNothingLive(): Promise<void> {
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
}

describe('an IVR key’s external transfer', () => {
  it('walks 2 → submenu, * → back, # → again, then 3 bridges the caller through the trunk to the number; media both ways', async () => {
    const outside = await RtpPhone.open(OUTSIDE_HZ);
    const carrier = startSipp({
      scenario: 'carrier-uas-talk-bye.xml',
      target: h.target,
      localIp: CARRIER_IP,
      localPort: carrierPort,
      timeoutSeconds: 60,
      vars: { rtpport: String(outside.port), talkms: '3000' },
      extra: ['-mp', String(await freeMediaPort(CARRIER_IP))],
    });
    running.push(carrier);
    await carrier.ready;
    const phone = await RtpPhone.open();
    let transferredAt = 0;
    let backAt = 0;
    const walk = (async () => {
      const top = await heardPrompt(phone, 0, TOP_HZ);
      phone.press('2');
      const sub = await heardPrompt(phone, top, SUB_HZ);
      phone.press('*');
      backAt = await heardPrompt(phone, sub, TOP_HZ);
      phone.press('#');
      await heardPrompt(phone, backAt, TOP_HZ);
      phone.press('3');
      transferredAt = Date.now();
      phone.tone = CALLER_HZ;
    })();
    try {
      const uac = await (await callMenu(phone, 'uac-listen-until-bye.xml')).done;
      expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
      await walk;
    } finally {
      phone.close();
      outside.close();
    }
    const seen = await carrier.done;
    expect(seen.code, seen.errors || seen.output.slice(-1500)).toBe(0);
    // The number as the trunk wants it (E.164 here), at the carrier; an internal caller is shown, and asserted, as the account's main number.
    expect(seen.logs).toContain(`RURI=sip:${OUTSIDE}@${CARRIER_IP}:${carrierPort}|`);
    expect(seen.logs).toMatch(new RegExp(`FROM=[^|]*<sip:\\${h.mainNumber}@`));
    expect(seen.logs).toContain(`PAI= <sip:${h.mainNumber}@`);
    // The submenu's prompt only while in the submenu; the outside party's tone only once transferred, and each side hears the other.
    // (3 s of talk: 150 frames each way; a busy machine's concealment allowed for.)
    expect(phone.pureToneFramesSince(backAt, SUB_HZ)).toBe(0);
    expect(phone.pureToneFramesSince(0, OUTSIDE_HZ, transferredAt)).toBe(0);
    expect(phone.pureToneFramesSince(transferredAt, OUTSIDE_HZ)).toBeGreaterThan(75);
    expect(outside.pureToneFramesSince(0, CALLER_HZ)).toBeGreaterThan(75);
    const record = await h.lastCall();
    expect(record).toMatchObject({ to_number: '500', result: 'answered', hangup_by: 'callee' });
    const legs = await legsOf(record.id);
    expect(legs.map((l) => [l.role, l.endpoint, l.result])).toEqual([
      ['caller', 'sip', 'answered'],
      ['callee', 'trunk', 'answered'],
    ]);
    await expectNothingLive();
  }, 90_000);

  it('answers a carrier’s 401 with the trunk’s credentials (RFC 3261 §22.2), as the B2BUA’s outbound calls do', async () => {
    const password = `pw-${randomBytes(6).toString('hex')}`;
    await h.db.updateTable('sip_trunks').set({ username: 'carillon-trunk', password_sealed: h.seal(password) }).where('account_id', '=', h.accountId).execute();
    h.configChanged('trunks');
    const outside = await RtpPhone.open(OUTSIDE_HZ);
    const phone = await RtpPhone.open();
    try {
      const carrier = startSipp({
        scenario: 'carrier-uas-challenge-talk-bye.xml',
        target: h.target,
        localIp: CARRIER_IP,
        localPort: carrierPort,
        timeoutSeconds: 60,
        vars: { rtpport: String(outside.port), talkms: '2000', user: 'carillon-trunk', pass: password },
        extra: ['-mp', String(await freeMediaPort(CARRIER_IP))],
      });
      running.push(carrier);
      await carrier.ready;
      let transferredAt = 0;
      const walk = (async () => {
        await heardPrompt(phone, 0, TOP_HZ);
        phone.press('3');
        transferredAt = Date.now();
        phone.tone = CALLER_HZ;
      })();
      const uac = await (await callMenu(phone, 'uac-listen-until-bye.xml')).done;
      expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
      await walk;
      const seen = await carrier.done;
      expect(seen.code, seen.errors || seen.output.slice(-1500)).toBe(0);
      expect(seen.logs).toContain(`RURI=sip:${OUTSIDE}@${CARRIER_IP}:${carrierPort}|`);
      expect(seen.logs).toContain('AUTH=true|');
      expect(phone.pureToneFramesSince(transferredAt, OUTSIDE_HZ)).toBeGreaterThan(50);
      expect(outside.pureToneFramesSince(0, CALLER_HZ)).toBeGreaterThan(50);
    } finally {
      phone.close();
      outside.close();
      await h.db.updateTable('sip_trunks').set({ username: null, password_sealed: null }).where('account_id', '=', h.accountId).execute();
      h.configChanged('trunks');
    }
    await expectNothingLive();
  }, 90_000);

  it('refuses a number outside the account’s calling permissions: nothing is dialled, the caller hears why and the menu again', async () => {
    const phone = await RtpPhone.open();
    let refusedAt = 0;
    let againAt = 0;
    const walk = (async () => {
      const top = await heardPrompt(phone, 0, TOP_HZ);
      phone.press('4');
      refusedAt = top;
      againAt = await heardPrompt(phone, top, TOP_HZ);
    })();
    // The caller hangs up (on the test's word) once it heard the refusal and the menu's prompt again.
    const run = await callMenu(phone, 'uac-talk-until-told.xml');
    try {
      await walk;
      await tellToHangUp(run);
      const uac = await run.done;
      expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    } finally {
      run.stop();
      phone.close();
    }
    // The refusal is spoken (energy) between the key and the menu's prompt again (its burst and the 100 ms after it left out:
    // without a refusal, the prompt would start again at once and nothing would be left to measure).
    const refusal = phone.heardSince(refusedAt, againAt - 700);
    const rms = Math.sqrt(refusal.reduce((s, v) => s + v * v, 0) / Math.max(1, refusal.length));
    expect(rms, 'the refusal has energy').toBeGreaterThan(500);
    const record = await h.lastCall();
    expect(record).toMatchObject({ to_number: '500', result: 'answered', hangup_by: 'caller' });
    // No leg to the trunk: nothing was dialled.
    const legs = await legsOf(record.id);
    expect(legs.map((l) => [l.role, l.endpoint])).toEqual([['caller', 'sip']]);
    await expectNothingLive();
  }, 90_000);
});
