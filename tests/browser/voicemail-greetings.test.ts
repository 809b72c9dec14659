/// <reference lib="dom" />
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openPostgres, type Db } from '@carillon/db';
import { launchChromium } from '../support/browser.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';
import { createStandardUsers, FAKE_MEDIA_FLAGS, signIn } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { toneWav } from '../support/voicemail.ts';
import { analyseWav } from '../../media-server/test/support/wav.ts';

/**
 * A voicemail greeting recorded in the browser (issue 13; the area is enabled
 * for this product only): Chromium's fake microphone plays a tone file
 * (--use-file-for-fake-audio-capture); the user records the User Hours
 * rule's greeting from it on My Extension › Call Handling, saves it, and
 * plays it back: the page's audio element really plays, and the file stored
 * under DATA_DIR holds the tone. Resetting to the default removes it. The
 * user's recorded name goes through the same recorder, on the same page.
 */
const MIC_HZ = 700;
let product: RunningProduct;
let browser: Browser;
let db: Db;
let page: Page;
let aliceId = '';
let scratch: { url: string; drop: () => Promise<void> } | undefined;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'greetings-browser-'));

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'greetingsbrowser');
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), ENABLE_UNRELEASED: 'answering_rules' });
  db = openPostgres(product.databaseUrl(), 2);
  expect((await activate(new HttpClient(product.url), product.activationLink)).status).toBe(303);
  await createStandardUsers(db, [{ extension: '201', name: 'alice', password: STRONG.password }]);
  aliceId = (await db.selectFrom('users').select('id').where('email', '=', 'alice@demo.carillon.localhost').executeTakeFirstOrThrow()).id;
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  const mic = path.join(work, 'mic.wav');
  fs.writeFileSync(mic, toneWav(10, 48000, MIC_HZ));
  browser = await launchChromium([...FAKE_MEDIA_FLAGS, `--use-file-for-fake-audio-capture=${mic}`]);
  page = await signIn(browser, product.url, 'alice@demo.carillon.localhost', STRONG.password, ['microphone']);
  page.setDefaultTimeout(15_000);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
  fs.rmSync(work, { recursive: true, force: true });
});

const greetings = () => db.selectFrom('voicemail_greetings').select(['id', 'file', 'source', 'duration_ms']).where('user_id', '=', aliceId).execute();

describe('the Greeting section of a rule', () => {
  it('records a greeting from the microphone, saves it, and plays it back', { timeout: 90_000 }, async () => {
    await page.goto(`${product.url}/me/call-handling`);
    const section = page.getByTestId('in-hours-greeting');
    await section.getByText('Callers sent to voicemail by this rule hear the default greeting.').waitFor();
    await section.getByRole('button', { name: 'Record with the microphone' }).click();
    await section.getByText('Recording…').waitFor();
    // The recording's length (what is under test), not a wait for something to happen.
    await page.waitForTimeout(2500);
    await section.getByRole('button', { name: 'Stop and save' }).click();
    await page.getByTestId('in-hours-greeting-notice').getByText('Greeting saved.').waitFor();
    await section.getByText('Callers sent to voicemail by this rule hear your custom greeting.').waitFor();

    const [stored] = await greetings();
    expect(stored).toMatchObject({ source: 'browser' });
    expect(stored!.duration_ms).toBeGreaterThan(1500);
    // The tone of the fake microphone, converted to the media format: energy, much of it at its frequency
    // (the browser's voice processing and Opus put some elsewhere: 0.46 seen; a silent file gives 0).
    const wav = analyseWav(path.join(product.dataDir, stored!.file), MIC_HZ);
    expect(wav.rms).toBeGreaterThan(300);
    expect(wav.toneShare).toBeGreaterThan(0.25);

    // The player plays it: its time advances, with no media error.
    const audio = section.locator('audio');
    await audio.evaluate((a: HTMLAudioElement) => a.play());
    await expect.poll(() => audio.evaluate((a: HTMLAudioElement) => ({ time: a.currentTime > 0.5, error: a.error?.code ?? null })), { timeout: 15_000 }).toEqual({ time: true, error: null });
  });

  it('resets to the default greeting: the file is removed', { timeout: 60_000 }, async () => {
    const [stored] = await greetings();
    const section = page.getByTestId('in-hours-greeting');
    await section.getByRole('button', { name: 'Use the default greeting' }).click();
    await page.getByTestId('in-hours-greeting-notice').getByText('This rule plays the default greeting again.').waitFor();
    expect(await greetings()).toEqual([]);
    expect(fs.existsSync(path.join(product.dataDir, stored!.file))).toBe(false);
  });

  it('an administrator uploads a user’s After Hours greeting from the user’s page, audited', { timeout: 60_000 }, async () => {
    const admin = await signIn(browser, product.url, 'admin@demo.carillon.localhost', STRONG.password);
    admin.setDefaultTimeout(15_000);
    await admin.goto(`${product.url}/admin/users/${aliceId}`);
    await admin.getByTestId('answering-rules-link').click();
    await admin.waitForURL(`${product.url}/admin/users/${aliceId}/call-handling`);
    await admin.getByRole('tab', { name: 'After Hours' }).click();
    const section = admin.getByTestId('after-hours-greeting');
    const file = path.join(work, 'after-hours.wav');
    fs.writeFileSync(file, toneWav(2, 8000, 900));
    await section.getByLabel('Upload a greeting (WAV or MP3)').setInputFiles(file);
    await admin.getByTestId('after-hours-greeting-notice').getByText('Greeting saved.').waitFor();
    const [stored] = await greetings();
    expect(stored).toMatchObject({ source: 'upload' });
    expect(analyseWav(path.join(product.dataDir, stored!.file), 900).toneShare).toBeGreaterThan(0.9);
    const adminId = (await db.selectFrom('users').select('id').where('email', '=', 'admin@demo.carillon.localhost').executeTakeFirstOrThrow()).id;
    const trail = await db.selectFrom('audit_events').select(['actor_user_id', 'after']).where('action', '=', 'user.voicemail_greeting_changed').where('target_id', '=', aliceId).orderBy('occurred_at', 'desc').executeTakeFirstOrThrow();
    expect(trail).toMatchObject({ actor_user_id: adminId, after: { rule: 'after_hours', originalName: 'after-hours.wav' } });
    await admin.close();
  });
});

