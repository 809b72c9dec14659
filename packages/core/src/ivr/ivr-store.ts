import type { Kysely, Transaction } from 'kysely';
import type { Database } from '@carillon/db';
import {
  DEFAULT_DIRECTORY_SETTINGS,
  DEFAULT_SINGLE_LEVEL,
  type CompanyGreetingPrompt,
  DEFAULT_IVR_SETTINGS,
  directorySettings,
  genericKeys as genericKeysSchema,
  IVR_LANGUAGES,
  isDialableFromIvr,
  ivrSettings,
  MAX_IVR_MENUS,
  menuKeys,
  menuPrompt,
  validateIvr,
  extensionNumber,
  weeklyScheduleSchema,
  type DirectorySettings,
  type IvrConfig,
  type IvrConfigInput,
  type IvrIssue,
  type IvrMenu,
  type IvrSettings,
  type IvrSettingsChange,
  type IvrValidationContext,
  type WeeklySchedule,
} from '@carillon/domain';
import { z } from 'zod';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { announceConfigChange } from '../accounts/config-changes.ts';
import { callTargetProblem, listCompanyRules, replaceCompanyRules } from './company-rules.ts';

/**
 * An account's IVR menus and settings in the database (migration 0023). A menu is an extension of type
 * `ivr_menu` (IVR-11; its number and name live there) with its `ivr_menus` row; the operator is the
 * account's `operator_extension_id`, the one the sign-in by company number and the setup wizard use, so
 * there is one operator, not two. Every change is audited and announced (`ivr`) once committed.
 */

export class IvrError extends Error {
  readonly code: 'number_taken' | 'not_found' | 'no_menus' | 'unknown_extension' | 'operator_not_user' | 'fax_sms_recipient_not_user' | 'too_many_menus' | 'directory_not_user' | 'unknown_prompt';
  readonly detail: string | undefined;
  constructor(code: IvrError['code'], detail?: string) {
    super(detail ? `${code}: ${detail}` : code);
    this.code = code;
    this.detail = detail;
  }
}

export interface IvrMenuView extends IvrMenu {
  id: string;
}

export const newMenuInput = z
  .object({ number: extensionNumber, name: z.string().trim().min(1).max(80), language: z.enum(IVR_LANGUAGES).default('en') })
  .strict();
export type NewMenuInput = z.infer<typeof newMenuInput>;

export const menuPatch = z
  .object({
    number: extensionNumber,
    name: z.string().trim().min(1).max(80),
    language: z.enum(IVR_LANGUAGES),
    prompt: menuPrompt.nullable(),
    keys: menuKeys,
    genericKeys: genericKeysSchema.nullable(),
  })
  .partial()
  .strict();
export type MenuPatch = z.infer<typeof menuPatch>;

type Db = Kysely<Database>;

function menuQuery(db: Db | Transaction<Database>, accountId: string) {
  return db
    .selectFrom('ivr_menus as m')
    .innerJoin('extensions as e', 'e.id', 'm.extension_id')
    .select(['e.id', 'e.number', 'e.name', 'm.language', 'm.prompt', 'm.keys', 'm.generic_keys'])
    .where('m.account_id', '=', accountId)
    .where('e.account_id', '=', accountId)
    .orderBy('e.number');
}

type MenuRow = { id: string; number: string; name: string | null; language: 'en' | 'fr'; prompt: unknown; keys: unknown; generic_keys: unknown };

/** Reads a row back through the schemas: JSON written by an older version is shown as it can be, never trusted blindly. */
const menuView = (r: MenuRow): IvrMenuView => ({
  id: r.id,
  number: r.number,
  name: r.name ?? r.number,
  language: r.language,
  prompt: menuPrompt.nullable().catch(null).parse(r.prompt ?? null),
  keys: menuKeys.catch({}).parse(r.keys ?? {}),
  genericKeys: genericKeysSchema.nullable().catch(null).parse(r.generic_keys ?? null),
});

export async function listIvrMenus(db: Db, accountId: string): Promise<IvrMenuView[]> {
  return (await menuQuery(db, accountId).execute()).map(menuView);
}

