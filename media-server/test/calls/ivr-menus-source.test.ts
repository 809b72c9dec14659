import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAccount, predefinedRoleId } from '@carillon/core';
import type { Db } from '@carillon/db';
import { IvrMenusSource } from '../../src/calls/ivr-menus-source.ts';
import { PromptLibrary } from '../../src/calls/prompt-library.ts';
import { loadAccountConfig } from '../../src/routing/account-config.ts';
import { AccountConfigCache } from '../../src/routing/account-config-cache.ts';
import { freshDb } from '../../../tests/support/env.ts';

/**
 * The IVR port on a real (PGlite) database: an account's menus and settings as core stores them, its
 * extensions as a key's targets, the library's prompt files and the users' recorded names under DATA_DIR, scoped to the account;
 * the configuration kept until the account's config change drops it.
 */
const DATA_DIR = '/data';
let db: Db;
let source: IvrMenusSource;
let accountId: string;
let otherAccountId: string;
const ext: Record<string, string> = {};

async function newAccount(): Promise<{ accountId: string; siteId: string }> {
  const acct = await createAccount(db, { company: 'IVR Co', email: `ivr-${randomBytes(3).toString('hex')}@x.test`, mainNumber: `+1415555${String(1000 + Math.floor(Math.random() * 8999))}` }, { activationTtlHours: 1 });
  const site = await db.selectFrom('sites').select('id').where('account_id', '=', acct.accountId).executeTakeFirstOrThrow();
  return { accountId: acct.accountId, siteId: site.id };
}

beforeAll(async () => {
  db = await freshDb();
  const a = await newAccount();
  const b = await newAccount();
  accountId = a.accountId;
  otherAccountId = b.accountId;
  const rows = await db
    .insertInto('extensions')
    .values([
      { account_id: accountId, site_id: a.siteId, number: '500', type: 'ivr_menu', name: 'Main', status: 'activated' },
      { account_id: accountId, site_id: a.siteId, number: '102', type: 'user', status: 'activated' },
      { account_id: accountId, site_id: a.siteId, number: '301', type: 'message_only', status: 'activated' },
      { account_id: accountId, site_id: a.siteId, number: '601', type: 'call_queue', status: 'activated' },
      { account_id: accountId, site_id: a.siteId, number: '103', type: 'user', status: 'disabled' },
    ])
    .returning(['id', 'number'])
    .execute();
  for (const r of rows) ext[r.number] = r.id;
  // Bob holds 102 (enabled) and Dora 103 (disabled): only Bob can be found by name.
  const role = await predefinedRoleId(db, 'standard');
  await db
    .insertInto('users')
    .values([
      { account_id: accountId, extension_id: ext['102']!, role_id: role, first_name: 'Bob', last_name: 'Élan', email: `bob-${randomBytes(3).toString('hex')}@x.test`, setup_progress: '{}' },
      { account_id: accountId, extension_id: ext['103']!, role_id: role, first_name: 'Dora', last_name: 'Marsh', email: `dora-${randomBytes(3).toString('hex')}@x.test`, setup_progress: '{}' },
    ])
    .execute();
  await db
    .insertInto('ivr_menus')
    .values({ extension_id: ext['500']!, account_id: accountId, language: 'fr', prompt: JSON.stringify({ mode: 'audio', prompt: 'welcome' }), keys: JSON.stringify({ '1': { type: 'connect', extension: '102' } }), generic_keys: null })
    .execute();
  await db
    .insertInto('ivr_prompts')
    .values([
      { account_id: accountId, name: 'welcome', kind: 'audio', file: `prompts/${accountId}/a.wav`, duration_ms: 1000 },
      { account_id: otherAccountId, name: 'theirs', kind: 'audio', file: `prompts/${otherAccountId}/b.wav`, duration_ms: 1000 },
    ])
    .execute();
  source = new IvrMenusSource(db, new AccountConfigCache((id) => loadAccountConfig(db, id)), DATA_DIR);
});

