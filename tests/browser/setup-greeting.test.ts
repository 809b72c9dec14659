/// <reference lib="dom" />
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Db } from '@carillon/db';
import type { RunningProduct } from '../support/product.ts';
import { adminPages } from '../support/admin-pages.ts';
import { toneWav } from '../support/voicemail.ts';
import { analyseWav } from '../../media-server/test/support/wav.ts';
import { en } from '../../app/src/lib/i18n/en.ts';

/**
 * The setup wizard's company greeting (inventory 3 §1.6; issue 14), in a real browser with the
 * auto-receptionist area enabled for this product only: the player plays what callers hear (the default
 * text read aloud); "Customize" takes a WAV file (a file that is not audio is refused and changes
 * nothing) and a recording from Chromium's fake microphone, each becoming the greeting callers hear;
 * "Keep defaults" brings the default back; the step stores which one the account has.
 */
const MIC_HZ = 600;
const FILE_HZ = 900;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'setup-greeting-'));
const mic = path.join(work, 'mic.wav');
fs.writeFileSync(mic, toneWav(10, 48000, MIC_HZ));
let product: RunningProduct;
let db: Db;
let page: Page;
let accountId = '';
const pages = adminPages({ scratchName: 'setupgreeting', unreleased: 'ivr', microphone: mic });

beforeAll(async () => {
  ({ product, db, page, accountId } = await pages.start());
}, 120_000);

/** What the server gives the player now: its mode header and the WAV, written where analyseWav reads it. */
async function heard(): Promise<{ mode: string | null; file: string }> {
  const got = await page.evaluate(async () => {
    const res = await fetch('/api/ivr/greeting');
    return { status: res.status, type: res.headers.get('content-type'), mode: res.headers.get('x-greeting-mode'), bytes: Array.from(new Uint8Array(await res.arrayBuffer())) };
  });
  expect(got.status).toBe(200);
  expect(got.type).toBe('audio/wav');
  const file = path.join(work, `heard-${Date.now()}.wav`);
  fs.writeFileSync(file, Uint8Array.from(got.bytes));
  return { mode: got.mode, file };
}

const greetingSetting = async () => {
  const row = await db.selectFrom('ivr_settings').select('settings').where('account_id', '=', accountId).executeTakeFirst();
  return (row?.settings as { singleLevel?: { greeting?: unknown } } | undefined)?.singleLevel?.greeting ?? { mode: 'default' };
};
const notice = () => page.getByTestId('greeting-notice');
const player = () => page.getByTestId('greeting-player');
/** The player's media really loads: its duration once the metadata is in. */
const playerSeconds = () =>
  player().evaluate(
    (a: HTMLAudioElement) =>
      new Promise<number>((resolve, reject) => {
        a.addEventListener('loadedmetadata', () => resolve(a.duration), { once: true });
        a.addEventListener('error', () => reject(new Error('the player could not load the greeting')), { once: true });
        a.preload = 'auto';
        a.load();
      }),
  );

