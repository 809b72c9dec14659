import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretBox } from '@carillon/core';
import { createSmsCarrier } from '@carillon/core/sms';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, bearerRequest, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { redisUrl } from '../support/env.ts';
import { startTestSmsc, type TestSmsc } from '../../workers/test/test-smsc.ts';

/**
 * The SMS API of integrations (issue 18, deliverable 2) through the product:
 * an application holding an API token sends a text from a number approved for
 * high volume (the workers take it to the test SMSC) and reads its status
 * until the delivery receipt settles it. A wrong token, a token whose role
 * does not manage numbers, another account's message id and bad bodies each
 * get their clear 401/403/404/400/409.
 */
const NUMBER = '+14155550700';
const key = randomBytes(32);
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let smsc: TestSmsc;
let admin: HttpClient;
let accountId = '';
/** A token whose role (Phone System Admin) manages numbers; one whose role (Standard) does not; another account's. */
let sender = '';
let standard = '';
let foreign = '';

interface MessageStatus {
  id: string;
  from: string;
  to: string;
  status: string;
  segments: number;
  carrierErrorCode: number | null;
  warnings: { code: string }[];
}

/** An integration's request: no cookie, no Origin, just the token. */
const bearer = (secret: string, method: string, path: string, body?: unknown) => bearerRequest(product.url, secret, method, path, body);

const roleId = async (roleKey: string) => (await db.selectFrom('roles').select('id').where('key', '=', roleKey).executeTakeFirstOrThrow()).id;
async function token(client: HttpClient, name: string, roleKey: string): Promise<string> {
  const res = await client.json('POST', '/api/api-tokens', { name, roleId: await roleId(roleKey) });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { secret: string }).secret;
}

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'smsapi');
  smsc = await startTestSmsc({ systemId: 'api', password: 'api-secret-pw', ackDelayMs: 1, receiptDelayMs: 5 });
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), REDIS_URL: redisUrl(), ENABLE_UNRELEASED: 'sms', SECRET_KEY: key.toString('base64') });
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  accountId = ((await (await admin.get('/api/me')).json()) as { accountId: string }).accountId;
  await db.insertInto('phone_numbers').values({ account_id: accountId, e164: NUMBER, type: 'additional_company' }).execute();
  const registered = await admin.json('POST', '/api/sms/registrations', { phoneNumber: NUMBER, businessName: 'Demo Dental', useCase: 'appointment reminders', sampleMessage: 'See you at 10:00.', expectedDailyVolume: 100 });
  expect(registered.status).toBe(201);
  const { id } = (await registered.json()) as { id: string };
  expect((await admin.json('POST', `/api/sms/registrations/${id}/review`, { decision: 'approve' })).status).toBe(200);
  await createSmsCarrier(db, secretBox(key), accountId, { name: 'A2P SMSC', trafficClass: 'a2p', host: '127.0.0.1', port: smsc.port, systemId: 'api', password: 'api-secret-pw' });
  sender = await token(admin, 'Reminders app', 'phone_system_admin');
  standard = await token(admin, 'Read-only app', 'standard');
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  const beta = new HttpClient(product.url);
  expect((await activate(beta, created.link)).status).toBe(303);
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  foreign = await token(beta, 'Beta app', 'super_admin');
}, 180_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await smsc?.close();
  await scratch?.drop();
});

let sentId = '';

