import { describe, expect, it } from 'vitest';
import { COMPANY_GREETING_MENU, companyCallEntry, companyEntryMenu, companyGreetingText, companyRuleInput, DEFAULT_IVR_SETTINGS, DEFAULT_SINGLE_LEVEL, ivrSettings, withCompanyGreeting, type SingleLevelSettings, isDialableFromIvr, ivrConfig, ivrStep, resumeIvr, runIvr, startIvr, validateIvr, type CompanyRule, type IvrConfig, type IvrContext, type IvrEvent, type IvrIssueRule, type IvrMenu } from '@carillon/domain';

const menu = (number: string, keys: IvrMenu['keys'], extra: Partial<IvrMenu> = {}): IvrMenu => ({
  number,
  name: `Menu ${number}`,
  language: 'en',
  prompt: { mode: 'tts', text: `Welcome to menu ${number}` },
  keys,
  genericKeys: null,
  ...extra,
});

/** Two levels: 1001 (top) → 2 → 1002 (sales) → 3 → external; 1001 → 1 → extension 101. */
const twoLevel = (): IvrConfig => ({
  settings: { ...DEFAULT_IVR_SETTINGS, mode: 'multi', businessHoursMenu: '1001', afterHoursMenu: '1003', operatorExtension: '101' },
  menus: [
    menu('1001', { '1': { type: 'connect', extension: '101' }, '2': { type: 'connect', extension: '1002' }, '9': { type: 'directory' } }),
    menu('1002', { '1': { type: 'voicemail', extension: '102' }, '3': { type: 'external', number: '+33123456789' } }, { language: 'fr', prompt: { mode: 'audio', prompt: 'Ventes' } }),
    menu('1003', { '1': { type: 'voicemail', extension: '101' } }, { prompt: { mode: 'tts', text: 'We are closed.' } }),
  ],
});

const digits = (s: string): IvrEvent[] => [...s].map((d) => (d === '_' ? { type: 'no_input' } : { type: 'digit', digit: d as '1' }));