describe('the company greeting step of the setup wizard', () => {
  it('plays the default greeting read aloud, with the company name in the text', { timeout: 60_000 }, async () => {
    await page.goto(`${product.url}/setup/company`);
    await page.getByText(en['setup.greetingDefault'], { exact: true }).waitFor();
    const company = (await db.selectFrom('accounts').select('company_name').where('id', '=', accountId).executeTakeFirstOrThrow()).company_name;
    expect(await page.locator('blockquote').innerText()).toBe(en['setup.greetingText'].replace('{company}', company));
    expect(await playerSeconds()).toBeGreaterThan(5);
    const now = await heard();
    expect(now.mode).toBe('default');
    expect(analyseWav(now.file, 1000).rms).toBeGreaterThan(300);
    // Keep defaults is where it starts; the customizing controls show only once asked for.
    expect(await page.getByRole('radio', { name: en['setup.greetingKeep'] }).isChecked()).toBe(true);
    expect(await page.getByTestId('greeting-customize').count()).toBe(0);
  });

  it('refuses a file that is not audio and changes nothing; takes a WAV file, which callers then hear', { timeout: 60_000 }, async () => {
    await page.getByRole('radio', { name: en['setup.greetingCustomize'] }).check();
    const bad = path.join(work, 'greeting.mp3');
    fs.writeFileSync(bad, '%PDF-1.4 not a greeting at all');
    await page.getByLabel(en['setup.greetingImport']).setInputFiles(bad);
    await page.getByRole('button', { name: en['setup.greetingUpload'] }).click();
    await notice().getByText(en['setup.greetingRefused'].replace('{reason}', ''), { exact: false }).waitFor();
    expect(await greetingSetting()).toEqual({ mode: 'default' });
    expect((await heard()).mode).toBe('default');

    const good = path.join(work, 'Our greeting.wav');
    fs.writeFileSync(good, toneWav(2, 8000, FILE_HZ));
    await page.getByLabel(en['setup.greetingImport']).setInputFiles(good);
    await page.getByRole('button', { name: en['setup.greetingUpload'] }).click();
    await notice().getByText(en['setup.greetingSaved']).waitFor();
    expect(await greetingSetting()).toEqual({ mode: 'audio', prompt: 'Company greeting' });
    const now = await heard();
    expect(now.mode).toBe('audio');
    expect(analyseWav(now.file, FILE_HZ).toneShare).toBeGreaterThan(0.5);
    expect(await playerSeconds()).toBeCloseTo(2, 0);
    await page.getByText(en['setup.greetingCustom'], { exact: true }).waitFor();
    const audit = await db.selectFrom('audit_events').select('action').where('account_id', '=', accountId).where('action', '=', 'ivr.greeting_updated').execute();
    expect(audit).toHaveLength(1);
  });

  it('records the greeting with the microphone, and the step stores that the account has its own', { timeout: 60_000 }, async () => {
    await page.getByRole('button', { name: en['setup.greetingRecord'] }).click();
    await page.getByText(en['setup.greetingRecording']).waitFor();
    // The recording's length (what is under test), not a wait for something to happen.
    await page.waitForTimeout(1500);
    await page.getByRole('button', { name: en['setup.greetingStop'] }).click();
    await expect.poll(async () => greetingSetting()).toEqual({ mode: 'audio', prompt: 'Company greeting (2)' });
    expect(analyseWav((await heard()).file, MIC_HZ).toneShare).toBeGreaterThan(0.25);
    await page.getByRole('button', { name: en['common.continue'] }).click();
    await page.waitForURL((u) => u.pathname === '/setup/my_info');
    expect((await db.selectFrom('accounts').select('greeting_mode').where('id', '=', accountId).executeTakeFirstOrThrow()).greeting_mode).toBe('custom');
  });

  it('keeps the defaults again when asked, and refuses a step that claims a greeting the account does not have', { timeout: 60_000 }, async () => {
    await page.goto(`${product.url}/setup/company`);
    expect(await page.getByRole('radio', { name: en['setup.greetingCustomize'] }).isChecked()).toBe(true);
    await page.getByRole('radio', { name: en['setup.greetingKeep'] }).check();
    await notice().getByText(en['setup.greetingDefaultBack']).waitFor();
    expect(await greetingSetting()).toEqual({ mode: 'default' });
    expect((await heard()).mode).toBe('default');
    // The form names the mode it showed; one that says 'custom' now is refused with the reason.
    await page.locator('input[name=greetingMode]').evaluate((i: HTMLInputElement) => (i.value = 'custom'));
    await page.getByRole('button', { name: en['common.continue'] }).click();
    await page.getByText(en['error.no_custom_greeting']).waitFor();
    await page.goto(`${product.url}/setup/company`);
    await page.getByRole('button', { name: en['common.continue'] }).click();
    await page.waitForURL((u) => u.pathname === '/setup/my_info');
    expect((await db.selectFrom('accounts').select('greeting_mode').where('id', '=', accountId).executeTakeFirstOrThrow()).greeting_mode).toBe('default');
  });
});
