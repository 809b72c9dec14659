import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IVR_SETTINGS } from '@carillon/domain';
import { liveCounts } from '../../src/health.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp } from '../support/sipp.ts';
import { toneWav } from '../support/wav.ts';

/**
 * A call to an IVR menu through the IVR application (apps/ivr/), end to end on the live edge with the
 * unreleased area 'ivr' enabled for this edge only: a SIPp caller dials the menu's extension (500) and
 *  listens on the test's own RTP phone; once the menu's prompt (a library WAV of tone) reaches it, the
 * test keys 1 as RFC 4733 events in that phone's stream, and the menu's key 1 connects the caller to 102,
 * whose SIPp phone answers, plays speech and hangs up; the caller gets the BYE.
 */
const DATA_DIR = '/tmp/carillon-tests';
const ANNOUNCEMENT_HZ = 1200;
let h: EdgeHarness;
let caller: TestPhone;
let callee: TestPhone;
let menuId: string;

beforeAll(async () => {
  h = await startEdge({ unreleased: 'ivr' });
  caller = await h.addPhone('101');
  callee = await h.addPhone('102');
  const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  const menu = await h.db.insertInto('extensions').values({ account_id: h.accountId, site_id: site.id, number: '500', type: 'ivr_menu', name: 'Main menu', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  menuId = menu.id;
  // 600: an announcement-only extension whose greeting is 1.5 s of 1200 Hz (key 2 hands the caller on to it).
  const announcement = await h.db.insertInto('extensions').values({ account_id: h.accountId, site_id: site.id, number: '600', type: 'announcement_only', name: null, status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  const greeting = path.posix.join('greetings', h.accountId, `${randomBytes(6).toString('hex')}.wav`);
  fs.mkdirSync(path.join(DATA_DIR, path.dirname(greeting)), { recursive: true });
  fs.writeFileSync(path.join(DATA_DIR, greeting), toneWav(ANNOUNCEMENT_HZ, 1500));
  await h.db.insertInto('voicemail_settings').values({ extension_id: announcement.id, account_id: h.accountId, greeting_path: greeting, language: 'en', transcribe: false }).execute();
  // The menu's prompt: a library prompt of 10 s of 697 Hz, an uploaded prompt as the library stores it (8 kHz WAV under DATA_DIR).
  const promptName = `welcome ${randomBytes(3).toString('hex')}`;
  const file = path.posix.join('prompts', h.accountId, `${randomBytes(6).toString('hex')}.wav`);
  fs.mkdirSync(path.join(DATA_DIR, path.dirname(file)), { recursive: true });
  fs.writeFileSync(path.join(DATA_DIR, file), toneWav(697, 10_000));
  await h.db.insertInto('ivr_prompts').values({ account_id: h.accountId, name: promptName, kind: 'audio', text: null, language: null, file, duration_ms: 10_000, original_name: null, created_by: null }).execute();
  await h.db
    .insertInto('ivr_menus')
    .values({
      extension_id: menuId,
      account_id: h.accountId,
      language: 'en',
      prompt: JSON.stringify({ mode: 'audio', prompt: promptName }),
      keys: JSON.stringify({ '1': { type: 'connect', extension: '102' }, '2': { type: 'connect', extension: '600' } }),
      generic_keys: null,
    })
    .execute();
  await h.db
    .insertInto('ivr_settings')
    .values({ account_id: h.accountId, settings: JSON.stringify({ ...DEFAULT_IVR_SETTINGS, mode: 'multi', businessHoursMenu: '500' }) })
    .onConflict((c) => c.column('account_id').doUpdateSet({ settings: JSON.stringify({ ...DEFAULT_IVR_SETTINGS, mode: 'multi', businessHoursMenu: '500' }) }))
    .execute();
  h.configChanged('extensions', 'ivr');
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

describe('a call to an IVR menu', () => {
  it('plays the menu prompt, takes the RFC 4733 key 1, and bridges the caller to 102, which answers', async () => {
    const uas = await startRegisteredSipp({ target: h.target, credentials: callee, scenario: 'uas-bye.xml' });
    const phone = await RtpPhone.open();
    // Half a second of the prompt heard: the caller presses 1 (RFC 4733, in its own RTP stream).
    const keying = phone.pressOnceHeard(4000, '1');
    try {
      const uac = await runSipp({
        scenario: 'uac-listen-until-bye.xml',
        target: h.target,
        localPort: await freeSipPort(),
        service: '500',
        auth: caller,
        timeoutSeconds: 60,
        vars: { rtpport: String(phone.port) },
        extra: ['-mp', String(await freeMediaPort())],
      });
      expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    } finally {
      phone.close();
    }
    const keyedAt = (await keying) ?? 0;
    const keyed = keyedAt > 0;
    const prompt = Array.from(phone.heardSince(0, keyedAt || Infinity));
    // Packets (20 ms each) heard after the key.
    const afterKey = keyed ? phone.heardSince(keyedAt).length / 160 : 0;
    expect(keyed, 'the prompt reached the caller').toBe(true);
    const rms = Math.sqrt(prompt.reduce((s, v) => s + v * v, 0) / prompt.length);
    expect(rms, 'the prompt has energy').toBeGreaterThan(1000);
    // The callee's speech after the key (and ring-back): the caller was bridged.
    expect(afterKey).toBeGreaterThan(50);
    const answered = await uas.done;
    expect(answered.code, 'the callee got the INVITE, answered and hung up').toBe(0);
    const record = await h.lastCall();
    expect(record).toMatchObject({ to_number: '500', result: 'answered', hangup_by: 'callee' });
    const legs = await h.db.selectFrom('call_legs').selectAll().where('call_id', '=', record.id).orderBy('started_at').execute();
    expect(legs.map((l) => [l.role, l.result, l.device_id])).toEqual([
      ['caller', 'answered', caller.deviceId],
      ['callee', 'answered', callee.deviceId],
    ]);
    await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
  }, 90_000);

  it('hands the caller on to an announcement-only extension (key 2): its greeting plays on the same call, then the BYE', async () => {
    const phone = await RtpPhone.open();
    const keying = phone.pressOnceHeard(4000, '2');
    try {
      const uac = await runSipp({
        scenario: 'uac-listen-until-bye.xml',
        target: h.target,
        localPort: await freeSipPort(),
        service: '500',
        auth: caller,
        timeoutSeconds: 60,
        vars: { rtpport: String(phone.port) },
        extra: ['-mp', String(await freeMediaPort())],
      });
      expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    } finally {
      phone.close();
    }
    const keyedAt = (await keying) ?? 0;
    expect(keyedAt, 'the menu prompt reached the caller').toBeGreaterThan(0);
    // The announcement's tone after the key, and none of it before (the menu's prompt is 697 Hz).
    expect(phone.peakFrameLevelSince(keyedAt, ANNOUNCEMENT_HZ)).toBeGreaterThan(3000);
    expect(phone.peakFrameLevelSince(0, ANNOUNCEMENT_HZ, keyedAt)).toBeLessThan(300);
    const record = await h.lastCall();
    expect(record).toMatchObject({ to_number: '500', result: 'answered', hangup_by: 'callee' });
    await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
  }, 90_000);
});
