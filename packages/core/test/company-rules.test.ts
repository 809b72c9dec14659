import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { companyRuleInput, MAX_COMPANY_RULES, type CompanyRuleInput } from '@carillon/domain';
import { CompanyRuleError, createCompanyRule, createIvrMenu, deleteCompanyRule, deleteIvrMenu, listCompanyRules, moveCompanyRule, saveIvrSettings, getIvrSettings, updateCompanyRule, validateAccountIvr } from '@carillon/core/ivr';
import { installConfigChangeSink, type AuditActor } from '@carillon/core';
import type { ConfigChange } from '@carillon/contracts/config-changes';
import type { Db } from '@carillon/db';
import { freshDb } from '../../../tests/support/env.ts';
import { activatedAccount, addUser, auditEvents } from './support.ts';

/**
 * The company's custom answering rules in the database (RULE-01…RULE-06, migration 0039): ordered,
 * bounded, account-scoped, every change audited and announced; targets checked when saved.
 */
let db: Db;
const announced: ConfigChange[] = [];
beforeAll(async () => {
  db = await freshDb();
  installConfigChangeSink(async (change) => {
    announced.push(change);
  });
});
afterAll(async () => {
  installConfigChangeSink(null);
  await db?.destroy();
});

const actor = (userId: string): AuditActor => ({ userId, ip: '198.51.100.7' });
const vip = (numbers: string[]) => ({ type: 'caller_id', numbers, contactIds: [], anonymous: false });
const input = (name: string, target: object = { type: 'extension', extension: '102' }, conditions: object[] = [vip(['+14155550123'])]): CompanyRuleInput =>
  companyRuleInput.parse({ name, conditions, target });

async function account() {
  const acct = await activatedAccount(db);
  await addUser(db, acct.accountId, { number: '102' });
  return { ...acct, me: actor(acct.userId) };
}

