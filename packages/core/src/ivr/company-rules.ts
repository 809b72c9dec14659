import type { Kysely, Transaction } from 'kysely';
import type { Database, ExtensionType } from '@carillon/db';
import { z } from 'zod';
import {
  companyRuleTarget,
  companyRuleTargetNumber,
  MAX_COMPANY_RULES,
  ruleConditionsSchema,
  sameNumber,
  type CompanyRule,
  type CompanyRuleInput,
} from '@carillon/domain';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { announceConfigChange } from '../accounts/config-changes.ts';

/**
 * The company's custom answering rules in the database (migration 0039; inventory 2 RULE-01…RULE-06):
 * an ordered list per account, at most MAX_COMPANY_RULES. Every change runs in one transaction under a
 * lock of the account's row (two admins adding the 50th rule at once, or moving rules at once, are
 * serialised), is audited, and is announced as config subject 'ivr' once committed, so that the very
 * next call to a company number reads it (media-server's IVR cache drops the account). Whoever calls
 * these has checked the caller's permission; every query is scoped to the account.
 */

export class CompanyRuleError extends Error {
  readonly code: 'too_many_rules' | 'unknown_target' | 'target_not_menu' | 'target_not_reachable' | 'menu_needs_multi_level' | 'called_number_not_ours' | 'contacts_not_supported';
  /** The body's field at fault (`target.extension`, `conditions.0.numbers`…). */
  readonly field: string;
  readonly detail: string;
  constructor(code: CompanyRuleError['code'], field: string, detail: string) {
    super(`${code}: ${detail}`);
    this.code = code;
    this.field = field;
    this.detail = detail;
  }
}

/** A rule as the API shows it: its place in the list (1 first) with the rule itself. */
export interface CompanyRuleView extends CompanyRule {
  position: number;
}

/** The move operation's body: the rule's new place in the list, 1 first (past the end: last). */
export const companyRuleMove = z.object({ position: z.number().int().min(1).max(MAX_COMPANY_RULES) }).strict();
export type CompanyRuleMove = z.infer<typeof companyRuleMove>;

type Db = Kysely<Database>;
type Trx = Transaction<Database>;

/**
 * The extension kinds a rule may send a call to (RULE-02: "an extension of any type" that takes calls):
 * people, shared lines, queues, mailboxes and announcements. Paging groups and park locations do not
 * answer a caller; an IVR menu is a rule's `menu` target.
 */
const REACHABLE_TYPES: readonly ExtensionType[] = ['user', 'limited', 'shared_lines', 'call_queue', 'message_only', 'announcement_only'];

type RuleRow = { id: string; position: number; name: string; enabled: boolean; conditions: unknown; target: unknown };

/**
 * Reads a row back through the schemas. A rule that no longer parses (written by an older version, or by
 * hand) is shown disabled with what can be read of it, so the admin sees it and can fix or delete it,
 * and no call is routed by half a rule.
 */
function ruleView(r: RuleRow): CompanyRuleView {
  const conditions = ruleConditionsSchema.safeParse(r.conditions);
  const target = companyRuleTarget.safeParse(r.target);
  const ok = conditions.success && target.success;
  return {
    id: r.id,
    position: r.position,
    name: r.name,
    enabled: ok && r.enabled,
    conditions: conditions.success ? conditions.data : [],
    target: target.success ? target.data : { type: 'extension', extension: '0' },
  };
}

function rulesQuery(db: Db | Trx, accountId: string) {
  return db.selectFrom('company_answering_rules').select(['id', 'position', 'name', 'enabled', 'conditions', 'target']).where('account_id', '=', accountId).orderBy('position');
}

/** RULE-06: the account's rules, in the order they are tried. */
export async function listCompanyRules(db: Db, accountId: string): Promise<CompanyRuleView[]> {
  return (await rulesQuery(db, accountId).execute()).map(ruleView);
}

export async function getCompanyRule(db: Db, accountId: string, id: string): Promise<CompanyRuleView | null> {
  const row = await rulesQuery(db, accountId).where('id', '=', id).executeTakeFirst();
  return row ? ruleView(row) : null;
}

