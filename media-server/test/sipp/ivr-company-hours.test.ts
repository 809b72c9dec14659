import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createLogger } from '@carillon/config';
import { installConfigChangeSink } from '@carillon/core';
import { saveCompanyHours } from '@carillon/core/ivr';
import { CONFIG_CHANGES_CHANNEL } from '@carillon/contracts/config-changes';
import { DEFAULT_IVR_SETTINGS } from '@carillon/domain';
import { liveCounts } from '../../src/health.ts';
import { CallControlChannel } from '../../src/control/call-control-channel.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { freeMediaPort, freeSipPort, runSipp } from '../support/sipp.ts';
import { analyseSamples, toneWav } from '../support/wav.ts';

/**
 * Company hours (issue 14, AR-03) on the live edge with the unreleased area 'ivr': a SIPp caller dials
 * the company number and listens on the test's RTP phone; the business-hours menu's prompt is a 600 Hz
 * tone, the after-hours menu's 1500 Hz, so which menu answered is read from the audio. The hours are
 * saved with core's `saveCompanyHours` (what PUT /api/ivr/hours calls), whose announcement goes over
 * Redis to the edge's control channel as in the product: the call right after the change, with the
 * account's IVR already in the edge's cache, enters at the after-hours menu. The edge reads the hours
 * at a test clock, in the account's time zone (Europe/Paris).
 */
const DATA_DIR = '/tmp/carillon-tests';
const BUSINESS_HZ = 600;
const AFTER_HOURS_HZ = 1500;
/** Wednesday 14 January 2026, 20:00 in Paris (CET, UTC+1): after office hours. */
const WEDNESDAY_EVENING = new Date('2026-01-14T19:00:00Z');
/** The same Wednesday, 10:00 in Paris. */
const WEDNESDAY_MORNING = new Date('2026-01-14T09:00:00Z');
let clock = WEDNESDAY_EVENING;
let h: EdgeHarness;
let caller: TestPhone;
let subscriber: Redis;
let control: CallControlChannel;

beforeAll(async () => {
  h = await startEdge({ unreleased: 'ivr', now: () => clock });
  caller = await h.addPhone('101');
  await h.db.updateTable('accounts').set({ time_zone: 'Europe/Paris' }).where('id', '=', h.accountId).execute();
  const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  for (const [number, hz] of [
    ['500', BUSINESS_HZ],
    ['501', AFTER_HOURS_HZ],
  ] as const) {
    const menu = await h.db.insertInto('extensions').values({ account_id: h.accountId, site_id: site.id, number, type: 'ivr_menu', name: `Menu ${number}`, status: 'activated' }).returning('id').executeTakeFirstOrThrow();
    const promptName = `menu ${number} ${randomBytes(3).toString('hex')}`;
    const file = path.posix.join('prompts', h.accountId, `${randomBytes(6).toString('hex')}.wav`);
    fs.mkdirSync(path.join(DATA_DIR, path.dirname(file)), { recursive: true });
    fs.writeFileSync(path.join(DATA_DIR, file), toneWav(hz, 10_000));
    await h.db.insertInto('ivr_prompts').values({ account_id: h.accountId, name: promptName, kind: 'audio', text: null, language: null, file, duration_ms: 10_000, original_name: null, created_by: null }).execute();
    await h.db.insertInto('ivr_menus').values({ extension_id: menu.id, account_id: h.accountId, language: 'en', prompt: JSON.stringify({ mode: 'audio', prompt: promptName }), keys: JSON.stringify({}), generic_keys: null }).execute();
  }
  const settings = JSON.stringify({ ...DEFAULT_IVR_SETTINGS, mode: 'multi', businessHoursMenu: '500', afterHoursMenu: '501' });
  await h.db
    .insertInto('ivr_settings')
    .values({ account_id: h.accountId, settings })
    .onConflict((c) => c.column('account_id').doUpdateSet({ settings }))
    .execute();
  h.configChanged('extensions', 'ivr', 'numbers');

  // The app's side of configuration changes (app/src/lib/server/runtime.ts) and media-server's (main.ts), over the real Redis.
  subscriber = h.redis.duplicate();
  control = await CallControlChannel.start({
    subscriber,
    publisher: h.redis,
    nodeId: 'ivr-hours-test',
    log: createLogger('ivr-hours-test', 'warn'),
    targets: { findCall: () => null, configChanged: (change) => h.edge.invalidateAccountConfig(change.accountId, change.subjects) },
  });
  installConfigChangeSink((change) => h.redis.publish(CONFIG_CHANGES_CHANNEL, JSON.stringify(change)));
}, 60_000);

afterAll(async () => {
  installConfigChangeSink(null);
  await control?.stop();
  subscriber?.disconnect();
  await h?.stop();
});

/** Calls the company number, listens 3 s, hangs up; the tone share of each menu's prompt in what was heard. */
async function callCompanyNumber(): Promise<{ business: number; afterHours: number }> {
  const phone = await RtpPhone.open();
  try {
    const uac = await runSipp({
      scenario: 'uac-listen-then-bye.xml',
      target: h.target,
      localPort: await freeSipPort(),
      service: h.mainNumber,
      auth: caller,
      timeoutSeconds: 30,
      vars: { rtpport: String(phone.port) },
      extra: ['-d', '3000', '-mp', String(await freeMediaPort())],
    });
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
  } finally {
    phone.close();
  }
  const heard = Array.from(phone.heardSince(0));
  expect(heard.length, 'the prompt reached the caller').toBeGreaterThan(8000);
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
  return { business: analyseSamples(heard, BUSINESS_HZ).toneShare, afterHours: analyseSamples(heard, AFTER_HOURS_HZ).toneShare };
}

describe('company hours on calls to the company number', () => {
  it('uses hours saved through core on the very next call: open 24 hours, then after hours on a Wednesday evening in Paris, then open that morning', async () => {
    // 24 hours (the default): the business-hours menu, even in the evening. The account's IVR is now in the edge's cache.
    const open = await callCompanyNumber();
    expect(open.business).toBeGreaterThan(0.5);
    expect(open.afterHours).toBeLessThan(0.1);

    const weekdays = [{ from: '09:00', to: '12:30' }, { from: '13:30', to: '18:00' }];
    await saveCompanyHours(h.db, { userId: null, ip: null }, h.accountId, { mode: 'custom', days: { mon: weekdays, tue: weekdays, wed: weekdays, thu: weekdays, fri: weekdays, sat: [], sun: [] } });
    // No wait: only the announcement of the change can replace what the edge cached.
    const closed = await callCompanyNumber();
    expect(closed.afterHours).toBeGreaterThan(0.5);
    expect(closed.business).toBeLessThan(0.1);

    // The same hours at 10:00 Paris time: open again.
    clock = WEDNESDAY_MORNING;
    const morning = await callCompanyNumber();
    expect(morning.business).toBeGreaterThan(0.5);
  }, 120_000);
});