export async function getIvrMenu(db: Db, accountId: string, id: string): Promise<IvrMenuView | null> {
  const row = await menuQuery(db, accountId).where('e.id', '=', id).executeTakeFirst();
  return row ? menuView(row) : null;
}

async function operatorNumber(db: Db | Transaction<Database>, accountId: string): Promise<string | null> {
  const row = await db
    .selectFrom('accounts as a')
    .leftJoin('extensions as e', (j) => j.onRef('e.id', '=', 'a.operator_extension_id').on('e.account_id', '=', accountId))
    .select('e.number')
    .where('a.id', '=', accountId)
    .executeTakeFirst();
  return row?.number ?? null;
}

export async function getIvrSettings(db: Db, accountId: string): Promise<IvrSettings> {
  const row = await db.selectFrom('ivr_settings').select('settings').where('account_id', '=', accountId).executeTakeFirst();
  const stored = ivrSettings.safeParse({ ...DEFAULT_IVR_SETTINGS, ...((row?.settings as object | undefined) ?? {}) });
  return { ...(stored.success ? stored.data : DEFAULT_IVR_SETTINGS), operatorExtension: await operatorNumber(db, accountId) };
}

export async function loadIvrConfig(db: Db, accountId: string): Promise<IvrConfig> {
  const menus = (await listIvrMenus(db, accountId)).map(({ id: _id, ...m }) => m);
  return { settings: await getIvrSettings(db, accountId), menus };
}

/** What validation checks targets against: every extension number of the account, and the library's prompt names. */
export async function ivrValidationContext(db: Db, accountId: string): Promise<IvrValidationContext> {
  const [exts, prompts] = await Promise.all([
    db.selectFrom('extensions').select('number').where('account_id', '=', accountId).execute(),
    db.selectFrom('ivr_prompts').select('name').where('account_id', '=', accountId).execute(),
  ]);
  return { extensions: new Set(exts.map((e) => e.number)), prompts: new Set(prompts.map((p) => p.name)) };
}

/**
 * The extension numbers a caller may dial during a menu's prompt (issue 14), sorted: what the "try it"
 * simulator gives the interpreter, as the call side does from its routing snapshot.
 */
export async function ivrDialableNumbers(db: Db, accountId: string): Promise<string[]> {
  const rows = await db.selectFrom('extensions').select(['number', 'type', 'status']).where('account_id', '=', accountId).execute();
  return rows
    .filter(isDialableFromIvr)
    .map((r) => r.number)
    .sort();
}

/** IVR-15: the menus and settings, and the custom answering rules' targets (RULE-06's "Validate"). */
export async function validateAccountIvr(db: Db, accountId: string, config?: IvrConfig): Promise<IvrIssue[]> {
  return validateIvr(config ?? (await loadIvrConfig(db, accountId)), await ivrValidationContext(db, accountId), await listCompanyRules(db, accountId));
}

async function numberHolder(db: Db | Transaction<Database>, accountId: string, number: string) {
  return db.selectFrom('extensions').select(['id', 'type']).where('account_id', '=', accountId).where('number', '=', number).executeTakeFirst();
}

async function mainSiteId(db: Db | Transaction<Database>, accountId: string): Promise<string> {
  const site = await db.selectFrom('sites').select('id').where('account_id', '=', accountId).orderBy('is_main', 'desc').orderBy('created_at').executeTakeFirstOrThrow();
  return site.id;
}

async function insertMenu(trx: Transaction<Database>, accountId: string, menu: IvrMenu): Promise<string> {
  const ext = await trx
    .insertInto('extensions')
    .values({ account_id: accountId, site_id: await mainSiteId(trx, accountId), number: menu.number, type: 'ivr_menu', status: 'activated', name: menu.name })
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx
    .insertInto('ivr_menus')
    .values({ extension_id: ext.id, account_id: accountId, language: menu.language, prompt: JSON.stringify(menu.prompt), keys: JSON.stringify(menu.keys), generic_keys: JSON.stringify(menu.genericKeys) })
    .execute();
  return ext.id;
}

