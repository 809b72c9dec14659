import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * User details and settings through the product (issue 5, "User details and
 * settings"): PATCH /api/users/[id] section by section, bad input refused
 * with the field named and nothing changed, the role rules, and Reset & Assign
 * (only on a deactivated extension).
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let admin: HttpClient;
let accountId = '';
let adminId = '';
let samId = '';
let samExt = '';
let directId = '';
let companyNumberId = '';
let deviceId = '';

interface Details {
  firstName: string; lastName: string; email: string; department: string | null; jobTitle: string | null; contactPhone: string | null;
  status: string; roleId: string; roleKey: string;
  regional: { timeZone: string; language: string; timeFormat: string };
  userHours: unknown; notifications: Record<string, Record<string, boolean>>; callHandling: unknown;
  callerId: { byFeature: Record<string, string>; byPhone: Record<string, string | null> };
  primaryNumberId: string | null; numbers: { id: string; e164: string }[]; phones: { id: string }[];
}
const get = async (id = samId) => (await (await admin.get(`/api/users/${id}`)).json()) as Details;
const patch = (body: unknown, id = samId) => admin.json('PATCH', `/api/users/${id}`, body);
const auditCount = async () => Number((await db.selectFrom('audit_events').select((eb) => eb.fn.countAll<string>().as('n')).where('account_id', '=', accountId).where('target_id', '=', samId).executeTakeFirstOrThrow()).n);

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'usersettings');
  product = await startProduct(scratch ? { DATABASE_URL: scratch.url } : {});
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  const me = (await (await admin.get('/api/me')).json()) as { id: string; accountId: string; siteId: string };
  adminId = me.id;
  accountId = me.accountId;
  const role = await db.selectFrom('roles').select('id').where('key', '=', 'standard').executeTakeFirstOrThrow();
  const ext = await db.insertInto('extensions').values({ account_id: accountId, site_id: me.siteId, number: '205', type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  samExt = ext.id;
  samId = (await db.insertInto('users').values({ account_id: accountId, extension_id: ext.id, role_id: role.id, first_name: 'Sam', last_name: 'Stone', email: 'sam@acme.example', setup_progress: JSON.stringify({}) }).returning('id').executeTakeFirstOrThrow()).id;
  await db.insertInto('user_credentials').values({ user_id: samId, password_hash: 'x' }).execute();
  directId = (await db.insertInto('phone_numbers').values({ account_id: accountId, e164: '+14155550142', type: 'direct', extension_id: ext.id }).returning('id').executeTakeFirstOrThrow()).id;
  companyNumberId = (await db.insertInto('phone_numbers').values({ account_id: accountId, e164: '+14155550100', type: 'additional_company' }).returning('id').executeTakeFirstOrThrow()).id;
  deviceId = (await db.insertInto('devices').values({ account_id: accountId, extension_id: ext.id, type: 'softphone', name: 'Softphone', sip_username: `sam-${Date.now()}` }).returning('id').executeTakeFirstOrThrow()).id;
  await db.insertInto('contacts').values({ account_id: accountId, owner_user_id: samId, first_name: 'Private', phone: '+15550001' }).execute();
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('PATCH /api/users/[id]', () => {
  it('saves each section and records one audit event per change', async () => {
    const before = await get();
    expect(before.regional).toMatchObject({ language: 'en' });
    expect(before.userHours).toEqual({ mode: '24h' });
    expect(before.notifications.voicemail).toEqual({ email: true, attachment: false, markRead: false });
    const audits = await auditCount();

    const steps: [unknown, (d: Details) => void][] = [
      [{ firstName: 'Samuel', lastName: 'Stone', email: 'Samuel@Acme.example', department: 'Sales', jobTitle: 'Account manager', contactPhone: '+1 303 968 8766' }, (d) => expect(d).toMatchObject({ firstName: 'Samuel', email: 'samuel@acme.example', department: 'Sales', jobTitle: 'Account manager', contactPhone: '+1 303 968 8766' })],
      [{ regional: { timeZone: 'Europe/Paris', language: 'fr', timeFormat: '24h' } }, (d) => expect(d.regional).toEqual({ timeZone: 'Europe/Paris', language: 'fr', timeFormat: '24h' })],
      [{ userHours: { mode: 'custom', days: { mon: [{ from: '09:00', to: '12:00' }, { from: '13:00', to: '17:00' }], fri: [{ from: '09:00', to: '15:00' }] } } }, (d) => expect(d.userHours).toEqual({ mode: 'custom', days: { mon: [{ from: '09:00', to: '12:00' }, { from: '13:00', to: '17:00' }], tue: [], wed: [], thu: [], fri: [{ from: '09:00', to: '15:00' }], sat: [], sun: [] } })],
      [{ primaryNumberId: directId }, (d) => expect(d.primaryNumberId).toBe(directId)],
      [{ callerId: { byFeature: { ringout_web: companyNumberId, fax_number: 'blocked' }, byPhone: { [deviceId]: directId } } }, (d) => expect(d.callerId).toEqual({ byFeature: { ringout_web: companyNumberId, fax_number: 'blocked' }, byPhone: { [deviceId]: directId } })],
      [{ notifications: { voicemail: { email: true, attachment: true, markRead: true }, fax: { email: false, attachment: false, markRead: false }, missedCalls: { email: true }, faxResults: { email: false }, textMessages: { email: false } } }, (d) => expect(d.notifications.missedCalls).toEqual({ email: true })],
      [{ callHandling: { ringMode: 'simultaneous', notifyApps: false, waitRings: 3 } }, (d) => expect(d.callHandling).toEqual({ ringMode: 'simultaneous', notifyApps: false, waitRings: 3 })],
    ];
    for (const [body, check] of steps) {
      const res = await patch(body);
      expect(res.status, JSON.stringify(body)).toBe(200);
      check((await res.json()) as Details);
      check(await get());
    }
    const manager = await db.selectFrom('roles').select('id').where('key', '=', 'manager').executeTakeFirstOrThrow();
    expect((await patch({ roleId: manager.id })).status).toBe(200);
    expect((await get()).roleKey).toBe('manager');
    expect(await auditCount()).toBe(audits + steps.length + 1);
    const last = await db.selectFrom('audit_events').select(['action', 'actor_user_id', 'before', 'after']).where('target_id', '=', samId).orderBy('occurred_at', 'desc').executeTakeFirstOrThrow();
    expect(last).toMatchObject({ action: 'user.updated', actor_user_id: adminId, before: { sections: ['role'] }, after: { sections: ['role'], roleId: manager.id } });
  });

  it('refuses bad input with a 400 naming the field, and changes nothing', async () => {
    const before = await get();
    const audits = await auditCount();
    const bad = async (body: unknown, field: string) => {
      const res = await patch(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const b = (await res.json()) as { error: string; fields: Record<string, string> };
      expect(b.error).toBe('invalid_body');
      expect(Object.keys(b.fields), JSON.stringify(b.fields)).toContain(field);
      return b.fields[field];
    };
    await bad({ firstName: '' }, 'firstName');
    await bad({ email: 'not-an-email' }, 'email');
    await bad({ contactPhone: 'call me' }, 'contactPhone');
    await bad({ regional: { timeZone: 'Mars/Olympus', language: 'en', timeFormat: '12h' } }, 'regional.timeZone');
    await bad({ regional: { timeZone: 'Europe/Paris', language: 'de', timeFormat: '12h' } }, 'regional.language');
    expect(await bad({ userHours: { mode: 'custom', days: { mon: [{ from: '17:00', to: '09:00' }] } } }, 'userHours.days.mon.0.to')).toMatch(/end after/);
    expect(await bad({ userHours: { mode: 'custom', days: { mon: [{ from: '09:00', to: '13:00' }, { from: '12:00', to: '17:00' }] } } }, 'userHours.days.mon.1.from')).toMatch(/overlap/);
    await bad({ userHours: { mode: 'custom', days: { mon: [{ from: '9h', to: '17:00' }] } } }, 'userHours.days.mon.0.from');
    await bad({ notifications: { voicemail: { email: 'yes' } } }, 'notifications.voicemail.email');
    await bad({ callHandling: { ringMode: 'sequential', notifyApps: true, waitRings: 99 } }, 'callHandling.waitRings');
    expect(await bad({ callerId: { byFeature: { teleport: companyNumberId } } }, 'callerId.byFeature')).toMatch(/teleport/);
    await bad({ callerId: { byFeature: { ringout_web: '00000000-0000-4000-8000-000000000000' } } }, 'callerId.byFeature.ringout_web');
    await bad({ callerId: { byPhone: { '00000000-0000-4000-8000-000000000000': directId } } }, 'callerId.byPhone.00000000-0000-4000-8000-000000000000');
    // A company number is not one of the user's direct numbers.
    await bad({ primaryNumberId: companyNumberId }, 'primaryNumberId');
    await bad({ roleId: '00000000-0000-4000-8000-000000000000' }, 'roleId');
    await bad({ unknownField: 1 }, 'unknownField');
    expect((await admin.request('PATCH', `/api/users/${samId}`, '{broken')).status).toBe(400);
    expect(await get()).toEqual(before);
    expect(await auditCount()).toBe(audits);
  });

  it('keeps e-mails unique and refuses to take away the last Super Admin or your own role', async () => {
    const res = await patch({ email: 'admin@demo.carillon.localhost' });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ error: 'email_taken' });
    const standard = await db.selectFrom('roles').select('id').where('key', '=', 'standard').executeTakeFirstOrThrow();
    const self = await patch({ roleId: standard.id }, adminId);
    expect(self.status).toBe(403);
    expect(await self.json()).toEqual({ error: 'self_role' });
    expect((await get(adminId)).roleKey).toBe('super_admin');
  });
});

describe('Reset & Assign', () => {
  const newcomer = { firstName: 'Nina', lastName: 'North', email: 'nina@acme.example', department: 'Support' };
  it('is refused on an active extension, and nothing changes', async () => {
    const before = await get();
    const res = await admin.json('POST', `/api/users/${samId}/reset-assign`, { reset: ['callerId'], user: newcomer });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ error: 'extension_not_deactivated' });
    expect(await get()).toEqual(before);
  });

  it('refuses a bad body with the field named', async () => {
    const res = await admin.json('POST', `/api/users/${samId}/reset-assign`, { reset: ['everything'], user: { ...newcomer, email: 'nope' } });
    expect(res.status).toBe(400);
    const b = (await res.json()) as { fields: Record<string, string> };
    expect(Object.keys(b.fields).sort()).toEqual(['reset.0', 'user.email']);
  });

  it('on a deactivated extension, resets the chosen settings, clears the former user, and makes the extension ready for the new one', async () => {
    expect((await admin.json('POST', '/api/users/bulk', { action: 'disable', userIds: [samId] })).status).toBe(200);
    const before = await get();
    expect(before.status).toBe('disabled');
    const res = await admin.json('POST', `/api/users/${samId}/reset-assign`, { reset: ['callerId', 'notifications', 'callHandling'], user: newcomer });
    expect(res.status).toBe(200);
    const after = (await res.json()) as Details;
    expect(after).toMatchObject({ firstName: 'Nina', lastName: 'North', email: 'nina@acme.example', department: 'Support', jobTitle: null, contactPhone: null, status: 'not_activated' });
    // Reset: caller IDs (by feature and by phone), notifications, call handling. Not ticked: user hours and regional settings stay.
    expect(after.callerId).toEqual({ byFeature: {}, byPhone: { [deviceId]: null } });
    expect(after.notifications.voicemail).toEqual({ email: true, attachment: false, markRead: false });
    expect(after.callHandling).toEqual({ ringMode: 'sequential', notifyApps: true, waitRings: 1 });
    expect(after.userHours).toEqual(before.userHours);
    expect(after.regional).toEqual(before.regional);
    // The former person's password, contacts and sessions are gone.
    expect((await db.selectFrom('user_credentials').select('password_hash').where('user_id', '=', samId).executeTakeFirstOrThrow()).password_hash).toBeNull();
    expect(await db.selectFrom('contacts').select('id').where('owner_user_id', '=', samId).execute()).toEqual([]);
    expect((await db.selectFrom('extensions').select(['status', 'name']).where('id', '=', samExt).executeTakeFirstOrThrow())).toEqual({ status: 'not_activated', name: 'Nina North' });
    const audit = await db.selectFrom('audit_events').select(['action', 'before', 'after']).where('target_id', '=', samId).where('action', '=', 'user.reset_assigned').executeTakeFirstOrThrow();
    expect(audit.before).toMatchObject({ firstName: 'Samuel', status: 'disabled' });
    expect(audit.after).toMatchObject({ firstName: 'Nina', status: 'not_activated' });
    // Now active again (not activated): a second reset is refused.
    expect((await admin.json('POST', `/api/users/${samId}/reset-assign`, { reset: [], user: newcomer })).status).toBe(409);
  });
});
