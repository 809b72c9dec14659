import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createStandardUsers } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { redisUrl } from '../support/env.ts';

/**
 * High-volume SMS through the product (issue 18, deliverable 2): a number is
 * registered, an admin approves it (audited), and only then does a campaign
 * from it get created from a CSV upload, each bad line reported with its
 * line and the good ones kept; a file too large or without a number column
 * is refused clearly. A Standard user can neither register nor approve;
 * another account's campaign and registration are not found.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let admin: HttpClient;
let sam: HttpClient;
let beta: HttpClient;
let accountId = '';
const PASSWORD = 'Meadow5Lantern';
const NUMBER = '+14155550400';
const BETA_NUMBER = '+14155550499';

interface Registration {
  id: string;
  phoneNumber: string;
  status: string;
}

const registration = { phoneNumber: NUMBER, businessName: 'Demo Dental', useCase: 'appointment reminders', sampleMessage: 'Hi Ada, see you tomorrow at 10:00.', expectedDailyVolume: 500 };
const upload = (client: HttpClient, fields: Record<string, string>, csv: string | Uint8Array<ArrayBuffer>, name = 'list.csv') => {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set('file', new File([csv], name, { type: 'text/csv' }));
  return client.request('POST', '/api/sms/campaigns', form);
};
const campaign = { name: 'Reminders', from: NUMBER, template: 'Hi {{firstName}}, see you at {{time}}.' };

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'smscampaigns');
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), REDIS_URL: redisUrl(), ENABLE_UNRELEASED: 'sms' });
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  await createStandardUsers(db, [{ extension: '301', name: 'sam', password: PASSWORD }]);
  accountId = (await db.selectFrom('users').select('account_id').where('email', '=', 'sam@demo.carillon.localhost').executeTakeFirstOrThrow()).account_id;
  await db.insertInto('phone_numbers').values({ account_id: accountId, e164: NUMBER, type: 'additional_company' }).execute();
  sam = new HttpClient(product.url);
  expect((await sam.form('/login', { identifier: 'sam@demo.carillon.localhost', password: PASSWORD })).status).toBe(303);
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  beta = new HttpClient(product.url);
  expect((await activate(beta, created.link)).status).toBe(303);
  const betaAccount = (await db.selectFrom('users').select('account_id').where('email', '=', 'boss@beta.example').executeTakeFirstOrThrow()).account_id;
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).where('id', '=', betaAccount).execute();
  await db.insertInto('phone_numbers').values({ account_id: betaAccount, e164: BETA_NUMBER, type: 'additional_company' }).execute();
}, 180_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('high-volume registration', () => {
  let pending: Registration;

  it('refuses a campaign from a number not approved, then takes a registration of one of the account’s numbers, pending', async () => {
    const early = await upload(admin, campaign, 'phone,firstName,time\n+14155551001,Ada,10:00');
    expect(early.status).toBe(400);
    expect(await early.json()).toMatchObject({ error: 'not_high_volume', message: `${NUMBER} is not approved for high volume: submit its registration first` });

    const res = await admin.json('POST', '/api/sms/registrations', registration);
    expect(res.status, await res.clone().text()).toBe(201);
    pending = (await res.json()) as Registration;
    expect(pending).toMatchObject({ phoneNumber: NUMBER, status: 'pending' });
    // One live registration per number.
    expect((await admin.json('POST', '/api/sms/registrations', registration)).status).toBe(409);
    // Not a number of this account.
    const foreign = await admin.json('POST', '/api/sms/registrations', { ...registration, phoneNumber: BETA_NUMBER });
    expect(foreign.status).toBe(400);
    expect(await foreign.json()).toMatchObject({ error: 'not_account_number' });
    // The shape is checked, naming the field.
    const bad = await admin.json('POST', '/api/sms/registrations', { ...registration, expectedDailyVolume: 300_000 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_body', fields: { expectedDailyVolume: expect.any(String) } });
  });

  it('lets neither a Standard user nor another account approve it', async () => {
    expect((await sam.json('POST', `/api/sms/registrations/${pending.id}/review`, { decision: 'approve' })).status).toBe(403);
    expect((await sam.json('POST', '/api/sms/registrations', { ...registration, phoneNumber: '+14155550401' })).status).toBe(403);
    expect((await sam.get('/api/sms/campaigns')).status).toBe(403);
    expect((await beta.json('POST', `/api/sms/registrations/${pending.id}/review`, { decision: 'approve' })).status).toBe(404);
    expect((await admin.get('/api/sms/registrations')).status).toBe(200);
    expect(((await (await admin.get('/api/sms/registrations')).json()) as { registrations: Registration[] }).registrations[0]!.status).toBe('pending');
  });

  it('is approved by an admin, once, with an audit trail entry', async () => {
    const res = await admin.json('POST', `/api/sms/registrations/${pending.id}/review`, { decision: 'approve', note: 'checked the sample' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'approved', reviewNote: 'checked the sample' });
    expect((await admin.json('POST', `/api/sms/registrations/${pending.id}/review`, { decision: 'reject' })).status).toBe(409);
    const audit = await db.selectFrom('audit_events').select(['action', 'target_id', 'actor_user_id', 'before', 'after']).where('account_id', '=', accountId).where('target_type', '=', 'sms_registration').orderBy('occurred_at').execute();
    expect(audit.map((a) => a.action)).toEqual(['sms_registration.submitted', 'sms_registration.approved']);
    expect(audit[1]).toMatchObject({ target_id: pending.id, before: { status: 'pending' }, after: { status: 'approved', phoneNumber: NUMBER } });
    expect(audit[1]!.actor_user_id).not.toBeNull();
  });
});

describe('campaign uploads', () => {
  let campaignId = '';

  it('keeps the good lines and reports each bad one with its line', async () => {
    const csv = ['phone,firstName,time', '+14155551001,Ada,10:00', 'call me,Bob,11:00', '(415) 555-1003,Cy,12:00', '+14155551004,,13:00', '+14155551001,Ada,10:00'].join('\r\n');
    const res = await upload(admin, { ...campaign, startAt: '2030-01-15T09:30' }, csv);
    expect(res.status, await res.clone().text()).toBe(201);
    const body = (await res.json()) as { id: string; accepted: number; rejected: number; errors: { line: number; code: string; message: string }[] };
    campaignId = body.id;
    expect(body).toMatchObject({ accepted: 2, rejected: 3 });
    expect(body.errors.map((e) => [e.line, e.code, e.message])).toEqual([
      [3, 'invalid_number', 'line 3: call me is not a phone number'],
      [5, 'missing_field', 'line 5: missing firstName'],
      [6, 'duplicate_number', 'line 6: +14155551001 is already on line 2'],
    ]);
    const stored = await db.selectFrom('sms_campaign_recipients').select(['line', 'phone_number', 'body']).where('campaign_id', '=', campaignId).orderBy('line').execute();
    expect(stored).toEqual([
      { line: 2, phone_number: '+14155551001', body: 'Hi Ada, see you at 10:00.' },
      { line: 4, phone_number: '+14155551003', body: 'Hi Cy, see you at 12:00.' },
    ]);
    // The start is read on the account's wall clock.
    const tz = (await db.selectFrom('accounts').select('time_zone').where('id', '=', accountId).executeTakeFirstOrThrow()).time_zone;
    const view = await admin.get(`/api/sms/campaigns/${campaignId}`);
    expect(view.status).toBe(200);
    const detail = (await view.json()) as { status: string; startAt: string; counts: Record<string, unknown> };
    expect(detail.status).toBe('scheduled');
    expect(new Date(detail.startAt).toLocaleString('sv-SE', { timeZone: tz }).slice(0, 16)).toBe('2030-01-15 09:30');
    expect(detail.counts).toMatchObject({ total: 5, skipped: 3, pending: 2, delivered: 0 });
    const report = await admin.get(`/api/sms/campaigns/${campaignId}/report`);
    expect(report.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await report.text()).trim().split('\r\n');
    expect(lines[0]).toBe('line,phone_number,status,carrier_error_code,reason,sent_at,completed_at');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual(['2,+14155551001,pending', '4,+14155551003,pending', '3,call me,skipped', '5,+14155551004,skipped', '6,+14155551001,skipped']);
  });

  it('refuses a file that cannot be a list, clearly, and stores nothing', async () => {
    const before = await db.selectFrom('sms_campaigns').select('id').execute();
    const cases: [string, string | Uint8Array<ArrayBuffer>, number, string, RegExp][] = [
      ['no number column', 'name,firstName,time\nx,Ada,10:00', 400, 'no_phone_column', /no phone number column/],
      ['a template field no column has', 'phone,firstName\n+14155551001,Ada', 400, 'missing_column', /\{\{time\}\}, which no column provides/],
      ['not one good line', 'phone,firstName,time\nnope,Ada,10:00', 400, 'no_valid_row', /line 2: nope is not a phone number/],
      ['larger than the limit', new Uint8Array(17 * 1024 * 1024).fill(0x41), 413, 'too_large', /larger than 16 MiB/],
    ];
    for (const [what, csv, status, error, message] of cases) {
      const res = await upload(admin, campaign, csv);
      expect(res.status, what).toBe(status);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error, what).toBe(error);
      expect(body.message, what).toMatch(message);
    }
    const missing = await admin.request('POST', '/api/sms/campaigns', (() => {
      const f = new FormData();
      f.set('name', 'No file');
      return f;
    })());
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: 'invalid_body', fields: { file: 'required', from: expect.any(String), template: expect.any(String) } });
    expect(await db.selectFrom('sms_campaigns').select('id').execute()).toEqual(before);
  });

  it('pauses, resumes and cancels, with the state checked', async () => {
    expect(await (await admin.json('PATCH', `/api/sms/campaigns/${campaignId}`, { action: 'pause' })).json()).toEqual({ status: 'paused' });
    expect(await (await admin.json('PATCH', `/api/sms/campaigns/${campaignId}`, { action: 'resume' })).json()).toEqual({ status: 'scheduled' });
    expect(await (await admin.json('PATCH', `/api/sms/campaigns/${campaignId}`, { action: 'cancel' })).json()).toEqual({ status: 'cancelled' });
    expect((await admin.json('PATCH', `/api/sms/campaigns/${campaignId}`, { action: 'resume' })).status).toBe(409);
    expect((await admin.json('PATCH', `/api/sms/campaigns/${campaignId}`, { action: 'explode' })).status).toBe(400);
    expect(((await (await admin.get(`/api/sms/campaigns/${campaignId}`)).json()) as { counts: Record<string, number> }).counts).toMatchObject({ cancelled: 2, pending: 0 });
  });

  it('keeps another account’s hands off the campaign', async () => {
    for (const [method, path, body] of [
      ['GET', `/api/sms/campaigns/${campaignId}`, undefined],
      ['PATCH', `/api/sms/campaigns/${campaignId}`, { action: 'resume' }],
      ['GET', `/api/sms/campaigns/${campaignId}/report`, undefined],
    ] as const) {
      expect((await beta.request(method, path, body)).status, `${method} ${path}`).toBe(404);
    }
    expect(((await (await beta.get('/api/sms/campaigns')).json()) as { campaigns: unknown[] }).campaigns).toEqual([]);
    expect((await admin.get('/api/sms/campaigns/not-a-uuid')).status).toBe(404);
    expect((await admin.get(`/api/sms/campaigns/${crypto.randomUUID()}`)).status).toBe(404);
  });

  it('lets only an admin with the account settings set the quiet hours', async () => {
    expect(await (await admin.get('/api/sms/quiet-hours')).json()).toMatchObject({ quietHours: { start: '21:00', end: '08:00' } });
    const set = await admin.json('PUT', '/api/sms/quiet-hours', { quietHours: { start: '20:00', end: '09:00' } });
    expect(set.status).toBe(200);
    expect((await admin.json('PUT', '/api/sms/quiet-hours', { quietHours: { start: '20:00', end: '20:00' } })).status).toBe(400);
    expect((await sam.json('PUT', '/api/sms/quiet-hours', { quietHours: null })).status).toBe(403);
    expect(await (await admin.get('/api/sms/quiet-hours')).json()).toMatchObject({ quietHours: { start: '20:00', end: '09:00' } });
    expect((await admin.get('/admin/phone-system/high-volume-sms')).status).toBe(200);
  });

  it('warns about shortened URLs and spam in the template or a line, and refuses them once the account requires clean content (audited)', async () => {
    const later = { ...campaign, startAt: '2030-02-01T10:00' };
    const warned = await upload(admin, { ...later, name: 'Links', template: 'Hi {{firstName}}, book at https://bit.ly/3xYz. Act now!' }, 'phone,firstName\n+14155553001,Ada\n+14155553002,see tinyurl.com/b');
    expect(warned.status, await warned.clone().text()).toBe(201);
    expect(((await warned.json()) as { warnings: unknown[] }).warnings).toEqual([
      { code: 'shortened_url', domain: 'bit.ly', message: expect.stringContaining('bit.ly is a URL shortener') },
      { code: 'spam_phrase', phrase: 'act now', message: expect.stringContaining('reads like spam') },
      // From a field of the list, not the template.
      { code: 'shortened_url', domain: 'tinyurl.com', message: expect.stringContaining('tinyurl.com') },
    ]);
    const clean = await upload(admin, { ...later, name: 'Clean' }, 'phone,firstName,time\n+14155553003,Ada,10:00');
    expect(((await clean.json()) as { warnings: unknown[] }).warnings).toEqual([]);

    expect(await (await admin.get('/api/sms/content-policy')).json()).toEqual({ requireCleanContent: false });
    expect((await sam.json('PUT', '/api/sms/content-policy', { requireCleanContent: true })).status).toBe(403);
    expect((await beta.get('/api/sms/content-policy')).status).toBe(200);
    const bad = await admin.json('PUT', '/api/sms/content-policy', { requireCleanContent: 'yes' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_body', fields: { requireCleanContent: expect.any(String) } });
    expect((await admin.json('PUT', '/api/sms/content-policy', { requireCleanContent: true })).status).toBe(200);
    // Another account's policy is its own.
    expect(await (await beta.get('/api/sms/content-policy')).json()).toEqual({ requireCleanContent: false });
    // The quiet hours set earlier are kept beside it.
    expect(await (await admin.get('/api/sms/quiet-hours')).json()).toMatchObject({ quietHours: { start: '20:00', end: '09:00' } });

    const before = await db.selectFrom('sms_campaigns').select('id').where('account_id', '=', accountId).execute();
    const refused = await upload(admin, { ...later, name: 'Links again', template: 'Hi {{firstName}}, see t.co/x1' }, 'phone,firstName\n+14155553001,Ada');
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'unclean_content', message: expect.stringMatching(/^the account requires clean content: t\.co is a URL shortener/), warnings: [{ code: 'shortened_url', domain: 't.co' }] });
    expect(await db.selectFrom('sms_campaigns').select('id').where('account_id', '=', accountId).execute()).toEqual(before);
    expect((await upload(admin, { ...later, name: 'Clean again' }, 'phone,firstName,time\n+14155553003,Ada,10:00')).status).toBe(201);

    const audit = await db.selectFrom('audit_events').select(['action', 'before', 'after']).where('account_id', '=', accountId).where('action', '=', 'sms_content_policy.updated').execute();
    expect(audit).toEqual([{ action: 'sms_content_policy.updated', before: { requireCleanContent: false }, after: { requireCleanContent: true } }]);
    expect((await admin.json('PUT', '/api/sms/content-policy', { requireCleanContent: false })).status).toBe(200);
  });

  it('is picked up by the workers’ scheduler, which pauses it and says why when no A2P carrier is configured', async () => {
    expect((await admin.json('PUT', '/api/sms/quiet-hours', { quietHours: null })).status).toBe(200);
    const res = await upload(admin, { ...campaign, name: 'Now' }, 'phone,firstName,time\n+14155552001,Ada,10:00');
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    let view: { status: string; statusReason: string | null } = { status: '', statusReason: null };
    const deadline = Date.now() + 60_000;
    while (view.status !== 'paused') {
      if (Date.now() > deadline) throw new Error(`the scheduler never looked at the campaign: ${JSON.stringify(view)}`);
      await new Promise((r) => setTimeout(r, 100));
      view = (await (await admin.get(`/api/sms/campaigns/${id}`)).json()) as typeof view;
    }
    expect(view).toMatchObject({ status: 'paused', statusReason: 'no A2P carrier configured for this number' });
    expect(await db.selectFrom('sms_messages').select('id').where('account_id', '=', accountId).execute()).toEqual([]);
  });
});