/** IVR-11: a new menu is a new extension; its number must be free in the account. */
export async function createIvrMenu(db: Db, actor: AuditActor, accountId: string, input: NewMenuInput): Promise<IvrMenuView> {
  const menu: IvrMenu = { ...input, prompt: null, keys: {}, genericKeys: null };
  const id = await db.transaction().execute(async (trx) => {
    if (await numberHolder(trx, accountId, input.number)) throw new IvrError('number_taken', input.number);
    const count = await trx.selectFrom('ivr_menus').select((eb) => eb.fn.countAll<string>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_IVR_MENUS) throw new IvrError('too_many_menus', String(MAX_IVR_MENUS));
    const extId = await insertMenu(trx, accountId, menu);
    await recordAudit(trx, actor, { accountId, action: 'ivr_menu.created', targetType: 'ivr_menu', targetId: extId, after: menu });
    return extId;
  });
  await announceConfigChange(accountId, 'ivr', 'extensions');
  return { id, ...menu };
}

export async function updateIvrMenu(db: Db, actor: AuditActor, accountId: string, id: string, patch: MenuPatch): Promise<IvrMenuView | null> {
  const result = await db.transaction().execute(async (trx) => {
    const row = await menuQuery(trx, accountId).where('e.id', '=', id).forUpdate().executeTakeFirst();
    if (!row) return null;
    const before = menuView(row);
    const after: IvrMenuView = { ...before, ...patch };
    if (after.number !== before.number) {
      const holder = await numberHolder(trx, accountId, after.number);
      if (holder && holder.id !== id) throw new IvrError('number_taken', after.number);
    }
    await trx.updateTable('extensions').set({ number: after.number, name: after.name }).where('id', '=', id).where('account_id', '=', accountId).execute();
    await trx
      .updateTable('ivr_menus')
      .set({ language: after.language, prompt: JSON.stringify(after.prompt), keys: JSON.stringify(after.keys), generic_keys: JSON.stringify(after.genericKeys), updated_at: new Date() })
      .where('extension_id', '=', id)
      .where('account_id', '=', accountId)
      .execute();
    await recordAudit(trx, actor, { accountId, action: 'ivr_menu.updated', targetType: 'ivr_menu', targetId: id, before, after });
    return after;
  });
  if (result) await announceConfigChange(accountId, 'ivr', 'extensions');
  return result;
}

export async function deleteIvrMenu(db: Db, actor: AuditActor, accountId: string, id: string): Promise<boolean> {
  const deleted = await db.transaction().execute(async (trx) => {
    const row = await menuQuery(trx, accountId).where('e.id', '=', id).executeTakeFirst();
    if (!row) return false;
    await trx.deleteFrom('extensions').where('id', '=', id).where('account_id', '=', accountId).where('type', '=', 'ivr_menu').execute();
    await recordAudit(trx, actor, { accountId, action: 'ivr_menu.deleted', targetType: 'ivr_menu', targetId: id, before: menuView(row) });
    return true;
  });
  if (deleted) await announceConfigChange(accountId, 'ivr', 'extensions');
  return deleted;
}

async function writeSettings(trx: Transaction<Database>, accountId: string, settings: IvrSettings): Promise<void> {
  // The operator is the account's (operator_extension_id); the rest is the IVR's own row.
  const { operatorExtension, ...own } = settings;
  if (operatorExtension !== null) {
    const holder = await numberHolder(trx, accountId, operatorExtension);
    if (!holder) throw new IvrError('unknown_extension', operatorExtension);
    // AR-05: the operator is a person (signing in with the company number alone reaches the operator's user).
    if (holder.type !== 'user') throw new IvrError('operator_not_user', operatorExtension);
    await trx.updateTable('accounts').set({ operator_extension_id: holder.id }).where('id', '=', accountId).execute();
  }
  await trx
    .insertInto('ivr_settings')
    .values({ account_id: accountId, settings: JSON.stringify(own) })
    .onConflict((oc) => oc.column('account_id').doUpdateSet({ settings: JSON.stringify(own), updated_at: new Date() }))
    .execute();
}