describe('the IVR menus of an account, for calls', () => {
  it('reads the menus and settings, the extensions by number with how a key reaches them, and the menus by extension id', async () => {
    const ivr = (await source.ofAccount(accountId))!;
    expect(ivr.config.menus).toEqual([{ number: '500', name: 'Main', language: 'fr', prompt: { mode: 'audio', prompt: 'welcome' }, keys: { '1': { type: 'connect', extension: '102' } }, genericKeys: null }]);
    expect(ivr.config.settings).toMatchObject({ noInput: { type: 'disconnect' } });
    expect(Object.fromEntries([...ivr.extensions].map(([n, t]) => [n, t.reach]))).toMatchObject({ '500': 'unsupported', '102': 'user', '301': 'mailbox', '601': 'transfer', '103': 'disabled' });
    expect(ivr.extensions.get('102')).toEqual({ extensionId: ext['102'], number: '102', reach: 'user' });
    expect([...ivr.menuNumbers]).toEqual([[ext['500'], '500']]);
    // The dial-by-name directory: the users of enabled extensions, with their names apart (the account's admin is one too).
    expect(ivr.directory).toContainEqual({ extension: '102', firstName: 'Bob', lastName: 'Élan' });
    expect(ivr.directory.map((e) => e.extension)).not.toContain('103');
    expect((await source.ofAccount(otherAccountId))!.directory.map((e) => e.firstName)).not.toContain('Bob');
    expect(await source.ofAccount(randomUUID())).toBeNull();
  });

  it("finds a library prompt's file under DATA_DIR by its name, in the account's own library only", async () => {
    expect(await source.promptFile(accountId, 'welcome')).toBe(`${DATA_DIR}/prompts/${accountId}/a.wav`);
    expect(await source.promptFile(accountId, 'theirs')).toBeNull();
    expect(await source.promptFile(otherAccountId, 'welcome')).toBeNull();
    expect(await new IvrMenusSource(db, new AccountConfigCache((id) => loadAccountConfig(db, id)), null).promptFile(accountId, 'welcome')).toBeNull();
  });

  it("reads an account's library once for every prompt played, until the account's config change drops it", async () => {
    const library = new PromptLibrary(db, DATA_DIR);
    for (let i = 0; i < 3; i++) expect(await library.file(accountId, 'welcome')).toBe(`${DATA_DIR}/prompts/${accountId}/a.wav`);
    expect(await library.file(accountId, 'later')).toBeNull();
    expect(library.loads).toBe(1);
    await db.insertInto('ivr_prompts').values({ account_id: accountId, name: 'later', kind: 'audio', file: `prompts/${accountId}/later.wav`, duration_ms: 1000 }).execute();
    try {
      // Core announces the new prompt ('ivr'); until the engine drops the account, the kept library is read.
      expect(await library.file(accountId, 'later')).toBeNull();
      library.invalidate(accountId);
      expect(await library.file(accountId, 'later')).toBe(`${DATA_DIR}/prompts/${accountId}/later.wav`);
      expect(library.loads).toBe(2);
      // Another account's library is its own load, and does not see this one's prompts.
      expect(await library.file(otherAccountId, 'later')).toBeNull();
      expect(library.loads).toBe(3);
    } finally {
      await db.deleteFrom('ivr_prompts').where('account_id', '=', accountId).where('name', '=', 'later').execute();
    }
  });

  it("finds the users' recorded names by extension number, in the account only, and only where the file is there", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ivr-names-'));
    try {
      const names = new IvrMenusSource(db, new AccountConfigCache((id) => loadAccountConfig(db, id)), dataDir);
      const bob = await db.selectFrom('users').select('id').where('extension_id', '=', ext['102']!).executeTakeFirstOrThrow();
      // Another account's user at the same number, with a recording of their own.
      const other = await db.selectFrom('sites').select('id').where('account_id', '=', otherAccountId).executeTakeFirstOrThrow();
      const theirExt = await db.insertInto('extensions').values({ account_id: otherAccountId, site_id: other.id, number: '102', type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
      const role = await predefinedRoleId(db, 'standard');
      const them = await db
        .insertInto('users')
        .values({ account_id: otherAccountId, extension_id: theirExt.id, role_id: role, first_name: 'Eve', last_name: 'Other', email: `eve-${randomBytes(3).toString('hex')}@x.test`, setup_progress: '{}' })
        .returning('id')
        .executeTakeFirstOrThrow();
      for (const [user, account] of [
        [bob.id, accountId],
        [them.id, otherAccountId],
      ] as const) {
        fs.mkdirSync(path.join(dataDir, 'names', account), { recursive: true });
        fs.writeFileSync(path.join(dataDir, 'names', account, `${user}.wav`), 'RIFF');
        await db.insertInto('user_name_recordings').values({ user_id: user, account_id: account, file: `names/${account}/${user}.wav`, duration_ms: 900, source: 'phone', created_by: user }).execute();
      }
      expect([...(await names.nameRecordings(accountId, ['102', '103', '301']))]).toEqual([['102', path.join(dataDir, 'names', accountId, `${bob.id}.wav`)]]);
      expect([...(await names.nameRecordings(otherAccountId, ['102']))]).toEqual([['102', path.join(dataDir, 'names', otherAccountId, `${them.id}.wav`)]]);
      expect((await names.nameRecordings(accountId, [])).size).toBe(0);
      // A file gone from the disk: TTS says the name instead.
      fs.rmSync(path.join(dataDir, 'names', accountId, `${bob.id}.wav`));
      expect((await names.nameRecordings(accountId, ['102'])).size).toBe(0);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("keeps the configuration until the account's config change drops it", async () => {
    await source.ofAccount(accountId);
    await db.updateTable('ivr_menus').set({ keys: JSON.stringify({ '2': { type: 'voicemail', extension: '301' } }) }).where('extension_id', '=', ext['500']!).execute();
    expect((await source.ofAccount(accountId))!.config.menus[0]!.keys).toEqual({ '1': { type: 'connect', extension: '102' } });
    source.invalidate(accountId);
    expect((await source.ofAccount(accountId))!.config.menus[0]!.keys).toEqual({ '2': { type: 'voicemail', extension: '301' } });
  });

  it("reads the company hours (24 hours when never set) and the account's time zone, both dropped with the rest on a config change", async () => {
    source.invalidate(accountId);
    const before = (await source.ofAccount(accountId))!;
    expect(before.config.settings.hours).toEqual({ mode: '24h' });
    const hours = { mode: 'custom', days: { mon: [{ from: '09:00', to: '12:00' }, { from: '14:00', to: '18:00' }], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } };
    await db
      .insertInto('ivr_settings')
      .values({ account_id: accountId, settings: JSON.stringify({ afterHoursMenu: '500', hours }) })
      .onConflict((oc) => oc.column('account_id').doUpdateSet({ settings: JSON.stringify({ afterHoursMenu: '500', hours }) }))
      .execute();
    await db.updateTable('accounts').set({ time_zone: 'Pacific/Auckland' }).where('id', '=', accountId).execute();
    expect((await source.ofAccount(accountId))!.config.settings.hours).toEqual({ mode: '24h' });
    source.invalidate(accountId);
    const after = (await source.ofAccount(accountId))!;
    expect(after.config.settings).toMatchObject({ afterHoursMenu: '500', hours });
    expect(after.timeZone).toBe('Pacific/Auckland');
    // Another account's settings are its own.
    expect((await source.ofAccount(otherAccountId))!.config.settings.hours).toEqual({ mode: '24h' });
  });
});
