import { DEFAULT_SINGLE_LEVEL, type IvrConfigInput, type IvrMenu, type KeyAction } from './ivr-config.ts';
import { companyRuleTargetNumber, type CompanyRule } from './company-rules.ts';

/**
 * Menu validation (IVR-15): run on save, on the "Validate" button and on XML import. The seed leaves
 * the checks to us; these are the ones it names as inferred plus two of our own (the top menus of
 * multi-level mode, and loops).
 */
export const IVR_ISSUE_RULES = [
  /** A menu with no prompt, or one naming a prompt that is not in the library. */
  'missing_prompt',
  /** A key (or a setting) pointing at an extension that does not exist, or no longer does. */
  'deleted_extension',
  /** A menu that no call can reach from the top menus. */
  'unreachable_menu',
  /** Menus that lead only to each other: a caller can go round them but never reach anyone. */
  'loop_without_exit',
  /** A menu with no key mapped. */
  'empty_menu',
  /** Multi-level mode with no top menu, or a top menu that is not a menu. */
  'missing_top_menu',
  /** A key to the dial-by-name directory while the admin switched it off (AR-04): callers hear the option is not available. */
  'directory_off',
  /** A custom answering rule (RULE-02) whose target extension or menu was deleted, or whose menu target is no IVR menu. */
  'custom_rule_target',
  /** Single-level mode (AR-01): a schedule's target extension was deleted (`key`: `businessHours` or `afterHours`). */
  'company_call_target',
  /** Single-level mode (AR-01): the company greeting names a library prompt that is not in the library (callers hear the default text). */
  'company_greeting_prompt',
] as const;
export type IvrIssueRule = (typeof IVR_ISSUE_RULES)[number];

export interface IvrIssue {
  rule: IvrIssueRule;
  /** The menu concerned (its number); null for an account-wide setting. */
  menu: string | null;
  /** The key, or the setting (`operatorExtension`, `noInput`…), that holds a bad target. */
  key?: string;
  /** The missing extension, or the missing prompt's name. */
  target?: string;
  /** For a loop: every menu of it. */
  menus?: string[];
  /** For a custom answering rule: its id (`key` is its name). */
  ruleId?: string;
}

export interface IvrValidationContext {
  /** The account's extension numbers, IVR menus stored as extensions included. */
  extensions: ReadonlySet<string>;
  /** Names of the prompts in the account's library. */
  prompts: ReadonlySet<string>;
}

const targetOf = (a: KeyAction): string | null => (a.type === 'connect' || a.type === 'voicemail' ? a.extension : null);

/** The menus a menu's keys lead to (connect to another menu). */
function childMenus(menu: IvrMenu, menus: ReadonlyMap<string, IvrMenu>): string[] {
  const out: string[] = [];
  for (const action of Object.values(menu.keys)) if (action?.type === 'connect' && menus.has(action.extension)) out.push(action.extension);
  return out;
}

/** Whether one of a menu's keys ends the IVR somewhere (a person, a voicemail, the directory, an outside number). */
function hasExitKey(menu: IvrMenu, menus: ReadonlyMap<string, IvrMenu>): boolean {
  return Object.values(menu.keys).some((a) => a !== undefined && !(a.type === 'connect' && menus.has(a.extension)));
}

function reachable(from: Iterable<string>, menus: ReadonlyMap<string, IvrMenu>): Set<string> {
  const seen = new Set<string>();
  const stack = [...from].filter((n) => menus.has(n));
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...childMenus(menus.get(n)!, menus));
  }
  return seen;
}