describe('IVR interpreter', () => {
  it('plays the top menu, goes down a level, back with *, repeats with #, then transfers out', () => {
    const steps = runIvr(twoLevel(), '1001', digits('2*#23'));
    expect(steps.map((s) => s.effect)).toEqual([
      expect.objectContaining({ type: 'play', menu: '1001', reason: 'enter', play: 1 }),
      expect.objectContaining({ type: 'play', menu: '1002', reason: 'enter', language: 'fr', prompt: { mode: 'audio', prompt: 'Ventes' } }),
      expect.objectContaining({ type: 'play', menu: '1001', reason: 'enter' }),
      expect.objectContaining({ type: 'play', menu: '1001', reason: 'repeat' }),
      expect.objectContaining({ type: 'play', menu: '1002' }),
      { type: 'end', outcome: { type: 'external', number: '+33123456789' } },
    ]);
    expect(steps.at(-1)!.state.path).toEqual(['1001', '1002']);
  });

  it('connects, sends to voicemail and opens the directory', () => {
    expect(runIvr(twoLevel(), '1001', digits('1')).at(-1)!.effect).toEqual({ type: 'end', outcome: { type: 'connect', extension: '101' } });
    expect(runIvr(twoLevel(), '1001', digits('21')).at(-1)!.effect).toEqual({ type: 'end', outcome: { type: 'voicemail', extension: '102' } });
    expect(runIvr(twoLevel(), '1001', digits('9')).at(-1)!.effect).toEqual({ type: 'end', outcome: { type: 'directory' } });
  });

  it('replays the prompt 3 times with no input, then applies the no-input action', () => {
    const cfg = twoLevel();
    const steps = runIvr(cfg, '1001', digits('___'));
    expect(steps.map((s) => (s.effect.type === 'play' ? s.effect.play : s.effect.type))).toEqual([1, 2, 3, 'end']);
    expect(steps.at(-1)!.effect).toEqual({ type: 'end', outcome: { type: 'disconnect', reason: 'no_input' } });
    cfg.settings.noInput = { type: 'extension', extension: '105' };
    expect(runIvr(cfg, '1001', digits('___')).at(-1)!.effect).toEqual({ type: 'end', outcome: { type: 'connect', extension: '105' } });
    // A key press starts the count again.
    expect(runIvr(cfg, '1001', digits('__7__')).at(-1)!.effect).toMatchObject({ type: 'play', play: 3 });
  });

  it('offers the menu again on an unmapped key', () => {
    expect(runIvr(twoLevel(), '1001', digits('5')).at(-1)!.effect).toMatchObject({ type: 'play', menu: '1001', reason: 'invalid_key' });
  });

  it('follows each zero-dialing option, with the operator fallback to the top menu (AR-06)', () => {
    const cfg = twoLevel();
    expect(runIvr(cfg, '1001', digits('20')).at(-1)!.effect).toEqual({ type: 'end', outcome: { type: 'connect', extension: '101' } });
    // A deleted operator: the caller is taken to the top menu.
    const gone = runIvr(cfg, '1001', digits('20'), { extensionExists: (n) => n !== '101' }).at(-1)!;
    expect(gone.effect).toMatchObject({ type: 'play', menu: '1001' });
    cfg.settings.zeroDialing = { type: 'top_menu' };
    expect(runIvr(cfg, '1001', digits('20')).at(-1)!.effect).toMatchObject({ type: 'play', menu: '1001', reason: 'enter' });
    cfg.settings.zeroDialing = { type: 'extension', extension: '107' };
    expect(runIvr(cfg, '1001', digits('20')).at(-1)!.effect).toEqual({ type: 'end', outcome: { type: 'connect', extension: '107' } });
    cfg.settings.zeroDialing = { type: 'nothing' };
    const ignored = runIvr(cfg, '1001', digits('2000'));
    expect(ignored.slice(2).map((s) => s.effect)).toEqual([{ type: 'ignored', digit: '0' }, { type: 'ignored', digit: '0' }, { type: 'ignored', digit: '0' }]);
    expect(ignored.at(-1)!.state.path).toEqual(['1001', '1002']);
    // A menu that maps 0 itself wins over zero dialing.
    cfg.menus[0]!.keys['0'] = { type: 'connect', extension: '108' };
    expect(runIvr(cfg, '1001', digits('0')).at(-1)!.effect).toEqual({ type: 'end', outcome: { type: 'connect', extension: '108' } });
  });

  it('uses per-menu generic keys over the account ones, and * at the top repeats', () => {
    const cfg = twoLevel();
    expect(runIvr(cfg, '1001', digits('*')).at(-1)!.effect).toMatchObject({ menu: '1001', reason: 'repeat' });
    cfg.menus[1]!.genericKeys = { hash: 'root', star: 'repeat' };
    expect(runIvr(cfg, '1001', digits('2#')).at(-1)!.effect).toMatchObject({ menu: '1001', reason: 'enter' });
    expect(runIvr(cfg, '1001', digits('2*')).at(-1)!.effect).toMatchObject({ menu: '1002', reason: 'repeat' });
  });

  it('keeps an ended call ended, and ends at once without a top menu', () => {
    const steps = runIvr(twoLevel(), '1001', digits('11'));
    expect(steps.at(-1)!.effect).toEqual({ type: 'ignored', digit: '1' });
    expect(startIvr(twoLevel(), null).effect).toEqual({ type: 'end', outcome: { type: 'disconnect', reason: 'no_menu' } });
    expect(startIvr(twoLevel(), '4040').effect).toEqual({ type: 'end', outcome: { type: 'disconnect', reason: 'no_menu' } });
  });

  it('goes back up to a menu already on the path instead of stacking it twice', () => {
    const cfg = twoLevel();
    cfg.menus[1]!.keys['9'] = { type: 'connect', extension: '1001' };
    const step = runIvr(cfg, '1001', digits('29')).at(-1)!;
    expect(step.state.path).toEqual(['1001']);
    expect(ivrStep(cfg, step.state, { type: 'digit', digit: '*' }).effect).toMatchObject({ menu: '1001', reason: 'repeat' });
  });

  it('resumes a call whose outcome the call side could not carry out in the menu it left, which then takes keys again', () => {
    const cfg = twoLevel();
    const out = runIvr(cfg, '1001', digits('23')).at(-1)!;
    expect(out.effect).toEqual({ type: 'end', outcome: { type: 'external', number: '+33123456789' } });
    const back = resumeIvr(cfg, out.state);
    expect(back.effect).toMatchObject({ type: 'play', menu: '1002', reason: 'repeat', play: 1 });
    expect(back.state).toEqual({ path: ['1001', '1002'], plays: 1, entry: '', ended: null });
    expect(ivrStep(cfg, back.state, { type: 'digit', digit: '1' }).effect).toEqual({ type: 'end', outcome: { type: 'voicemail', extension: '102' } });
    expect(resumeIvr(cfg, startIvr(cfg, null).state).effect).toEqual({ type: 'end', outcome: { type: 'disconnect', reason: 'no_menu' } });
  });
});

