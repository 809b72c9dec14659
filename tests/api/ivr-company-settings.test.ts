import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@carillon/db';
import { startApiProduct, type ApiProduct } from '../support/api-product.ts';
import type { HttpClient } from '../support/http-client.ts';

/**
 * The auto-receptionist's company hours (AR-03) and dial-by-name directory (AR-04) editors' API, on the
 * running product and real PostgreSQL with the unreleased area 'ivr' shown: each part is saved alone
 * (the other IVR settings kept), read back, audited as its own action; bad input is refused by field
 * (overlapping ranges, an end before its start, an empty week, an empty or doubled extension list), an
 * extension that is not one of this account's users (another account's included) by name; a standard
 * user may change nothing, and another account sees none of it.
 */
let ctx: ApiProduct;
let db: Db;
let admin: HttpClient;
let sam: HttpClient;
let other: HttpClient;
let accountId = '';
let otherAccountId = '';
const PASSWORD = 'Meadow5Lantern';

const SPLIT = {
  mode: 'custom',
  days: {
    mon: [
      { from: '08:30', to: '12:00' },
      { from: '13:30', to: '18:00' },
    ],
    tue: [{ from: '08:30', to: '18:00' }],
    wed: [],
    thu: [],
    fri: [{ from: '09:00', to: '16:00' }],
    sat: [],
    sun: [],
  },
};

const hoursOf = async (client: HttpClient) => (await (await client.get('/api/ivr/hours')).json()) as { hours: unknown; timeZone: string };
const directoryOf = async (client: HttpClient) =>
  (await (await client.get('/api/ivr/directory')).json()) as { directory: { searchBy: string; extensions: string[] | null }; candidates: { extension: string; firstName: string; lastName: string }[] };
const settingsOf = async (client: HttpClient) => ((await (await client.get('/api/ivr')).json()) as { settings: Record<string, unknown> }).settings;
const auditOf = (account: string, action: string) =>
  db.selectFrom('audit_events').select(['action', 'before', 'after']).where('account_id', '=', account).where('action', '=', action).orderBy('occurred_at', 'desc').execute();

beforeAll(async () => {
  ctx = await startApiProduct({
    scratchName: 'ivr_company_settings',
    env: { ENABLE_UNRELEASED: 'ivr' },
    users: [
      { extension: '2101', name: 'sam' },
      { extension: '2102', name: 'tom' },
    ],
    signIn: ['sam'],
    password: PASSWORD,
  });
  ({ db, admin, other, accountId } = ctx);
  sam = ctx.users.sam!;
  otherAccountId = ((await (await other.get('/api/me')).json()) as { accountId: string }).accountId;
  // A user's extension that exists only in the other account.
  await db.updateTable('extensions').set({ number: '2999' }).where('account_id', '=', otherAccountId).where('type', '=', 'user').execute();
}, 120_000);

afterAll(async () => {
  expect(await ctx?.stop()).toBe(0);
});

describe('company hours', () => {
  it('are 24 hours in the account time zone until set; a week with two ranges on a day is saved alone, read back and audited', async () => {
    expect(await hoursOf(admin)).toEqual({ hours: { mode: '24h' }, timeZone: expect.any(String), afterHoursMenu: null });
    // Another setting of the IVR, saved before: the hours editor must keep it.
    const settings = await settingsOf(admin);
    expect((await admin.json('PUT', '/api/ivr/settings', { ...settings, genericKeys: { hash: 'root', star: 'repeat' } })).status).toBe(200);

    const put = await admin.json('PUT', '/api/ivr/hours', { hours: SPLIT });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { hours: unknown }).hours).toEqual(SPLIT);
    expect((await hoursOf(admin)).hours).toEqual(SPLIT);
    expect(await settingsOf(admin)).toMatchObject({ hours: SPLIT, genericKeys: { hash: 'root', star: 'repeat' } });

    const [audit] = await auditOf(accountId, 'ivr.hours_updated');
    expect(audit).toMatchObject({ before: { hours: { mode: '24h' } }, after: { hours: SPLIT } });
    // The other account: untouched, and its admin reads its own hours.
    expect((await hoursOf(other)).hours).toEqual({ mode: '24h' });
    expect(await auditOf(otherAccountId, 'ivr.hours_updated')).toEqual([]);
  });

  it('refuses overlapping ranges, an end before its start, an empty week and unknown fields by field, keeping the saved hours', async () => {
    const refused = async (body: unknown): Promise<Record<string, string>> => {
      const res = await admin.json('PUT', '/api/ivr/hours', body);
      expect(res.status).toBe(400);
      return ((await res.json()) as { fields: Record<string, string> }).fields;
    };
    const overlapping = {
      mode: 'custom',
      days: {
        wed: [
          { from: '09:00', to: '12:00' },
          { from: '11:30', to: '15:00' },
        ],
      },
    };
    expect(await refused({ hours: overlapping })).toEqual({ 'hours.days.wed.1.from': 'ranges must be in order and not overlap' });
    expect(await refused({ hours: { mode: 'custom', days: { thu: [{ from: '17:00', to: '09:00' }] } } })).toEqual({ 'hours.days.thu.0.to': 'must end after it starts' });
    expect(await refused({ hours: { mode: 'custom', days: { mon: [], tue: [] } } })).toEqual({ 'hours.days': 'at least one day needs hours' });
    expect(await refused({ hours: { mode: 'custom', days: { mon: [{ from: '9:00', to: '17:00' }] } } })).toMatchObject({ 'hours.days.mon.0.from': 'a time as HH:MM' });
    expect(Object.keys(await refused({ hours: { mode: 'custom', days: { sol: [{ from: '09:00', to: '17:00' }] } } }))).toEqual(['hours.days']);
    expect(Object.keys(await refused({ hours: { mode: '24h' }, timeZone: 'Europe/Paris' }))).toEqual(['timeZone']);
    expect((await hoursOf(admin)).hours).toEqual(SPLIT);
  });

  it('may be changed by an administrator only', async () => {
    expect((await sam.json('PUT', '/api/ivr/hours', { hours: { mode: '24h' } })).status).toBe(403);
    expect((await hoursOf(admin)).hours).toEqual(SPLIT);
  });
});

