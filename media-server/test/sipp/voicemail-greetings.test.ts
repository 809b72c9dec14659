import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readUserAnswering, saveUserAnswering } from '@carillon/core';
import { ffmpegPath } from '@carillon/core/audio';
import { setRuleGreeting, type GreetingRuleKey } from '@carillon/core/voicemail';
import { DEFAULT_CALL_SETTINGS, defaultRuleHandling, userAnsweringSchema } from '@carillon/domain';
import { liveCounts } from '../../src/health.ts';
import { wavHeader } from '../../src/media/media-player/wav-file.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { freeSipPort, runSipp } from '../support/sipp.ts';

/**
 * The voicemail greeting of the rule that sent the call to voicemail (issue
 * 13), end to end on the live edge with the unreleased area 'answering_rules':
 * each rule's greeting is uploaded with core's `setRuleGreeting` (what the
 * API calls: a 16 kHz WAV, converted once to the media format) as a tone of
 * its own, and the test's clock chooses the rule. The user's plan rings no
 * phone, so the call goes to voicemail at once; the caller's media is the
 * test's RTP socket, and what it hears is checked by frequency (Goertzel).
 */
const DATA_DIR = '/tmp/carillon-tests';
/** The rules' tones: none is ring-back (440 Hz) or the beep (1 kHz), and each is a whole number of cycles in a 20 ms frame. */
const TONES = { in_hours: 600, after_hours: 1400, custom: 1800 } as const;
/** Monday noon, and Sunday noon, in the user's zone (UTC). */
const MONDAY_NOON = new Date('2026-12-07T12:00:00Z');
const SUNDAY_NOON = new Date('2026-12-06T12:00:00Z');
let clock = MONDAY_NOON;
let h: EdgeHarness;
let caller: TestPhone;
let user: TestPhone;
let userId = '';
const sockets: RtpPhone[] = [];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'greetings-sipp-'));

/** Saves the user's rules: Monday to Friday 9 to 5; no phone rings, then voicemail; a custom rule for December, on or off. */
async function saveRules(customEnabled: boolean): Promise<void> {
  const handling = { ...defaultRuleHandling([], 'simultaneous') };
  const view = await readUserAnswering(h.db, h.accountId, userId);
  const customId = view?.answering.custom[0]?.id;
  const weekday = [{ from: '09:00', to: '17:00' }];
  const doc = userAnsweringSchema.parse({
    hours: { mode: 'custom', days: { mon: weekday, tue: weekday, wed: weekday, thu: weekday, fri: weekday } },
    inHours: handling,
    afterHours: handling,
    custom: [{ ...handling, ...(customId ? { id: customId } : {}), name: 'December', enabled: customEnabled, conditions: [{ type: 'date_range', ranges: [{ from: '2026-12-01T00:00', to: '2026-12-31T00:00' }] }] }],
    settings: DEFAULT_CALL_SETTINGS,
  });
  const saved = await saveUserAnswering(h.db, { userId, ip: null }, h.accountId, userId, doc, { dataDir: DATA_DIR });
  expect(saved.ok, JSON.stringify(saved)).toBe(true);
  h.configChanged('answering_rules');
}

async function upload(rule: GreetingRuleKey, hz: number): Promise<void> {
  const file = path.join(work, `${hz}.wav`);
  fs.writeFileSync(file, toneWav(hz, 2000, 16000));
  const saved = await setRuleGreeting(h.db, { ffmpeg: ffmpegPath(process.env.FFMPEG_PATH), dataDir: DATA_DIR }, { userId, ip: null }, h.accountId, userId, rule, { upload: file, originalName: `${hz}.wav`, source: 'upload' });
  expect(saved?.greeting.source).toBe('custom');
}

beforeAll(async () => {
  h = await startEdge({ unreleased: 'answering_rules', now: () => clock });
  caller = await h.addPhone('101');
  user = await h.addPhone('102');
  userId = (await h.db.selectFrom('users').select('id').where('account_id', '=', h.accountId).where('extension_id', '=', user.extensionId).executeTakeFirstOrThrow()).id;
  await h.db.updateTable('users').set({ time_zone: 'UTC' }).where('id', '=', userId).execute();
  await h.db.insertInto('voicemail_settings').values({ extension_id: user.extensionId, account_id: h.accountId, language: 'en', transcribe: false }).execute();
  await saveRules(false);
  const customId = (await readUserAnswering(h.db, h.accountId, userId))!.answering.custom[0]!.id!;
  await upload('in_hours', TONES.in_hours);
  await upload('after_hours', TONES.after_hours);
  await upload(customId, TONES.custom);
  h.configChanged('answering_rules', 'extensions');
}, 60_000);

afterAll(async () => {
  await h?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

/** Calls 102 from 101 and listens for 5 s after the answer: the greeting (2 s), the beep, the start of the recording. */
async function callAndListen(): Promise<RtpPhone> {
  const media = await RtpPhone.open(null);
  sockets.push(media);
  const uac = await runSipp({ scenario: 'uac-listen-then-bye.xml', target: h.target, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 60, vars: { rtpport: String(media.port) }, extra: ['-d', '5000'] });
  expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
  return media;
}

/** The loudest frame of each rule's tone in what the caller heard. */
const levels = (media: RtpPhone) => Object.fromEntries(Object.entries(TONES).map(([rule, hz]) => [rule, media.peakFrameLevelSince(0, hz)])) as Record<keyof typeof TONES, number>;

describe('the greeting of the rule that sent the call to voicemail', () => {
  it('within the user’s hours: the User Hours rule’s greeting, not the others', async () => {
    clock = MONDAY_NOON;
    const heard = levels(await callAndListen());
    expect(heard.in_hours).toBeGreaterThan(1000);
    expect(heard.after_hours).toBeLessThan(heard.in_hours / 10);
    expect(heard.custom).toBeLessThan(heard.in_hours / 10);
  }, 90_000);

  it('after hours (the test clock on a Sunday): the After Hours rule’s greeting', async () => {
    clock = SUNDAY_NOON;
    const heard = levels(await callAndListen());
    expect(heard.after_hours).toBeGreaterThan(1000);
    expect(heard.in_hours).toBeLessThan(heard.after_hours / 10);
    expect(heard.custom).toBeLessThan(heard.after_hours / 10);
  }, 90_000);

  it('a custom rule that matches (enabled by a save of the rules, which keeps its greeting): its own greeting', async () => {
    clock = MONDAY_NOON;
    await saveRules(true);
    const heard = levels(await callAndListen());
    expect(heard.custom).toBeGreaterThan(1000);
    expect(heard.in_hours).toBeLessThan(heard.custom / 10);
    expect(heard.after_hours).toBeLessThan(heard.custom / 10);
  }, 90_000);
});

/** A 16-bit mono WAV of a tone at `rate` (not the media format: the upload is converted). */
function toneWav(hz: number, ms: number, rate: number): Buffer {
  const n = Math.round((ms * rate) / 1000);
  const out = Buffer.alloc(44 + n * 2);
  wavHeader(rate, 1, n * 2, out);
  for (let i = 0; i < n; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + i * 2);
  return out;
}