/**
 * Issue 14: an extension number dialled during a menu's prompt. The account: people 101, 102 and 1020,
 * the menus 1001…1003, 2050 disabled, 300 a paging group (neither dialable); 1001's keys 1, 2 and 9.
 */
describe('IVR interpreter: dialling an extension during a prompt', () => {
  const extensions = [
    { number: '101', type: 'user', status: 'activated' },
    { number: '102', type: 'user', status: 'activated' },
    { number: '1020', type: 'message_only', status: 'activated' },
    { number: '1001', type: 'ivr_menu', status: 'activated' },
    { number: '1002', type: 'ivr_menu', status: 'activated' },
    { number: '1003', type: 'ivr_menu', status: 'activated' },
    { number: '2050', type: 'user', status: 'disabled' },
    { number: '300', type: 'paging', status: 'activated' },
  ];
  const ctx: IvrContext = { dialable: new Set(extensions.filter(isDialableFromIvr).map((e) => e.number)) };
  const effects = (keys: string, context: IvrContext = ctx) => runIvr(twoLevel(), '1001', digits(keys), context).map((s) => s.effect);
  const last = (keys: string, context: IvrContext = ctx) => effects(keys, context).at(-1)!;
  const connectTo = (extension: string) => ({ type: 'end', outcome: { type: 'connect', extension } });

  it('connects a 3-digit extension as soon as no longer number can follow, each digit but the last waiting for more', () => {
    expect(effects('101').slice(1)).toEqual([{ type: 'dialling', digits: '1' }, { type: 'dialling', digits: '10' }, connectTo('101')]);
  });

  it('waits after 102 (1020 exists): the inter-digit silence or # ends it as 102; a fourth digit makes 1020', () => {
    expect(last('102')).toEqual({ type: 'dialling', digits: '102' });
    expect(last('102_')).toEqual(connectTo('102'));
    expect(last('102#')).toEqual(connectTo('102'));
    expect(last('1020')).toEqual(connectTo('1020'));
  });

  it('takes a single mapped key that begins an extension as that key after the inter-digit silence (or #)', () => {
    expect(effects('1_').slice(1)).toEqual([{ type: 'dialling', digits: '1' }, connectTo('101')]);
    // A one-digit extension (7) unmapped by the menu is dialled by its digit; the menu's key wins over one (1).
    expect(last('7', { dialable: new Set(['7', '1', '101']) })).toEqual(connectTo('7'));
    expect(last('1_', { dialable: new Set(['1', '101']) })).toEqual(connectTo('101'));
    expect(last('1#')).toEqual(connectTo('101'));
  });

  it('plays the menu again for a number that is no dialable extension, at once when none can follow', () => {
    expect(last('11')).toMatchObject({ type: 'play', menu: '1001', reason: 'invalid_key' });
    expect(last('10_')).toMatchObject({ type: 'play', menu: '1001', reason: 'invalid_key' });
    expect(last('10#')).toMatchObject({ type: 'play', menu: '1001', reason: 'invalid_key' });
    // And the menu takes keys again from its start.
    expect(last('11' + '9')).toEqual({ type: 'end', outcome: { type: 'directory' } });
  });

  it('acts at once on a digit that begins no extension: the key mapped, or an invalid entry', () => {
    expect(effects('9').slice(1)).toEqual([{ type: 'end', outcome: { type: 'directory' } }]);
    expect(effects('5').slice(1)).toEqual([expect.objectContaining({ type: 'play', menu: '1001', reason: 'invalid_key' })]);
    // Without a list of dialable numbers (nothing known), keys act at once as before.
    expect(effects('1', {}).slice(1)).toEqual([connectTo('101')]);
  });

  it('does not dial a disabled extension (2050) nor a paging group (300): their digits are the keys or invalid', () => {
    expect(ctx.dialable!.has('2050')).toBe(false);
    expect(ctx.dialable!.has('300')).toBe(false);
    // 2 begins no dialable number now: the submenu at once; 3 is unmapped here.
    expect(effects('2').slice(1)).toEqual([expect.objectContaining({ type: 'play', menu: '1002', reason: 'enter' })]);
    expect(last('3')).toMatchObject({ type: 'play', menu: '1001', reason: 'invalid_key' });
    expect(last('2050', { dialable: new Set(['2050', '101']) })).toEqual(connectTo('2050'));
  });

  it('enters a menu dialled by its number, below the current one', () => {
    const step = runIvr(twoLevel(), '1001', digits('1003'), ctx).at(-1)!;
    expect(step.effect).toMatchObject({ type: 'play', menu: '1003', reason: 'enter' });
    expect(step.state.path).toEqual(['1001', '1003']);
  });

  it('keeps # and * generic and 0 the operator key at the first digit; * drops a number under way', () => {
    expect(last('#')).toMatchObject({ type: 'play', menu: '1001', reason: 'repeat' });
    expect(last('0')).toEqual(connectTo('101'));
    expect(last('10*')).toMatchObject({ type: 'play', menu: '1001', reason: 'repeat' });
    expect(last('10*9')).toEqual({ type: 'end', outcome: { type: 'directory' } });
  });

  it('counts no plays while a number is dialled: silences after an invalid entry start again from one', () => {
    const steps = runIvr({ ...twoLevel(), settings: { ...twoLevel().settings, noInput: { type: 'disconnect' } } }, '1001', digits('__10___'), ctx);
    expect(steps.map((s) => (s.effect.type === 'play' ? `${s.effect.reason}:${s.effect.play}` : s.effect.type))).toEqual([
      'enter:1',
      'no_input:2',
      'no_input:3',
      'dialling',
      'dialling',
      'invalid_key:1',
      'no_input:2',
      'no_input:3',
    ]);
  });
});

