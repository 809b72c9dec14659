import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@carillon/db';
import { startApiProduct, type ApiProduct } from '../support/api-product.ts';
import type { HttpClient } from '../support/http-client.ts';

/**
 * Single-level company call handling (AR-01) through the IVR settings API, on the running product and real
 * PostgreSQL with the unreleased area 'ivr' shown: per schedule the company greeting or an extension that
 * takes calls, the greeting's prompt and the no-action rule are saved, read back and audited; a target that
 * does not exist here (another account's included) or is of a kind that takes no call (a paging group, an
 * IVR menu) is refused by field; left out, the stored handling is kept; a target deleted since is reported
 * by validation (IVR-15) and can still be saved as it is; a standard user may change nothing.
 */
let ctx: ApiProduct;
let db: Db;
let admin: HttpClient;
let sam: HttpClient;
let other: HttpClient;
let accountId = '';
const PASSWORD = 'Meadow5Lantern';

type Settings = Record<string, unknown> & { singleLevel?: unknown };
const ivrOf = async (client: HttpClient) => (await (await client.get('/api/ivr')).json()) as { settings: Settings; issues: { rule: string }[]; callTargets: { number: string; type: string }[] };
const auditOf = (account: string, action: string) =>
  db.selectFrom('audit_events').select(['action', 'before', 'after']).where('account_id', '=', account).where('action', '=', action).orderBy('occurred_at', 'desc').execute();

const HANDLING = { businessHours: { type: 'company_greeting' }, afterHours: { type: 'extension', extension: '2102' }, greeting: { mode: 'default' }, noAction: 'disconnect' };

/** Saves the settings as read, with `singleLevel` (the general settings form's body: no hours or directory). */
async function save(client: HttpClient, singleLevel: unknown) {
  const { hours: _hours, directory: _directory, ...settings } = (await ivrOf(admin)).settings;
  return client.json('PUT', '/api/ivr/settings', singleLevel === undefined ? settings : { ...settings, singleLevel });
}

beforeAll(async () => {
  ctx = await startApiProduct({
    scratchName: 'ivr_single_level',
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
  const otherAccountId = ((await (await other.get('/api/me')).json()) as { accountId: string }).accountId;
  // A user's extension that exists only in the other account.
  await db.updateTable('extensions').set({ number: '2999' }).where('account_id', '=', otherAccountId).where('type', '=', 'user').execute();
  // Extensions of this account of kinds that do (a message-only mailbox) and do not (a paging group) take calls.
  const site = await db.selectFrom('sites').select('id').where('account_id', '=', accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  await db
    .insertInto('extensions')
    .values([
      { account_id: accountId, site_id: site.id, number: '2600', type: 'message_only', name: 'Messages', status: 'activated' },
      { account_id: accountId, site_id: site.id, number: '2700', type: 'paging', name: 'Warehouse', status: 'activated' },
    ])
    .execute();
}, 120_000);

afterAll(async () => {
  expect(await ctx?.stop()).toBe(0);
});

describe('single-level company call handling (AR-01)', () => {
  it('lists the extensions calls can be sent to: this account’s, of the kinds that take calls', async () => {
    const { settings, callTargets } = await ivrOf(admin);
    expect(settings.mode).toBe('single');
    expect(settings.singleLevel).toBeUndefined();
    const numbers = callTargets.map((x) => x.number);
    expect(numbers).toEqual(expect.arrayContaining(['2101', '2102', '2600']));
    expect(numbers).not.toContain('2700');
    expect(numbers).not.toContain('2999');
    expect(callTargets.find((x) => x.number === '2600')?.type).toBe('message_only');
  });

  it('saves the greeting in business hours and an extension after hours, reads them back and audits the change', async () => {
    const put = await save(admin, HANDLING);
    expect(put.status).toBe(200);
    expect(((await put.json()) as { settings: Settings }).settings.singleLevel).toEqual(HANDLING);
    expect((await ivrOf(admin)).settings.singleLevel).toEqual(HANDLING);
    const [audit] = await auditOf(accountId, 'ivr.settings_updated');
    expect(audit).toMatchObject({ after: { singleLevel: HANDLING } });
    // A settings form that predates it leaves it as it is; the other account has none.
    expect((await save(admin, undefined)).status).toBe(200);
    expect((await ivrOf(admin)).settings.singleLevel).toEqual(HANDLING);
    expect((await ivrOf(other)).settings.singleLevel).toBeUndefined();
  });

  it('refuses by field a target that is not here, another account’s, of a kind that takes no call, or malformed; keeps what was saved', async () => {
    const refused = async (singleLevel: unknown) => {
      const res = await save(admin, singleLevel);
      expect(res.status).toBe(400);
      return (await res.json()) as { error?: string; fields: Record<string, string> };
    };
    expect(await refused({ ...HANDLING, afterHours: { type: 'extension', extension: '2999' } })).toEqual({
      error: 'unknown_target',
      detail: 'no extension 2999 in this account',
      fields: { 'singleLevel.afterHours.extension': 'no extension 2999 in this account' },
    });
    expect((await refused({ ...HANDLING, businessHours: { type: 'extension', extension: '2700' } })).fields).toEqual({ 'singleLevel.businessHours.extension': 'extension 2700 (paging) cannot take a call' });
    expect((await admin.json('POST', '/api/ivr/menus', { number: '2500', name: 'Main' })).status).toBe(201);
    expect((await refused({ ...HANDLING, businessHours: { type: 'extension', extension: '2500' } })).error).toBe('target_not_reachable');
    expect(Object.keys((await refused({ ...HANDLING, afterHours: { type: 'queue', extension: '2102' } })).fields)).toEqual(['singleLevel.afterHours.type']);
    expect(Object.keys((await refused({ ...HANDLING, noAction: 'hang_up' })).fields)).toEqual(['singleLevel.noAction']);
    expect(Object.keys((await refused({ ...HANDLING, greeting: { mode: 'tts', text: 'Hello' } })).fields)).toEqual(['singleLevel.greeting.mode']);
    expect((await ivrOf(admin)).settings.singleLevel).toEqual(HANDLING);
  });

  it('reports a target deleted since (IVR-15), which may still be saved as it is but not chosen anew; a missing greeting prompt too', async () => {
    const toMailbox = { ...HANDLING, afterHours: { type: 'extension', extension: '2600' }, greeting: { mode: 'audio', prompt: 'No such prompt' } };
    expect((await save(admin, toMailbox)).status).toBe(200);
    await db.deleteFrom('extensions').where('account_id', '=', accountId).where('number', '=', '2600').execute();
    const { issues } = await ivrOf(admin);
    expect(issues).toContainEqual({ rule: 'company_call_target', menu: null, key: 'afterHours', target: '2600' });
    expect(issues).toContainEqual({ rule: 'company_greeting_prompt', menu: null, target: 'No such prompt' });
    expect((await save(admin, toMailbox)).status).toBe(200);
    expect((await save(admin, { ...toMailbox, businessHours: { type: 'extension', extension: '2600' } })).status).toBe(400);
    expect((await save(admin, HANDLING)).status).toBe(200);
    expect((await ivrOf(admin)).issues.map((i) => i.rule)).not.toContain('company_call_target');
  });

  it('may be changed by an administrator only', async () => {
    expect((await save(sam, { ...HANDLING, noAction: 'operator' })).status).toBe(403);
    expect((await ivrOf(admin)).settings.singleLevel).toEqual(HANDLING);
  });
});