/** Serialises the account's rule changes (the count, the positions) until the transaction ends. */
async function lockAccount(trx: Trx, accountId: string): Promise<void> {
  await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().executeTakeFirstOrThrow();
}

/** IVR-02: the account's IVR mode as stored; single level (the default) unless multi-level was saved. */
export async function ivrModeOf(db: Db | Trx, accountId: string): Promise<'single' | 'multi'> {
  const row = await db.selectFrom('ivr_settings').select('settings').where('account_id', '=', accountId).executeTakeFirst();
  return (row?.settings as { mode?: unknown } | undefined)?.mode === 'multi' ? 'multi' : 'single';
}

/**
 * What the schema cannot check: the target exists in the account and can take a call (RULE-02 step 3;
 * a menu only in multi-level mode), every called number is one of the account's numbers (RULE-04), and
 * callers are given by number (the company has no contacts of its own: a user's contacts stay theirs).
 */
async function checkRule(trx: Trx, accountId: string, rule: CompanyRuleInput, check = { target: true }): Promise<void> {
  if (check.target) await checkTarget(trx, accountId, rule);
  const ours = (await trx.selectFrom('phone_numbers').select('e164').where('account_id', '=', accountId).execute()).map((n) => n.e164);
  for (const [i, c] of rule.conditions.entries()) {
    if (c.type === 'caller_id' && c.contactIds.length > 0) throw new CompanyRuleError('contacts_not_supported', `conditions.${i}.contactIds`, 'give callers by number: company rules have no contacts');
    if (c.type !== 'called_number') continue;
    const stranger = c.numbers.find((n) => !ours.some((e164) => sameNumber(n, e164)));
    if (stranger !== undefined) throw new CompanyRuleError('called_number_not_ours', `conditions.${i}.numbers`, `${stranger} is not a number of this account`);
  }
}

async function checkTarget(trx: Trx, accountId: string, rule: CompanyRuleInput): Promise<void> {
  const number = companyRuleTargetNumber(rule.target);
  if (rule.target.type === 'menu') {
    const holder = await trx.selectFrom('extensions').select(['type']).where('account_id', '=', accountId).where('number', '=', number).executeTakeFirst();
    if (!holder) throw new CompanyRuleError('unknown_target', 'target.menu', `no IVR menu ${number} in this account`);
    if (holder.type !== 'ivr_menu') throw new CompanyRuleError('target_not_menu', 'target.menu', `extension ${number} is not an IVR menu`);
    if ((await ivrModeOf(trx, accountId)) !== 'multi') throw new CompanyRuleError('menu_needs_multi_level', 'target.menu', 'a rule can go to a top-level menu in multi-level IVR mode only; choose an extension');
  } else {
    const problem = await callTargetProblem(trx, accountId, number, 'target.extension');
    if (problem?.type === 'ivr_menu') throw new CompanyRuleError('target_not_reachable', 'target.extension', `extension ${number} is an IVR menu: choose it as the rule's menu`);
    if (problem) throw problem.error;
  }
}

/**
 * Whether extension `number` of the account can take a call sent to it by the company's call handling
 * (a custom rule's extension target, RULE-02; a single-level schedule's target, AR-01): null when it
 * can, else the refusal naming the body's `field`, with the extension's type (null: no such extension).
 */
export async function callTargetProblem(db: Db | Trx, accountId: string, number: string, field: string): Promise<{ error: CompanyRuleError; type: ExtensionType | null } | null> {
  const holder = await db.selectFrom('extensions').select(['type']).where('account_id', '=', accountId).where('number', '=', number).executeTakeFirst();
  if (!holder) return { error: new CompanyRuleError('unknown_target', field, `no extension ${number} in this account`), type: null };
  if (REACHABLE_TYPES.includes(holder.type)) return null;
  return { error: new CompanyRuleError('target_not_reachable', field, `extension ${number} (${holder.type}) cannot take a call`), type: holder.type };
}