describe('company custom answering rules (core)', () => {
  it('creates rules last in the list, updates one in its place, moves and deletes them keeping the order 1…n; each change audited and announced', async () => {
    const a = await account();
    announced.length = 0;
    const first = await createCompanyRule(db, a.me, a.accountId, input('VIP'));
    const second = await createCompanyRule(db, a.me, a.accountId, input('Holiday', { type: 'extension', extension: '101' }, [{ type: 'date_range', ranges: [{ from: '2026-12-25T00:00', to: '2026-12-26T00:00' }] }]));
    const third = await createCompanyRule(db, a.me, a.accountId, input('Lunch'));
    expect([first.position, second.position, third.position]).toEqual([1, 2, 3]);

    const updated = await updateCompanyRule(db, a.me, a.accountId, second.id, { ...input('Christmas', { type: 'extension', extension: '101' }, second.conditions as object[]), enabled: false });
    expect(updated).toMatchObject({ id: second.id, position: 2, name: 'Christmas', enabled: false });

    const moved = await moveCompanyRule(db, a.me, a.accountId, third.id, 1);
    expect(moved!.map((r) => [r.name, r.position])).toEqual([
      ['Lunch', 1],
      ['VIP', 2],
      ['Christmas', 3],
    ]);
    // Past the end: last. Where it already is: nothing changes (no audit, no announcement).
    expect((await moveCompanyRule(db, a.me, a.accountId, third.id, 50))!.map((r) => r.name)).toEqual(['VIP', 'Christmas', 'Lunch']);
    expect((await moveCompanyRule(db, a.me, a.accountId, third.id, 3))!.map((r) => r.name)).toEqual(['VIP', 'Christmas', 'Lunch']);
    expect(await deleteCompanyRule(db, a.me, a.accountId, first.id)).toBe(true);
    expect((await listCompanyRules(db, a.accountId)).map((r) => [r.name, r.position])).toEqual([
      ['Christmas', 1],
      ['Lunch', 2],
    ]);

    const actions = (await auditEvents(db, a.accountId)).map((e) => e.action).filter((x) => x.startsWith('ivr.custom_rule'));
    expect(actions).toEqual([
      'ivr.custom_rule_created',
      'ivr.custom_rule_created',
      'ivr.custom_rule_created',
      'ivr.custom_rule_updated',
      'ivr.custom_rule_moved',
      'ivr.custom_rule_moved',
      'ivr.custom_rule_deleted',
    ]);
    const update = (await auditEvents(db, a.accountId, 'ivr.custom_rule_updated'))[0]!;
    expect(update).toMatchObject({ target_id: second.id, before: expect.objectContaining({ name: 'Holiday', enabled: true }), after: expect.objectContaining({ name: 'Christmas', enabled: false }) });
    expect(announced.filter((c) => c.accountId === a.accountId).map((c) => c.subjects)).toEqual(Array(7).fill(['ivr']));
  });

  it('is scoped to its account: another account’s rule is not found, not changed, not moved, not deleted', async () => {
    const a = await account();
    const b = await account();
    const theirs = await createCompanyRule(db, b.me, b.accountId, input('Beta VIP'));
    expect(await updateCompanyRule(db, a.me, a.accountId, theirs.id, input('Mallory'))).toBeNull();
    expect(await moveCompanyRule(db, a.me, a.accountId, theirs.id, 1)).toBeNull();
    expect(await deleteCompanyRule(db, a.me, a.accountId, theirs.id)).toBe(false);
    expect(await listCompanyRules(db, a.accountId)).toEqual([]);
    expect((await listCompanyRules(db, b.accountId)).map((r) => r.name)).toEqual(['Beta VIP']);
  });

  it(`keeps at most ${MAX_COMPANY_RULES} rules per account`, async () => {
    const a = await account();
    for (let i = 1; i <= MAX_COMPANY_RULES; i++) await createCompanyRule(db, a.me, a.accountId, input(`Rule ${i}`));
    await expect(createCompanyRule(db, a.me, a.accountId, input('One too many'))).rejects.toMatchObject({ code: 'too_many_rules' });
    expect(await listCompanyRules(db, a.accountId)).toHaveLength(MAX_COMPANY_RULES);
    // The database bounds it too: a position past 50 is refused.
    await expect(db.insertInto('company_answering_rules').values({ account_id: a.accountId, position: 51, name: 'x', conditions: '[]', target: '{}' }).execute()).rejects.toThrow();
  });

  it('refuses a target that does not exist or cannot take a call, a menu outside multi-level mode, a called number not the account’s, and contacts; nothing is saved', async () => {
    const a = await account();
    const refused = async (rule: CompanyRuleInput, code: CompanyRuleError['code'], field: string) => {
      const err = await createCompanyRule(db, a.me, a.accountId, rule).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CompanyRuleError);
      expect(err).toMatchObject({ code, field });
    };
    await refused(input('Nobody', { type: 'extension', extension: '999' }), 'unknown_target', 'target.extension');
    await refused(input('No menu', { type: 'menu', menu: '1001' }), 'unknown_target', 'target.menu');
    await refused(input('Not a menu', { type: 'menu', menu: '102' }), 'target_not_menu', 'target.menu');
    const menu = await createIvrMenu(db, a.me, a.accountId, { number: '1001', name: 'Main', language: 'en' });
    await refused(input('Single level', { type: 'menu', menu: '1001' }), 'menu_needs_multi_level', 'target.menu');
    await refused(input('Menu as extension', { type: 'extension', extension: '1001' }), 'target_not_reachable', 'target.extension');
    const site = await db.selectFrom('sites').select('id').where('account_id', '=', a.accountId).executeTakeFirstOrThrow();
    await db.insertInto('extensions').values({ account_id: a.accountId, site_id: site.id, number: '801', type: 'park_location', status: 'activated' }).execute();
    await refused(input('Park', { type: 'extension', extension: '801' }), 'target_not_reachable', 'target.extension');
    await refused(input('Other number', undefined, [{ type: 'called_number', numbers: ['+14155550999'] }]), 'called_number_not_ours', 'conditions.0.numbers');
    await refused(input('Contacts', undefined, [{ ...vip([]), contactIds: ['6f1c1a52-3c3e-4b7e-9a55-0c6d6f0f2b11'] }]), 'contacts_not_supported', 'conditions.0.contactIds');
    expect(await listCompanyRules(db, a.accountId)).toEqual([]);

    // Multi-level mode: a top menu is a target; the account's own number is a called number.
    await saveIvrSettings(db, a.me, a.accountId, { ...(await getIvrSettings(db, a.accountId)), mode: 'multi', businessHoursMenu: '1001' });
    const main = (await db.selectFrom('accounts').select('main_number').where('id', '=', a.accountId).executeTakeFirstOrThrow()).main_number!;
    await db.insertInto('phone_numbers').values({ account_id: a.accountId, e164: main, type: 'main' }).onConflict((c) => c.doNothing()).execute();
    const ok = await createCompanyRule(db, a.me, a.accountId, input('To menu', { type: 'menu', menu: '1001' }, [{ type: 'called_number', numbers: [main] }]));
    expect(ok.target).toEqual({ type: 'menu', menu: '1001' });

    // IVR-15: once the menu is deleted, validation reports the rule (by name and id).
    await createCompanyRule(db, a.me, a.accountId, input('To 102'));
    expect((await validateAccountIvr(db, a.accountId)).filter((i) => i.rule === 'custom_rule_target')).toEqual([]);
    await deleteIvrMenu(db, a.me, a.accountId, menu.id);
    await db.deleteFrom('users').where('account_id', '=', a.accountId).where('extension_id', 'in', db.selectFrom('extensions').select('id').where('account_id', '=', a.accountId).where('number', '=', '102')).execute();
    await db.deleteFrom('extensions').where('account_id', '=', a.accountId).where('number', '=', '102').execute();
    const issues = (await validateAccountIvr(db, a.accountId)).filter((i) => i.rule === 'custom_rule_target');
    expect(issues).toEqual([
      { rule: 'custom_rule_target', menu: null, key: 'To menu', target: '1001', ruleId: ok.id },
      { rule: 'custom_rule_target', menu: null, key: 'To 102', target: '102', ruleId: expect.any(String) },
    ]);
    // Such a rule can still be switched off as it is; enabled again, or given another missing target, it is refused.
    const dead = input('To menu', { type: 'menu', menu: '1001' }, [{ type: 'called_number', numbers: [main] }]);
    await expect(updateCompanyRule(db, a.me, a.accountId, ok.id, dead)).rejects.toMatchObject({ code: 'unknown_target' });
    await expect(updateCompanyRule(db, a.me, a.accountId, ok.id, { ...dead, enabled: false, target: { type: 'menu', menu: '1002' } })).rejects.toMatchObject({ code: 'unknown_target' });
    expect(await updateCompanyRule(db, a.me, a.accountId, ok.id, { ...dead, enabled: false })).toMatchObject({ id: ok.id, enabled: false });
  });
});