describe('IVR validation (IVR-15): one test per rule', () => {
  const ctx = { extensions: new Set(['101', '102', '1001', '1002', '1003']), prompts: new Set(['Ventes']) };
  const rules = (cfg: IvrConfig, c = ctx): IvrIssueRule[] => validateIvr(cfg, c).map((i) => i.rule);

  it('finds nothing wrong in a sound two-level tree', () => {
    expect(validateIvr(twoLevel(), ctx)).toEqual([]);
  });

  it('missing_prompt: no prompt, or an audio prompt not in the library', () => {
    const cfg = twoLevel();
    cfg.menus[0]!.prompt = null;
    expect(validateIvr(cfg, ctx)).toEqual([{ rule: 'missing_prompt', menu: '1001' }]);
    expect(validateIvr(twoLevel(), { ...ctx, prompts: new Set() })).toEqual([{ rule: 'missing_prompt', menu: '1002', target: 'Ventes' }]);
  });

  it('deleted_extension: a key or a setting naming an extension that does not exist', () => {
    const cfg = twoLevel();
    cfg.settings.noInput = { type: 'extension', extension: '555' };
    expect(validateIvr(cfg, { ...ctx, extensions: new Set(['101', '1001', '1002', '1003']) })).toEqual([
      { rule: 'deleted_extension', menu: null, key: 'noInput', target: '555' },
      { rule: 'deleted_extension', menu: '1002', key: '1', target: '102' },
    ]);
  });

  it('unreachable_menu: a menu no key leads to from the top menus', () => {
    const cfg = twoLevel();
    cfg.menus.push(menu('1004', { '1': { type: 'connect', extension: '101' } }));
    expect(validateIvr(cfg, { ...ctx, extensions: new Set([...ctx.extensions, '1004']) })).toEqual([{ rule: 'unreachable_menu', menu: '1004' }]);
  });

  it('loop_without_exit: menus that only lead to each other', () => {
    const cfg = twoLevel();
    cfg.menus.push(menu('1005', { '1': { type: 'connect', extension: '1006' } }), menu('1006', { '1': { type: 'connect', extension: '1005' } }));
    cfg.menus[0]!.keys['5'] = { type: 'connect', extension: '1005' };
    expect(validateIvr(cfg, ctx)).toEqual([{ rule: 'loop_without_exit', menu: '1005', menus: ['1005', '1006'] }]);
    // One key out of the loop is enough.
    cfg.menus[4]!.keys['2'] = { type: 'voicemail', extension: '101' };
    expect(rules(cfg)).toEqual([]);
  });

  it('empty_menu: a menu with no key', () => {
    const cfg = twoLevel();
    cfg.menus[2]!.keys = {};
    expect(validateIvr(cfg, ctx)).toEqual([{ rule: 'empty_menu', menu: '1003' }]);
  });

  it('directory_off: a key to the dial-by-name directory while it is switched off', () => {
    const cfg = twoLevel();
    cfg.menus[0]!.keys['9'] = { type: 'directory' };
    expect(validateIvr(cfg, ctx)).toEqual([]);
    cfg.settings.directory = { enabled: false, searchBy: 'last_name', extensions: null };
    expect(validateIvr(cfg, ctx)).toEqual([{ rule: 'directory_off', menu: '1001', key: '9' }]);
  });

  it('missing_top_menu: multi-level mode without a top menu, or a top menu that is no menu', () => {
    const cfg = twoLevel();
    cfg.settings.afterHoursMenu = '101';
    expect(validateIvr(cfg, ctx)).toEqual([{ rule: 'missing_top_menu', menu: null, key: 'afterHoursMenu', target: '101' }, { rule: 'unreachable_menu', menu: '1003' }]);
    cfg.settings.businessHoursMenu = null;
    cfg.settings.afterHoursMenu = null;
    expect(rules(cfg)).toEqual(['missing_top_menu']);
  });
});

