import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '@carillon/core';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { startSmtpReceiver } from '../../workers/test/support.ts';

/**
 * The Add Users wizard's API (issue 5, deliverable 2; seed 000 "Ajout
 * d'utilisateurs avec des appareils"): POST /api/users/batch with its limits
 * and row-by-row answers, the e-mail queue carrying invitations and password
 * resets to a real SMTP receiver, and the bulk Send invite / Set credentials.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
let db: Db;
let admin: HttpClient;
let accountId = '';
let mainSiteId = '';
let parisSiteId = '';
const inventory: Record<string, string> = {};
let deskPhoneId = '';
let foreignNumberId = '';
let foreignDeviceId = '';
const GOOD = { password: 'Quartz8Pelican!', pin: '739164', answer: 'Marmalade' };
const credentials = { password: GOOD.password, passwordConfirm: GOOD.password, pin: GOOD.pin, pinConfirm: GOOD.pin, securityQuestion: 'first_pet', securityAnswer: GOOD.answer };
const address = { name: 'HQ', country: 'FR', street: '1 rue de la Paix', city: 'Paris', state: 'IDF', postalCode: '75002', acceptTerms: true };

interface Outcome {
  created: { row: number; userId: string; email: string; extension: string; fullExtension: string; number: string | null; invited: boolean; sipCredentials?: { username: string; password: string } }[];
  errors: { row: number; field: string; reason: string }[];
}

const batch = async (body: Record<string, unknown>) => {
  const res = await admin.json('POST', '/api/users/batch', { userType: 'office', onboarding: 'later', ...body });
  return { status: res.status, body: (await res.json()) as Outcome & { error?: string; fields?: Record<string, string> } };
};
const userCount = async () => Number((await db.selectFrom('users').select((eb) => eb.fn.countAll<string>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow()).n);
const mailTo = (to: string) => smtp.received.filter((m) => m.to.includes(to));
async function until<T>(read: () => T | Promise<T>, ok: (v: T) => boolean, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
const linkIn = (raw: string, kind: 'activate' | 'reset-password') => raw.replace(/=\r?\n/g, '').match(new RegExp(`http://\\S+/${kind}/[A-Za-z0-9_-]+`))![0];

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'addusers');
  smtp = await startSmtpReceiver();
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), SMTP_URL: smtp.url });
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  const me = (await (await admin.get('/api/me')).json()) as { accountId: string; siteId: string };
  accountId = me.accountId;
  mainSiteId = me.siteId;
  parisSiteId = (await db.insertInto('sites').values({ account_id: accountId, name: 'Paris', site_code: '33' }).returning('id').executeTakeFirstOrThrow()).id;
  // Paris 102 is dialled 33102 from everywhere.
  await db.insertInto('extensions').values({ account_id: accountId, site_id: parisSiteId, number: '102', type: 'user', status: 'unassigned' }).execute();
  for (const [key, e164] of [['a', '+33140000001'], ['b', '+33140000002'], ['c', '+33140000003']] as const) {
    inventory[key] = (await db.insertInto('phone_numbers').values({ account_id: accountId, e164, type: 'direct' }).returning('id').executeTakeFirstOrThrow()).id;
  }
  deskPhoneId = (await db.insertInto('devices').values({ account_id: accountId, type: 'desk_phone', name: 'Yealink T46S', mac: '001565AABBCC', sip_username: '7000000001' }).returning('id').executeTakeFirstOrThrow()).id;

  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  const other = new HttpClient(product.url);
  expect((await activate(other, created.link)).status).toBe(303);
  const otherAccount = ((await (await other.get('/api/me')).json()) as { accountId: string }).accountId;
  foreignNumberId = (await db.insertInto('phone_numbers').values({ account_id: otherAccount, e164: '+33140000099', type: 'direct' }).returning('id').executeTakeFirstOrThrow()).id;
  foreignDeviceId = (await db.insertInto('devices').values({ account_id: otherAccount, type: 'desk_phone', name: 'Beta phone', sip_username: '7000000002' }).returning('id').executeTakeFirstOrThrow()).id;
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await smtp?.stop();
  await scratch?.drop();
});

describe('POST /api/users/batch', () => {
  it('refuses 26 rows with a clear message and creates nothing', async () => {
    const before = await userCount();
    const rows = Array.from({ length: 26 }, (_, i) => ({ email: `many${i}@acme.example`, firstName: `Many${i}` }));
    const res = await batch({ rows });
    expect(res.status).toBe(400);
    expect(res.body.fields).toEqual({ rows: 'at most 25 users per batch' });
    expect(await userCount()).toBe(before);
    // 25 is the limit, not beyond it.
    expect((await batch({ rows: rows.slice(0, 25), userType: 'free' })).status).toBe(200);
    expect(await userCount()).toBe(before + 25);
  });

  it('creates the good rows, answers the bad one with row, field and reason, and audits each user', async () => {
    const res = await batch({
      rows: [
        { email: 'ana@acme.example', firstName: 'Ana', lastName: 'Lima', numberId: inventory.a },
        { email: 'not-an-email', firstName: 'Bad', lastName: 'Row' },
        { email: 'carl@acme.example', firstName: 'Carl', lastName: 'Nagel', siteId: parisSiteId },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ row: 2, field: 'email', reason: 'invalid_email' }]);
    expect(res.body.created.map((c) => [c.row, c.email, c.number])).toEqual([
      [1, 'ana@acme.example', '+33140000001'],
      [3, 'carl@acme.example', null],
    ]);
    const [ana, carl] = res.body.created;
    // Generated extensions: the next free one of each site; Paris's 102 is taken, so Carl gets 33101.
    expect(carl!.fullExtension).toBe('33101');
    const anaExt = await db.selectFrom('users').innerJoin('extensions', 'extensions.id', 'users.extension_id').select(['extensions.id', 'extensions.number', 'extensions.status', 'extensions.site_id', 'users.role_id']).where('users.id', '=', ana!.userId).executeTakeFirstOrThrow();
    expect(anaExt.number).toBe(ana!.extension);
    expect(anaExt.status).toBe('not_activated');
    // No site chosen: the main site.
    expect(anaExt.site_id).toBe(mainSiteId);
    const number = await db.selectFrom('phone_numbers').select('extension_id').where('id', '=', inventory.a!).executeTakeFirstOrThrow();
    expect(number.extension_id).toBe(anaExt.id);
    // The account's default role (Standard (International) unless changed).
    const role = await db.selectFrom('roles').select('key').where('id', '=', anaExt.role_id).executeTakeFirstOrThrow();
    expect(role.key).toBe('standard_international');
    expect(await db.selectFrom('users').select('id').where('email', '=', 'not-an-email').executeTakeFirst()).toBeUndefined();

    const audit = (await (await admin.get('/api/audit-events?action=user.created')).json()) as { targetId: string; after: unknown }[];
    const targets = audit.map((e) => e.targetId);
    expect(targets).toContain(ana!.userId);
    expect(targets).toContain(carl!.userId);
    const anaEvent = audit.find((e) => e.targetId === ana!.userId)!;
    const after = (typeof anaEvent.after === 'string' ? JSON.parse(anaEvent.after) : anaEvent.after) as Record<string, unknown>;
    expect(after).toMatchObject({ email: 'ana@acme.example', number: '+33140000001', device: 'softphone', onboarding: 'later' });
    const csv = await (await admin.get('/api/audit-events/export?action=user.created')).text();
    expect(csv).toContain(ana!.userId);
  });

  it('refuses a duplicate e-mail (in the batch and already used) and conflicting extensions', async () => {
    const res = await batch({
      rows: [
        { email: 'dup@acme.example', firstName: 'One', extension: '250' },
        { email: 'DUP@acme.example', firstName: 'Two' },
        { email: 'admin@demo.carillon.localhost', firstName: 'Taken' },
        { email: 'three@acme.example', firstName: 'Three', extension: '250' },
        { email: 'four@acme.example', firstName: 'Four', extension: '33102' },
        { email: 'five@acme.example', firstName: 'Five', extension: '2055', siteId: parisSiteId },
        { email: 'six@acme.example', firstName: 'Six', extension: '101', siteId: parisSiteId },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      { row: 2, field: 'email', reason: 'duplicate_of_row_1' },
      { row: 3, field: 'email', reason: 'email_taken' },
      { row: 4, field: 'extension', reason: 'duplicate_of_row_1' },
      // The main site has no code, so 33102 would be dialled like Paris's 102.
      { row: 5, field: 'extension', reason: 'extension_taken' },
      // 33 + 2055: more than 5 digits.
      { row: 6, field: 'extension', reason: 'too_long' },
      { row: 7, field: 'extension', reason: 'extension_taken' },
    ]);
    expect(res.body.created.map((c) => [c.email, c.fullExtension])).toEqual([['dup@acme.example', '250']]);
    // Typed now against what exists: 250 is taken.
    const again = await batch({ rows: [{ email: 'seven@acme.example', firstName: 'Seven', extension: '250' }] });
    expect(again.body.errors).toEqual([{ row: 1, field: 'extension', reason: 'extension_taken' }]);
  });

  it("refuses another account's number and phone, and numbers or phones already assigned", async () => {
    const res = await batch({
      rows: [
        { email: 'n1@acme.example', firstName: 'N1', numberId: foreignNumberId },
        { email: 'n2@acme.example', firstName: 'N2', device: { kind: 'inventory', deviceId: foreignDeviceId } },
        { email: 'n3@acme.example', firstName: 'N3', numberId: inventory.a },
        { email: 'n4@acme.example', firstName: 'N4', numberId: inventory.b, device: { kind: 'inventory', deviceId: deskPhoneId } },
        { email: 'n5@acme.example', firstName: 'N5', numberId: inventory.b },
        { email: 'n6@acme.example', firstName: 'N6', device: { kind: 'byod', name: 'My Grandstream', mac: '00:0b:82:11:22:33' } },
      ],
    });
    expect(res.body.errors).toEqual([
      { row: 1, field: 'numberId', reason: 'not_found' },
      { row: 2, field: 'device.deviceId', reason: 'not_found' },
      { row: 3, field: 'numberId', reason: 'in_use' },
      { row: 5, field: 'numberId', reason: 'duplicate_of_row_4' },
    ]);
    expect(res.body.created.map((c) => c.email)).toEqual(['n4@acme.example', 'n6@acme.example']);
    const n4 = res.body.created[0]!;
    const phone = await db.selectFrom('devices').innerJoin('users', 'users.extension_id', 'devices.extension_id').select('users.id').where('devices.id', '=', deskPhoneId).executeTakeFirstOrThrow();
    expect(phone.id).toBe(n4.userId);
    expect(await db.selectFrom('phone_numbers').select('account_id').where('id', '=', foreignNumberId).where('extension_id', 'is', null).executeTakeFirst()).toBeDefined();
    // Bring your own device: SIP credentials issued once, stored as HA1 only.
    const byod = res.body.created[1]!;
    expect(byod.sipCredentials?.username).toMatch(/^[0-9]{10}$/);
    const dev = await db.selectFrom('devices').select(['type', 'mac', 'sip_ha1_md5']).where('sip_username', '=', byod.sipCredentials!.username).executeTakeFirstOrThrow();
    expect(dev).toMatchObject({ type: 'byod', mac: '000B82112233' });
    expect(dev.sip_ha1_md5).not.toContain(byod.sipCredentials!.password);
  });

  it("answers a MAC taken in another account as one taken here, naming no account", async () => {
    await db.updateTable('devices').set({ mac: '0004F2AABB01' }).where('id', '=', foreignDeviceId).execute();
    const before = await userCount();
    const res = await batch({
      rows: [
        { email: 'mac1@acme.example', firstName: 'Mac1', device: { kind: 'byod', name: 'Theirs', mac: '00:04:f2:aa:bb:01' } },
        { email: 'mac2@acme.example', firstName: 'Mac2', device: { kind: 'byod', name: 'Ours', mac: '00:15:65:aa:bb:cc' } },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      { row: 1, field: 'device.mac', reason: 'mac_unavailable' },
      { row: 2, field: 'device.mac', reason: 'mac_unavailable' },
    ]);
    expect(JSON.stringify(res.body)).not.toMatch(/Beta|another account/i);
    expect(await userCount()).toBe(before);
    // E-mail logins are one per address across accounts: an address signing in here or in another account gets the same answer.
    const emails = await batch({ rows: [{ email: 'admin@demo.carillon.localhost', firstName: 'Ours' }, { email: 'boss@beta.example', firstName: 'Theirs' }] });
    expect(emails.body.errors).toEqual([
      { row: 1, field: 'email', reason: 'email_taken' },
      { row: 2, field: 'email', reason: 'email_taken' },
    ]);
  });

  it("refuses to create users when the account's default role has rights the admin lacks, and creates none", async () => {
    const role = async (key: string) => (await db.selectFrom('roles').select('id').where('key', '=', key).executeTakeFirstOrThrow()).id;
    const ext = await db.insertInto('extensions').values({ account_id: accountId, site_id: mainSiteId, number: '290', type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
    const uma = await db.insertInto('users').values({ account_id: accountId, extension_id: ext.id, role_id: await role('user_admin'), first_name: 'Uma', last_name: 'Admin', email: 'uma.admin@acme.example', setup_progress: JSON.stringify({}) }).returning('id').executeTakeFirstOrThrow();
    await db.insertInto('user_credentials').values({ user_id: uma.id, password_hash: await hashSecret('Meadow5Lantern') }).execute();
    const client = new HttpClient(product.url);
    expect((await client.form('/login', { identifier: 'uma.admin@acme.example', password: 'Meadow5Lantern' })).status).toBe(303);
    await db.updateTable('accounts').set({ default_role_id: await role('billing_admin') }).where('id', '=', accountId).execute();
    try {
      const before = await userCount();
      const res = await client.json('POST', '/api/users/batch', { userType: 'free', onboarding: 'later', rows: [{ email: 'promoted1@acme.example', firstName: 'P1' }, { email: 'promoted2@acme.example', firstName: 'P2' }] });
      expect(res.status).toBe(422);
      expect(((await res.json()) as Outcome).errors).toEqual([
        { row: 1, field: 'role', reason: 'permission_not_held' },
        { row: 2, field: 'role', reason: 'permission_not_held' },
      ]);
      expect(await userCount()).toBe(before);
      // A role the User Admin holds every right of is theirs to give.
      await db.updateTable('accounts').set({ default_role_id: await role('standard') }).where('id', '=', accountId).execute();
      const ok = await client.json('POST', '/api/users/batch', { userType: 'free', onboarding: 'later', rows: [{ email: 'plain1@acme.example', firstName: 'Plain' }] });
      expect(ok.status).toBe(200);
    } finally {
      await db.updateTable('accounts').set({ default_role_id: null }).where('id', '=', accountId).execute();
    }
  });

  it('free users have neither phone nor number', async () => {
    const res = await batch({ userType: 'free', rows: [{ email: 'free1@acme.example', firstName: 'Free', numberId: inventory.c }, { email: 'free2@acme.example', firstName: 'Free2' }] });
    expect(res.body.errors).toEqual([{ row: 1, field: 'numberId', reason: 'not_for_free_users' }]);
    const free2 = res.body.created[0]!;
    expect(await db.selectFrom('devices').innerJoin('users', 'users.extension_id', 'devices.extension_id').select('devices.id').where('users.id', '=', free2.userId).execute()).toEqual([]);
  });

  it('applies the emergency-address rule and the password rules when credentials are set now', async () => {
    const res = await batch({
      onboarding: 'credentials',
      credentials,
      rows: [
        { email: 'e1@acme.example', firstName: 'Eve', lastName: 'Noaddress' },
        { email: 'e2@acme.example', firstName: 'Emma', lastName: 'Located', emergencyAddress: address },
        { email: 'e3@acme.example', firstName: 'Quartz', lastName: 'Named', emergencyAddress: address },
      ],
    });
    expect(res.body.errors).toEqual([
      { row: 1, field: 'emergencyAddress', reason: 'missing_emergency_address' },
      // The password holds this user's first name.
      { row: 3, field: 'credentials.password', reason: 'noAccountInfo' },
    ]);
    const emma = res.body.created[0]!;
    const row = await db.selectFrom('users').innerJoin('extensions', 'extensions.id', 'users.extension_id').innerJoin('user_credentials', 'user_credentials.user_id', 'users.id').select(['extensions.status', 'user_credentials.password_hash']).where('users.id', '=', emma.userId).executeTakeFirstOrThrow();
    expect(row.status).toBe('activated');
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(await db.selectFrom('emergency_addresses').select('city').where('user_id', '=', emma.userId).executeTakeFirstOrThrow()).toEqual({ city: 'Paris' });
    // "Missing emergency address → Yes": created, and asked for the address at first sign-in.
    const skipped = await batch({ onboarding: 'credentials', credentials, continueWithoutEmergencyAddress: true, rows: [{ email: 'e1@acme.example', firstName: 'Eve', lastName: 'Noaddress' }] });
    expect(skipped.status).toBe(200);
    const eve = await db.selectFrom('users').select('setup_progress').where('id', '=', skipped.body.created[0]!.userId).executeTakeFirstOrThrow();
    expect(eve.setup_progress).toMatchObject({ emergencyAddressRequired: true });
    // At first sign-in, Eve is sent to enter it before anything else; refused without the terms, then saved.
    const eveClient = new HttpClient(product.url);
    await eveClient.form('/login', { identifier: 'e1@acme.example', password: GOOD.password });
    const blocked = await eveClient.request('GET', '/me', undefined, { accept: 'text/html' });
    expect(blocked.status).toBe(303);
    expect(blocked.headers.get('location')).toBe('/me/emergency-address');
    const form = { name: 'Home', country: 'FR', street: '2 rue du Bac', city: 'Paris', state: 'IDF', postalCode: '75007' };
    expect((await eveClient.form('/me/emergency-address', form)).status).toBe(400);
    const saved = await eveClient.form('/me/emergency-address', { ...form, acceptTerms: 'on' });
    expect(saved.status).toBe(303);
    expect((await eveClient.request('GET', '/me', undefined, { accept: 'text/html' })).status).toBe(200);
    expect(await db.selectFrom('emergency_addresses').select('street').where('user_id', '=', skipped.body.created[0]!.userId).executeTakeFirstOrThrow()).toEqual({ street: '2 rue du Bac' });
    // No welcome e-mail for credentials set by the admin.
    await sleep(500);
    expect(mailTo('e2@acme.example')).toEqual([]);
    // The new user signs in with them.
    const emmaClient = new HttpClient(product.url);
    const signIn = await emmaClient.form('/login', { identifier: 'e2@acme.example', password: GOOD.password });
    expect([200, 303]).toContain(signIn.status);
    expect(((await (await emmaClient.get('/api/me')).json()) as { id: string }).id).toBe(emma.userId);
  });
});

describe('invitations and password resets through the e-mail queue', () => {
  it('sends the invitation through a greylisting SMTP server, and its link activates the user', async () => {
    const attempts = smtp.attempts.length;
    smtp.refuse((n) => n === attempts + 1);
    const res = await batch({ onboarding: 'invite', rows: [{ email: 'ivy@acme.example', firstName: 'Ivy', lastName: 'Invited' }] });
    // The answer does not wait for the mail server.
    expect(res.status).toBe(200);
    expect(res.body.created[0]!.invited).toBe(true);
    const [mail] = await until(() => mailTo('ivy@acme.example'), (m) => m.length === 1, 30_000, 'the invitation');
    smtp.refuse(() => false);
    expect(smtp.attempts.length).toBeGreaterThanOrEqual(attempts + 2);
    expect(mail!.raw).toMatch(/^Subject: .* invites you to its Carillon phone system/m);
    const ivy = new HttpClient(product.url);
    const activated = await activate(ivy, linkIn(mail!.raw, 'activate'), { password: 'Walnut6Comet!', pin: '581937', answer: 'Biscuit the dog' });
    expect(activated.status).toBe(303);
    // A standard user lands in their own portal, not in the company's quick setup.
    expect(activated.headers.get('location')).toBe('/');
    expect((await ivy.get('/')).headers.get('location')).toBe('/me');
    const status = await db.selectFrom('users').innerJoin('extensions', 'extensions.id', 'users.extension_id').select('extensions.status').where('users.id', '=', res.body.created[0]!.userId).executeTakeFirstOrThrow();
    expect(status.status).toBe('activated');
    const invited = (await (await admin.get('/api/audit-events?action=user.invited')).json()) as { targetId: string }[];
    expect(invited.map((e) => e.targetId)).toContain(res.body.created[0]!.userId);
  });

  it('an invitation needs unique e-mail addresses', async () => {
    const res = await batch({ onboarding: 'invite', requireUniqueEmail: false, rows: [{ email: 'x@acme.example', firstName: 'X' }] });
    expect(res.status).toBe(400);
    expect(res.body.fields).toHaveProperty('requireUniqueEmail');
  });

  it('sends the password-reset link through the queue', async () => {
    const res = await new HttpClient(product.url).form('/forgot-password?/email', { identifier: 'admin@demo.carillon.localhost' });
    expect(res.status).toBe(200);
    const [mail] = await until(() => mailTo('admin@demo.carillon.localhost').filter((m) => m.raw.includes('/reset-password/')), (m) => m.length === 1, 30_000, 'the reset e-mail');
    expect(linkIn(mail!.raw, 'reset-password')).toMatch(/\/reset-password\//);
  });
});

describe('bulk Send invite and Set credentials', () => {
  it('invites users waiting for activation and refuses those already active', async () => {
    const later = await batch({ rows: [{ email: 'lena@acme.example', firstName: 'Lena' }] });
    const lena = later.body.created[0]!.userId;
    const active = await db.selectFrom('users').select('id').where('email', '=', 'e2@acme.example').executeTakeFirstOrThrow();
    const res = await admin.json('POST', '/api/users/bulk', { action: 'send_invite', userIds: [lena, active.id] });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { results: unknown[] }).results).toEqual([
      { userId: lena, result: 'changed' },
      { userId: active.id, result: 'refused', reason: 'already_activated' },
    ]);
    await until(() => mailTo('lena@acme.example'), (m) => m.length === 1, 30_000, "Lena's invitation");
  });

  it('sets a password checked against each user, never stored or audited in clear', async () => {
    const later = await batch({ rows: [{ email: 'max@acme.example', firstName: 'Max' }, { email: 'walnut@acme.example', firstName: 'Walnut' }] });
    const [max, walnut] = later.body.created.map((c) => c.userId);
    const weak = await admin.json('POST', '/api/users/bulk', { action: 'set_credentials', userIds: [max], password: 'short', passwordConfirm: 'short' });
    const weakBody = (await weak.json()) as { results: { result: string; reason?: string; rules?: string[] }[] };
    expect(weakBody.results[0]).toMatchObject({ result: 'refused', reason: 'password_rules' });
    expect(weakBody.results[0]!.rules).toContain('length');
    const pw = 'Walnut6Comet!';
    const res = await admin.json('POST', '/api/users/bulk', { action: 'set_credentials', userIds: [max, walnut], password: pw, passwordConfirm: pw });
    expect(((await res.json()) as { results: unknown[] }).results).toEqual([
      { userId: max, result: 'changed' },
      // Walnut's own name is in the password.
      { userId: walnut, result: 'refused', reason: 'password_rules', rules: ['noAccountInfo'] },
    ]);
    const status = await db.selectFrom('users').innerJoin('extensions', 'extensions.id', 'users.extension_id').select('extensions.status').where('users.id', '=', max!).executeTakeFirstOrThrow();
    expect(status.status).toBe('activated');
    const events = await db.selectFrom('audit_events').select(['before', 'after']).where('action', '=', 'user.credentials_set').where('target_id', '=', max!).execute();
    expect(events).toHaveLength(1);
    expect(JSON.stringify(events)).not.toContain(pw);
    expect(product.output()).not.toContain(pw);
    const maxClient = new HttpClient(product.url);
    await maxClient.form('/login', { identifier: 'max@acme.example', password: pw });
    expect(((await (await maxClient.get('/api/me')).json()) as { id: string }).id).toBe(max);
  });
});
