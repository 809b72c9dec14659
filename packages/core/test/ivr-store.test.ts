import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegPath } from '@carillon/core/audio';
import {
  createAudioPrompt,
  createCompanyRule,
  createIvrMenu,
  createTtsPrompt,
  deleteIvrMenu,
  deletePrompt,
  EspeakTtsEngine,
  exportIvrXml,
  importIvrXml,
  saveCompanyHours,
  saveDirectorySettings,
  IVR_SAMPLES,
  IvrError,
  listCompanyRules,
  listPrompts,
  loadIvrConfig,
  promptFile,
  PromptError,
  replaceIvrConfig,
  saveIvrSettings,
  TtsCache,
  ttsCacheDirectory,
  updateIvrMenu,
  validateAccountIvr,
} from '@carillon/core/ivr';
import { installConfigChangeSink, type AuditActor } from '@carillon/core';
import type { CompanyRuleInput } from '@carillon/domain';
import type { Db } from '@carillon/db';
import { freshDb } from '../../../tests/support/env.ts';
import { activatedAccount, addUser, auditEvents } from './support.ts';

let db: Db;
let dataDir: string;
const ffmpeg = ffmpegPath(process.env.FFMPEG_PATH);
beforeAll(async () => {
  db = await freshDb();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-ivr-'));
});
afterAll(async () => {
  installConfigChangeSink(null);
  await db?.destroy();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** 8 kHz mono 16-bit samples of a WAV the media player reads, and their RMS level. */
function mediaWav(file: string): { rate: number; channels: number; rms: number; seconds: number } {
  const buf = fs.readFileSync(file);
  const rate = buf.readUInt32LE(24);
  const channels = buf.readUInt16LE(22);
  let offset = 12;
  while (buf.toString('latin1', offset, offset + 4) !== 'data') offset += 8 + buf.readUInt32LE(offset + 4);
  const size = buf.readUInt32LE(offset + 4);
  let sum = 0;
  for (let i = 0; i < size / 2; i++) sum += buf.readInt16LE(offset + 8 + i * 2) ** 2;
  return { rate, channels, rms: Math.sqrt(sum / (size / 2)), seconds: size / 2 / rate };
}

/** An upload as a browser would send it: speech from espeak-ng encoded by ffmpeg as WAV (44.1 kHz stereo) or MP3. */
function speechUpload(format: 'wav' | 'mp3', text = 'Welcome to Acme. For sales, press one.'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-upload-'));
  execFileSync('espeak-ng', ['-v', 'en-us', '-w', path.join(dir, 'voice.wav'), text]);
  const out = path.join(dir, `upload.${format}`);
  execFileSync(ffmpeg, ['-loglevel', 'error', '-y', '-i', path.join(dir, 'voice.wav'), '-ar', '44100', '-ac', '2', out]);
  return out;
}

const actor = (userId: string): AuditActor => ({ userId, ip: '198.51.100.7' });

describe('prompts library (PR-01…PR-06), with real espeak-ng, sox and ffmpeg', () => {
  it('speaks a TTS prompt once per text and language: the second request is a cache hit', async () => {
    const acct = await activatedAccount(db);
    const cache = new TtsCache(new EspeakTtsEngine(), ttsCacheDirectory(dataDir));
    const a = await createTtsPrompt(db, cache, dataDir, actor(acct.userId), acct.accountId, { name: 'Welcome EN', text: 'Welcome to Acme, please hold.', language: 'en' });
    const again = await cache.speak('Welcome to Acme, please hold.', 'en');
    expect(again.cached).toBe(true);
    expect(cache.stats()).toEqual({ hits: 1, misses: 1 });
    const fr = await createTtsPrompt(db, cache, dataDir, actor(acct.userId), acct.accountId, { name: 'Bienvenue', text: 'Bienvenue chez Acme.', language: 'fr' });
    expect(cache.stats().misses).toBe(2);
    for (const p of [a, fr]) {
      const wav = mediaWav((await promptFile(db, dataDir, acct.accountId, p.id))!);
      expect(wav).toMatchObject({ rate: 8000, channels: 1 });
      expect(wav.rms).toBeGreaterThan(300);
      expect(p.durationMs).toBeGreaterThan(500);
    }
    // Two requests at once for a new text share one synthesis.
    const [x, y] = await Promise.all([cache.speak('Same text twice.', 'en'), cache.speak('Same text twice.', 'en')]);
    expect(x.file).toBe(y.file);
    expect(cache.stats().misses).toBe(3);
    expect((await auditEvents(db, acct.accountId, 'ivr_prompt.created')).length).toBe(2);
  });

  it('converts an uploaded WAV and MP3 to 8 kHz mono once, and refuses a non-audio file named .mp3', async () => {
    const acct = await activatedAccount(db);
    for (const format of ['wav', 'mp3'] as const) {
      const p = await createAudioPrompt(db, { ffmpeg, dataDir }, actor(acct.userId), acct.accountId, { name: `Upload ${format}`, originalName: `greeting.${format}`, upload: speechUpload(format) });
      const wav = mediaWav((await promptFile(db, dataDir, acct.accountId, p.id))!);
      expect(wav).toMatchObject({ rate: 8000, channels: 1 });
      expect(wav.rms).toBeGreaterThan(300);
      expect(Math.abs(wav.seconds * 1000 - p.durationMs)).toBeLessThan(5);
    }
    const fake = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-fake-')), 'song.mp3');
    fs.writeFileSync(fake, '%PDF-1.4 this is not audio at all');
    await expect(createAudioPrompt(db, { ffmpeg, dataDir }, actor(acct.userId), acct.accountId, { name: 'Fake', originalName: 'song.mp3', upload: fake })).rejects.toMatchObject({ code: 'not_audio' });
    expect(fs.existsSync(fake)).toBe(false);
    // A valid header with garbage after it: ffmpeg's refusal, reported the same way.
    const garbage = path.join(path.dirname(fake), 'bad.wav');
    fs.writeFileSync(garbage, Buffer.concat([Buffer.from('RIFF\x00\x00\x00\x00WAVEjunk'), Buffer.alloc(64, 7)]));
    await expect(createAudioPrompt(db, { ffmpeg, dataDir }, actor(acct.userId), acct.accountId, { name: 'Garbage', originalName: 'bad.wav', upload: garbage })).rejects.toBeInstanceOf(PromptError);
    expect((await listPrompts(db, acct.accountId)).map((p) => p.name)).toEqual(['Upload mp3', 'Upload wav']);
  });

  it('refuses audio longer than the limit and a taken name', async () => {
    const acct = await activatedAccount(db);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-long-'));
    const long = path.join(dir, 'long.wav');
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', long, 'synth', '301', 'sine', '440']);
    await expect(createAudioPrompt(db, { ffmpeg, dataDir }, actor(acct.userId), acct.accountId, { name: 'Long', originalName: 'long.wav', upload: long })).rejects.toMatchObject({ code: 'too_long' });
    await createAudioPrompt(db, { ffmpeg, dataDir }, actor(acct.userId), acct.accountId, { name: 'Hello', originalName: null, upload: speechUpload('wav') });
    await expect(createAudioPrompt(db, { ffmpeg, dataDir }, actor(acct.userId), acct.accountId, { name: 'Hello', originalName: null, upload: speechUpload('wav') })).rejects.toMatchObject({ code: 'name_taken' });
  });

  it('refuses to delete a prompt in use, naming the menus, and deletes it once unused', async () => {
    const acct = await activatedAccount(db);
    const p = await createAudioPrompt(db, { ffmpeg, dataDir }, actor(acct.userId), acct.accountId, { name: 'Main greeting', originalName: null, upload: speechUpload('mp3') });
    const menu = await createIvrMenu(db, actor(acct.userId), acct.accountId, { number: '1001', name: 'Main', language: 'en' });
    await updateIvrMenu(db, actor(acct.userId), acct.accountId, menu.id, { prompt: { mode: 'audio', prompt: 'Main greeting' } });
    expect((await listPrompts(db, acct.accountId))[0]!.usedIn).toEqual([{ id: menu.id, number: '1001', name: 'Main' }]);
    const refused = await deletePrompt(db, dataDir, actor(acct.userId), acct.accountId, p.id).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'in_use', usedIn: [{ number: '1001', name: 'Main' }] });
    const file = (await promptFile(db, dataDir, acct.accountId, p.id))!;
    expect(fs.existsSync(file)).toBe(true);
    await updateIvrMenu(db, actor(acct.userId), acct.accountId, menu.id, { prompt: null });
    expect(await deletePrompt(db, dataDir, actor(acct.userId), acct.accountId, p.id)).toBe(true);
    expect(fs.existsSync(file)).toBe(false);
    // Another account's prompt id is simply not found.
    const other = await activatedAccount(db);
    const q = await createAudioPrompt(db, { ffmpeg, dataDir }, actor(other.userId), other.accountId, { name: 'Theirs', originalName: null, upload: speechUpload('wav') });
    expect(await deletePrompt(db, dataDir, actor(acct.userId), acct.accountId, q.id)).toBe(false);
    expect(await promptFile(db, dataDir, acct.accountId, q.id)).toBeNull();
  });
});