describe('IVR configuration schema', () => {
  it('refuses a TTS text with symbols (PR-06) and a menu number used twice', () => {
    const bad = twoLevel();
    bad.menus[0]!.prompt = { mode: 'tts', text: 'Press # to repeat' };
    expect(ivrConfig.safeParse(bad).success).toBe(false);
    const twice = twoLevel();
    twice.menus[1]!.number = '1001';
    const parsed = ivrConfig.safeParse(twice);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.message).toContain('used twice');
    expect(ivrConfig.parse(twoLevel())).toEqual(twoLevel());
  });
});

describe('company custom answering rules (RULE-01…RULE-06)', () => {
  const hours = { mode: 'custom' as const, days: { mon: [{ from: '09:00', to: '17:00' }], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } };
  const settings = { hours, businessHoursMenu: '500', afterHoursMenu: '501' };
  // Monday 2026-03-02, New York (UTC-5): 10:00 and 20:00.
  const open = new Date('2026-03-02T15:00:00Z');
  const closed = new Date('2026-03-03T01:00:00Z');
  const vip: CompanyRule = { id: 'vip', name: 'VIP', enabled: true, conditions: [{ type: 'caller_id', numbers: ['+14155550123'], contactIds: [], anonymous: false }], target: { type: 'extension', extension: '102' } };
  const night: CompanyRule = { id: 'night', name: 'Night', enabled: true, conditions: [{ type: 'schedule', schedule: { mode: 'custom', days: { mon: [{ from: '19:00', to: '24:00' }], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } } }], target: { type: 'menu', menu: '502' } };
  const call = (at: Date, callerId: string | null = '+14155550199') => ({ at, callerId, calledNumber: '+14155550100' });

  it('takes the first enabled matching rule before the hours, else the business-hours or after-hours menu', () => {
    expect(companyCallEntry(settings, [vip, night], 'America/New_York', call(open, '+14155550123'))).toEqual({ kind: 'custom', ruleId: 'vip', target: { type: 'extension', extension: '102' } });
    expect(companyCallEntry(settings, [night, vip], 'America/New_York', call(closed, '+14155550123'))).toMatchObject({ ruleId: 'night' });
    expect(companyCallEntry(settings, [{ ...night, enabled: false }, vip], 'America/New_York', call(closed, '+14155550123'))).toMatchObject({ ruleId: 'vip' });
    expect(companyCallEntry(settings, [vip], 'America/New_York', call(open))).toEqual({ kind: 'hours', target: { type: 'menu', menu: '500' } });
    expect(companyCallEntry(settings, [vip], 'America/New_York', call(closed))).toEqual({ kind: 'after_hours', target: { type: 'menu', menu: '501' } });
    // No after-hours menu: the business-hours one at all hours; no menu at all: nothing.
    expect(companyCallEntry({ ...settings, afterHoursMenu: null }, [], 'America/New_York', call(closed)).target).toEqual({ type: 'menu', menu: '500' });
    expect(companyCallEntry({ ...settings, businessHoursMenu: null, afterHoursMenu: null }, [], 'America/New_York', call(open)).target).toBeNull();
    expect(companyEntryMenu(settings, 'America/New_York', closed)).toBe('501');
  });

  it('passes over a rule whose target the call cannot reach', () => {
    const usable = (t: CompanyRule['target']) => !(t.type === 'extension' && t.extension === '102');
    expect(companyCallEntry(settings, [vip], 'America/New_York', call(open, '+14155550123'), usable)).toEqual({ kind: 'hours', target: { type: 'menu', menu: '500' } });
  });

  it('validates a rule body: a name, at least one condition, a menu or an extension target', () => {
    expect(companyRuleInput.safeParse({ name: 'VIP', conditions: vip.conditions, target: vip.target }).success).toBe(true);
    expect(companyRuleInput.parse({ name: ' VIP ', conditions: vip.conditions, target: vip.target })).toMatchObject({ name: 'VIP', enabled: true });
    const issues = (body: unknown) => (companyRuleInput.safeParse(body).error?.issues ?? []).map((i) => i.path.join('.'));
    expect(issues({ name: '', conditions: vip.conditions, target: vip.target })).toEqual(['name']);
    expect(issues({ name: 'x', conditions: [], target: vip.target })).toEqual(['conditions']);
    expect(issues({ name: 'x', conditions: vip.conditions, target: { type: 'queue', extension: '102' } })).toEqual(['target.type']);
    expect(issues({ name: 'x', conditions: vip.conditions, target: { type: 'menu', menu: 'abc' } })).toEqual(['target.menu']);
    expect(issues({ name: 'x', conditions: vip.conditions, target: vip.target, colour: 'red' })).toEqual(['']);
  });

  it('reports a rule whose target was deleted (IVR-15), and counts an enabled rule’s menu as reachable', () => {
    const cfg: IvrConfig = { settings: { ...DEFAULT_IVR_SETTINGS, mode: 'multi', businessHoursMenu: '500' }, menus: [menu('500', { '1': { type: 'connect', extension: '102' } }), menu('502', { '1': { type: 'connect', extension: '102' } })] };
    const ctx2 = { extensions: new Set(['102']), prompts: new Set<string>() };
    const ruleIssues = (rules: CompanyRule[]) => validateIvr(cfg, ctx2, rules).filter((i) => i.rule === 'custom_rule_target' || i.rule === 'unreachable_menu');
    expect(ruleIssues([])).toEqual([{ rule: 'unreachable_menu', menu: '502' }]);
    expect(ruleIssues([night, vip])).toEqual([]);
    expect(ruleIssues([{ ...vip, target: { type: 'extension', extension: '103' } }, { ...night, target: { type: 'menu', menu: '102' } }])).toEqual([
      { rule: 'custom_rule_target', menu: null, key: 'VIP', target: '103', ruleId: 'vip' },
      { rule: 'custom_rule_target', menu: null, key: 'Night', target: '102', ruleId: 'night' },
      { rule: 'unreachable_menu', menu: '502' },
    ]);
  });
});

