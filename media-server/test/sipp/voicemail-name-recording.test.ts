import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { saveUserAnswering } from '@carillon/core';
import { ffmpegPath } from '@carillon/core/audio';
import { resetNameRecording, setNameRecording } from '@carillon/core/voicemail';
import { ALWAYS, DEFAULT_CALL_SETTINGS, defaultRuleHandling, userAnsweringSchema } from '@carillon/domain';
import { liveCounts } from '../../src/health.ts';
import { blockEnergy, goertzelAmplitude } from '../../src/media/audio/goertzel.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { freeMediaPort, freeSipPort, startSipp, tellToHangUp } from '../support/sipp.ts';
import { toneWav } from '../../../tests/support/voicemail.ts';

/**
 * The default voicemail greeting with the user's recorded name (issue 13), end to end on the live
 * edge: the name is stored with core's `setNameRecording` (what the API and the phone menu call: a
 * 16 kHz WAV, converted once to the media format) as a tone of its own, and the user's rules ring no
 * phone, so a call goes to voicemail at once. The caller's media is the test's RTP socket; what it
 * hears is checked frame by frame: the greeting's words (TTS: sound that is not the tone), then the
 * recorded name (the tone, by its energy at its frequency, Goertzel), then the rest of the greeting.
 * Without a recording the same call hears no tone: TTS says the extension.
 */
const DATA_DIR = '/tmp/carillon-tests';
/** The recorded name's tone: not ring-back (440 Hz) nor the beep (1 kHz), a whole number of cycles in a 20 ms frame. */
const NAME_HZ = 900;
/** The beep that ends the greeting (the recording starts as it ends). */
const BEEP_HZ = 1000;
const FRAME = 160;
let h: EdgeHarness;
let caller: TestPhone;
let user: TestPhone;
let userId = '';
const sockets: RtpPhone[] = [];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'name-recording-sipp-'));

beforeAll(async () => {
  h = await startEdge({ unreleased: 'answering_rules' });
  caller = await h.addPhone('101');
  user = await h.addPhone('102');
  userId = (await h.db.selectFrom('users').select('id').where('account_id', '=', h.accountId).where('extension_id', '=', user.extensionId).executeTakeFirstOrThrow()).id;
  await h.db.insertInto('voicemail_settings').values({ extension_id: user.extensionId, account_id: h.accountId, language: 'en', transcribe: false }).execute();
  // No phone rings: straight to voicemail, with the default greeting.
  const handling = defaultRuleHandling([], 'simultaneous');
  const doc = userAnsweringSchema.parse({ hours: ALWAYS, inHours: handling, afterHours: handling, custom: [], settings: DEFAULT_CALL_SETTINGS });
  const saved = await saveUserAnswering(h.db, { userId, ip: null }, h.accountId, userId, doc, { dataDir: DATA_DIR });
  expect(saved.ok, JSON.stringify(saved)).toBe(true);
  h.configChanged('answering_rules', 'extensions');
  // Starting the edge on a machine busy with other suites can take a while: a deadline, not a pace.
}, 120_000);

afterAll(async () => {
  if (h && userId) await resetNameRecording(h.db, DATA_DIR, { userId, ip: null }, h.accountId, userId);
  await h?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

/** Calls 102 from 101 and listens until the greeting's beep: the greeting's first words, the name, the rest; then hangs up. */
async function callAndListen(): Promise<RtpPhone> {
  const media = await RtpPhone.open(null);
  sockets.push(media);
  const run = startSipp({ scenario: 'uac-talk-until-told.xml', target: h.target, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 90, vars: { rtpport: String(media.port) }, extra: ['-mp', String(await freeMediaPort())] });
  // The whole greeting has been heard once its beep (250 ms of 1 kHz) has: the caller hangs up then, on the test's word.
  const deadline = Date.now() + 60_000;
  while (media.pureToneFramesSince(0, BEEP_HZ) < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const beeped = media.pureToneFramesSince(0, BEEP_HZ) >= 8;
  if (beeped) await tellToHangUp(run);
  else run.stop();
  const uac = await run.done;
  expect(beeped, 'the greeting ended with its beep').toBe(true);
  expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
  return media;
}

/** Each 20 ms frame heard: 'name' (the tone alone, loud), 'speech' (sound that is not the tone), or 'quiet'. */
function frames(media: RtpPhone): ('name' | 'speech' | 'quiet')[] {
  const pcm = media.heardSince(0);
  const out: ('name' | 'speech' | 'quiet')[] = [];
  for (let at = 0; at + FRAME <= pcm.length; at += FRAME) {
    const rms = Math.sqrt(blockEnergy(pcm.subarray(at, at + FRAME)) / FRAME);
    const tone = goertzelAmplitude(pcm, NAME_HZ, 8000, at, FRAME);
    // A pure tone's amplitude is its RMS times √2; speech spreads its energy.
    if (tone > 2000 && tone > 0.8 * Math.SQRT2 * rms) out.push('name');
    else if (rms > 500) out.push('speech');
    else out.push('quiet');
  }
  return out;
}

describe('the default voicemail greeting with the user’s recorded name', () => {
  it('says "the voicemail for", plays the recorded name, then the rest of the greeting', async () => {
    const file = path.join(work, 'name.wav');
    fs.writeFileSync(file, toneWav(1.5, 16000, NAME_HZ));
    const saved = await setNameRecording(h.db, { ffmpeg: ffmpegPath(process.env.FFMPEG_PATH), dataDir: DATA_DIR }, { userId, ip: null }, h.accountId, userId, { upload: file, source: 'browser' });
    expect(saved?.nameRecording?.durationMs).toBeGreaterThan(1400);

    const heard = frames(await callAndListen());
    const first = heard.indexOf('name');
    const last = heard.lastIndexOf('name');
    expect(first, 'the recorded name was heard').toBeGreaterThan(0);
    // Most of its 1.5 s (75 frames) came through as the tone alone.
    expect(heard.filter((f) => f === 'name').length).toBeGreaterThan(50);
    // Before it, the greeting's first words (half a second of speech at least); after it, the rest.
    expect(heard.slice(0, first).filter((f) => f === 'speech').length).toBeGreaterThan(25);
    expect(heard.slice(last + 1).filter((f) => f === 'speech').length).toBeGreaterThan(25);
  }, 120_000);

  it('without a recorded name, TTS says the extension: no tone', async () => {
    await resetNameRecording(h.db, DATA_DIR, { userId, ip: null }, h.accountId, userId);
    const heard = frames(await callAndListen());
    expect(heard.filter((f) => f === 'speech').length).toBeGreaterThan(50);
    expect(heard.filter((f) => f === 'name').length).toBeLessThan(5);
  }, 120_000);
});