describe('the dial-by-name directory', () => {
  it('searches every user by last name until set; searching by first name among chosen extensions is saved alone and audited', async () => {
    const before = await directoryOf(admin);
    expect(before.directory).toEqual({ searchBy: 'last_name', extensions: null });
    expect(before.candidates).toEqual(expect.arrayContaining([{ extension: '2101', firstName: 'sam', lastName: 'Test' }, { extension: '2102', firstName: 'tom', lastName: 'Test' }]));
    expect(before.candidates.map((c) => c.extension)).not.toContain('2999');

    const put = await admin.json('PUT', '/api/ivr/directory', { searchBy: 'first_name', extensions: ['2102'] });
    expect(put.status).toBe(200);
    expect((await directoryOf(admin)).directory).toEqual({ searchBy: 'first_name', extensions: ['2102'] });
    // The company hours saved above are kept.
    expect((await hoursOf(admin)).hours).toEqual(SPLIT);
    const [audit] = await auditOf(accountId, 'ivr.directory_updated');
    expect(audit).toMatchObject({ before: { directory: { searchBy: 'last_name', extensions: null } }, after: { directory: { searchBy: 'first_name', extensions: ['2102'] } } });
    expect((await directoryOf(other)).directory).toEqual({ searchBy: 'last_name', extensions: null });
  });

  it('refuses bad input by field, and an extension that is not one of this account’s users by name', async () => {
    const refused = async (body: unknown, status: number) => {
      const res = await admin.json('PUT', '/api/ivr/directory', body);
      expect(res.status).toBe(status);
      return (await res.json()) as { fields?: Record<string, string>; error?: string; detail?: string };
    };
    expect((await refused({ searchBy: 'first_name', extensions: [] }, 400)).fields).toEqual({ extensions: 'choose at least one extension, or all extensions' });
    expect((await refused({ searchBy: 'first_name', extensions: ['2101', '2101'] }, 400)).fields).toEqual({ 'extensions.1': 'extension 2101 is listed twice' });
    expect(Object.keys((await refused({ searchBy: 'nickname', extensions: null }, 400)).fields ?? {})).toEqual(['searchBy']);
    expect(Object.keys((await refused({ searchBy: 'last_name', extensions: ['12ab'] }, 400)).fields ?? {})).toEqual(['extensions.0']);
    // Another account's user, and a number nobody holds here.
    expect(await refused({ searchBy: 'last_name', extensions: ['2101', '2999'] }, 409)).toEqual({ error: 'directory_not_user', detail: '2999' });
    // An IVR menu is an extension, but not a person to spell.
    expect((await admin.json('POST', '/api/ivr/menus', { number: '2500', name: 'Main' })).status).toBe(201);
    expect(await refused({ searchBy: 'last_name', extensions: ['2500'] }, 409)).toEqual({ error: 'directory_not_user', detail: '2500' });
    expect((await directoryOf(admin)).directory).toEqual({ searchBy: 'first_name', extensions: ['2102'] });
  });

  it('is switched off and on (AR-04), the other directory settings kept', async () => {
    // Menu 2500's key 9 goes to the directory: switching it off is saved, and the answer names the key (IVR-15).
    const [menu] = (await (await admin.get('/api/ivr/menus')).json()) as { id: string; number: string }[];
    expect(menu?.number).toBe('2500');
    expect((await admin.json('PATCH', `/api/ivr/menus/${menu!.id}`, { keys: { '9': { type: 'directory' } } })).status).toBe(200);
    const off = await admin.json('PUT', '/api/ivr/directory', { enabled: false, searchBy: 'first_name', extensions: ['2102'] });
    expect(off.status).toBe(200);
    expect(((await off.json()) as { issues: { rule: string }[] }).issues).toContainEqual({ rule: 'directory_off', menu: '2500', key: '9' });
    expect((await directoryOf(admin)).directory).toEqual({ enabled: false, searchBy: 'first_name', extensions: ['2102'] });
    const bad = await admin.json('PUT', '/api/ivr/directory', { enabled: 'no', searchBy: 'first_name', extensions: null });
    expect(bad.status).toBe(400);
    expect(Object.keys(((await bad.json()) as { fields: object }).fields)).toEqual(['enabled']);
    expect((await admin.json('PUT', '/api/ivr/directory', { enabled: true, searchBy: 'first_name', extensions: ['2102'] })).status).toBe(200);
    expect((await directoryOf(admin)).directory).toEqual({ enabled: true, searchBy: 'first_name', extensions: ['2102'] });
  });

  it('goes back to every extension; a standard user may change nothing', async () => {
    expect((await sam.json('PUT', '/api/ivr/directory', { searchBy: 'last_name', extensions: null })).status).toBe(403);
    expect((await admin.json('PUT', '/api/ivr/directory', { searchBy: 'last_name', extensions: null })).status).toBe(200);
    expect((await directoryOf(admin)).directory).toEqual({ searchBy: 'last_name', extensions: null });
  });
});
