import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashSecret } from '@carillon/core';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, bearerRequest, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * Per-account API tokens (issue 5, deliverable 12) through the product: an
 * admin creates one, an integration calls the API with `Authorization: Bearer`,
 * with the token's role (never more than its creator's), until it is revoked or expires.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let admin: HttpClient;
let other: HttpClient;
let accountId = '';
let foreignUserId = '';
const PASSWORD = 'Meadow5Lantern';
const RATE_LIMIT = 20;
const secrets: string[] = [];

interface Token {
  id: string;
  name: string;
  prefix: string;
  roleKey: string | null;
  status: string;
  lastUsedAt: string | null;
  secret?: string;
}

/** An integration's request: no cookie, no Origin, just the token. */
const bearer = (secret: string, method: string, path: string, body?: unknown) => bearerRequest(product.url, secret, method, path, body);

const roleId = async (key: string) => (await db.selectFrom('roles').select('id').where('key', '=', key).executeTakeFirstOrThrow()).id;

async function create(client: HttpClient, body: Record<string, unknown>): Promise<Token & { secret: string }> {
  const res = await client.json('POST', '/api/api-tokens', body);
  expect(res.status, JSON.stringify(body)).toBe(201);
  const token = (await res.json()) as Token & { secret: string };
  secrets.push(token.secret);
  return token;
}

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'apitokens');
  product = await startProduct({ API_TOKEN_MAX_PER_MINUTE: String(RATE_LIMIT), ...(scratch ? { DATABASE_URL: scratch.url } : {}) });
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  accountId = ((await (await admin.get('/api/me')).json()) as { accountId: string }).accountId;
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  other = new HttpClient(product.url);
  expect((await activate(other, created.link)).status).toBe(303);
  foreignUserId = ((await (await other.get('/api/me')).json()) as { id: string }).id;
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('API tokens', () => {
  it('creates a token whose secret is shown once, and which reads the Users list with Bearer, within its role', async () => {
    const token = await create(admin, { name: 'CRM sync', roleId: await roleId('user_admin') });
    expect(token.secret).toMatch(/^crl_[A-Za-z0-9_-]{43}$/);
    expect(token.prefix).toBe(token.secret.slice(0, 12));
    expect(token).toMatchObject({ name: 'CRM sync', roleKey: 'user_admin', status: 'active', lastUsedAt: null });

    const users = await bearer(token.secret, 'GET', '/api/users');
    expect(users.status).toBe(200);
    const page = (await users.json()) as { items: { id: string; firstName: string }[] };
    expect(page.items.length).toBeGreaterThan(0);
    // It acts on its account: it may change a user (users.manage)...
    const adminId = page.items[0]!.id;
    const patched = await bearer(token.secret, 'PATCH', `/api/users/${adminId}`, { lastName: 'Integrated' });
    expect(patched.status).toBe(200);
    // The trail says who (the token's creator) and through which token.
    const audit = await db.selectFrom('audit_events').select(['action', 'actor_user_id', 'actor_api_token_id']).where('target_id', '=', adminId).where('action', '=', 'user.updated').executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ actor_user_id: adminId, actor_api_token_id: token.id });
    const trail = (await (await admin.get(`/api/audit-events?action=user.updated&target=${adminId}`)).json()) as { actorName: string; actorApiToken: string | null }[];
    expect(trail[0]).toMatchObject({ actorApiToken: 'CRM sync' });
    const csv = await (await admin.get(`/api/audit-events/export?action=user.updated&target=${adminId}`)).text();
    expect(csv.trim().split('\r\n')[1]).toContain(`,API token ${token.prefix},`);
    // A change from the browser names no token.
    expect((await admin.json('PATCH', `/api/users/${adminId}`, { lastName: 'Admin' })).status).toBe(200);
    const latest = (await (await admin.get(`/api/audit-events?action=user.updated&target=${adminId}&limit=1`)).json()) as { actorApiToken: string | null }[];
    expect(latest[0]?.actorApiToken).toBeNull();
    // ...but not what User Admin lacks, even though its creator is a Super Admin.
    expect((await bearer(token.secret, 'GET', '/api/account/settings')).status).toBe(403);
    expect((await bearer(token.secret, 'GET', '/api/audit-events')).status).toBe(403);
    // A token never manages tokens nor its creator's sessions.
    expect((await bearer(token.secret, 'GET', '/api/api-tokens')).status).toBe(403);
    expect((await bearer(token.secret, 'POST', '/api/session/logout-all')).status).toBe(403);
    expect((await admin.get('/api/me')).status).toBe(200);

    // The list shows the prefix and when it was last used, never the secret.
    const listed = await admin.get('/api/api-tokens');
    const text = await listed.text();
    expect(text).not.toContain(token.secret);
    const mine = (JSON.parse(text) as Token[]).find((t) => t.id === token.id)!;
    expect(mine).toMatchObject({ prefix: token.prefix, status: 'active' });
    expect(mine.lastUsedAt).not.toBeNull();
    expect(mine).not.toHaveProperty('secret');
    const one = (await (await admin.get(`/api/api-tokens/${token.id}`)).json()) as Token;
    expect(one).toMatchObject({ id: token.id, prefix: token.prefix });
    expect(one).not.toHaveProperty('secret');
  });

  it('refuses a revoked token, an expired token and a made-up one with 401', async () => {
    const token = await create(admin, { name: 'Short-lived', roleId: await roleId('standard') });
    expect((await bearer(token.secret, 'GET', '/api/me')).status).toBe(200);
    // An integration revokes nothing: an admin does, from the browser (no Origin check for a JSON DELETE from the app).
    const revoked = await admin.json('DELETE', `/api/api-tokens/${token.id}`);
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as Token).status).toBe('revoked');
    const refused = await bearer(token.secret, 'GET', '/api/me');
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: 'invalid_token' });
    // Revoking again changes nothing and is not audited twice.
    expect((await admin.json('DELETE', `/api/api-tokens/${token.id}`)).status).toBe(200);
    const revocations = await db.selectFrom('audit_events').select('id').where('target_id', '=', token.id).where('action', '=', 'api_token.revoked').execute();
    expect(revocations).toHaveLength(1);

    const expiring = await create(admin, { name: 'Expiring', roleId: await roleId('standard'), expiresAt: new Date(Date.now() + 2_000).toISOString() });
    expect((await bearer(expiring.secret, 'GET', '/api/me')).status).toBe(200);
    await sleep(2_500);
    expect((await bearer(expiring.secret, 'GET', '/api/me')).status).toBe(401);
    const listed = (await (await admin.get('/api/api-tokens')).json()) as Token[];
    expect(listed.find((t) => t.id === expiring.id)?.status).toBe('expired');

    // A bearer that is not a token of ours is refused, not read as anonymous nor as the cookie's session.
    expect((await bearer('crl_' + 'x'.repeat(43), 'GET', '/api/me')).status).toBe(401);
    expect((await admin.request('GET', '/api/me', undefined, { authorization: 'Bearer nonsense' })).status).toBe(401);
  });

  it("answers 404 for another account's ids, and refuses bad input with the field named", async () => {
    const token = await create(admin, { name: 'Tenant probe', roleId: await roleId('super_admin') });
    expect((await bearer(token.secret, 'GET', `/api/users/${foreignUserId}`)).status).toBe(404);
    expect((await bearer(token.secret, 'PATCH', `/api/users/${foreignUserId}`, { firstName: 'Mallory' })).status).toBe(404);
    const foreignToken = await create(other, { name: 'Beta token', roleId: await roleId('standard') });
    expect((await admin.get(`/api/api-tokens/${foreignToken.id}`)).status).toBe(404);
    expect((await admin.json('DELETE', `/api/api-tokens/${foreignToken.id}`)).status).toBe(404);
    expect((await bearer(foreignToken.secret, 'GET', '/api/me')).status).toBe(200);

    const fieldsOf = async (body: unknown) => {
      const res = await admin.json('POST', '/api/api-tokens', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      return Object.keys(((await res.json()) as { fields: Record<string, string> }).fields);
    };
    expect(await fieldsOf({ name: '', roleId: await roleId('standard') })).toEqual(['name']);
    expect(await fieldsOf({ name: 'Past', roleId: await roleId('standard'), expiresAt: new Date(Date.now() - 60_000).toISOString() })).toEqual(['expiresAt']);
    expect(await fieldsOf({ name: 'No role', roleId: '00000000-0000-4000-8000-000000000000' })).toEqual(['roleId']);
    const customOfB = await db.insertInto('roles').values({ account_id: (await db.selectFrom('users').select('account_id').where('id', '=', foreignUserId).executeTakeFirstOrThrow()).account_id, name: 'Beta custom' }).returning('id').executeTakeFirstOrThrow();
    expect(await fieldsOf({ name: 'Foreign role', roleId: customOfB.id })).toEqual(['roleId']);
  });

  it('gives a token no more than its creator holds, when created and later', async () => {
    // Ivy may manage tokens and read users, nothing more.
    const role = await db.insertInto('roles').values({ account_id: accountId, name: 'Integrations' }).returning('id').executeTakeFirstOrThrow();
    await db
      .insertInto('role_permissions')
      .values(['admin.portal', 'account.settings', 'users.view', 'self.settings', 'self.calls'].map((permission) => ({ role_id: role.id, permission })))
      .execute();
    const site = await db.selectFrom('sites').select('id').where('account_id', '=', accountId).executeTakeFirstOrThrow();
    const ext = await db.insertInto('extensions').values({ account_id: accountId, site_id: site.id, number: '250', type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
    const ivy = await db
      .insertInto('users')
      .values({ account_id: accountId, extension_id: ext.id, role_id: role.id, first_name: 'Ivy', last_name: 'Integrator', email: 'ivy@acme.example', setup_progress: JSON.stringify({}) })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.insertInto('user_credentials').values({ user_id: ivy.id, password_hash: await hashSecret(PASSWORD) }).execute();
    const client = new HttpClient(product.url);
    expect((await client.form('/login', { identifier: 'ivy@acme.example', password: PASSWORD })).status).toBe(303);

    for (const key of ['super_admin', 'user_admin']) {
      const res = await client.json('POST', '/api/api-tokens', { name: 'Too much', roleId: await roleId(key) });
      expect(res.status, key).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_body', fields: { roleId: 'role_exceeds_caller' } });
    }
    const token = await create(client, { name: 'Ivy reader', roleId: role.id });
    expect((await bearer(token.secret, 'GET', '/api/users')).status).toBe(200);
    expect((await bearer(token.secret, 'PATCH', `/api/users/${ivy.id}`, { lastName: 'Nope' })).status).toBe(403);
    // Ivy loses the Users permission: her token loses it with her.
    await db.updateTable('users').set({ role_id: await roleId('standard') }).where('id', '=', ivy.id).execute();
    expect((await bearer(token.secret, 'GET', '/api/users')).status).toBe(403);
    expect((await bearer(token.secret, 'GET', '/api/me')).status).toBe(200);
  });

  it('limits each token to its rate per minute, without slowing another token', async () => {
    const busy = await create(admin, { name: 'Busy', roleId: await roleId('standard') });
    const calm = await create(admin, { name: 'Calm', roleId: await roleId('standard') });
    const statuses: number[] = [];
    for (let i = 0; i < RATE_LIMIT + 2; i++) statuses.push((await bearer(busy.secret, 'GET', '/api/me')).status);
    expect(statuses.slice(0, RATE_LIMIT).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(RATE_LIMIT)).toEqual([429, 429]);
    expect((await bearer(calm.secret, 'GET', '/api/me')).status).toBe(200);
  });

  it('lets bearer form posts through the origin check, and still refuses cross-site form posts carrying the session cookie', async () => {
    const token = await create(admin, { name: 'Uploader', roleId: await roleId('standard') });
    // A multipart upload without any Origin: no browser sent it, so no cookie rides along.
    const form = new FormData();
    form.set('notify', 'maybe');
    const upload = await fetch(product.url + '/api/transcriptions', { method: 'POST', headers: { authorization: `Bearer ${token.secret}` }, body: form });
    expect(upload.status).not.toBe(403);
    expect(upload.status).toBe(400);
    // The same post from another site with the admin's cookie is refused before it reaches the route.
    const forged = await admin.request('POST', '/api/transcriptions', form, { origin: 'https://evil.example' });
    expect(forged.status).toBe(403);
    const forgedForm = await admin.request('POST', '/admin/more', new URLSearchParams({ sessionTimeoutMinutes: '5' }), { origin: 'https://evil.example', accept: 'text/html' });
    expect(forgedForm.status).toBe(403);
    expect(await forgedForm.text()).toContain('Cross-site POST form submissions are forbidden');
  });

  it('audits creation and revocation without the secret, and never logs a secret', async () => {
    const rows = await db.selectFrom('audit_events').selectAll().where('target_type', '=', 'api_token').execute();
    const actions = new Set(rows.map((r) => r.action));
    expect(actions).toEqual(new Set(['api_token.created', 'api_token.revoked']));
    const created = rows.find((r) => r.action === 'api_token.created' && JSON.stringify(r.after).includes('CRM sync'))!;
    expect(created.after).toMatchObject({ name: 'CRM sync', role: 'User Admin' });
    const trail = await admin.get('/api/audit-events?target=api_token');
    const trailText = await trail.text();
    expect(trail.status).toBe(200);
    expect(trailText).toContain('api_token.created');
    const csv = await (await admin.get('/api/audit-events/export?target=api_token')).text();
    const stored = JSON.stringify(rows);
    expect(secrets.length).toBeGreaterThan(5);
    for (const secret of secrets) {
      expect(stored).not.toContain(secret);
      expect(trailText).not.toContain(secret);
      expect(csv).not.toContain(secret);
      expect(product.output()).not.toContain(secret);
      // Not even the part after the shown prefix.
      expect(product.output()).not.toContain(secret.slice(12));
    }
    const hashes = await db.selectFrom('api_tokens').select(['token_hash', 'prefix']).execute();
    expect(hashes.every((h) => /^[0-9a-f]{64}$/.test(h.token_hash))).toBe(true);
    expect(JSON.stringify(hashes)).not.toContain(secrets[0]!.slice(12));
  });
});
