import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySecret } from '@carillon/core';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createStandardUsers } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * My Extension › Settings through the API (issue 20, point 17): a user changes their own password,
 * voicemail PIN, caller ID, language, time zone and notification e-mail. Bad input gets a clear
 * error and changes nothing; every change is audited; nobody changes another user's settings.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let sam: HttpClient;
let admin: HttpClient;
let samId = '';
let tomId = '';
let samDirectId = '';
let tomDirectId = '';
let mainId = '';
const samDevices: string[] = [];
const PASSWORD = 'Meadow5Lantern';
const NEW_PASSWORD = 'Harbor8Quill!';

const signedIn = async (email: string, password: string) => {
  const c = new HttpClient(product.url);
  expect((await c.form('/login', { identifier: email, password })).status).toBe(303);
  return c;
};
const samRow = () => db.selectFrom('users').select(['language', 'time_zone', 'notification_email']).where('id', '=', samId).executeTakeFirstOrThrow();
const samCreds = () => db.selectFrom('user_credentials').select(['password_hash', 'pin_hash']).where('user_id', '=', samId).executeTakeFirstOrThrow();
const audits = async (action: string) => db.selectFrom('audit_events').select(['actor_user_id', 'target_id', 'before', 'after']).where('action', '=', action).where('target_id', '=', samId).execute();
const callerIds = async () => (await db.selectFrom('devices').select('caller_id_number_id').where('id', 'in', samDevices).execute()).map((d) => d.caller_id_number_id);

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'selfsettings');
  product = await startProduct(scratch ? { DATABASE_URL: scratch.url } : {});
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  await createStandardUsers(db, [
    { extension: '201', name: 'sam', password: PASSWORD },
    { extension: '202', name: 'tom', password: PASSWORD },
  ]);
  const users = await db.selectFrom('users').select(['id', 'email', 'extension_id', 'account_id']).execute();
  const samU = users.find((u) => u.email.startsWith('sam@'))!;
  const tomU = users.find((u) => u.email.startsWith('tom@'))!;
  samId = samU.id;
  tomId = tomU.id;
  samDirectId = (await db.insertInto('phone_numbers').values({ account_id: samU.account_id, e164: '+14155550201', type: 'direct', extension_id: samU.extension_id }).returning('id').executeTakeFirstOrThrow()).id;
  tomDirectId = (await db.insertInto('phone_numbers').values({ account_id: tomU.account_id, e164: '+14155550202', type: 'direct', extension_id: tomU.extension_id }).returning('id').executeTakeFirstOrThrow()).id;
  mainId = (await db.insertInto('phone_numbers').values({ account_id: samU.account_id, e164: '+14155550100', type: 'main' }).returning('id').executeTakeFirstOrThrow()).id;
  for (const [i, type] of (['softphone', 'desk_phone'] as const).entries()) {
    samDevices.push((await db.insertInto('devices').values({ account_id: samU.account_id, extension_id: samU.extension_id, type, name: `Sam ${type}`, sip_username: `sam-${i}-${Date.now()}` }).returning('id').executeTakeFirstOrThrow()).id);
  }
  sam = await signedIn('sam@demo.carillon.localhost', PASSWORD);
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('PATCH /api/me', () => {
  it('changes language, time zone and notification e-mail, each audited as the user themself', async () => {
    const res = await sam.json('PATCH', '/api/me', { language: 'fr', timeZone: 'Europe/Paris', notificationEmail: 'Sam.Alerts@Example.com' });
    expect(res.status).toBe(200);
    expect(await samRow()).toEqual({ language: 'fr', time_zone: 'Europe/Paris', notification_email: 'sam.alerts@example.com' });
    const [event] = await audits('user.updated');
    expect(event).toMatchObject({ actor_user_id: samId, target_id: samId });
    expect(JSON.stringify(event!.after)).toContain('Europe/Paris');
  });

  it('refuses an unknown time zone and a bad e-mail with the field named, and changes nothing', async () => {
    const before = await samRow();
    const n = (await audits('user.updated')).length;
    for (const body of [{ timeZone: 'Mars/Olympus_Mons' }, { notificationEmail: 'not an address' }, { language: 'de' }, {}]) {
      const res = await sam.json('PATCH', '/api/me', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const answer = (await res.json()) as { error: string; fields: Record<string, string> };
      expect(answer.error).toBe('invalid_body');
      expect(Object.keys(answer.fields).length).toBeGreaterThan(0);
    }
    expect(await samRow()).toEqual(before);
    expect(await audits('user.updated')).toHaveLength(n);
  });

  it("sets the caller ID of every phone of the user to one of their numbers or the company's, and refuses another user's number", async () => {
    expect((await sam.json('PATCH', '/api/me', { callerIdNumberId: mainId })).status).toBe(200);
    expect(await callerIds()).toEqual([mainId, mainId]);
    expect((await sam.json('PATCH', '/api/me', { callerIdNumberId: samDirectId })).status).toBe(200);
    expect(await callerIds()).toEqual([samDirectId, samDirectId]);
    const n = (await audits('user.updated')).length;
    const refused = await sam.json('PATCH', '/api/me', { callerIdNumberId: tomDirectId });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { fields: Record<string, string> }).fields).toHaveProperty('callerIdNumberId');
    expect(await callerIds()).toEqual([samDirectId, samDirectId]);
    expect(await audits('user.updated')).toHaveLength(n);
  });

  it("only ever changes the signed-in user: another user's id in the body is refused", async () => {
    const res = await sam.json('PATCH', '/api/me', { id: tomId, language: 'en' });
    expect(res.status).toBe(400);
    expect((await db.selectFrom('users').select('language').where('id', '=', tomId).executeTakeFirstOrThrow()).language).toBeNull();
    // The admin route of another user's settings stays closed to a standard user.
    expect((await sam.json('PATCH', `/api/users/${tomId}`, { language: 'fr' })).status).toBe(403);
  });
});