/**
 * IVR-02…IVR-04. Switching to multi-level needs at least one menu (IVR-02's precondition). Hours or
 * directory left out keep what is stored, read under the same lock of the account's row as their own
 * pages' saves (saveSettingsPart): a general settings form opened earlier never undoes them. The
 * single-level company call handling left out keeps what is stored; given, each schedule's extension must
 * exist and take calls (CompanyRuleError naming the field), unless it is the one already saved and was
 * deleted since (the admin can still save the other settings; validation reports it).
 */
export async function saveIvrSettings(db: Db, actor: AuditActor, accountId: string, change: IvrSettingsChange): Promise<IvrSettings> {
  await db.transaction().execute(async (trx) => {
    await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().executeTakeFirstOrThrow();
    const before = await getIvrSettings(trx, accountId);
    const directory = change.directory ?? before.directory;
    const singleLevel = change.singleLevel ?? before.singleLevel;
    const settings: IvrSettings = { ...change, hours: change.hours ?? before.hours, ...(directory ? { directory } : {}), ...(singleLevel ? { singleLevel } : {}) };
    // AR-01: a schedule's extension takes calls, as a custom rule's target must (RULE-02); a target deleted since is kept as it is (IVR-15 reports it).
    if (change.singleLevel) {
      for (const key of ['businessHours', 'afterHours'] as const) {
        const target = change.singleLevel[key];
        if (target.type !== 'extension') continue;
        const kept = before.singleLevel?.[key].type === 'extension' && before.singleLevel[key].extension === target.extension;
        const problem = await callTargetProblem(trx, accountId, target.extension, `singleLevel.${key}.extension`);
        if (problem && !(kept && problem.type === null)) throw problem.error;
      }
    }
    if (settings.mode === 'multi') {
      const any = await trx.selectFrom('ivr_menus').select('extension_id').where('account_id', '=', accountId).executeTakeFirst();
      if (!any) throw new IvrError('no_menus');
    }
    // IVR-04: faxes and texts to company numbers are read by a person, in their Messages. (An import keeps
    // the file's value and the validator reports a missing extension, as for the other targets.)
    if (settings.faxSmsRecipient !== null) {
      const holder = await numberHolder(trx, accountId, settings.faxSmsRecipient);
      if (!holder) throw new IvrError('unknown_extension', settings.faxSmsRecipient);
      if (holder.type !== 'user') throw new IvrError('fax_sms_recipient_not_user', settings.faxSmsRecipient);
    }
    await writeSettings(trx, accountId, settings);
    await recordAudit(trx, actor, { accountId, action: 'ivr.settings_updated', targetType: 'ivr_settings', targetId: accountId, before, after: settings });
  });
  await announceConfigChange(accountId, 'ivr');
  return getIvrSettings(db, accountId);
}

/** Numbers of the configuration held by extensions that are not IVR menus: those menus cannot be imported. */
export async function conflictingMenuNumbers(db: Db, accountId: string, config: Pick<IvrConfig, 'menus'>): Promise<string[]> {
  if (!config.menus.length) return [];
  const rows = await db
    .selectFrom('extensions')
    .select('number')
    .where('account_id', '=', accountId)
    .where('type', '<>', 'ivr_menu')
    .where('number', 'in', config.menus.map((m) => m.number))
    .execute();
  return rows.map((r) => r.number).sort();
}

/**
 * Replaces the account's IVR configuration by an imported one (IVR-23, "Accept and continue"): menus of
 * the file are created or updated by number, the account's other menus are deleted, and the settings
 * replaced, in one transaction. Menus whose number another kind of extension holds are skipped (the
 * import report said so); an operator that is not a user's extension keeps the current one.
 */