describe('IVR menus and settings in the database', () => {
  it('stores menus as extensions, refuses a taken number, and audits and announces each change', async () => {
    const announced: { accountId: string; subjects: string[] }[] = [];
    installConfigChangeSink(async (change) => announced.push(change));
    const acct = await activatedAccount(db);
    await expect(createIvrMenu(db, actor(acct.userId), acct.accountId, { number: '101', name: 'Clash', language: 'en' })).rejects.toMatchObject({ code: 'number_taken' });
    const m = await createIvrMenu(db, actor(acct.userId), acct.accountId, { number: '1001', name: 'Main', language: 'fr' });
    const ext = await db.selectFrom('extensions').selectAll().where('id', '=', m.id).executeTakeFirstOrThrow();
    expect(ext).toMatchObject({ type: 'ivr_menu', number: '1001', name: 'Main', account_id: acct.accountId });
    await updateIvrMenu(db, actor(acct.userId), acct.accountId, m.id, { keys: { '1': { type: 'connect', extension: '101' } }, prompt: { mode: 'tts', text: 'Bonjour.' } });
    // IVR-02: multi-level needs a menu; then the top menu is set and validation passes.
    const saved = await saveIvrSettings(db, actor(acct.userId), acct.accountId, { ...(await loadIvrConfig(db, acct.accountId)).settings, mode: 'multi', businessHoursMenu: '1001' });
    expect(saved).toMatchObject({ mode: 'multi', businessHoursMenu: '1001', operatorExtension: '101' });
    expect(await validateAccountIvr(db, acct.accountId)).toEqual([]);
    // AR-05: the operator is a user's extension, not a menu.
    await expect(saveIvrSettings(db, actor(acct.userId), acct.accountId, { ...(await loadIvrConfig(db, acct.accountId)).settings, operatorExtension: '1001' })).rejects.toMatchObject({ code: 'operator_not_user' });
    expect((await auditEvents(db, acct.accountId)).map((e) => e.action).filter((a) => a.startsWith('ivr'))).toEqual(['ivr_menu.created', 'ivr_menu.updated', 'ivr.settings_updated']);
    // Deleting the menu leaves the top menu pointing nowhere: validation says so.
    expect(await deleteIvrMenu(db, actor(acct.userId), acct.accountId, m.id)).toBe(true);
    // Each change was announced to media-server's caches once committed, as 'ivr'.
    expect(announced.filter((c) => c.accountId === acct.accountId).map((c) => c.subjects)).toEqual([['ivr', 'extensions'], ['ivr', 'extensions'], ['ivr'], ['ivr', 'extensions']]);
    expect((await validateAccountIvr(db, acct.accountId)).map((i) => i.rule)).toEqual(['missing_top_menu']);
    const fresh = await activatedAccount(db);
    await expect(saveIvrSettings(db, actor(fresh.userId), fresh.accountId, { ...(await loadIvrConfig(db, fresh.accountId)).settings, mode: 'multi' })).rejects.toBeInstanceOf(IvrError);
  });

  it('export → import → export gives the same configuration, and replaces menus only on accept', async () => {
    const acct = await activatedAccount(db);
    for (const n of ['102', '103']) await addUser(db, acct.accountId, { number: n });
    const stale = await createIvrMenu(db, actor(acct.userId), acct.accountId, { number: '1009', name: 'Old', language: 'en' });
    const sample = IVR_SAMPLES['multi-level'];
    const report = importIvrXml(exportIvrXml(sample));
    // Reading the file changed nothing.
    expect((await loadIvrConfig(db, acct.accountId)).menus.map((m) => m.number)).toEqual(['1009']);
    expect(await replaceIvrConfig(db, actor(acct.userId), acct.accountId, report.config!)).toEqual({ skippedMenus: [] });
    const stored = await loadIvrConfig(db, acct.accountId);
    expect(stored).toEqual(sample);
    expect(importIvrXml(exportIvrXml(stored)).config).toEqual(stored);
    expect(await db.selectFrom('extensions').select('id').where('id', '=', stale.id).executeTakeFirst()).toBeUndefined();
    expect(await validateAccountIvr(db, acct.accountId)).toEqual([]);
    // A menu whose number a user holds is skipped, the others imported.
    const clash = structuredClone(sample);
    clash.menus.push({ ...clash.menus[0]!, number: '102', name: 'Clash' });
    expect(await replaceIvrConfig(db, actor(acct.userId), acct.accountId, clash)).toEqual({ skippedMenus: ['102'] });
    expect((await auditEvents(db, acct.accountId, 'ivr.imported')).length).toBe(2);
  });

  it('keeps the company hours and the directory settings across an import of a file that does not carry them, and takes those of one that does', async () => {
    const announced: { accountId: string; subjects: string[] }[] = [];
    installConfigChangeSink(async (change) => announced.push(change));
    const acct = await activatedAccount(db);
    await addUser(db, acct.accountId, { number: '102' });
    const hours = { mode: 'custom' as const, days: { mon: [{ from: '09:00', to: '12:00' }, { from: '14:00', to: '18:00' }], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } };
    const directory = { searchBy: 'first_name' as const, extensions: ['102'] };
    await saveCompanyHours(db, actor(acct.userId), acct.accountId, hours);
    // Each editor saves its own part: the hours are still there after the directory's save.
    expect(await saveDirectorySettings(db, actor(acct.userId), acct.accountId, directory)).toMatchObject({ hours, directory, operatorExtension: '101' });
    await expect(saveDirectorySettings(db, actor(acct.userId), acct.accountId, { searchBy: 'last_name', extensions: ['1009'] })).rejects.toMatchObject({ code: 'directory_not_user', detail: '1009' });
    expect(announced.filter((c) => c.accountId === acct.accountId).map((c) => c.subjects)).toEqual([['ivr'], ['ivr']]);
    // A file written before the format carried them (no <hours>, <directory>, <singleLevel>): the account's stay.
    const older = exportIvrXml(IVR_SAMPLES['single-level']).replace(/\n\s*<hours[^>]*\/>/, '');
    expect(older).not.toContain('<hours');
    const report = importIvrXml(older);
    expect(report.config!.settings).not.toHaveProperty('hours');
    await replaceIvrConfig(db, actor(acct.userId), acct.accountId, report.config!);
    expect((await loadIvrConfig(db, acct.accountId)).settings).toMatchObject({ businessHoursMenu: IVR_SAMPLES['single-level'].settings.businessHoursMenu, hours, directory });
    // One that carries them replaces them, and an export gives back what was imported.
    const carried = structuredClone(IVR_SAMPLES['single-level']);
    carried.settings.hours = { mode: 'custom', days: { mon: [], tue: [], wed: [{ from: '10:00', to: '16:00' }], thu: [], fri: [], sat: [], sun: [] } };
    carried.settings.directory = { enabled: true, searchBy: 'last_name', extensions: null };
    carried.settings.singleLevel = { businessHours: { type: 'extension', extension: '102' }, afterHours: { type: 'company_greeting' }, greeting: { mode: 'default' }, noAction: 'operator' };
    await replaceIvrConfig(db, actor(acct.userId), acct.accountId, importIvrXml(exportIvrXml(carried)).config!);
    const stored = await loadIvrConfig(db, acct.accountId);
    expect(stored.settings).toMatchObject({ hours: carried.settings.hours, directory: carried.settings.directory, singleLevel: carried.settings.singleLevel });
    expect(importIvrXml(exportIvrXml(stored)).config).toEqual(stored);
  });

  it('replaces the custom answering rules with those of a file that carries them, in its order, and keeps them otherwise', async () => {
    const acct = await activatedAccount(db);
    for (const n of ['102', '103']) await addUser(db, acct.accountId, { number: n });
    const main = (await db.selectFrom('phone_numbers').select('e164').where('account_id', '=', acct.accountId).executeTakeFirstOrThrow()).e164;
    await createCompanyRule(db, actor(acct.userId), acct.accountId, { name: 'Old', enabled: true, conditions: [{ type: 'called_number', numbers: [main] }], target: { type: 'extension', extension: '102' } });
    const names = async () => (await listCompanyRules(db, acct.accountId)).map((r) => [r.position, r.name, r.target]);
    // The samples carry no rules: the account's stay.
    await replaceIvrConfig(db, actor(acct.userId), acct.accountId, importIvrXml(exportIvrXml(IVR_SAMPLES['multi-level'])).config!);
    expect(await names()).toEqual([[1, 'Old', { type: 'extension', extension: '102' }]]);
    // A rule may name a menu the same file creates.
    const rules: CompanyRuleInput[] = [
      { name: 'Holidays', enabled: true, conditions: [{ type: 'date_range', ranges: [{ from: '2026-12-24T00:00', to: '2026-12-26T00:00' }] }], target: { type: 'menu', menu: '1003' } },
      { name: 'VIP', enabled: false, conditions: [{ type: 'caller_id', numbers: ['+14155550111'], contactIds: [], anonymous: false }], target: { type: 'extension', extension: '103' } },
    ];
    await replaceIvrConfig(db, actor(acct.userId), acct.accountId, importIvrXml(exportIvrXml(IVR_SAMPLES['multi-level'], rules)).config!);
    expect(await names()).toEqual([
      [1, 'Holidays', { type: 'menu', menu: '1003' }],
      [2, 'VIP', { type: 'extension', extension: '103' }],
    ]);
    expect(await validateAccountIvr(db, acct.accountId)).toEqual([]);
    // Export then import: the same rules.
    const exported = exportIvrXml(await loadIvrConfig(db, acct.accountId), await listCompanyRules(db, acct.accountId));
    expect(importIvrXml(exported).config!.customRules).toEqual(rules);
    // A rule the rules page would refuse (a number called that is not the account's): the import changes nothing.
    const stranger: CompanyRuleInput = { name: 'Not ours', enabled: true, conditions: [{ type: 'called_number', numbers: ['+19995550100'] }], target: { type: 'extension', extension: '102' } };
    await expect(replaceIvrConfig(db, actor(acct.userId), acct.accountId, importIvrXml(exportIvrXml(IVR_SAMPLES['single-level'], [stranger])).config!)).rejects.toMatchObject({ code: 'called_number_not_ours', field: 'customRules.0.conditions.0.numbers' });
    expect(await names()).toEqual([
      [1, 'Holidays', { type: 'menu', menu: '1003' }],
      [2, 'VIP', { type: 'extension', extension: '103' }],
    ]);
    expect((await loadIvrConfig(db, acct.accountId)).settings.mode).toBe('multi');
    // An empty <customRules/> removes them.
    await replaceIvrConfig(db, actor(acct.userId), acct.accountId, importIvrXml(exportIvrXml(IVR_SAMPLES['multi-level'], [])).config!);
    expect(await names()).toEqual([]);
  });
});