describe('the SMS API with an API token', () => {
  it('sends a text and reads its status until it is delivered; a retry with the same key sends nothing twice', async () => {
    const send = { from: NUMBER, to: '+14155557001', body: 'Your appointment is tomorrow at 10:00.', idempotencyKey: 'appt-1' };
    const res = await bearer(sender, 'POST', '/api/sms/messages', send);
    expect(res.status, await res.clone().text()).toBe(201);
    const sent = (await res.json()) as MessageStatus;
    expect(sent).toMatchObject({ from: NUMBER, to: '+14155557001', status: 'queued', segments: 1, warnings: [] });
    sentId = sent.id;
    await expect
      .poll(async () => ((await (await bearer(sender, 'GET', `/api/sms/messages/${sentId}`)).json()) as MessageStatus).status, { timeout: 60_000, interval: 100 })
      .toBe('delivered');
    const again = await bearer(sender, 'POST', '/api/sms/messages', send);
    expect(again.status).toBe(200);
    expect(((await again.json()) as MessageStatus).id).toBe(sentId);
    expect(smsc.received.filter((r) => r.text === send.body)).toHaveLength(1);
    // A2P: the number's high-volume traffic, through the A2P carrier.
    expect(await db.selectFrom('sms_messages').select(['traffic_class', 'user_id']).where('id', '=', sentId).executeTakeFirstOrThrow()).toEqual({ traffic_class: 'a2p', user_id: null });
  });

  it('answers a wrong or missing token 401, a role that does not manage numbers 403, another account’s message 404', async () => {
    const body = { from: NUMBER, to: '+14155557002', body: 'hi' };
    const wrong = await bearer('crl_nonsense', 'POST', '/api/sms/messages', body);
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: 'invalid_token' });
    expect((await fetch(`${product.url}/api/sms/messages/${sentId}`)).status).toBe(401);
    expect((await bearer(standard, 'POST', '/api/sms/messages', body)).status).toBe(403);
    expect((await bearer(standard, 'GET', `/api/sms/messages/${sentId}`)).status).toBe(403);
    expect((await bearer(foreign, 'GET', `/api/sms/messages/${sentId}`)).status).toBe(404);
    // Another account cannot send from this account's number either.
    const borrowed = await bearer(foreign, 'POST', '/api/sms/messages', body);
    expect(borrowed.status).toBe(400);
    expect(await borrowed.json()).toMatchObject({ error: 'not_high_volume' });
    expect((await bearer(sender, 'GET', '/api/sms/messages/not-a-uuid')).status).toBe(404);
    expect((await bearer(sender, 'GET', `/api/sms/messages/${crypto.randomUUID()}`)).status).toBe(404);
    expect(smsc.received.filter((r) => r.to === '14155557002')).toHaveLength(0);
  });

  it('refuses bad bodies clearly and sends nothing', async () => {
    const before = await db.selectFrom('sms_messages').select('id').where('account_id', '=', accountId).execute();
    const cases: [string, unknown, number, Record<string, unknown>][] = [
      ['no recipient', { from: NUMBER, body: 'hi' }, 400, { error: 'invalid_body', fields: { to: expect.any(String) } }],
      ['a recipient that is not E.164', { from: NUMBER, to: '555-0100', body: 'hi' }, 400, { error: 'invalid_body', fields: { to: expect.stringContaining('E.164') } }],
      ['an unknown field', { from: NUMBER, to: '+14155557003', body: 'hi', priority: 'high' }, 400, { error: 'invalid_body' }],
      ['a blank text', { from: NUMBER, to: '+14155557003', body: '   ' }, 400, { error: 'empty_body', message: 'the message is empty' }],
      ['11 segments', { from: NUMBER, to: '+14155557003', body: 'x'.repeat(1531) }, 400, { error: 'too_long', message: expect.stringContaining('11 segments') }],
      ['a number not approved for high volume', { from: '+14155550799', to: '+14155557003', body: 'hi' }, 400, { error: 'not_high_volume', message: expect.stringContaining('+14155550799 is not approved') }],
    ];
    for (const [what, body, status, answer] of cases) {
      const res = await bearer(sender, 'POST', '/api/sms/messages', body);
      expect(res.status, what).toBe(status);
      expect(await res.json(), what).toMatchObject(answer);
    }
    await db.insertInto('sms_opt_outs').values({ account_id: accountId, business_number: NUMBER, phone_number: '+14155557004', keyword: 'STOP' }).execute();
    const optedOut = await bearer(sender, 'POST', '/api/sms/messages', { from: NUMBER, to: '+14155557004', body: 'hi' });
    expect(optedOut.status).toBe(409);
    expect(await optedOut.json()).toMatchObject({ error: 'opted_out', message: '+14155557004 has opted out of texts from +14155550700 (STOP)' });
    expect(await db.selectFrom('sms_messages').select('id').where('account_id', '=', accountId).execute()).toEqual(before);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await (await admin.get('/api/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/api/sms/messages'] ?? {})).toContain('post');
    expect(Object.keys(doc.paths['/api/sms/messages/{id}'] ?? {})).toContain('get');
  });
});