/**
 * Single-level mode (AR-01): the company greeting is a built-in menu of the one interpreter, and the
 * entry of a company call picks, by the hours, the greeting or the schedule's extension.
 */
describe('single-level company call handling (AR-01)', () => {
  const hours = { mode: 'custom' as const, days: { mon: [{ from: '09:00', to: '17:00' }], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } };
  // Monday 2026-03-02, New York (UTC-5): 10:00 and 20:00.
  const open = new Date('2026-03-02T15:00:00Z');
  const closed = new Date('2026-03-03T01:00:00Z');
  const call = (at: Date, callerId: string | null = '+14155550199') => ({ at, callerId, calledNumber: '+14155550100' });
  const single = (sl: Partial<SingleLevelSettings> = {}) => ({ ...DEFAULT_IVR_SETTINGS, hours, operatorExtension: '101', singleLevel: { ...DEFAULT_SINGLE_LEVEL, ...sl } });
  const prompt = { mode: 'tts' as const, text: companyGreetingText('en', 'Acme') };
  /** 101 (operator), 102, 103, 501 (a menu reached by its number); dialable as the call side says. */
  const ctx: IvrContext = { dialable: new Set(['101', '102', '103', '501']), extensionExists: (n) => ['101', '102', '103', '501'].includes(n) };
  const greeting = (sl: Partial<SingleLevelSettings> = {}, settings: Partial<IvrConfig['settings']> = {}): IvrConfig =>
    withCompanyGreeting({ settings: { ...single(sl), ...settings }, menus: [menu('501', { '1': { type: 'connect', extension: '102' } })] }, prompt, 'en');

  it('enters at the company greeting by default in both schedules, at the schedule’s extension when one is set; custom rules first', () => {
    expect(companyCallEntry(single(), [], 'America/New_York', call(open))).toEqual({ kind: 'hours', target: { type: 'company_greeting' } });
    expect(companyCallEntry(single(), [], 'America/New_York', call(closed))).toEqual({ kind: 'after_hours', target: { type: 'company_greeting' } });
    const night = single({ afterHours: { type: 'extension', extension: '103' } });
    expect(companyCallEntry(night, [], 'America/New_York', call(closed))).toEqual({ kind: 'after_hours', target: { type: 'extension', extension: '103' } });
    expect(companyCallEntry(night, [], 'America/New_York', call(open)).target).toEqual({ type: 'company_greeting' });
    const vip: CompanyRule = { id: 'vip', name: 'VIP', enabled: true, conditions: [{ type: 'caller_id', numbers: ['+14155550123'], contactIds: [], anonymous: false }], target: { type: 'extension', extension: '102' } };
    expect(companyCallEntry(night, [vip], 'America/New_York', call(closed, '+14155550123'))).toEqual({ kind: 'custom', ruleId: 'vip', target: { type: 'extension', extension: '102' } });
    // Settings saved before single level existed read as the defaults; the business-hours menu of multi-level mode is not used.
    expect(companyCallEntry({ ...DEFAULT_IVR_SETTINGS, businessHoursMenu: '500' }, [], 'UTC', call(open)).target).toEqual({ type: 'company_greeting' });
    expect(companyEntryMenu(single(), 'America/New_York', open)).toBeNull();
  });

  it('plays the greeting; an extension dialled during it connects, 9 opens the directory, 0 reaches the operator at once', () => {
    expect(startIvr(greeting(), COMPANY_GREETING_MENU).effect).toEqual({ type: 'play', menu: COMPANY_GREETING_MENU, menuName: 'Company greeting', language: 'en', prompt, play: 1, reason: 'enter' });
    const steps = runIvr(greeting(), COMPANY_GREETING_MENU, digits('102'), ctx);
    expect(steps.map((s) => s.effect.type)).toEqual(['play', 'dialling', 'dialling', 'end']);
    expect(steps.at(-1)!.effect).toEqual({ type: 'end', outcome: { type: 'connect', extension: '102' } });
    expect(runIvr(greeting(), COMPANY_GREETING_MENU, digits('9'), ctx).at(-1)!.effect).toEqual({ type: 'end', outcome: { type: 'directory' } });
    expect(runIvr(greeting(), COMPANY_GREETING_MENU, digits('0'), ctx).at(-1)!.effect).toEqual({ type: 'end', outcome: { type: 'connect', extension: '101' } });
    // A menu dialled by its number is entered below the greeting; * (previous) comes back to it.
    expect(runIvr(greeting(), COMPANY_GREETING_MENU, digits('501'), ctx).at(-1)!.effect).toMatchObject({ type: 'play', menu: '501' });
    expect(runIvr(greeting(), COMPANY_GREETING_MENU, digits('501*'), ctx).at(-1)!.effect).toMatchObject({ type: 'play', menu: COMPANY_GREETING_MENU });
    // Not an extension: the greeting again.
    expect(runIvr(greeting(), COMPANY_GREETING_MENU, digits('109'), ctx).at(-1)!.effect).toMatchObject({ type: 'play', menu: COMPANY_GREETING_MENU, reason: 'invalid_key' });
  });

  it('does "if the caller enters no action" after one play: the operator, or the end of the call', () => {
    expect(runIvr(greeting(), COMPANY_GREETING_MENU, digits('_'), ctx).at(-1)!.effect).toEqual({ type: 'end', outcome: { type: 'connect', extension: '101' } });
    expect(runIvr(greeting({ noAction: 'disconnect' }), COMPANY_GREETING_MENU, digits('_'), ctx).at(-1)!.effect).toEqual({ type: 'end', outcome: { type: 'disconnect', reason: 'no_input' } });
    // No operator, or one deleted since: the call ends rather than ringing nobody.
    expect(runIvr(greeting({}, { operatorExtension: null }), COMPANY_GREETING_MENU, digits('_'), ctx).at(-1)!.effect).toEqual({ type: 'end', outcome: { type: 'disconnect', reason: 'no_input' } });
    expect(runIvr(greeting({}, { operatorExtension: '109' }), COMPANY_GREETING_MENU, digits('_'), ctx).at(-1)!.effect).toEqual({ type: 'end', outcome: { type: 'disconnect', reason: 'no_input' } });
    // A menu reached from the greeting keeps IVR-04's three plays and its own no-input action.
    const below = runIvr(greeting({}, { noInput: { type: 'extension', extension: '103' } }), COMPANY_GREETING_MENU, digits('501___'), ctx);
    expect(below.slice(-3).map((s) => s.effect)).toMatchObject([{ type: 'play', menu: '501', play: 2 }, { type: 'play', menu: '501', play: 3 }, { type: 'end', outcome: { type: 'connect', extension: '103' } }]);
  });

  it('without an operator leaves 0 to zero dialing (AR-06): "top menu" is the greeting again', () => {
    const cfg = greeting({}, { operatorExtension: null, zeroDialing: { type: 'top_menu' } });
    expect(runIvr(cfg, COMPANY_GREETING_MENU, digits('0'), ctx).at(-1)!.effect).toMatchObject({ type: 'play', menu: COMPANY_GREETING_MENU, reason: 'enter' });
  });

  it('says the seed’s greeting with the company’s name, in English or French', () => {
    expect(companyGreetingText('en', 'Acme')).toBe("Thank you for calling Acme. If you know your party's extension, you may dial it at any time. For the operator, press 0 or stay on the line. For the dial-by-name directory, press 9.");
    expect(companyGreetingText('fr', 'Acme')).toMatch(/^Merci d'avoir appelé Acme\. .*appuyez sur 9\.$/);
  });

  it('validates the settings and reports a deleted schedule target or greeting prompt (IVR-15), in single-level mode only', () => {
    const bad = ivrSettings.safeParse({ ...single(), singleLevel: { ...DEFAULT_SINGLE_LEVEL, businessHours: { type: 'queue', extension: '700' } } });
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['singleLevel.businessHours.type']);
    expect(ivrSettings.safeParse({ ...single(), singleLevel: { ...DEFAULT_SINGLE_LEVEL, noAction: 'hang up' } }).success).toBe(false);
    const cfg: IvrConfig = { settings: single({ afterHours: { type: 'extension', extension: '109' }, greeting: { mode: 'audio', prompt: 'Hello' } }), menus: [] };
    const vctx = { extensions: new Set(['101', '102']), prompts: new Set<string>() };
    expect(validateIvr(cfg, vctx)).toEqual([
      { rule: 'company_call_target', menu: null, key: 'afterHours', target: '109' },
      { rule: 'company_greeting_prompt', menu: null, target: 'Hello' },
    ]);
    expect(validateIvr(cfg, { ...vctx, extensions: new Set(['101', '109']), prompts: new Set(['Hello']) })).toEqual([]);
    expect(validateIvr({ ...cfg, settings: { ...cfg.settings, mode: 'multi', businessHoursMenu: null } }, vctx).map((i) => i.rule)).toEqual(['missing_top_menu']);
  });
});
