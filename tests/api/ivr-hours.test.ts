import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * The company hours of the auto-receptionist (issue 14, AR-03) through the IVR settings API, on the
 * running product and real PostgreSQL: a weekly schedule with two ranges a day saved and audited, an
 * empty or overlapping schedule refused by field, and another account's settings left as they were.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let admin: HttpClient;
let other: HttpClient;
let accountId = '';
let otherAccountId = '';

interface Settings extends Record<string, unknown> {
  hours: unknown;
}

const settingsOf = async (client: HttpClient): Promise<Settings> => ((await (await client.get('/api/ivr')).json()) as { settings: Settings }).settings;

const SPLIT_HOURS = {
  mode: 'custom',
  days: {
    mon: [
      { from: '09:00', to: '12:00' },
      { from: '14:00', to: '18:00' },
    ],
    tue: [
      { from: '09:00', to: '12:00' },
      { from: '14:00', to: '18:00' },
    ],
    wed: [],
    thu: [],
    fri: [{ from: '09:00', to: '17:00' }],
    sat: [],
    sun: [],
  },
};

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'ivr_hours');
  // The IVR is unreleased (hidden); this product previews it.
  product = await startProduct({ ENABLE_UNRELEASED: 'ivr', ...(scratch ? { DATABASE_URL: scratch.url } : {}) });
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  accountId = ((await (await admin.get('/api/me')).json()) as { accountId: string }).accountId;
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  other = new HttpClient(product.url);
  expect((await activate(other, created.link)).status).toBe(303);
  otherAccountId = ((await (await other.get('/api/me')).json()) as { accountId: string }).accountId;
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('company hours in the IVR settings', () => {
  it('are 24 hours until set; a schedule with two ranges a day is saved, read back and audited', async () => {
    const current = await settingsOf(admin);
    expect(current.hours).toEqual({ mode: '24h' });

    const put = await admin.json('PUT', '/api/ivr/settings', { ...current, afterHoursMenu: '1003', hours: SPLIT_HOURS });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { settings: Settings }).settings).toMatchObject({ afterHoursMenu: '1003', hours: SPLIT_HOURS });
    expect((await settingsOf(admin)).hours).toEqual(SPLIT_HOURS);

    const audit = await db
      .selectFrom('audit_events')
      .select(['action', 'before', 'after'])
      .where('account_id', '=', accountId)
      .where('action', '=', 'ivr.settings_updated')
      .orderBy('occurred_at', 'desc')
      .executeTakeFirstOrThrow();
    expect(audit.before).toMatchObject({ hours: { mode: '24h' } });
    expect(audit.after).toMatchObject({ afterHoursMenu: '1003', hours: SPLIT_HOURS });

    // Another account's settings are untouched.
    expect((await settingsOf(other)).hours).toEqual({ mode: '24h' });
    expect(await db.selectFrom('audit_events').select('action').where('account_id', '=', otherAccountId).where('action', 'like', 'ivr%').execute()).toEqual([]);
  });

  it('refuses an empty or an overlapping schedule with a 400 naming the field, and keeps the saved hours', async () => {
    const current = await settingsOf(admin);
    const refused = async (hours: unknown): Promise<Record<string, string>> => {
      const res = await admin.json('PUT', '/api/ivr/settings', { ...current, hours });
      expect(res.status).toBe(400);
      return ((await res.json()) as { fields: Record<string, string> }).fields;
    };
    expect(await refused({ mode: 'custom', days: {} })).toEqual({ 'hours.days': 'at least one day needs hours' });
    expect(
      await refused({
        mode: 'custom',
        days: {
          mon: [
            { from: '09:00', to: '12:00' },
            { from: '11:00', to: '14:00' },
          ],
        },
      }),
    ).toEqual({ 'hours.days.mon.1.from': 'ranges must be in order and not overlap' });
    expect(Object.keys(await refused({ mode: 'custom', days: { mon: [{ from: '18:00', to: '09:00' }] } }))).toEqual(['hours.days.mon.0.to']);
    expect(Object.keys(await refused({ mode: 'weekdays' }))).toEqual(['hours.mode']);
    expect((await settingsOf(admin)).hours).toEqual(SPLIT_HOURS);
  });

  it('keeps hours and directory saved on their own pages when the general settings form, opened before, is saved without them', async () => {
    // The general form was opened (it read the settings), then hours and directory were saved elsewhere.
    const { hours: _hours, directory: _directory, ...general } = await settingsOf(admin);
    expect((await admin.json('PUT', '/api/ivr/hours', { hours: SPLIT_HOURS })).status).toBe(200);
    expect((await admin.json('PUT', '/api/ivr/directory', { searchBy: 'first_name', extensions: null })).status).toBe(200);
    const put = await admin.json('PUT', '/api/ivr/settings', { ...general, genericKeys: { hash: 'root', star: 'repeat' } });
    expect(put.status, await put.clone().text()).toBe(200);
    const after = await settingsOf(admin);
    expect(after).toMatchObject({ genericKeys: { hash: 'root', star: 'repeat' }, hours: SPLIT_HOURS, directory: { searchBy: 'first_name', extensions: null } });
    // Sent, they are saved as sent (an API client that writes the whole settings).
    expect((await admin.json('PUT', '/api/ivr/settings', { ...after, hours: { mode: '24h' }, directory: { searchBy: 'last_name', extensions: null } })).status).toBe(200);
    expect(await settingsOf(admin)).toMatchObject({ hours: { mode: '24h' }, directory: { searchBy: 'last_name', extensions: null } });
    expect((await admin.json('PUT', '/api/ivr/settings', { ...after, hours: SPLIT_HOURS })).status).toBe(200);
  });

  it('goes back to 24 hours when set so', async () => {
    const put = await admin.json('PUT', '/api/ivr/settings', { ...(await settingsOf(admin)), hours: { mode: '24h' } });
    expect(put.status).toBe(200);
    expect((await settingsOf(admin)).hours).toEqual({ mode: '24h' });
    expect((await settingsOf(other)).hours).toEqual({ mode: '24h' });
  });
});