/** The account's custom answering rules (RULE-01) are checked with its menus: their targets must still exist. */
export function validateIvr(config: IvrConfigInput, ctx: IvrValidationContext, customRules: readonly CompanyRule[] = []): IvrIssue[] {
  const issues: IvrIssue[] = [];
  const menus = new Map(config.menus.map((m) => [m.number, m]));
  const exists = (n: string) => ctx.extensions.has(n) || menus.has(n);
  const s = config.settings;

  const tops = [s.businessHoursMenu, s.afterHoursMenu].filter((n): n is string => n !== null);
  if (s.mode === 'multi' && tops.length === 0) issues.push({ rule: 'missing_top_menu', menu: null, key: 'businessHoursMenu' });
  for (const [key, n] of [['businessHoursMenu', s.businessHoursMenu], ['afterHoursMenu', s.afterHoursMenu]] as const) {
    if (n !== null && !menus.has(n)) issues.push({ rule: 'missing_top_menu', menu: null, key, target: n });
  }
  // Settings that name an extension; AR-06 says a deleted zero-dial target falls back to the top menu, but the admin is told.
  const settingTargets: [string, string | null][] = [
    ['operatorExtension', s.operatorExtension],
    ['faxSmsRecipient', s.faxSmsRecipient],
    ['noInput', s.noInput.type === 'extension' ? s.noInput.extension : null],
    ['zeroDialing', s.zeroDialing.type === 'extension' ? s.zeroDialing.extension : null],
  ];
  for (const [key, n] of settingTargets) if (n !== null && !exists(n)) issues.push({ rule: 'deleted_extension', menu: null, key, target: n });

  for (const menu of config.menus) {
    if (!menu.prompt) issues.push({ rule: 'missing_prompt', menu: menu.number });
    else if (menu.prompt.mode === 'audio' && !ctx.prompts.has(menu.prompt.prompt)) issues.push({ rule: 'missing_prompt', menu: menu.number, target: menu.prompt.prompt });
    const keys = Object.entries(menu.keys).filter(([, a]) => a !== undefined) as [string, KeyAction][];
    if (keys.length === 0) issues.push({ rule: 'empty_menu', menu: menu.number });
    for (const [key, action] of keys) {
      const target = targetOf(action);
      if (target !== null && !exists(target)) issues.push({ rule: 'deleted_extension', menu: menu.number, key, target });
      if (action.type === 'directory' && s.directory?.enabled === false) issues.push({ rule: 'directory_off', menu: menu.number, key });
    }
  }

  // AR-01: single-level mode's schedules and greeting (multi-level mode does not use them: IVR-02 discards them).
  if (s.mode === 'single') {
    const single = s.singleLevel ?? DEFAULT_SINGLE_LEVEL;
    for (const key of ['businessHours', 'afterHours'] as const) {
      const target = single[key];
      if (target.type === 'extension' && !ctx.extensions.has(target.extension)) issues.push({ rule: 'company_call_target', menu: null, key, target: target.extension });
    }
    if (single.greeting.mode === 'audio' && !ctx.prompts.has(single.greeting.prompt)) issues.push({ rule: 'company_greeting_prompt', menu: null, target: single.greeting.prompt });
  }

  for (const r of customRules) {
    const target = companyRuleTargetNumber(r.target);
    if (r.target.type === 'menu' ? !menus.has(target) : !exists(target)) issues.push({ rule: 'custom_rule_target', menu: null, key: r.name, target, ruleId: r.id });
  }

  if (tops.length > 0) {
    // The no-input and zero-dial extensions can be menus too: a call reaches them from any menu; so are an enabled custom rule's menu.
    const ruleMenus = customRules.filter((r) => r.enabled && r.target.type === 'menu').map((r) => companyRuleTargetNumber(r.target));
    const entries = [...tops, ...ruleMenus, ...settingTargets.map(([, n]) => n).filter((n): n is string => n !== null)];
    const seen = reachable(entries, menus);
    for (const menu of config.menus) if (!seen.has(menu.number)) issues.push({ rule: 'unreachable_menu', menu: menu.number });
  }

  // A loop with no exit: menus on a cycle from which no key leads out of the IVR. The no-input action does
  // not count as an exit: it is the fallback for a silent caller, not a choice a caller can make.
  const canExit = new Map<string, boolean>();
  for (const m of config.menus) canExit.set(m.number, [...reachable([m.number], menus)].some((n) => hasExitKey(menus.get(n)!, menus)));
  const reported = new Set<string>();
  for (const m of config.menus) {
    if (canExit.get(m.number) || reported.has(m.number)) continue;
    const onCycle = childMenus(m, menus).some((c) => reachable([c], menus).has(m.number));
    if (!onCycle) continue;
    // The loop: the menus reachable from m that also reach m back.
    const loop = [...reachable([m.number], menus)].filter((n) => n === m.number || reachable([n], menus).has(m.number)).sort();
    loop.forEach((n) => reported.add(n));
    issues.push({ rule: 'loop_without_exit', menu: m.number, menus: loop });
  }
  return issues;
}