const ruleValues = (rule: CompanyRuleInput) => ({ name: rule.name, enabled: rule.enabled, conditions: JSON.stringify(rule.conditions), target: JSON.stringify(rule.target) });

/** RULE-02: a new rule, last in the list. */
export async function createCompanyRule(db: Db, actor: AuditActor, accountId: string, rule: CompanyRuleInput): Promise<CompanyRuleView> {
  const created = await db.transaction().execute(async (trx) => {
    await lockAccount(trx, accountId);
    const count = Number((await trx.selectFrom('company_answering_rules').select((eb) => eb.fn.countAll<string>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow()).n);
    if (count >= MAX_COMPANY_RULES) throw new CompanyRuleError('too_many_rules', 'name', `an account has at most ${MAX_COMPANY_RULES} custom rules`);
    await checkRule(trx, accountId, rule);
    const row = await trx
      .insertInto('company_answering_rules')
      .values({ account_id: accountId, position: count + 1, ...ruleValues(rule) })
      .returning(['id', 'position', 'name', 'enabled', 'conditions', 'target'])
      .executeTakeFirstOrThrow();
    const view = ruleView(row);
    await recordAudit(trx, actor, { accountId, action: 'ivr.custom_rule_created', targetType: 'company_answering_rule', targetId: view.id, after: view });
    return view;
  });
  await announceConfigChange(accountId, 'ivr');
  return created;
}

/** An import's rules (IVR-23) in place of the account's, positions 1…n in the file's order, inside the import's transaction. */
export async function replaceCompanyRules(trx: Trx, accountId: string, rules: readonly CompanyRuleInput[]): Promise<void> {
  if (rules.length > MAX_COMPANY_RULES) throw new CompanyRuleError('too_many_rules', 'name', `an account has at most ${MAX_COMPANY_RULES} custom rules`);
  await lockAccount(trx, accountId);
  // The API's checks but the target's (validation names a rule whose target is missing, as for a menu's keys).
  for (const [i, rule] of rules.entries()) {
    try {
      await checkRule(trx, accountId, rule, { target: false });
    } catch (err) {
      if (err instanceof CompanyRuleError) throw new CompanyRuleError(err.code, `customRules.${i}.${err.field}`, `rule "${rule.name}": ${err.detail}`);
      throw err;
    }
  }
  await trx.deleteFrom('company_answering_rules').where('account_id', '=', accountId).execute();
  if (rules.length) await trx.insertInto('company_answering_rules').values(rules.map((r, i) => ({ account_id: accountId, position: i + 1, ...ruleValues(r) }))).execute();
}

/** RULE-02's "Edit Custom Rule", and RULE-06's enable/disable: the rule replaced whole, in its place. Null when not a rule of the account. */
export async function updateCompanyRule(db: Db, actor: AuditActor, accountId: string, id: string, rule: CompanyRuleInput): Promise<CompanyRuleView | null> {
  const updated = await db.transaction().execute(async (trx) => {
    await lockAccount(trx, accountId);
    const row = await rulesQuery(trx, accountId).where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    const before = ruleView(row);
    // A rule whose target was deleted since (IVR-15 reports it) can still be switched off or renamed as it is; any other save names a target that is there.
    const keepsDeadTarget = !rule.enabled && JSON.stringify(rule.target) === JSON.stringify(before.target);
    await checkRule(trx, accountId, rule, { target: !keepsDeadTarget });
    const after = await trx
      .updateTable('company_answering_rules')
      .set({ ...ruleValues(rule), updated_at: new Date() })
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .returning(['id', 'position', 'name', 'enabled', 'conditions', 'target'])
      .executeTakeFirstOrThrow();
    const view = ruleView(after);
    await recordAudit(trx, actor, { accountId, action: 'ivr.custom_rule_updated', targetType: 'company_answering_rule', targetId: id, before, after: view });
    return view;
  });
  if (updated) await announceConfigChange(accountId, 'ivr');
  return updated;
}

/** Writes positions 1…n in the order of `ids` (the deferred unique constraint is checked at commit). */
async function writeOrder(trx: Trx, accountId: string, ids: readonly string[]): Promise<void> {
  for (const [i, id] of ids.entries()) await trx.updateTable('company_answering_rules').set({ position: i + 1 }).where('account_id', '=', accountId).where('id', '=', id).execute();
}

/** Deletes a rule; the rules after it move up one place. False when not a rule of the account. */
export async function deleteCompanyRule(db: Db, actor: AuditActor, accountId: string, id: string): Promise<boolean> {
  const deleted = await db.transaction().execute(async (trx) => {
    await lockAccount(trx, accountId);
    const rows = await rulesQuery(trx, accountId).execute();
    const row = rows.find((r) => r.id === id);
    if (!row) return false;
    await trx.deleteFrom('company_answering_rules').where('account_id', '=', accountId).where('id', '=', id).execute();
    await writeOrder(trx, accountId, rows.filter((r) => r.id !== id).map((r) => r.id));
    await recordAudit(trx, actor, { accountId, action: 'ivr.custom_rule_deleted', targetType: 'company_answering_rule', targetId: id, before: ruleView(row) });
    return true;
  });
  if (deleted) await announceConfigChange(accountId, 'ivr');
  return deleted;
}

/**
 * RULE-06's order (move up / move down): the rule takes place `position` (1 first; past the end, last)
 * and the others keep their order around it. The whole list in its new order; null when not a rule of
 * the account.
 */
export async function moveCompanyRule(db: Db, actor: AuditActor, accountId: string, id: string, position: number): Promise<CompanyRuleView[] | null> {
  const moved = await db.transaction().execute(async (trx) => {
    await lockAccount(trx, accountId);
    const rows = await rulesQuery(trx, accountId).execute();
    const row = rows.find((r) => r.id === id);
    if (!row) return null;
    const others = rows.filter((r) => r.id !== id).map((r) => r.id);
    const to = Math.min(position, rows.length);
    const order = [...others.slice(0, to - 1), id, ...others.slice(to - 1)];
    // Already there: nothing written, audited or announced.
    if (to === row.position) return { rules: rows.map(ruleView), changed: false };
    await writeOrder(trx, accountId, order);
    await recordAudit(trx, actor, { accountId, action: 'ivr.custom_rule_moved', targetType: 'company_answering_rule', targetId: id, before: { position: row.position }, after: { position: to } });
    return { rules: (await rulesQuery(trx, accountId).execute()).map(ruleView), changed: true };
  });
  if (moved?.changed) await announceConfigChange(accountId, 'ivr');
  return moved?.rules ?? null;
}

/** What a rule can name (RULE-02 step 3, RULE-04): the account's menus and extensions that take calls, and its numbers. */
export interface CompanyRuleChoices {
  /** IVR menus (multi-level mode's top-level targets) and extensions of the kinds a rule may reach, by number. */
  targets: { number: string; name: string; type: ExtensionType }[];
  /** The account's phone numbers (RULE-04: "Select Number"). */
  numbers: { e164: string; label: string | null }[];
}

export async function companyRuleChoices(db: Db, accountId: string): Promise<CompanyRuleChoices> {
  const [extensions, numbers] = await Promise.all([
    db
      .selectFrom('extensions as e')
      .leftJoin('users as u', (j) => j.onRef('u.extension_id', '=', 'e.id').on('u.account_id', '=', accountId))
      .select(['e.number', 'e.name', 'e.type', 'u.first_name', 'u.last_name'])
      .where('e.account_id', '=', accountId)
      .where('e.type', 'in', ['ivr_menu', ...REACHABLE_TYPES])
      .orderBy('e.number')
      .execute(),
    db.selectFrom('phone_numbers').select(['e164', 'nickname']).where('account_id', '=', accountId).orderBy('e164').execute(),
  ]);
  return {
    targets: extensions.map((e) => ({ number: e.number, type: e.type, name: e.name ?? ([e.first_name, e.last_name].filter(Boolean).join(' ') || e.number) })),
    numbers: numbers.map((n) => ({ e164: n.e164, label: n.nickname })),
  };
}
