import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@carillon/db';
import { startApiProduct, type ApiProduct } from '../support/api-product.ts';
import type { HttpClient } from '../support/http-client.ts';

/**
 * The company's custom answering rules' API (issue 14, RULE-01…RULE-06), on the running product and real
 * PostgreSQL with the unreleased area 'ivr' shown: rules added last, edited in place, enabled and disabled,
 * moved and deleted, each change audited; bad bodies and targets that do not exist refused with a 400
 * naming the field; a standard user may read nothing and change nothing; another account's rule is 404.
 */
let ctx: ApiProduct;
let db: Db;
let admin: HttpClient;
let sam: HttpClient;
let other: HttpClient;
let accountId = '';
let mainNumber = '';
const PASSWORD = 'Meadow5Lantern';

interface Rule {
  id: string;
  position: number;
  name: string;
  enabled: boolean;
  conditions: unknown[];
  target: { type: string; menu?: string; extension?: string };
}
interface RulesView {
  rules: Rule[];
  targets: { number: string; name: string; type: string }[];
  numbers: { e164: string; label: string | null }[];
  mode: string;
  timeZone: string;
  issues: { rule: string; key?: string; target?: string; ruleId?: string }[];
}

const vip = { type: 'caller_id', numbers: ['+14155550123'], contactIds: [], anonymous: false };
const body = (name: string, target: object = { type: 'extension', extension: '2101' }, conditions: object[] = [vip]) => ({ name, conditions, target });
const viewOf = async (client: HttpClient) => (await (await client.get('/api/ivr/custom-rules')).json()) as RulesView;
const auditOf = (action: string) => db.selectFrom('audit_events').select(['action', 'target_id', 'before', 'after']).where('account_id', '=', accountId).where('action', '=', action).orderBy('occurred_at').execute();

beforeAll(async () => {
  ctx = await startApiProduct({
    scratchName: 'ivr_custom_rules',
    env: { ENABLE_UNRELEASED: 'ivr' },
    users: [{ extension: '2101', name: 'sam' }],
    signIn: ['sam'],
    password: PASSWORD,
  });
  ({ db, admin, other, accountId } = ctx);
  sam = ctx.users.sam!;
  mainNumber = (await db.selectFrom('phone_numbers').select('e164').where('account_id', '=', accountId).orderBy('e164').executeTakeFirst())?.e164 ?? '';
  if (!mainNumber) {
    mainNumber = '+14155550100';
    await db.insertInto('phone_numbers').values({ account_id: accountId, e164: mainNumber, type: 'main' }).execute();
  }
}, 120_000);

afterAll(async () => {
  expect(await ctx?.stop()).toBe(0);
});