describe('PUT /api/me/voicemail-pin', () => {
  it('refuses trivial or malformed PINs, and stores a good one hashed', async () => {
    const before = (await samCreds()).pin_hash;
    for (const [pin, rule] of [['1111', 'noRuns'], ['123456', 'noRuns'], ['12ab56', 'digitsOnly'], ['4829', 'length'], ['48291573019', 'length']] as const) {
      const res = await sam.json('PUT', '/api/me/voicemail-pin', { pin, pinConfirm: pin });
      expect(res.status, pin).toBe(400);
      expect(((await res.json()) as { rules: string[] }).rules, pin).toContain(rule);
    }
    const mismatch = await sam.json('PUT', '/api/me/voicemail-pin', { pin: '482915', pinConfirm: '482916' });
    expect(((await mismatch.json()) as { rules: string[] }).rules).toEqual(['mismatch']);
    expect((await samCreds()).pin_hash).toBe(before);
    expect(await audits('user.voicemail_pin_changed')).toHaveLength(0);

    expect((await sam.json('PUT', '/api/me/voicemail-pin', { pin: '590372', pinConfirm: '590372' })).status).toBe(200);
    const stored = (await samCreds()).pin_hash;
    expect(stored).not.toContain('590372');
    expect(await verifySecret(stored, '590372')).toBe(true);
    const [event] = await audits('user.voicemail_pin_changed');
    expect(event).toMatchObject({ actor_user_id: samId, before: null, after: { via: 'web' } });
  });
});

describe('POST /api/me/password', () => {
  it('refuses a wrong current password and a new one that breaks the rules, changing nothing', async () => {
    const before = (await samCreds()).password_hash;
    const wrong = await sam.json('POST', '/api/me/password', { currentPassword: 'Wrong9Guess', newPassword: NEW_PASSWORD, newPasswordConfirm: NEW_PASSWORD });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toEqual({ error: 'wrong_password' });
    const weak = await sam.json('POST', '/api/me/password', { currentPassword: PASSWORD, newPassword: 'sam12345', newPasswordConfirm: 'sam12345' });
    expect(weak.status).toBe(400);
    expect(((await weak.json()) as { rules: string[] }).rules).toEqual(expect.arrayContaining(['noRuns', 'noAccountInfo']));
    expect((await samCreds()).password_hash).toBe(before);
    expect(await audits('user.password_changed')).toHaveLength(0);
  });

  it('changes the password, keeps this session and signs out the others; the old password no longer works', async () => {
    const other = await signedIn('sam@demo.carillon.localhost', PASSWORD);
    expect((await other.get('/api/me')).status).toBe(200);
    const res = await sam.json('POST', '/api/me/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD, newPasswordConfirm: NEW_PASSWORD });
    expect(res.status).toBe(200);
    expect((await sam.get('/api/me')).status).toBe(200);
    expect((await other.get('/api/me')).status).toBe(401);
    const old = new HttpClient(product.url);
    await old.form('/login', { identifier: 'sam@demo.carillon.localhost', password: PASSWORD });
    expect((await old.get('/api/me')).status).toBe(401);
    await signedIn('sam@demo.carillon.localhost', NEW_PASSWORD);
    const [event] = await audits('user.password_changed');
    expect(event).toMatchObject({ actor_user_id: samId, before: null, after: null });
  });
});

describe('API tokens', () => {
  it('cannot change a password or a PIN: those routes take a signed-in session only', async () => {
    const role = await db.selectFrom('roles').select('id').where('key', '=', 'super_admin').executeTakeFirstOrThrow();
    const issued = await admin.json('POST', '/api/api-tokens', { name: 'CI', roleId: role.id });
    expect(issued.status).toBe(201);
    const { secret } = (await issued.json()) as { secret: string };
    const bearer = (method: string, path: string, body: unknown) =>
      fetch(product.url + path, { method, headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await bearer('POST', '/api/me/password', { currentPassword: 'x', newPassword: NEW_PASSWORD, newPasswordConfirm: NEW_PASSWORD })).status).toBe(403);
    expect((await bearer('PUT', '/api/me/voicemail-pin', { pin: '590372', pinConfirm: '590372' })).status).toBe(403);
  });
});
