import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Db } from '@carillon/db';
import { exportIvrXml, IVR_SAMPLES } from '@carillon/core/ivr';
import { ffmpegPath } from '@carillon/core/audio';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { UNRELEASED_AREAS } from '../../app/src/lib/unreleased-features.ts';
import { toneWav } from '../support/voicemail.ts';

/**
 * The IVR's API (issue 14) through the running product on real PostgreSQL: menus as extensions,
 * validation on save, XML import that changes nothing until accepted, the prompts library with real
 * espeak-ng and ffmpeg, and what a caller from another account or without the right may not do.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let admin: HttpClient;
let other: HttpClient;
let accountId = '';

interface Menu {
  id: string;
  number: string;
  name: string;
  keys: Record<string, unknown>;
}
interface Issue {
  rule: string;
  menu: string | null;
  key?: string;
  target?: string;
}

const xmlPost = (client: HttpClient, xml: string, accept = false) => client.request('POST', `/api/ivr/import?accept=${accept}`, xml, { 'content-type': 'application/xml' });

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'ivr');
  // The IVR pages are unreleased (hidden); this product previews them, so that they are served here.
  product = await startProduct({ ENABLE_UNRELEASED: 'ivr', ...(scratch ? { DATABASE_URL: scratch.url } : {}) });
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  accountId = ((await (await admin.get('/api/me')).json()) as { accountId: string }).accountId;
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  other = new HttpClient(product.url);
  expect((await activate(other, created.link)).status).toBe(303);
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('IVR menus and settings', () => {
  it('creates a menu as an extension, validates on save, and refuses bad input by field', async () => {
    const res = await admin.json('POST', '/api/ivr/menus', { number: '1001', name: 'Main menu', language: 'en' });
    expect(res.status).toBe(201);
    const { menu, issues } = (await res.json()) as { menu: Menu; issues: Issue[] };
    expect(issues).toEqual(expect.arrayContaining([{ rule: 'missing_prompt', menu: '1001' }, { rule: 'empty_menu', menu: '1001' }]));
    expect(await db.selectFrom('extensions').select(['type', 'number']).where('id', '=', menu.id).executeTakeFirst()).toEqual({ type: 'ivr_menu', number: '1001' });

    // A taken number, a bad number, an unknown field, a TTS text with symbols: refused, nothing changed.
    expect((await admin.json('POST', '/api/ivr/menus', { number: '101', name: 'Clash' })).status).toBe(409);
    const bad = await admin.json('POST', '/api/ivr/menus', { number: '12a', name: '' });
    expect(bad.status).toBe(400);
    expect(Object.keys(((await bad.json()) as { fields: Record<string, string> }).fields).sort()).toEqual(['name', 'number']);
    expect((await admin.json('PATCH', `/api/ivr/menus/${menu.id}`, { prompt: { mode: 'tts', text: 'Press # now' } })).status).toBe(400);
    expect((await admin.json('PATCH', `/api/ivr/menus/${menu.id}`, { keys: { '#': { type: 'directory' } } })).status).toBe(400);
    expect((await admin.request('PATCH', `/api/ivr/menus/${menu.id}`, '{not json', { 'content-type': 'application/json' })).status).toBe(400);

    const saved = await admin.json('PATCH', `/api/ivr/menus/${menu.id}`, {
      prompt: { mode: 'tts', text: 'Welcome. For Marie, press 1. To leave a message, press 2.' },
      keys: { '1': { type: 'connect', extension: '101' }, '2': { type: 'voicemail', extension: '555' } },
    });
    expect(saved.status).toBe(200);
    expect(((await saved.json()) as { issues: Issue[] }).issues).toEqual([{ rule: 'deleted_extension', menu: '1001', key: '2', target: '555' }]);

    // IVR-02: multi-level with the top menu; the settings come back with the operator (ext 101).
    const settings = (await (await admin.get('/api/ivr')).json()) as { settings: Record<string, unknown> };
    const put = await admin.json('PUT', '/api/ivr/settings', { ...settings.settings, mode: 'multi', businessHoursMenu: '1001', zeroDialing: { type: 'nothing' } });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { settings: unknown }).settings).toMatchObject({ mode: 'multi', businessHoursMenu: '1001', operatorExtension: '101', zeroDialing: { type: 'nothing' } });
    expect((await admin.json('PUT', '/api/ivr/settings', { ...settings.settings, operatorExtension: '999' })).status).toBe(409);
    const validated = (await (await admin.json('POST', '/api/ivr/validate')).json()) as { issues: Issue[] };
    expect(validated.issues).toEqual([{ rule: 'deleted_extension', menu: '1001', key: '2', target: '555' }]);
    // The visual editor's unsaved copy: the same rules over the menus sent, with the stored settings; nothing is written.
    const draft = { number: '1001', name: 'Main', language: 'en', prompt: null, keys: { '1': { type: 'connect', extension: '101' } }, genericKeys: null };
    const copy = await admin.json('POST', '/api/ivr/validate', { menus: [draft, { ...draft, number: '1002', name: 'Orphan', keys: {} }] });
    expect(copy.status).toBe(200);
    expect(((await copy.json()) as { issues: Issue[] }).issues).toEqual([
      { rule: 'missing_prompt', menu: '1001' },
      { rule: 'missing_prompt', menu: '1002' },
      { rule: 'empty_menu', menu: '1002' },
      { rule: 'unreachable_menu', menu: '1002' },
    ]);
    const badCopy = await admin.json('POST', '/api/ivr/validate', { menus: [{ ...draft, keys: { '1': { type: 'connect', extension: 'abc' } } }] });
    expect(badCopy.status).toBe(400);
    expect(((await badCopy.json()) as { fields: Record<string, string> }).fields).toHaveProperty(['menus.0.keys.1.extension']);
    expect((await admin.json('POST', '/api/ivr/validate', { menus: 'all' })).status).toBe(400);
    expect(((await (await admin.json('POST', '/api/ivr/validate')).json()) as { issues: Issue[] }).issues).toEqual([{ rule: 'deleted_extension', menu: '1001', key: '2', target: '555' }]);

    const actions = await db.selectFrom('audit_events').select('action').where('account_id', '=', accountId).where('action', 'like', 'ivr%').execute();
    expect(actions.map((a) => a.action)).toEqual(['ivr_menu.created', 'ivr_menu.updated', 'ivr.settings_updated']);

    // IVR-04: the Company Fax/SMS recipient reads texts in their Messages, so it is a user's extension.
    const current = ((await (await admin.get('/api/ivr')).json()) as { settings: Record<string, unknown> }).settings;
    for (const [target, error] of [['999', 'unknown_extension'], ['1001', 'fax_sms_recipient_not_user']] as const) {
      const refused = await admin.json('PUT', '/api/ivr/settings', { ...current, faxSmsRecipient: target });
      expect(refused.status, target).toBe(409);
      expect(await refused.json()).toEqual({ error, detail: target });
    }
    expect((await admin.json('PUT', '/api/ivr/settings', { ...current, faxSmsRecipient: 12 })).status).toBe(400);
    const named = await admin.json('PUT', '/api/ivr/settings', { ...current, faxSmsRecipient: '101' });
    expect(named.status).toBe(200);
    expect(((await named.json()) as { settings: { faxSmsRecipient: string } }).settings.faxSmsRecipient).toBe('101');
  });

  it('lists the extension numbers a caller may dial during a prompt (issue 14): not disabled ones, nor paging groups, nor another account\'s', async () => {
    const site = await db.selectFrom('sites').select('id').where('account_id', '=', accountId).orderBy('is_main', 'desc').executeTakeFirstOrThrow();
    await db
      .insertInto('extensions')
      .values([
        { account_id: accountId, site_id: site.id, number: '150', type: 'user', status: 'disabled', name: 'Gone' },
        { account_id: accountId, site_id: site.id, number: '160', type: 'paging', status: 'activated', name: 'Floor' },
        { account_id: accountId, site_id: site.id, number: '170', type: 'message_only', status: 'activated', name: 'Info line' },
      ])
      .execute();
    const { dialable } = (await (await admin.get('/api/ivr')).json()) as { dialable: string[] };
    // The admin's own extension, the menu made above (a menu is an extension, IVR-11), the message-only one.
    expect(dialable).toEqual(expect.arrayContaining(['101', '1001', '170']));
    expect(dialable).not.toContain('150');
    expect(dialable).not.toContain('160');
    expect(((await (await other.get('/api/ivr')).json()) as { dialable: string[] }).dialable).not.toContain('1001');
  });

  it("does not show, change or delete another account's menu", async () => {
    const mine = ((await (await admin.get('/api/ivr/menus')).json()) as Menu[])[0]!;
    expect((await other.get(`/api/ivr/menus/${mine.id}`)).status).toBe(404);
    expect((await other.json('PATCH', `/api/ivr/menus/${mine.id}`, { name: 'Hijacked' })).status).toBe(404);
    expect((await other.json('DELETE', `/api/ivr/menus/${mine.id}`)).status).toBe(404);
    expect(await (await other.get('/api/ivr/menus')).json()).toEqual([]);
    expect((await (await admin.get(`/api/ivr/menus/${mine.id}`)).json()) as Menu).toMatchObject({ name: 'Main menu' });
    // The same extension number is free in another account.
    expect((await other.json('POST', '/api/ivr/menus', { number: '1001', name: 'Beta main' })).status).toBe(201);
  });

  it('refuses a caller without the right; serves the pages only where the unreleased area is previewed', async () => {
    const role = await db.selectFrom('roles').select('id').where('key', '=', 'user_admin').executeTakeFirstOrThrow();
    const token = (await (await admin.json('POST', '/api/api-tokens', { name: 'No IVR', roleId: role.id })).json()) as { secret: string };
    const bearer = (method: string, p: string, body?: unknown) =>
      fetch(product.url + p, { method, headers: { authorization: `Bearer ${token.secret}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    expect((await bearer('GET', '/api/ivr')).status).toBe(403);
    expect((await bearer('POST', '/api/ivr/menus', { number: '1002', name: 'Nope' })).status).toBe(403);
    expect((await bearer('POST', '/api/ivr/prompts', { name: 'Nope', text: 'Hello', language: 'en' })).status).toBe(403);
    expect((await bearer('POST', '/api/ivr/prompts/bulk', {})).status).toBe(403);
    // Past quick setup, so that the portal serves pages rather than sending to the wizard.
    await db.updateTable('accounts').set({ setup_completed_at: new Date() }).where('id', '=', accountId).execute();
    expect((await admin.request('GET', '/admin/phone-system', undefined, { accept: 'text/html' })).status).toBe(200);
    for (const page of ['/admin/phone-system/ivr', '/admin/phone-system/ivr/editor', '/admin/phone-system/ivr/prompts']) {
      const res = await admin.request('GET', page, undefined, { accept: 'text/html' });
      expect(res.status, page).toBe(200);
      expect(await res.text(), page).toContain('Auto-Receptionist');
    }
    // Everywhere else (no preview), the area is hidden: tests/api/answering-rules.test.ts checks the 404s on a product started without it.
    expect(UNRELEASED_AREAS).toContain('ivr');
  });
});

describe('IVR XML import and export', () => {
  it('reports a billion-laughs file and a corrupt file, and changes nothing', async () => {
    const before = await (await admin.get('/api/ivr/export')).text();
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><ivr>&lol2;</ivr>`;
    for (const xml of [bomb, before.slice(0, 200), 'not xml at all']) {
      const res = await xmlPost(admin, xml, true);
      expect(res.status).toBe(422);
      const report = (await res.json()) as { applied: boolean; problems: { line: number; message: string }[] };
      expect(report.applied).toBe(false);
      expect(report.problems).toHaveLength(1);
    }
    expect(await (await admin.get('/api/ivr/export')).text()).toBe(before);
  });

  it('checks a file naming unknown extensions without changing anything, then imports it on accept; export then import is the same', async () => {
    const before = await (await admin.get('/api/ivr/export')).text();
    const sample = exportIvrXml(IVR_SAMPLES['multi-level']);
    const check = await xmlPost(admin, sample);
    expect(check.status).toBe(200);
    const report = (await check.json()) as { applied: boolean; issues: Issue[]; menus: number };
    expect(report.applied).toBe(false);
    expect(report.menus).toBe(4);
    // The sample names extensions 102 and 103, which this account does not have.
    expect(report.issues.filter((i) => i.rule === 'deleted_extension').map((i) => i.target).sort()).toEqual(['102', '102', '103']);
    expect(await (await admin.get('/api/ivr/export')).text()).toBe(before);

    const accepted = await xmlPost(admin, sample, true);
    expect(((await accepted.json()) as { applied: boolean }).applied).toBe(true);
    const exported = await (await admin.get('/api/ivr/export')).text();
    // The account's file says too that it has no custom answering rules (the sample leaves them out).
    const whole = exportIvrXml(IVR_SAMPLES['multi-level'], []);
    expect(exported).toBe(whole);
    expect(((await (await xmlPost(admin, exported, true)).json()) as { applied: boolean }).applied).toBe(true);
    expect(await (await admin.get('/api/ivr/export')).text()).toBe(whole);
    // Another account's configuration is untouched.
    expect((await (await other.get('/api/ivr/menus')).json()) as Menu[]).toEqual([expect.objectContaining({ number: '1001', name: 'Beta main' })]);
    expect(await (await admin.get('/api/ivr/sample?kind=single-level')).text()).toBe(exportIvrXml(IVR_SAMPLES['single-level']));
    expect((await admin.get('/api/ivr/sample?kind=nope')).status).toBe(400);
  });
});

describe('prompts library', () => {
  it('speaks a TTS prompt, converts an upload, plays it, refuses a fake MP3, and refuses deleting a prompt in use', async () => {
    const tts = await admin.json('POST', '/api/ivr/prompts', { name: 'Accueil', text: 'Bienvenue chez Acme.', language: 'fr' });
    expect(tts.status, await tts.clone().text()).toBe(201);
    const spoken = (await tts.json()) as { id: string; durationMs: number };
    expect(spoken.durationMs).toBeGreaterThan(500);
    const audio = await admin.get(`/api/ivr/prompts/${spoken.id}/audio`);
    expect(audio.headers.get('content-type')).toBe('audio/wav');
    const wav = Buffer.from(await audio.arrayBuffer());
    expect([wav.readUInt16LE(22), wav.readUInt32LE(24)]).toEqual([1, 8000]);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-ivr-upload-'));
    execFileSync('espeak-ng', ['-v', 'en-us', '-w', path.join(dir, 'v.wav'), 'For sales, press one.']);
    execFileSync(ffmpegPath(process.env.FFMPEG_PATH), ['-loglevel', 'error', '-y', '-i', path.join(dir, 'v.wav'), path.join(dir, 'v.mp3')]);
    const form = new FormData();
    form.set('name', 'Sales');
    form.set('file', new File([fs.readFileSync(path.join(dir, 'v.mp3'))], 'sales.mp3', { type: 'audio/mpeg' }));
    const uploaded = await admin.request('POST', '/api/ivr/prompts', form);
    expect(uploaded.status).toBe(201);
    const sales = (await uploaded.json()) as { id: string };

    const fake = new FormData();
    fake.set('name', 'Fake');
    fake.set('file', new File([Buffer.from('%PDF-1.4 definitely not audio')], 'song.mp3', { type: 'audio/mpeg' }));
    const refused = await admin.request('POST', '/api/ivr/prompts', fake);
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ error: 'not_audio' });
    expect((await admin.json('POST', '/api/ivr/prompts', { name: 'Sales', text: 'Again', language: 'en' })).status).toBe(409);

    const menus = (await (await admin.get('/api/ivr/menus')).json()) as Menu[];
    await admin.json('PATCH', `/api/ivr/menus/${menus[0]!.id}`, { prompt: { mode: 'audio', prompt: 'Sales' } });
    // The simulator hears the menu's prompt as calls will.
    const heard = await admin.get(`/api/ivr/menus/${menus[0]!.id}/prompt`);
    expect(heard.status).toBe(200);
    expect(Buffer.from(await heard.arrayBuffer()).equals(Buffer.from(await (await admin.get(`/api/ivr/prompts/${sales.id}/audio`)).arrayBuffer()))).toBe(true);
    expect((await other.get(`/api/ivr/menus/${menus[0]!.id}/prompt`)).status).toBe(404);
    const del = await admin.json('DELETE', `/api/ivr/prompts/${sales.id}`);
    expect(del.status).toBe(409);
    expect(await del.json()).toMatchObject({ error: 'in_use', usedIn: [{ number: menus[0]!.number }] });
    // Not the other account's to play or delete.
    expect((await other.get(`/api/ivr/prompts/${sales.id}/audio`)).status).toBe(404);
    expect((await other.json('DELETE', `/api/ivr/prompts/${spoken.id}`)).status).toBe(404);
    expect((await admin.json('DELETE', `/api/ivr/prompts/${spoken.id}`)).status).toBe(204);
  });

  it('imports many files at once: the good ones kept, named from their files and made unique, each refusal with its reason', async () => {
    const wav = (name: string, bytes: Buffer) => new File([new Uint8Array(bytes)], name, { type: 'audio/wav' });
    const bulk = new FormData();
    bulk.append('files', wav('Main menu.wav', toneWav(1.5)));
    bulk.append('files', wav('Main menu.wav', toneWav(1, 8000, 600)));
    // "Sales" is in the library already (the test above).
    bulk.append('files', wav('Sales.WAV', toneWav(1)));
    bulk.append('files', new File([Buffer.from('%PDF-1.4 definitely not audio')], 'brochure.mp3', { type: 'audio/mpeg' }));
    bulk.append('files', wav('silence.wav', toneWav(2, 8000, 0)));
    // One byte over the limit: read and dropped as it arrives, the files after it still imported.
    bulk.append('files', wav('huge.wav', Buffer.concat([toneWav(1), Buffer.alloc(10 * 1024 * 1024 + 1 - toneWav(1).length)])));
    bulk.append('files', wav('After hours.wav', toneWav(1, 8000, 900)));
    bulk.append('comment', 'other fields are skipped');
    const res = await admin.request('POST', '/api/ivr/prompts/bulk', bulk);
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as { imported: number; report: { fileName: string; name: string; imported: boolean; error?: string; prompt?: { durationMs: number } }[] };
    expect(body.report.map(({ fileName, name, imported, error }) => ({ fileName, name, imported, ...(error ? { error } : {}) }))).toEqual([
      { fileName: 'Main menu.wav', name: 'Main menu', imported: true },
      { fileName: 'Main menu.wav', name: 'Main menu (2)', imported: true },
      { fileName: 'Sales.WAV', name: 'Sales (2)', imported: true },
      { fileName: 'brochure.mp3', name: 'brochure', imported: false, error: 'not_audio' },
      { fileName: 'silence.wav', name: 'silence', imported: false, error: 'silent' },
      { fileName: 'huge.wav', name: 'huge', imported: false, error: 'too_large' },
      { fileName: 'After hours.wav', name: 'After hours', imported: true },
    ]);
    expect(body.imported).toBe(4);
    expect(body.report[0]!.prompt!.durationMs).toBeGreaterThan(1400);
    const stored = await db.selectFrom('ivr_prompts').select(['name', 'original_name']).where('account_id', '=', accountId).where('name', 'in', ['Main menu', 'Main menu (2)', 'Sales (2)', 'After hours', 'brochure', 'silence', 'huge']).orderBy('name').execute();
    expect(stored).toEqual([
      { name: 'After hours', original_name: 'After hours.wav' },
      { name: 'Main menu', original_name: 'Main menu.wav' },
      { name: 'Main menu (2)', original_name: 'Main menu.wav' },
      { name: 'Sales (2)', original_name: 'Sales.WAV' },
    ]);
    // Audited as any prompt added.
    const imported = await db.selectFrom('ivr_prompts').select('id').where('account_id', '=', accountId).where('name', 'like', 'Main menu%').execute();
    const audited = await db.selectFrom('audit_events').select('after').where('account_id', '=', accountId).where('action', '=', 'ivr_prompt.created').where('target_id', 'in', imported.map((p) => p.id)).execute();
    expect(audited.map((a) => (a.after as { name: string }).name).sort()).toEqual(['Main menu', 'Main menu (2)']);
    // Nothing in the other account.
    expect(((await (await other.get('/api/ivr/prompts')).json()) as unknown[]).length).toBe(0);
  });

  it('refuses a bulk import of more than 50 files, or that is not a form, and keeps nothing', async () => {
    const before = (await db.selectFrom('ivr_prompts').select('id').where('account_id', '=', accountId).execute()).length;
    const many = new FormData();
    for (let i = 0; i < 51; i++) many.append('files', new File([new Uint8Array(toneWav(0.2))], `tone ${i}.wav`, { type: 'audio/wav' }));
    const tooMany = await admin.request('POST', '/api/ivr/prompts/bulk', many);
    expect(tooMany.status).toBe(413);
    expect(await tooMany.json()).toMatchObject({ error: 'too_many_files' });
    const notForm = await admin.json('POST', '/api/ivr/prompts/bulk', { files: ['a.wav'] });
    expect(notForm.status).toBe(400);
    expect(await notForm.json()).toMatchObject({ error: 'invalid_body' });
    const empty = new FormData();
    empty.set('name', 'no file');
    expect(await (await admin.request('POST', '/api/ivr/prompts/bulk', empty)).json()).toMatchObject({ error: 'invalid_body', fields: { files: 'at least one file' } });
    expect((await db.selectFrom('ivr_prompts').select('id').where('account_id', '=', accountId).execute()).length).toBe(before);
  });
});