describe('custom answering rules API', () => {
  it('adds rules last, edits one in place, disables it, moves and deletes; each change audited; the list says what a rule can name', async () => {
    const empty = await viewOf(admin);
    expect(empty).toMatchObject({ rules: [], mode: 'single', issues: [] });
    expect(empty.targets).toContainEqual(expect.objectContaining({ number: '2101', type: 'user' }));
    expect(empty.numbers.map((n) => n.e164)).toContain(mainNumber);

    const created = await admin.json('POST', '/api/ivr/custom-rules', body('VIP'));
    expect(created.status).toBe(201);
    const vipRule = ((await created.json()) as { rule: Rule }).rule;
    expect(vipRule).toMatchObject({ position: 1, name: 'VIP', enabled: true, target: { type: 'extension', extension: '2101' } });
    const lunch = { type: 'schedule', schedule: { mode: 'custom', days: { mon: [{ from: '12:00', to: '13:30' }] } } };
    const second = ((await (await admin.json('POST', '/api/ivr/custom-rules', body('Lunch', { type: 'extension', extension: '101' }, [lunch, { type: 'called_number', numbers: [mainNumber] }]))).json()) as { rule: Rule }).rule;
    expect(second.position).toBe(2);

    const edited = await admin.json('PUT', `/api/ivr/custom-rules/${vipRule.id}`, { ...body('VIP callers'), enabled: false });
    expect(edited.status).toBe(200);
    expect(((await edited.json()) as { rule: Rule }).rule).toMatchObject({ id: vipRule.id, position: 1, name: 'VIP callers', enabled: false });

    const moved = await admin.json('POST', `/api/ivr/custom-rules/${second.id}/move`, { position: 1 });
    expect(moved.status).toBe(200);
    expect(((await moved.json()) as { rules: Rule[] }).rules.map((r) => [r.name, r.position])).toEqual([
      ['Lunch', 1],
      ['VIP callers', 2],
    ]);
    expect((await viewOf(admin)).rules.map((r) => r.name)).toEqual(['Lunch', 'VIP callers']);

    expect((await admin.request('DELETE', `/api/ivr/custom-rules/${second.id}`)).status).toBe(204);
    expect((await viewOf(admin)).rules.map((r) => [r.name, r.position])).toEqual([['VIP callers', 1]]);
    expect((await admin.request('DELETE', `/api/ivr/custom-rules/${second.id}`)).status).toBe(404);

    expect((await auditOf('ivr.custom_rule_created')).map((e) => e.target_id)).toEqual([vipRule.id, second.id]);
    expect(await auditOf('ivr.custom_rule_updated')).toEqual([expect.objectContaining({ target_id: vipRule.id, before: expect.objectContaining({ name: 'VIP', enabled: true }), after: expect.objectContaining({ name: 'VIP callers', enabled: false }) })]);
    expect(await auditOf('ivr.custom_rule_moved')).toEqual([expect.objectContaining({ target_id: second.id, before: { position: 2 }, after: { position: 1 } })]);
    expect(await auditOf('ivr.custom_rule_deleted')).toEqual([expect.objectContaining({ target_id: second.id, before: expect.objectContaining({ name: 'Lunch' }) })]);
  });

  it('refuses bad bodies with a 400 naming the fields, and targets or numbers that are not the account’s with a 400 naming the field; nothing saved', async () => {
    const before = (await viewOf(admin)).rules;
    const refused = async (sent: unknown, method = 'POST', url = '/api/ivr/custom-rules') => {
      const res = await admin.json(method, url, sent);
      expect(res.status, JSON.stringify(sent)).toBe(400);
      return (await res.json()) as { error: string; fields: Record<string, string> };
    };
    expect(Object.keys((await refused(body(''))).fields)).toEqual(['name']);
    expect(Object.keys((await refused(body('No conditions', undefined, []))).fields)).toEqual(['conditions']);
    expect(Object.keys((await refused(body('Bad number', undefined, [{ ...vip, numbers: ['call me'] }]))).fields)).toEqual(['conditions.0.numbers.0']);
    expect(Object.keys((await refused(body('Bad dates', undefined, [{ type: 'date_range', ranges: [{ from: '2026-12-26T00:00', to: '2026-12-25T00:00' }] }]))).fields)).toEqual(['conditions.0.ranges.0.to']);
    expect(Object.keys((await refused(body('Bad target', { type: 'queue', extension: '2101' }))).fields)).toEqual(['target.type']);
    expect((await refused({ ...body('Extra'), colour: 'red' })).error).toBe('invalid_body');

    expect(await refused(body('Nobody', { type: 'extension', extension: '4999' }))).toEqual({ error: 'unknown_target', detail: 'no extension 4999 in this account', fields: { 'target.extension': 'no extension 4999 in this account' } });
    expect((await refused(body('No menu', { type: 'menu', menu: '4998' }))).fields).toHaveProperty('target.menu');
    expect((await refused(body('Not a menu', { type: 'menu', menu: '2101' }))).error).toBe('target_not_menu');
    expect((await refused(body('Not ours', undefined, [{ type: 'called_number', numbers: ['+14155550999'] }]))).fields).toEqual({ 'conditions.0.numbers': '+14155550999 is not a number of this account' });
    // Another account's extension is no target here.
    const otherMe = (await (await other.get('/api/me')).json()) as { extension: string };
    await db.updateTable('extensions').set({ number: '2998' }).where('account_id', '!=', accountId).where('number', '=', otherMe.extension).execute();
    expect((await refused(body('Theirs', { type: 'extension', extension: '2998' }))).error).toBe('unknown_target');
    // The same checks on an edit; the rule is unchanged.
    expect((await refused(body('Nobody', { type: 'extension', extension: '4999' }), 'PUT', `/api/ivr/custom-rules/${before[0]!.id}`)).error).toBe('unknown_target');
    expect(Object.keys((await refused({ position: 0 }, 'POST', `/api/ivr/custom-rules/${before[0]!.id}/move`)).fields)).toEqual(['position']);
    expect((await viewOf(admin)).rules).toEqual(before);
  });

  it('lets a rule go to a top-level menu in multi-level mode, and reports a rule whose target was deleted (IVR-15)', async () => {
    const menu = ((await (await admin.json('POST', '/api/ivr/menus', { number: '3001', name: 'Holidays' })).json()) as { menu: { id: string } }).menu;
    const single = await admin.json('POST', '/api/ivr/custom-rules', body('To menu', { type: 'menu', menu: '3001' }));
    expect(single.status).toBe(400);
    expect(((await single.json()) as { error: string }).error).toBe('menu_needs_multi_level');
    const settings = ((await (await admin.get('/api/ivr')).json()) as { settings: Record<string, unknown> }).settings;
    expect((await admin.json('PUT', '/api/ivr/settings', { ...settings, mode: 'multi', businessHoursMenu: '3001' })).status).toBe(200);
    const created = await admin.json('POST', '/api/ivr/custom-rules', body('To menu', { type: 'menu', menu: '3001' }));
    expect(created.status).toBe(201);
    const rule = ((await created.json()) as { rule: Rule }).rule;
    expect((await viewOf(admin)).issues).toEqual([]);

    expect((await admin.request('DELETE', `/api/ivr/menus/${menu.id}`)).status).toBe(204);
    expect((await viewOf(admin)).issues).toEqual([{ rule: 'custom_rule_target', menu: null, key: 'To menu', target: '3001', ruleId: rule.id }]);
    const validated = (await (await admin.json('POST', '/api/ivr/validate', {})).json()) as { issues: { rule: string }[] };
    expect(validated.issues.filter((i) => i.rule === 'custom_rule_target')).toHaveLength(1);
    expect((await admin.request('DELETE', `/api/ivr/custom-rules/${rule.id}`)).status).toBe(204);
  });

  it('needs phone_system.view to read and phone_system.manage to change: a standard user gets 403 and changes nothing', async () => {
    const rule = (await viewOf(admin)).rules[0]!;
    expect((await sam.get('/api/ivr/custom-rules')).status).toBe(403);
    expect((await sam.json('POST', '/api/ivr/custom-rules', body('Sam'))).status).toBe(403);
    expect((await sam.json('PUT', `/api/ivr/custom-rules/${rule.id}`, body('Sam'))).status).toBe(403);
    expect((await sam.json('POST', `/api/ivr/custom-rules/${rule.id}/move`, { position: 1 })).status).toBe(403);
    expect((await sam.request('DELETE', `/api/ivr/custom-rules/${rule.id}`)).status).toBe(403);
    expect((await viewOf(admin)).rules).toEqual([rule]);
  });

  it('answers 404 to another account for a rule of this one, and lists only the caller’s rules', async () => {
    const rule = (await viewOf(admin)).rules[0]!;
    expect((await other.json('PUT', `/api/ivr/custom-rules/${rule.id}`, body('Mallory', { type: 'extension', extension: '101' }))).status).toBe(404);
    expect((await other.json('POST', `/api/ivr/custom-rules/${rule.id}/move`, { position: 1 })).status).toBe(404);
    expect((await other.request('DELETE', `/api/ivr/custom-rules/${rule.id}`)).status).toBe(404);
    expect((await other.request('DELETE', '/api/ivr/custom-rules/not-a-uuid')).status).toBe(404);
    expect((await viewOf(other)).rules).toEqual([]);
    expect((await viewOf(admin)).rules).toEqual([rule]);
  });
});
