import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { hashSecret } from '@carillon/core';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * Templates through the product (issue 5, "Templates"): CRUD of
 * /api/templates with validation and name conflicts, applying one to users
 * by POST /api/templates/[id]/apply and by the Users list's bulk action (run
 * by the product's own workers), and the override switches: a section not
 * switched on leaves each user's own value.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let admin: HttpClient;
let other: HttpClient;
let accountId = '';
let siteId = '';
let foreignTemplateId = '';
const users: string[] = [];

interface Template { id: string; kind: string; name: string; settings: Record<string, unknown>; createdAt: string; createdBy: string | null; updatedAt: string; updatedBy: string | null }

const REGIONAL = { timeZone: 'Europe/Paris', language: 'fr', timeFormat: '24h' };
const NOTIFS = { voicemail: { email: false, attachment: false, markRead: false }, fax: { email: false, attachment: false, markRead: false }, missedCalls: { email: true }, faxResults: { email: false }, textMessages: { email: true } };

async function waitApplied(applicationId: string, client = admin): Promise<{ status: string; total: number; done: number }> {
  const until = Date.now() + 30_000;
  for (;;) {
    const res = await client.get(`/api/template-applications/${applicationId}`);
    expect(res.status).toBe(200);
    const app = (await res.json()) as { status: string; total: number; done: number };
    if (app.status === 'completed' || app.status === 'failed') return app;
    if (Date.now() > until) throw new Error(`application still ${app.status} (${app.done}/${app.total})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'templates');
  product = await startProduct(scratch ? { DATABASE_URL: scratch.url } : {});
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  const me = (await (await admin.get('/api/me')).json()) as { accountId: string; siteId: string };
  accountId = me.accountId;
  siteId = me.siteId;
  const role = await db.selectFrom('roles').select('id').where('key', '=', 'standard').executeTakeFirstOrThrow();
  for (let i = 0; i < 3; i++) {
    const ext = await db.insertInto('extensions').values({ account_id: accountId, site_id: siteId, number: String(301 + i), type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
    const u = await db
      .insertInto('users')
      .values({ account_id: accountId, extension_id: ext.id, role_id: role.id, first_name: `T${i}`, last_name: 'User', email: `t${i}@acme.example`, setup_progress: JSON.stringify({}), language: 'en', time_zone: 'America/Chicago', time_format: '12h', job_title: `Title ${i}` })
      .returning('id')
      .executeTakeFirstOrThrow();
    users.push(u.id);
  }
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  other = new HttpClient(product.url);
  expect((await activate(other, created.link)).status).toBe(303);
  const foreign = await other.json('POST', '/api/templates', { kind: 'user_settings', name: 'Beta only', settings: {} });
  expect(foreign.status).toBe(201);
  foreignTemplateId = ((await foreign.json()) as Template).id;
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('templates CRUD', () => {
  let id = '';
  it('creates, lists, reads, renames and deletes a template, each audited', async () => {
    const res = await admin.json('POST', '/api/templates', { kind: 'user_settings', name: 'New users', settings: { regional: { override: true, value: REGIONAL } } });
    expect(res.status).toBe(201);
    const t = (await res.json()) as Template;
    id = t.id;
    expect(t).toMatchObject({ kind: 'user_settings', name: 'New users', settings: { regional: { override: true, value: REGIONAL } }, createdBy: 'Demo Admin' });
    const list = (await (await admin.get('/api/templates?kind=user_settings')).json()) as Template[];
    expect(list.map((x) => x.name)).toEqual(['New users']);
    expect((await (await admin.get('/api/templates?kind=call_handling')).json()) as Template[]).toEqual([]);
    expect(((await (await admin.get(`/api/templates/${id}`)).json()) as Template).name).toBe('New users');

    const renamed = await admin.json('PATCH', `/api/templates/${id}`, { name: 'Newcomers' });
    expect(renamed.status).toBe(200);
    expect(((await renamed.json()) as Template).name).toBe('Newcomers');

    const ch = await admin.json('POST', '/api/templates', { kind: 'call_handling', name: 'Unconditional Forwarding', settings: { conditions: { callerIds: ['+14155550100'] }, action: { type: 'forward', number: '+14155550199' } } });
    expect(ch.status).toBe(201);
    const chId = ((await ch.json()) as Template).id;
    expect((await admin.json('DELETE', `/api/templates/${chId}`)).status).toBe(204);
    expect((await admin.get(`/api/templates/${chId}`)).status).toBe(404);

    const audit = await db.selectFrom('audit_events').select(['action', 'target_id']).where('account_id', '=', accountId).where('target_type', '=', 'template').orderBy('occurred_at').execute();
    expect(audit.map((a) => a.action)).toEqual(['template.created', 'template.updated', 'template.created', 'template.deleted']);
  });

  it('refuses bad input with a 400 naming the field, and a duplicate name with a 409; nothing is stored', async () => {
    const before = await db.selectFrom('user_templates').select(['id', 'name', 'settings']).where('account_id', '=', accountId).execute();
    const bad = async (body: unknown, field: string) => {
      const res = await admin.json('POST', '/api/templates', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const b = (await res.json()) as { error: string; fields: Record<string, string> };
      expect(b.error).toBe('invalid_body');
      expect(Object.keys(b.fields), JSON.stringify(b.fields)).toContain(field);
    };
    await bad({ kind: 'user_settings', name: '' }, 'name');
    await bad({ kind: 'user_settings', name: 'x'.repeat(61) }, 'name');
    await bad({ kind: 'other', name: 'X' }, 'kind');
    await bad({ kind: 'user_settings', name: 'X', settings: { regional: { override: true, value: { ...REGIONAL, timeZone: 'Mars/Olympus' } } } }, 'settings.regional.value.timeZone');
    await bad({ kind: 'user_settings', name: 'X', settings: { userHours: { override: true, value: { mode: 'custom', days: { mon: [{ from: '17:00', to: '09:00' }] } } } } }, 'settings.userHours.value.days.mon.0.to');
    await bad({ kind: 'user_settings', name: 'X', settings: { role: { override: true, value: { roleId: '00000000-0000-4000-8000-000000000000' } } } }, 'settings.role.value.roleId');
    await bad({ kind: 'call_handling', name: 'X', settings: { conditions: {}, action: { type: 'voicemail' } } }, 'settings.conditions.callerIds');
    expect((await admin.request('POST', '/api/templates', '{not json')).status).toBe(400);
    const dup = await admin.json('POST', '/api/templates', { kind: 'user_settings', name: 'NEWCOMERS', settings: {} });
    expect(dup.status).toBe(409);
    expect(await dup.json()).toMatchObject({ error: 'name_taken' });
    const patchBad = await admin.json('PATCH', `/api/templates/${id}`, { settings: { notifications: { override: true, value: { voicemail: { email: 'yes' } } } } });
    expect(patchBad.status).toBe(400);
    expect(await db.selectFrom('user_templates').select(['id', 'name', 'settings']).where('account_id', '=', accountId).execute()).toEqual(before);
  });

  it("gives 404 for another account's template on every route, before reading the body", async () => {
    expect((await admin.get(`/api/templates/${foreignTemplateId}`)).status).toBe(404);
    expect((await admin.json('PATCH', `/api/templates/${foreignTemplateId}`, { name: 'Stolen' })).status).toBe(404);
    expect((await admin.json('PATCH', `/api/templates/${foreignTemplateId}`, { bogus: true })).status).toBe(404);
    expect((await admin.json('DELETE', `/api/templates/${foreignTemplateId}`)).status).toBe(404);
    expect((await admin.json('POST', `/api/templates/${foreignTemplateId}/apply`, { userIds: users })).status).toBe(404);
    expect((await admin.json('POST', '/api/users/bulk', { action: 'apply_template', templateId: foreignTemplateId, userIds: users })).status).toBe(400);
    expect(((await (await admin.get('/api/templates')).json()) as Template[]).map((t) => t.id)).not.toContain(foreignTemplateId);
    expect((await db.selectFrom('user_templates').select('name').where('id', '=', foreignTemplateId).executeTakeFirstOrThrow()).name).toBe('Beta only');
  });
});

describe('the Super Admin role through templates', () => {
  it('a User Admin can neither make a template granting Super Admin nor apply one', async () => {
    const [userAdminRole, superRole] = await Promise.all(['user_admin', 'super_admin'].map((key) => db.selectFrom('roles').select('id').where('key', '=', key).executeTakeFirstOrThrow()));
    const ext = await db.insertInto('extensions').values({ account_id: accountId, site_id: siteId, number: '399', type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
    const uma = await db.insertInto('users').values({ account_id: accountId, extension_id: ext.id, role_id: userAdminRole!.id, first_name: 'Uma', last_name: 'Admin', email: 'uma@acme.example', setup_progress: JSON.stringify({}) }).returning('id').executeTakeFirstOrThrow();
    await db.insertInto('user_credentials').values({ user_id: uma.id, password_hash: await hashSecret('Meadow5Lantern') }).execute();
    const client = new HttpClient(product.url);
    expect((await client.form('/login', { identifier: 'uma@acme.example', password: 'Meadow5Lantern' })).status).toBe(303);
    const grant = { role: { override: true, value: { roleId: superRole!.id } } };
    const made = await client.json('POST', '/api/templates', { kind: 'user_settings', name: 'Promote', settings: grant });
    expect(made.status).toBe(400);
    expect(((await made.json()) as { fields: Record<string, string> }).fields['settings.role.value.roleId']).toMatch(/do not hold/);
    // The Super Admin may make it; the User Admin still may not apply it, to themselves or anyone.
    const t = (await (await admin.json('POST', '/api/templates', { kind: 'user_settings', name: 'Promote', settings: grant })).json()) as Template;
    const applied = await client.json('POST', `/api/templates/${t.id}/apply`, { userIds: [uma.id] });
    expect(applied.status).toBe(403);
    expect((await client.json('POST', '/api/users/bulk', { action: 'apply_template', templateId: t.id, userIds: [uma.id] })).status).toBe(403);
    expect(await db.selectFrom('template_applications').select('id').where('template_id', '=', t.id).execute()).toEqual([]);
    expect((await db.selectFrom('users').select('role_id').where('id', '=', uma.id).executeTakeFirstOrThrow()).role_id).toBe(userAdminRole!.id);
    expect((await admin.json('DELETE', `/api/templates/${t.id}`)).status).toBe(204);
  });
});

describe('rights a User Admin lacks, through templates', () => {
  it('a User Admin can neither make nor apply a template granting Phone System Admin or Billing Admin, to themself or another user', async () => {
    const roleId = async (key: string) => (await db.selectFrom('roles').select('id').where('key', '=', key).executeTakeFirstOrThrow()).id;
    const userAdminRole = await roleId('user_admin');
    const ext = await db.insertInto('extensions').values({ account_id: accountId, site_id: siteId, number: '398', type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
    const ugo = await db.insertInto('users').values({ account_id: accountId, extension_id: ext.id, role_id: userAdminRole, first_name: 'Ugo', last_name: 'Admin', email: 'ugo@acme.example', setup_progress: JSON.stringify({}) }).returning('id').executeTakeFirstOrThrow();
    await db.insertInto('user_credentials').values({ user_id: ugo.id, password_hash: await hashSecret('Meadow5Lantern') }).execute();
    const client = new HttpClient(product.url);
    expect((await client.form('/login', { identifier: 'ugo@acme.example', password: 'Meadow5Lantern' })).status).toBe(303);
    const rolesBefore = await db.selectFrom('users').select(['id', 'role_id']).where('account_id', '=', accountId).orderBy('id').execute();
    for (const [key, lacking] of [['phone_system_admin', 'phone_system.manage'], ['billing_admin', 'billing.manage']] as const) {
      const grant = { role: { override: true, value: { roleId: await roleId(key) } } };
      const made = await client.json('POST', '/api/templates', { kind: 'user_settings', name: `Make ${key}`, settings: grant });
      expect(made.status).toBe(400);
      expect(((await made.json()) as { fields: Record<string, string> }).fields['settings.role.value.roleId']).toContain(lacking);
      // Made by the Super Admin, then applied by the User Admin: refused with the reason, for themself and for another user.
      const t = (await (await admin.json('POST', '/api/templates', { kind: 'user_settings', name: `Make ${key}`, settings: grant })).json()) as Template;
      for (const userIds of [[ugo.id], [users[0]!]]) {
        const applied = await client.json('POST', `/api/templates/${t.id}/apply`, { userIds });
        expect(applied.status).toBe(403);
        const body = (await applied.json()) as { error: string; permissions: string[] };
        expect(body.error).toBe('permission_not_held');
        expect(body.permissions).toContain(lacking);
        const bulk = await client.json('POST', '/api/users/bulk', { action: 'apply_template', templateId: t.id, userIds });
        expect(bulk.status).toBe(403);
        expect(((await bulk.json()) as { error: string }).error).toBe('permission_not_held');
      }
      // Editing a harmless template of theirs into one that grants it is refused the same way.
      const own = (await (await client.json('POST', '/api/templates', { kind: 'user_settings', name: `Harmless ${key}`, settings: { jobTitle: { override: true, value: 'Clerk' } } })).json()) as Template;
      const edited = await client.json('PATCH', `/api/templates/${own.id}`, { settings: grant });
      expect(edited.status).toBe(400);
      expect(await db.selectFrom('template_applications').select('id').where('template_id', '=', t.id).execute()).toEqual([]);
      for (const id of [t.id, own.id]) expect((await admin.json('DELETE', `/api/templates/${id}`)).status).toBe(204);
    }
    expect(await db.selectFrom('users').select(['id', 'role_id']).where('account_id', '=', accountId).orderBy('id').execute()).toEqual(rolesBefore);
  });
});

describe('applying a template', () => {
  it('overwrites only the sections switched on: the others keep each user\'s own value', async () => {
    const res = await admin.json('POST', '/api/templates', {
      kind: 'user_settings',
      name: 'Support',
      settings: {
        regional: { override: true, value: REGIONAL },
        notifications: { override: true, value: NOTIFS },
        // Switched off: users keep their job title and hours.
        jobTitle: { override: false, value: 'Support agent' },
        userHours: { override: false, value: { mode: 'custom', days: { mon: [{ from: '09:00', to: '17:00' }] } } },
      },
    });
    expect(res.status).toBe(201);
    const t = (await res.json()) as Template;
    const foreignUser = ((await (await other.get('/api/me')).json()) as { id: string }).id;
    const applied = await admin.json('POST', `/api/templates/${t.id}/apply`, { userIds: [users[0], users[1], foreignUser] });
    expect(applied.status).toBe(202);
    const started = (await applied.json()) as { applicationId: string; queue: string; jobId: string; total: number; notFound: string[] };
    // Another account's user is not applied to, and said so.
    expect(started).toMatchObject({ queue: 'template-apply', jobId: started.applicationId, total: 2, notFound: [foreignUser] });
    expect(await waitApplied(started.applicationId)).toMatchObject({ status: 'completed', total: 2, done: 2 });

    for (const [i, uid] of users.entries()) {
      const u = (await (await admin.get(`/api/users/${uid}`)).json()) as { regional: unknown; notifications: unknown; jobTitle: string; userHours: unknown };
      expect(u.jobTitle).toBe(`Title ${i}`);
      expect(u.userHours).toEqual({ mode: '24h' });
      if (i < 2) {
        expect(u.regional).toEqual(REGIONAL);
        expect(u.notifications).toEqual(NOTIFS);
      } else {
        expect(u.regional).toEqual({ timeZone: 'America/Chicago', language: 'en', timeFormat: '12h' });
      }
    }
    const foreign = await db.selectFrom('users').select(['language']).where('id', '=', foreignUser).executeTakeFirstOrThrow();
    expect(foreign.language).not.toBe('fr');
    const audits = await db.selectFrom('audit_events').select(['action', 'target_id']).where('account_id', '=', accountId).where('action', 'in', ['template.applied', 'user.template_applied']).where(sql<boolean>`coalesce(after->>'applicationId', '') = ${started.applicationId}`).execute();
    expect(audits.filter((a) => a.action === 'user.template_applied').map((a) => a.target_id).sort()).toEqual([users[0], users[1]].sort());
    expect(audits.filter((a) => a.action === 'template.applied')).toHaveLength(1);
  });

  it('applies a call-handling template from the Users list bulk action; applying it twice keeps one rule', async () => {
    const res = await admin.json('POST', '/api/templates', { kind: 'call_handling', name: 'Holiday', settings: { conditions: { dates: { from: '2026-12-24', to: '2026-12-26' } }, action: { type: 'voicemail' } } });
    const t = (await res.json()) as Template;
    const bad = await admin.json('POST', '/api/users/bulk', { action: 'apply_template', userIds: [users[2]] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { fields: Record<string, string> }).fields).toHaveProperty('templateId');
    for (let round = 0; round < 2; round++) {
      const r = await admin.json('POST', '/api/users/bulk', { action: 'apply_template', templateId: t.id, userIds: [users[2]] });
      expect(r.status).toBe(202);
      const { applicationId } = (await r.json()) as { applicationId: string };
      expect(await waitApplied(applicationId)).toMatchObject({ status: 'completed', done: 1 });
    }
    const u = (await (await admin.get(`/api/users/${users[2]}`)).json()) as { callRules: { id: string; name: string; action: unknown }[] };
    expect(u.callRules).toEqual([{ id: `template:${t.id}`, name: 'Holiday', conditions: { callerIds: [], dates: { from: '2026-12-24', to: '2026-12-26' } }, action: { type: 'voicemail' } }]);
  });

  it("refuses applying with a bad body (400) and another account's application status is 404", async () => {
    const t = ((await (await admin.get('/api/templates?kind=user_settings')).json()) as Template[])[0]!;
    const r = await admin.json('POST', `/api/templates/${t.id}/apply`, { userIds: ['not-a-uuid'] });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { fields: Record<string, string> }).fields).toHaveProperty('userIds.0');
    expect((await admin.json('POST', `/api/templates/${t.id}/apply`, { userIds: [] })).status).toBe(400);
    const app = await db.selectFrom('template_applications').select('id').where('account_id', '=', accountId).executeTakeFirstOrThrow();
    expect((await other.get(`/api/template-applications/${app.id}`)).status).toBe(404);
  });
});