export async function replaceIvrConfig(db: Db, actor: AuditActor, accountId: string, config: IvrConfigInput): Promise<{ skippedMenus: string[] }> {
  const before = await loadIvrConfig(db, accountId);
  const skipped = await conflictingMenuNumbers(db, accountId, config);
  const menus = config.menus.filter((m) => !skipped.includes(m.number));
  await db.transaction().execute(async (trx) => {
    const existing = await menuQuery(trx, accountId).execute();
    const byNumber = new Map(existing.map((r) => [r.number, r.id]));
    const keep = new Set(menus.map((m) => m.number));
    const gone = existing.filter((r) => !keep.has(r.number)).map((r) => r.id);
    if (gone.length) await trx.deleteFrom('extensions').where('account_id', '=', accountId).where('type', '=', 'ivr_menu').where('id', 'in', gone).execute();
    for (const m of menus) {
      const id = byNumber.get(m.number);
      if (!id) {
        await insertMenu(trx, accountId, m);
        continue;
      }
      await trx.updateTable('extensions').set({ name: m.name }).where('id', '=', id).where('account_id', '=', accountId).execute();
      await trx
        .updateTable('ivr_menus')
        .set({ language: m.language, prompt: JSON.stringify(m.prompt), keys: JSON.stringify(m.keys), generic_keys: JSON.stringify(m.genericKeys), updated_at: new Date() })
        .where('extension_id', '=', id)
        .where('account_id', '=', accountId)
        .execute();
    }
    const operator = config.settings.operatorExtension;
    const operatorExists = operator !== null && (await numberHolder(trx, accountId, operator))?.type === 'user';
    // The company hours (AR-03), the directory's settings (AR-04) and single-level company call handling
    // (AR-01) are in the XML format (IVR-23) since it carries them; a file without them keeps the account's own.
    const hours = config.settings.hours ?? before.settings.hours;
    const directory = config.settings.directory ?? before.settings.directory;
    const singleLevel = config.settings.singleLevel ?? before.settings.singleLevel;
    await writeSettings(trx, accountId, { ...config.settings, hours, ...(directory ? { directory } : {}), ...(singleLevel ? { singleLevel } : {}), operatorExtension: operatorExists ? operator : null });
    // The custom answering rules, when the file carries them, replace the account's in the file's order. Their
    // targets are not refused here: a menu of the same file exists only now, and a rule naming an extension
    // that does not is what validation reports (custom_rule_target), as it does for a menu's keys.
    if (config.customRules) await replaceCompanyRules(trx, accountId, config.customRules);
    await recordAudit(trx, actor, { accountId, action: 'ivr.imported', targetType: 'ivr_settings', targetId: accountId, before, after: { ...config, skippedMenus: skipped } });
  });
  await announceConfigChange(accountId, 'ivr', 'extensions');
  return { skippedMenus: skipped };
}

/** The company hours editor's body (AR-03): the weekly schedule alone, so saving it never rewrites the other IVR settings. */
export const companyHoursInput = z.object({ hours: weeklyScheduleSchema }).strict();
export type CompanyHoursInput = z.infer<typeof companyHoursInput>;

/**
 * The directory editor's body (AR-04): who is searched by which name. An empty list would be a directory
 * nobody can be found in, and a number listed twice a slip: both refused by field ("all extensions" is null).
 */
export const directoryInput = directorySettings.superRefine((d, ctx) => {
  if (d.extensions === null) return;
  if (d.extensions.length === 0) ctx.addIssue({ code: 'custom', path: ['extensions'], message: 'choose at least one extension, or all extensions' });
  const seen = new Set<string>();
  d.extensions.forEach((n, i) => {
    if (seen.has(n)) ctx.addIssue({ code: 'custom', path: ['extensions', i], message: `extension ${n} is listed twice` });
    seen.add(n);
  });
});

/** A person the dial-by-name directory can list: a user's extension of the account, with the names callers spell. */
export interface DirectoryCandidate {
  extension: string;
  firstName: string;
  lastName: string;
}

export async function directoryCandidates(db: Db | Transaction<Database>, accountId: string): Promise<DirectoryCandidate[]> {
  const rows = await db
    .selectFrom('users as u')
    .innerJoin('extensions as e', 'e.id', 'u.extension_id')
    .select(['e.number', 'u.first_name', 'u.last_name'])
    .where('u.account_id', '=', accountId)
    .where('e.account_id', '=', accountId)
    .orderBy('e.number')
    .execute();
  return rows.map((r) => ({ extension: r.number, firstName: r.first_name, lastName: r.last_name }));
}

