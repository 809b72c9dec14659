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
import { en as ivrEn } from '../../app/src/lib/i18n/features/ivr.ts';

/**
 * The prompts library page (issue 14, PR-0x) in a real browser, the 'ivr' area enabled for this product
 * only: Chromium's fake microphone plays a tone file (--use-file-for-fake-audio-capture); the admin names
 * a prompt, records it, stops, and the prompt stored through the upload path holds that tone for about
 * as long as the recording ran. Then a bulk import of a good and a bad file, reported line by line.
 */
const MIC_HZ = 700;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'prompts-browser-'));
const mic = path.join(work, 'mic.wav');
fs.writeFileSync(mic, toneWav(10, 48000, MIC_HZ));
let product: RunningProduct;
let db: Db;
let page: Page;
let accountId = '';
const pages = adminPages({ scratchName: 'ivrpromptspage', unreleased: 'ivr', microphone: mic });

beforeAll(async () => {
  ({ product, db, page, accountId } = await pages.start());
}, 120_000);

const storedPrompt = (name: string) =>
  db.selectFrom('ivr_prompts').select(['kind', 'file', 'duration_ms']).where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();

describe('the prompts library page', () => {
  it('records a prompt with the microphone: stored with the tone, for as long as it was recorded', { timeout: 90_000 }, async () => {
    await page.goto(`${product.url}/admin/phone-system/ivr/prompts`);
    const card = page.getByTestId('prompt-record');
    const record = card.getByRole('button', { name: ivrEn['ivr.prompts.recordStart'] });
    // No name, no recording.
    expect(await record.isDisabled()).toBe(true);
    await card.getByLabel(ivrEn['ivr.prompts.name']).fill('Welcome recorded');
    await record.click();
    await card.getByText(ivrEn['ivr.prompts.recording']).waitFor();
    const started = Date.now();
    // The recording's length (what is under test), not a wait for something to happen.
    await page.waitForTimeout(2500);
    await card.getByRole('button', { name: ivrEn['ivr.prompts.recordStop'] }).click();
    const recordedMs = Date.now() - started;
    await page.getByRole('cell', { name: 'Welcome recorded', exact: true }).waitFor();

    const stored = await storedPrompt('Welcome recorded');
    expect(stored).toMatchObject({ kind: 'audio' });
    expect(stored!.duration_ms).toBeGreaterThan(2000);
    expect(stored!.duration_ms).toBeLessThan(recordedMs + 1000);
    // The tone of the fake microphone, converted to the media format: energy, much of it at its frequency.
    const wav = analyseWav(path.join(product.dataDir, stored!.file), MIC_HZ);
    expect(wav.rms).toBeGreaterThan(300);
    expect(wav.toneShare).toBeGreaterThan(0.25);
    expect(await card.getByLabel(ivrEn['ivr.prompts.name']).inputValue()).toBe('');
  });

  it('imports several files at once and reports each: the good one kept under its file name, the other refused with the reason', { timeout: 60_000 }, async () => {
    const good = path.join(work, 'Opening hours.wav');
    const bad = path.join(work, 'brochure.mp3');
    fs.writeFileSync(good, toneWav(1.5, 8000, 500));
    fs.writeFileSync(bad, '%PDF-1.4 definitely not audio');
    const card = page.getByTestId('prompt-bulk');
    await card.getByLabel(ivrEn['ivr.prompts.bulkFiles']).setInputFiles([good, bad]);
    await card.getByRole('button', { name: ivrEn['ivr.prompts.bulkImport'] }).click();
    await card.getByText(ivrEn['ivr.prompts.bulkReport'].replace('{imported}', '1').replace('{total}', '2')).waitFor();
    expect(await card.getByTestId('prompt-bulk-report').getByRole('listitem').allTextContents()).toEqual([
      `Opening hours.wav: ${ivrEn['ivr.prompts.bulkImported'].replace('{name}', 'Opening hours')}`,
      `brochure.mp3: ${ivrEn['ivr.prompts.bulkRefused'].replace('{reason}', ivrEn['ivr.prompts.error.not_audio'])}`,
    ]);
    await page.getByRole('cell', { name: 'Opening hours', exact: true }).waitFor();
    expect(await storedPrompt('Opening hours')).toMatchObject({ kind: 'audio' });
    expect(await storedPrompt('brochure')).toBeUndefined();
  });
});
