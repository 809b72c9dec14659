import {
  DEFAULT_IVR_SETTINGS,
  GENERIC_KEY_ACTIONS,
  genericKeys as genericKeysSchema,
  ivrMenu,
  ivrSettings,
  keyAction,
  MAX_IVR_MENUS,
  MENU_KEYS,
  type IvrConfig,
  type IvrConfigInput,
  type IvrMenu,
  type IvrSettings,
  type KeyAction,
  type WeeklySchedule,
  WEEK_DAYS,
  companyRuleInput,
  MAX_COMPANY_RULES,
  type CompanyRule,
  type CompanyRuleInput,
  type RuleCondition,
} from '@carillon/domain';
import { escapeXml, parseXml, XmlParseError, type XmlElement } from './safe-xml.ts';

/**
 * The IVR XML format (IVR-23), described by `ivr.xsd` beside this file; `samples/` holds the
 * single-level and multi-level samples the admin can download. Export writes an account's whole IVR
 * configuration; import reads one back leniently: what is wrong is left out and reported (line and
 * reason), the rest is kept, so the admin can "Accept and continue" and fix the rest in the UI.
 * Export then import gives the same configuration.
 */
export const IVR_XML_NAMESPACE = 'urn:carillon:ivr:1';

export interface XmlProblem {
  line: number;
  message: string;
}

/**
 * What a file gives. Its settings may leave out the company hours, the directory settings and the
 * single-level company call handling (files written before the format carried them): an import then
 * keeps the account's own (replaceIvrConfig).
 */
export type ImportedIvrConfig = IvrConfigInput;

export interface IvrXmlImport {
  /** What can be imported; null when the file could not be read at all. */
  config: ImportedIvrConfig | null;
  problems: XmlProblem[];
}