/** The user's recorded name (issues 13 and 14), on the same page, through the same recorder. */
describe('the Your name section', () => {
  const names = () => db.selectFrom('user_name_recordings').select(['file', 'source', 'duration_ms', 'created_by']).where('user_id', '=', aliceId).execute();

  it('records the name from the microphone, saves it, plays it back, and removes it', { timeout: 90_000 }, async () => {
    await page.goto(`${product.url}/me/call-handling`);
    const section = page.getByTestId('name-recording');
    await section.getByText('Callers hear your name said by text-to-speech', { exact: false }).waitFor();
    await section.getByRole('button', { name: 'Record with the microphone' }).click();
    await section.getByText('Recording… say your name.').waitFor();
    // The recording's length (what is under test), not a wait for something to happen.
    await page.waitForTimeout(2000);
    await section.getByRole('button', { name: 'Stop and save' }).click();
    await page.getByTestId('name-recording-notice').getByText('Your name is saved.').waitFor();
    await section.getByText('Callers hear your recorded name', { exact: false }).waitFor();
    const [stored] = await names();
    expect(stored).toMatchObject({ source: 'browser', created_by: aliceId });
    expect(stored!.duration_ms).toBeGreaterThan(1000);
    const wav = analyseWav(path.join(product.dataDir, stored!.file), MIC_HZ);
    expect(wav.rms).toBeGreaterThan(300);
    expect(wav.toneShare).toBeGreaterThan(0.25);
    const audio = section.locator('audio');
    await audio.evaluate((a: HTMLAudioElement) => a.play());
    await expect.poll(() => audio.evaluate((a: HTMLAudioElement) => ({ time: a.currentTime > 0.5, error: a.error?.code ?? null })), { timeout: 15_000 }).toEqual({ time: true, error: null });

    await section.getByRole('button', { name: 'Remove the recording' }).click();
    await page.getByTestId('name-recording-notice').getByText('Text-to-speech says your name again.').waitFor();
    expect(await names()).toEqual([]);
    expect(fs.existsSync(path.join(product.dataDir, stored!.file))).toBe(false);
  });

  it('an administrator uploads a user’s name from the user’s Call Handling page; a silent file is refused with why', { timeout: 60_000 }, async () => {
    const admin = await signIn(browser, product.url, 'admin@demo.carillon.localhost', STRONG.password);
    admin.setDefaultTimeout(15_000);
    await admin.goto(`${product.url}/admin/users/${aliceId}/call-handling`);
    const section = admin.getByTestId('name-recording');
    const silent = path.join(work, 'silent-name.wav');
    fs.writeFileSync(silent, toneWav(2, 8000, 0));
    await section.getByLabel('Upload your name (WAV or MP3)').setInputFiles(silent);
    await admin.getByTestId('name-recording-notice').getByText(/Your name was not saved: the recording is silent/).waitFor();
    expect(await names()).toEqual([]);
    const file = path.join(work, 'name.wav');
    fs.writeFileSync(file, toneWav(1.5, 8000, 900));
    await section.getByLabel('Upload your name (WAV or MP3)').setInputFiles(file);
    await admin.getByTestId('name-recording-notice').getByText('Your name is saved.').waitFor();
    const adminId = (await db.selectFrom('users').select('id').where('email', '=', 'admin@demo.carillon.localhost').executeTakeFirstOrThrow()).id;
    const [stored] = await names();
    expect(stored).toMatchObject({ source: 'upload', created_by: adminId });
    expect(analyseWav(path.join(product.dataDir, stored!.file), 900).toneShare).toBeGreaterThan(0.9);
    await admin.close();
  });
});