/** The parts of the IVR settings that have an editor of their own. */
type SettingsPart = { hours: WeeklySchedule } | { directory: DirectorySettings } | { greeting: CompanyGreetingPrompt };

/**
 * Changes one part of the IVR settings (the company hours, the directory) under a lock of the account's
 * row: two editors saving at once each keep the other's part. Audited as its own action with that part
 * before and after, announced as config subject 'ivr' so the edge reads it on the very next call.
 */
async function saveSettingsPart(db: Db, actor: AuditActor, accountId: string, part: SettingsPart, check?: (trx: Transaction<Database>) => Promise<void>): Promise<IvrSettings> {
  const name = 'hours' in part ? 'hours' : 'directory' in part ? 'directory' : 'greeting';
  await db.transaction().execute(async (trx) => {
    // The account row, not the settings row: that one may not exist yet, and two first saves must not both insert it.
    await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().executeTakeFirstOrThrow();
    if (check) await check(trx);
    const row = await trx.selectFrom('ivr_settings').select('settings').where('account_id', '=', accountId).executeTakeFirst();
    const stored = ivrSettings.safeParse({ ...DEFAULT_IVR_SETTINGS, ...((row?.settings as object | undefined) ?? {}) });
    // operatorExtension null: writeSettings leaves the account's operator as it is.
    const current: IvrSettings = { ...(stored.success ? stored.data : DEFAULT_IVR_SETTINGS), operatorExtension: null };
    const singleLevel = current.singleLevel ?? DEFAULT_SINGLE_LEVEL;
    const before = name === 'hours' ? { hours: current.hours } : name === 'directory' ? { directory: current.directory ?? DEFAULT_DIRECTORY_SETTINGS } : { greeting: singleLevel.greeting };
    // The greeting is one field of single-level call handling (AR-01): the rest of it stays.
    await writeSettings(trx, accountId, 'greeting' in part ? { ...current, singleLevel: { ...singleLevel, greeting: part.greeting } } : { ...current, ...part });
    await recordAudit(trx, actor, { accountId, action: `ivr.${name}_updated`, targetType: 'ivr_settings', targetId: accountId, before, after: part });
  });
  await announceConfigChange(accountId, 'ivr');
  return getIvrSettings(db, accountId);
}

/**
 * X-01 / the setup wizard's company greeting (inventory 3 §1.6): the default text read aloud, or a library
 * prompt; the rest of single-level call handling is left as it is.
 */
export async function saveCompanyGreeting(db: Db, actor: AuditActor, accountId: string, greeting: CompanyGreetingPrompt): Promise<IvrSettings> {
  return saveSettingsPart(db, actor, accountId, { greeting }, async (trx) => {
    if (greeting.mode !== 'audio') return;
    const prompt = await trx.selectFrom('ivr_prompts').select('id').where('account_id', '=', accountId).where('name', '=', greeting.prompt).executeTakeFirst();
    if (!prompt) throw new IvrError('unknown_prompt', greeting.prompt);
  });
}

/** AR-03: the company hours; the time zone they are read in is the account's (regional settings). */
export async function saveCompanyHours(db: Db, actor: AuditActor, accountId: string, hours: WeeklySchedule): Promise<IvrSettings> {
  return saveSettingsPart(db, actor, accountId, { hours });
}

/** AR-04: the directory's search name and the extensions it lists, each a user's extension of this account. */
export async function saveDirectorySettings(db: Db, actor: AuditActor, accountId: string, directory: DirectorySettings): Promise<IvrSettings> {
  return saveSettingsPart(db, actor, accountId, { directory }, async (trx) => {
    if (!directory.extensions) return;
    const people = new Set((await directoryCandidates(trx, accountId)).map((c) => c.extension));
    const stranger = directory.extensions.find((n) => !people.has(n));
    if (stranger !== undefined) throw new IvrError('directory_not_user', stranger);
  });
}