const attrs = (pairs: [string, string | null | undefined][]) =>
  pairs
    .filter((p): p is [string, string] => p[1] !== null && p[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');

function keyXml(press: string, a: KeyAction): string {
  switch (a.type) {
    case 'connect':
    case 'voicemail':
      return `<key${attrs([['press', press], ['action', a.type], ['extension', a.extension]])}/>`;
    case 'directory':
      return `<key${attrs([['press', press], ['action', a.type]])}/>`;
    case 'external':
      return `<key${attrs([['press', press], ['action', a.type], ['number', a.number]])}/>`;
  }
}

/** AR-03: 24 hours, or each day's ranges in order. */
function hoursXml(h: WeeklySchedule, element = 'hours'): string[] {
  if (h.mode === '24h') return [`    <${element} mode="24h"/>`];
  const ranges = WEEK_DAYS.flatMap((day) => h.days[day].map((r) => `      <range${attrs([['day', day], ['from', r.from], ['to', r.to]])}/>`));
  return [`    <${element} mode="custom">`, ...ranges, `    </${element}>`];
}

/** AR-04: on or off, which name is spelled, and the extensions listed (none listed: every user). */
function directoryXml(d: IvrSettings['directory']): string[] {
  if (!d) return [];
  const head = `    <directory${attrs([['enabled', d.enabled === undefined ? null : String(d.enabled)], ['searchBy', d.searchBy], ['extensions', d.extensions === null ? 'all' : 'listed']])}`;
  if (!d.extensions?.length) return [`${head}/>`];
  return [`${head}>`, ...d.extensions.map((n) => `      <extension${attrs([['number', n]])}/>`), '    </directory>'];
}

/** AR-01: where each schedule's calls go, the greeting's audio, and what no action does. */
function singleLevelXml(sl: IvrSettings['singleLevel']): string[] {
  if (!sl) return [];
  const target = (name: string, t: NonNullable<IvrSettings['singleLevel']>['businessHours']) => `      <${name}${attrs([['target', t.type], ['extension', t.type === 'extension' ? t.extension : null]])}/>`;
  return [
    `    <singleLevel${attrs([['noAction', sl.noAction]])}>`,
    target('businessHours', sl.businessHours),
    target('afterHours', sl.afterHours),
    `      <greeting${attrs([['mode', sl.greeting.mode], ['prompt', sl.greeting.mode === 'audio' ? sl.greeting.prompt : null]])}/>`,
    '    </singleLevel>',
  ];
}

/** RULE-02: a rule's conditions, each an element; a weekly schedule as the company hours are written. */
function conditionXml(c: RuleCondition): string[] {
  const numbers = (ns: readonly string[]) => ns.map((n) => `        <number${attrs([['value', n]])}/>`);
  switch (c.type) {
    case 'caller_id':
      return [`      <callerId${attrs([['anonymous', String(c.anonymous)]])}>`, ...numbers(c.numbers), ...c.contactIds.map((id) => `        <contact${attrs([['id', id]])}/>`), '      </callerId>'];
    case 'called_number':
      return ['      <calledNumber>', ...numbers(c.numbers), '      </calledNumber>'];
    case 'date_range':
      return ['      <dateRange>', ...c.ranges.map((r) => `        <period${attrs([['from', r.from], ['to', r.to]])}/>`), '      </dateRange>'];
    case 'schedule':
      return hoursXml(c.schedule, 'schedule').map((l) => `  ${l}`);
  }
}

/** What a file carries of a rule (not its id: an import gives new ones). */
type RuleOfFile = Pick<CompanyRule, 'name' | 'enabled' | 'conditions' | 'target'>;

function customRulesXml(rules: readonly RuleOfFile[]): string[] {
  // An account with no rules says so: importing its file removes the rules of the account it goes to.
  if (rules.length === 0) return ['  <customRules/>'];
  const out = ['  <customRules>'];
  for (const r of rules) {
    out.push(`    <rule${attrs([['name', r.name], ['enabled', String(r.enabled)]])}>`);
    out.push(`      <target${attrs([['type', r.target.type], ['number', r.target.type === 'menu' ? r.target.menu : r.target.extension]])}/>`);
    for (const c of r.conditions) out.push(...conditionXml(c));
    out.push('    </rule>');
  }
  out.push('  </customRules>');
  return out;
}

/**
 * The account's IVR as a file: settings, menus, and, when given, its custom answering rules in order
 * (the export route gives them; the downloadable samples have none, so importing one keeps the account's).
 */
export function exportIvrXml(config: IvrConfig, customRules?: readonly RuleOfFile[]): string {
  const s = config.settings;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<ivr xmlns="${IVR_XML_NAMESPACE}" version="1">`,
    `  <settings${attrs([
      ['mode', s.mode],
      ['businessHoursMenu', s.businessHoursMenu],
      ['afterHoursMenu', s.afterHoursMenu],
      ['operatorExtension', s.operatorExtension],
      ['faxSmsRecipient', s.faxSmsRecipient],
    ])}>`,
    `    <genericKeys${attrs([['hash', s.genericKeys.hash], ['star', s.genericKeys.star]])}/>`,
    `    <noInput${attrs([['action', s.noInput.type], ['extension', s.noInput.type === 'extension' ? s.noInput.extension : null]])}/>`,
    `    <zeroDialing${attrs([['action', s.zeroDialing.type], ['extension', s.zeroDialing.type === 'extension' ? s.zeroDialing.extension : null]])}/>`,
    ...hoursXml(s.hours),
    ...directoryXml(s.directory),
    ...singleLevelXml(s.singleLevel),
    '  </settings>',
  ];
  for (const m of config.menus) {
    out.push(`  <menu${attrs([['number', m.number], ['name', m.name], ['language', m.language]])}>`);
    if (m.prompt?.mode === 'tts') out.push(`    <prompt mode="tts">${escapeXml(m.prompt.text)}</prompt>`);
    if (m.prompt?.mode === 'audio') out.push(`    <prompt${attrs([['mode', 'audio'], ['name', m.prompt.prompt]])}/>`);
    if (m.genericKeys) out.push(`    <genericKeys${attrs([['hash', m.genericKeys.hash], ['star', m.genericKeys.star]])}/>`);
    for (const press of MENU_KEYS) {
      const a = m.keys[press];
      if (a) out.push(`    ${keyXml(press, a)}`);
    }
    out.push('  </menu>');
  }
  if (customRules) out.push(...customRulesXml(customRules.map(({ name, enabled, conditions, target }) => ({ name, enabled, conditions, target }))));
  out.push('</ivr>', '');
  return out.join('\n');
}

const firstIssue = (e: { issues: { path: PropertyKey[]; message: string }[] }) => {
  const i = e.issues[0]!;
  return i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message;
};

function readSettings(el: XmlElement | undefined, problems: XmlProblem[]): ImportedIvrConfig['settings'] {
  const { hours: _always, ...defaults } = DEFAULT_IVR_SETTINGS;
  if (!el) return { ...defaults };
  const child = (name: string) => el.children.find((c) => c.name === name);
  const a = el.attrs;
  const raw: Record<string, unknown> = {
    mode: a.mode ?? DEFAULT_IVR_SETTINGS.mode,
    businessHoursMenu: a.businessHoursMenu ?? null,
    afterHoursMenu: a.afterHoursMenu ?? null,
    operatorExtension: a.operatorExtension ?? null,
    faxSmsRecipient: a.faxSmsRecipient ?? null,
    genericKeys: child('genericKeys') ? { hash: child('genericKeys')!.attrs.hash, star: child('genericKeys')!.attrs.star } : DEFAULT_IVR_SETTINGS.genericKeys,
    noInput: child('noInput') ? withExtension(child('noInput')!) : DEFAULT_IVR_SETTINGS.noInput,
    zeroDialing: child('zeroDialing') ? withExtension(child('zeroDialing')!) : DEFAULT_IVR_SETTINGS.zeroDialing,
  };
  // Carried since the format has them; a file without them leaves the account's as they are.
  const hours = child('hours');
  if (hours) raw.hours = readHours(hours);
  const directory = child('directory');
  if (directory) raw.directory = readDirectory(directory);
  const singleLevel = child('singleLevel');
  if (singleLevel) raw.singleLevel = readSingleLevel(singleLevel);
  // Each setting on its own: a bad one falls back to its default (the account's own, for those a file may leave out), the others are kept.
  const settings: ImportedIvrConfig['settings'] = { ...defaults };
  for (const key of Object.keys(raw) as (keyof typeof ivrSettings.shape)[]) {
    const parsed = ivrSettings.shape[key].safeParse(raw[key]);
    if (parsed.success) (settings as Record<string, unknown>)[key] = parsed.data;
    else problems.push({ line: child(key)?.line ?? el.line, message: `settings ${key}: ${firstIssue(parsed.error)}; ${key === 'hours' || key === 'directory' || key === 'singleLevel' ? "the account's are kept" : 'the default is kept'}` });
  }
  return settings;
}

function readHours(el: XmlElement): unknown {
  if (el.attrs.mode !== 'custom') return { mode: el.attrs.mode };
  const days: Record<string, { from?: string; to?: string }[]> = Object.fromEntries(WEEK_DAYS.map((d) => [d, []]));
  for (const r of el.children.filter((c) => c.name === 'range')) {
    // An unknown day is a problem of the whole schedule, named by the schema (a key it does not know).
    (days[r.attrs.day ?? '?'] ??= []).push({ from: r.attrs.from, to: r.attrs.to });
  }
  return { mode: 'custom', days };
}

function readDirectory(el: XmlElement): unknown {
  const enabled = el.attrs.enabled === undefined ? undefined : el.attrs.enabled === 'true' ? true : el.attrs.enabled === 'false' ? false : el.attrs.enabled;
  const listed = el.children.filter((c) => c.name === 'extension').map((c) => c.attrs.number);
  return { ...(enabled === undefined ? {} : { enabled }), searchBy: el.attrs.searchBy, extensions: el.attrs.extensions === 'all' ? null : listed };
}

function readSingleLevel(el: XmlElement): unknown {
  const child = (name: string) => el.children.find((c) => c.name === name);
  const target = (t: XmlElement | undefined) => (t ? (t.attrs.extension === undefined ? { type: t.attrs.target } : { type: t.attrs.target, extension: t.attrs.extension }) : undefined);
  const g = child('greeting');
  return {
    businessHours: target(child('businessHours')),
    afterHours: target(child('afterHours')),
    greeting: g ? (g.attrs.prompt === undefined ? { mode: g.attrs.mode } : { mode: g.attrs.mode, prompt: g.attrs.prompt }) : undefined,
    noAction: el.attrs.noAction,
  };
}

const CONDITION_ELEMENTS: Record<string, RuleCondition['type']> = { callerId: 'caller_id', calledNumber: 'called_number', dateRange: 'date_range', schedule: 'schedule' };

function readCondition(el: XmlElement): unknown {
  const values = (name: string, attr: string) => el.children.filter((c) => c.name === name).map((c) => c.attrs[attr]);
  switch (CONDITION_ELEMENTS[el.name]) {
    case 'caller_id':
      return { type: 'caller_id', numbers: values('number', 'value'), contactIds: values('contact', 'id'), anonymous: el.attrs.anonymous === 'true' ? true : el.attrs.anonymous === 'false' || el.attrs.anonymous === undefined ? false : el.attrs.anonymous };
    case 'called_number':
      return { type: 'called_number', numbers: values('number', 'value') };
    case 'date_range':
      return { type: 'date_range', ranges: el.children.filter((c) => c.name === 'period').map((c) => ({ from: c.attrs.from, to: c.attrs.to })) };
    case 'schedule':
      return { type: 'schedule', schedule: readHours(el) };
    default:
      return { type: el.name };
  }
}

/** RULE-01…RULE-06: each rule through the API's schema; a wrong one is left out with its line, the others kept in order. */
function readCustomRules(el: XmlElement, problems: XmlProblem[]): CompanyRuleInput[] {
  const rules: CompanyRuleInput[] = [];
  for (const r of el.children) {
    if (r.name !== 'rule') {
      problems.push({ line: r.line, message: `unknown element <${r.name}> in <customRules> ignored` });
      continue;
    }
    const t = r.children.find((c) => c.name === 'target');
    const target = t ? (t.attrs.type === 'menu' ? { type: 'menu', menu: t.attrs.number } : { type: t.attrs.type, extension: t.attrs.number }) : undefined;
    const enabled = r.attrs.enabled === undefined ? true : r.attrs.enabled === 'true' ? true : r.attrs.enabled === 'false' ? false : r.attrs.enabled;
    const parsed = companyRuleInput.safeParse({ name: r.attrs.name, enabled, target, conditions: r.children.filter((c) => c.name !== 'target').map(readCondition) });
    if (!parsed.success) problems.push({ line: r.line, message: `custom rule "${r.attrs.name ?? ''}": ${firstIssue(parsed.error)}; the rule is left out` });
    else if (rules.length >= MAX_COMPANY_RULES) problems.push({ line: r.line, message: `more than ${MAX_COMPANY_RULES} custom rules; the rest are left out` });
    else rules.push(parsed.data);
  }
  return rules;
}

const withExtension = (el: XmlElement) => (el.attrs.extension === undefined ? { type: el.attrs.action } : { type: el.attrs.action, extension: el.attrs.extension });

function readMenu(el: XmlElement, problems: XmlProblem[]): IvrMenu | null {
  const keys: Record<string, KeyAction> = {};
  for (const k of el.children.filter((c) => c.name === 'key')) {
    const { press, action, ...rest } = k.attrs;
    const parsed = keyAction.safeParse({ type: action, ...rest });
    if (!press || !(MENU_KEYS as readonly string[]).includes(press)) problems.push({ line: k.line, message: `key "${press ?? ''}": a key is one of 0-9; # and * are the generic keys` });
    else if (keys[press]) problems.push({ line: k.line, message: `key ${press} is mapped twice; the first is kept` });
    else if (!parsed.success) problems.push({ line: k.line, message: `key ${press}: ${firstIssue(parsed.error)}; the key is left out` });
    else keys[press] = parsed.data;
  }
  const p = el.children.find((c) => c.name === 'prompt');
  let prompt: IvrMenu['prompt'] = null;
  if (p) {
    const candidate = p.attrs.mode === 'tts' ? { mode: 'tts', text: p.text } : { mode: p.attrs.mode, prompt: p.attrs.name };
    const parsed = ivrMenu.shape.prompt.safeParse(candidate);
    if (parsed.success) prompt = parsed.data;
    else problems.push({ line: p.line, message: `menu ${el.attrs.number ?? '?'} prompt: ${firstIssue(parsed.error)}; the menu has no prompt` });
  }
  const g = el.children.find((c) => c.name === 'genericKeys');
  let genericKeys: IvrMenu['genericKeys'] = null;
  if (g) {
    const parsed = genericKeysSchema.safeParse({ hash: g.attrs.hash, star: g.attrs.star });
    if (parsed.success) genericKeys = parsed.data;
    else problems.push({ line: g.line, message: `menu ${el.attrs.number ?? '?'} genericKeys: each of hash and star is one of ${GENERIC_KEY_ACTIONS.join(', ')}; the account's are used` });
  }
  const parsed = ivrMenu.safeParse({ number: el.attrs.number, name: el.attrs.name, language: el.attrs.language, prompt, keys, genericKeys });
  if (!parsed.success) {
    problems.push({ line: el.line, message: `menu ${el.attrs.number ?? '(no number)'}: ${firstIssue(parsed.error)}; the menu is left out` });
    return null;
  }
  return parsed.data;
}

export function importIvrXml(xml: string): IvrXmlImport {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (err) {
    if (err instanceof XmlParseError) return { config: null, problems: [{ line: err.line, message: err.message.replace(/^line \d+: /, '') }] };
    throw err;
  }
  if (root.name !== 'ivr') return { config: null, problems: [{ line: root.line, message: `the root element is <${root.name}>, not <ivr>` }] };
  const problems: XmlProblem[] = [];
  if (root.attrs.xmlns !== undefined && root.attrs.xmlns !== IVR_XML_NAMESPACE) problems.push({ line: root.line, message: `unknown namespace ${root.attrs.xmlns} (expected ${IVR_XML_NAMESPACE}); read anyway` });
  for (const c of root.children) if (c.name !== 'settings' && c.name !== 'menu' && c.name !== 'customRules') problems.push({ line: c.line, message: `unknown element <${c.name}> ignored` });
  const settings = readSettings(root.children.find((c) => c.name === 'settings'), problems);
  const menus: IvrMenu[] = [];
  for (const el of root.children.filter((c) => c.name === 'menu')) {
    const menu = readMenu(el, problems);
    if (!menu) continue;
    if (menus.some((m) => m.number === menu.number)) problems.push({ line: el.line, message: `menu number ${menu.number} is used twice; the first is kept` });
    else if (menus.length >= MAX_IVR_MENUS) problems.push({ line: el.line, message: `more than ${MAX_IVR_MENUS} menus; the rest are left out` });
    else menus.push(menu);
  }
  // Absent: the account's rules are kept; present (even empty): the file's replace them.
  const rulesEl = root.children.find((c) => c.name === 'customRules');
  const customRules = rulesEl ? readCustomRules(rulesEl, problems) : undefined;
  return { config: { settings, menus, ...(customRules ? { customRules } : {}) }, problems };
}
