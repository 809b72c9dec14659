import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Db } from '@carillon/db';
import { isAccessCode } from '@carillon/domain';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createStandardUsers } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { redisUrl } from '../support/env.ts';

/**
 * The conference bridge's API for its users (issue 16, unreleased area 'conference'): each user
 * reads their own dial-in numbers, access codes and settings, and regenerates their own codes
 * (audited without them); a bad body is a 400; a caller not signed in is refused. The
 * 404s while the area is hidden: tests/api/answering-rules.test.ts.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let sam: HttpClient;
let tom: HttpClient;
const PASSWORD = 'Meadow5Lantern';

interface Mine {
  dialIns: string[];
  codes: { host: string; participant: string };
  settings: { joinBeforeHost: boolean; enterTone: boolean; exitTone: boolean; announceNames: boolean };
}

const signedIn = async (email: string) => {
  const c = new HttpClient(product.url);
  expect((await c.form('/login', { identifier: email, password: PASSWORD })).status).toBe(303);
  return c;
};
const mine = async (c: HttpClient) => {
  const res = await c.get('/api/me/conference');
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Mine;
};

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'conference');
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), REDIS_URL: redisUrl(), ENABLE_UNRELEASED: 'conference' });
  db = openPostgres(product.databaseUrl(), 2);
  const admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  await createStandardUsers(db, [
    { extension: '201', name: 'sam', password: PASSWORD },
    { extension: '202', name: 'tom', password: PASSWORD },
  ]);
  const account = await db.selectFrom('accounts').select('id').executeTakeFirstOrThrow();
  const number = await db.insertInto('phone_numbers').values({ account_id: account.id, e164: '+14155550188', type: 'additional_company', extension_id: null, site_id: null, nickname: null }).returning('id').executeTakeFirstOrThrow();
  await db.insertInto('conference_dial_ins').values({ phone_number_id: number.id, account_id: account.id }).execute();
  sam = await signedIn('sam@demo.carillon.localhost');
  tom = await signedIn('tom@demo.carillon.localhost');
}, 180_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('my conference', () => {
  it('shows each user the bridge number, their own two codes and the default settings', async () => {
    const s = await mine(sam);
    const t = await mine(tom);
    expect(s.dialIns).toEqual(['+14155550188']);
    expect(s.settings).toEqual({ joinBeforeHost: false, enterTone: true, exitTone: true, announceNames: false });
    for (const code of [s.codes.host, s.codes.participant, t.codes.host, t.codes.participant]) expect(isAccessCode(code)).toBe(true);
    expect(new Set([s.codes.host, s.codes.participant, t.codes.host, t.codes.participant]).size).toBe(4);
    // Stable between reads.
    expect((await mine(sam)).codes).toEqual(s.codes);
  });

  it('regenerates the codes asked for, audits it without the codes, and refuses a bad body', async () => {
    const before = await mine(sam);
    const res = await sam.json('POST', '/api/me/conference/codes', { which: 'participant' });
    expect(res.status).toBe(200);
    const after = ((await res.json()) as { codes: Mine['codes'] }).codes;
    expect(after.host).toBe(before.codes.host);
    expect(after.participant).not.toBe(before.codes.participant);
    expect((await mine(sam)).codes).toEqual(after);
    // Tom's codes are untouched.
    const tomCodes = (await mine(tom)).codes;
    expect((await sam.json('POST', '/api/me/conference/codes', {})).status).toBe(200);
    expect((await mine(tom)).codes).toEqual(tomCodes);
    const audit = await db.selectFrom('audit_events').select(['action', 'after']).where('action', '=', 'conference.codes_regenerated').execute();
    expect(audit).toHaveLength(2);
    expect(JSON.stringify(audit)).not.toContain(after.participant);
    for (const bad of [{ which: 'everyone' }, { which: 'host', extra: 1 }, []]) {
      const r = await sam.json('POST', '/api/me/conference/codes', bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
    }
  });

  it('refuses a caller who is not signed in', async () => {
    expect((await fetch(`${product.url}/api/me/conference`)).status).toBe(401);
    expect((await fetch(`${product.url}/api/me/conference/codes`, { method: 'POST', headers: { 'content-type': 'application/json', origin: product.url }, body: '{}' })).status).toBe(401);
  });
});
