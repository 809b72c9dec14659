import { DEFAULT_SINGLE_LEVEL, PROMPT_PLAYS_BEFORE_NO_INPUT, type GenericKeyAction, type NoInputAction, type IvrConfig, type IvrDigit, type IvrLanguage, type IvrMenu, type KeyAction, type MenuKey, type MenuPrompt } from './ivr-config.ts';

/**
 * The interpreter of a menu tree (IVR-03…IVR-13, AR-06): given a caller's key presses and silences as
 * events, it says which prompt plays next and where the call ends. It is pure (no clock, no I/O): the
 * call-side application feeds it the DTMF digits and prompt timeouts of a real call, and the browser's
 * "try it" simulator feeds it the buttons the admin clicks, so both walk the very same path.
 *
 * Issue 14: during any menu's prompt the caller may also dial an extension number. A first digit that
 * begins a longer dialable number is held (state `entry`, effect `dialling`) while the next digits come,
 * each within EXTENSION_INTER_DIGIT_MS; a silence that long (`no_input`) or `#` ends the number. The
 * whole decision (key, extension, invalid entry) stays here, so the call and the simulator cannot differ.
 */

/**
 * The pause after a digit of an extension number past which the number is taken as complete (issue 14:
 * "digit collection with inter-digit timeout"). It is also what a key that begins an extension number
 * (key 1 with extensions 1xx) waits before it acts: the price of dialling extensions from a menu.
 */
export const EXTENSION_INTER_DIGIT_MS = 3000;

/** Where a call leaves the IVR. */
export type IvrOutcome =
  | { type: 'connect'; extension: string }
  | { type: 'voicemail'; extension: string }
  | { type: 'directory' }
  | { type: 'external'; number: string }
  | { type: 'disconnect'; reason: 'no_input' | 'no_menu' };

export interface IvrCallState {
  /** The menus entered, by number, the current one last: `previous` pops, `root` keeps the first. */
  readonly path: readonly string[];
  /** Plays of the current menu's prompt since the caller last pressed a key. */
  readonly plays: number;
  /** The digits of an extension number the caller is dialling (issue 14); '' when none is under way. */
  readonly entry: string;
  readonly ended: IvrOutcome | null;
}

export type IvrEvent =
  | { type: 'digit'; digit: IvrDigit }
  /**
   * The caller pressed nothing in the time allowed: after the prompt (IVR-04's no input), or, while an
   * extension number is being dialled, for EXTENSION_INTER_DIGIT_MS (the number ends there).
   */
  | { type: 'no_input' };

export type IvrEffect =
  | { type: 'play'; menu: string; menuName: string; language: IvrLanguage; prompt: MenuPrompt | null; play: number; reason: 'enter' | 'repeat' | 'invalid_key' | 'no_input' }
  | { type: 'end'; outcome: IvrOutcome }
  /**
   * The caller is dialling an extension number (`digits` so far): the prompt stays cut short and the next
   * digit is awaited for EXTENSION_INTER_DIGIT_MS, a silence ending the number (`no_input`).
   */
  | { type: 'dialling'; digits: string }
  /** The key does nothing here (zero dialing set to "Do nothing"; a key pressed after the end). */
  | { type: 'ignored'; digit: IvrDigit };

export interface IvrStep {
  state: IvrCallState;
  effect: IvrEffect;
}

export interface IvrContext {
  /**
   * The account's extensions, when known: an operator or zero-dial target missing from it sends the
   * caller to the top menu instead (AR-06: "callers pressing 0 will then be connected to the company
   * greeting"). Without it, targets are taken as they are.
   */
  extensionExists?: (number: string) => boolean;
  /**
   * The extension numbers a caller may dial from a menu (issue 14): the account's extensions a call can
   * reach (people, message-only, queues, announcements, menus), not the disabled ones. Absent or empty:
   * digits are only the menu's keys, each acting at once.
   */
  dialable?: ReadonlySet<string>;
}

/**
 * The kinds of extension a caller can dial from a menu (issue 14): what a menu key can connect to, menus
 * included (IVR-11). Paging groups and park locations are not reached from a menu; disabled extensions
 * are not reached at all. Both the call side and the simulator's data read it, so both dial the same numbers.
 */
export const IVR_DIALABLE_EXTENSION_TYPES: readonly string[] = ['user', 'limited', 'shared_lines', 'message_only', 'call_queue', 'announcement_only', 'ivr_menu'];

export function isDialableFromIvr(extension: { type: string; status: string }): boolean {
  return extension.status !== 'disabled' && IVR_DIALABLE_EXTENSION_TYPES.includes(extension.type);
}

/** Whether some dialable number is longer than `digits` and begins with them: then more digits may come. */
function beginsLonger(ctx: IvrContext, digits: string): boolean {
  for (const n of ctx.dialable ?? []) if (n.length > digits.length && n.startsWith(digits)) return true;
  return false;
}

/**
 * The company greeting of single-level mode (AR-01) as a menu of the same interpreter, under a number no
 * extension can have (extension numbers are digits): 9 opens the directory (AR-04's "Directory Extension"
 * 9), 0 reaches the operator (AR-05), any extension can be dialled during it, and a caller who stays on
 * the line gets AR-01's "If Caller Enters no Action" once the greeting has played (not IVR-04's three
 * plays: "For the operator press 0 or stay on the line").
 */
export const COMPANY_GREETING_MENU = 'company-greeting';

/**
 * The configuration a call in single-level mode walks: the account's own, with the company greeting as
 * one more menu (`COMPANY_GREETING_MENU`), its prompt as the call plays it (the seed's text, or the
 * library prompt) in `language`. Without an operator, 0 is left to zero dialing (AR-06).
 */
export function withCompanyGreeting(config: IvrConfig, prompt: MenuPrompt, language: IvrLanguage, name = 'Company greeting'): IvrConfig {
  const operator = config.settings.operatorExtension;
  const greeting: IvrMenu = {
    number: COMPANY_GREETING_MENU,
    name,
    language,
    prompt,
    keys: { '9': { type: 'directory' }, ...(operator !== null ? { '0': { type: 'connect', extension: operator } } : {}) },
    genericKeys: null,
  };
  return { ...config, menus: [...config.menus.filter((m) => m.number !== COMPANY_GREETING_MENU), greeting] };
}

/** What a silence does after the company greeting (AR-01): the operator when there is one that exists, else the call ends. */
function greetingNoInput(config: IvrConfig, ctx: IvrContext): NoInputAction {
  const operator = config.settings.operatorExtension;
  const noAction = config.settings.singleLevel?.noAction ?? DEFAULT_SINGLE_LEVEL.noAction;
  if (noAction === 'operator' && operator !== null && (ctx.extensionExists?.(operator) ?? true)) return { type: 'extension', extension: operator };
  return { type: 'disconnect' };
}

const menuOf = (config: IvrConfig, number: string): IvrMenu | undefined => config.menus.find((m) => m.number === number);

function enter(config: IvrConfig, path: readonly string[], reason: 'enter' | 'repeat' | 'invalid_key' | 'no_input', plays: number): IvrStep {
  const number = path[path.length - 1]!;
  const menu = menuOf(config, number);
  if (!menu) return end(path, { type: 'disconnect', reason: 'no_menu' });
  return {
    state: { path, plays, entry: '', ended: null },
    effect: { type: 'play', menu: menu.number, menuName: menu.name, language: menu.language, prompt: menu.prompt, play: plays, reason },
  };
}

function end(path: readonly string[], outcome: IvrOutcome): IvrStep {
  return { state: { path, plays: 0, entry: '', ended: outcome }, effect: { type: 'end', outcome } };
}

/** A call entering the IVR at `topMenu` (the business-hours or after-hours menu, IVR-03): its first prompt. */
export function startIvr(config: IvrConfig, topMenu: string | null): IvrStep {
  if (topMenu === null) return end([], { type: 'disconnect', reason: 'no_menu' });
  return enter(config, [topMenu], 'enter', 1);
}

/**
 * Connecting to an extension that is a menu of this configuration goes one level down (IVR-11: menus are
 * extensions); to a menu already on the path, back up to it, so the path never holds a menu twice.
 */
function connect(config: IvrConfig, path: readonly string[], extension: string): IvrStep {
  if (!menuOf(config, extension)) return end(path, { type: 'connect', extension });
  const at = path.indexOf(extension);
  return enter(config, at >= 0 ? path.slice(0, at + 1) : [...path, extension], 'enter', 1);
}

function keyStep(config: IvrConfig, path: readonly string[], action: KeyAction): IvrStep {
  switch (action.type) {
    case 'connect':
      return connect(config, path, action.extension);
    case 'voicemail':
      return end(path, { type: 'voicemail', extension: action.extension });
    case 'directory':
      return end(path, { type: 'directory' });
    case 'external':
      return end(path, { type: 'external', number: action.number });
  }
}

function generic(config: IvrConfig, path: readonly string[], action: GenericKeyAction): IvrStep {
  switch (action) {
    case 'repeat':
      return enter(config, path, 'repeat', 1);
    case 'root':
      return enter(config, path.slice(0, 1), 'enter', 1);
    case 'previous':
      // At the top there is nothing before: the menu plays again.
      return path.length > 1 ? enter(config, path.slice(0, -1), 'enter', 1) : enter(config, path, 'repeat', 1);
  }
}

/** AR-06: `0` on a menu that does not map it. */
function zero(config: IvrConfig, path: readonly string[], ctx: IvrContext): IvrStep | null {
  const rule = config.settings.zeroDialing;
  const exists = (n: string | null): n is string => n !== null && (ctx.extensionExists?.(n) ?? true);
  const toTop = () => enter(config, path.slice(0, 1), 'enter', 1);
  switch (rule.type) {
    case 'nothing':
      return null;
    case 'top_menu':
      return toTop();
    case 'operator':
      return exists(config.settings.operatorExtension) ? connect(config, path, config.settings.operatorExtension) : toTop();
    case 'extension':
      return exists(rule.extension) ? connect(config, path, rule.extension) : toTop();
  }
}

/**
 * A call whose outcome the call side could not carry out (a key whose target cannot be reached, an
 * outcome not supported yet): the caller is back in the menu it left, which plays again from its start.
 */
export function resumeIvr(config: IvrConfig, state: IvrCallState): IvrStep {
  if (!state.path.length) return end([], { type: 'disconnect', reason: 'no_menu' });
  return enter(config, state.path, 'repeat', 1);
}

/**
 * One digit acting on its own: the menu's key first (an admin's mapping wins over a one-digit extension
 * of the same number), then `0`'s zero dialing (AR-06), then a one-digit extension; else the entry is
 * invalid and the menu is offered again.
 */
function singleDigit(config: IvrConfig, state: IvrCallState, menu: IvrMenu, digit: MenuKey, ctx: IvrContext): IvrStep {
  const path = state.path;
  const action = menu.keys[digit];
  if (action) return keyStep(config, path, action);
  if (digit === '0') return zero(config, path, ctx) ?? { state, effect: { type: 'ignored', digit } };
  if (ctx.dialable?.has(digit)) return connect(config, path, digit);
  return enter(config, path, 'invalid_key', 1);
}

/** The extension number dialled ends (`#`, the inter-digit silence, or no dialable number could go on). */
function numberDialled(config: IvrConfig, state: IvrCallState, menu: IvrMenu, digits: string, ctx: IvrContext): IvrStep {
  const at: IvrCallState = { ...state, entry: '' };
  // A single digit held in case an extension followed: it is the key it would have been (key 1 still works).
  if (digits.length === 1) return singleDigit(config, at, menu, digits as MenuKey, ctx);
  if (ctx.dialable?.has(digits)) return connect(config, state.path, digits);
  return enter(config, state.path, 'invalid_key', 1);
}

/** The one transition function of an IVR call. A call that has ended stays ended. */
export function ivrStep(config: IvrConfig, state: IvrCallState, event: IvrEvent, ctx: IvrContext = {}): IvrStep {
  if (state.ended) return { state, effect: event.type === 'digit' ? { type: 'ignored', digit: event.digit } : { type: 'end', outcome: state.ended } };
  const path = state.path;
  const menu = menuOf(config, path[path.length - 1] ?? '');
  if (!menu) return end(path, { type: 'disconnect', reason: 'no_menu' });

  if (state.entry) {
    // An extension number under way. `*` drops it and acts as `*` does on the menu (a caller who
    // mis-dialled starts again); `#` or the inter-digit silence ends it.
    if (event.type === 'digit' && event.digit === '*') return ivrStep(config, { ...state, entry: '' }, event, ctx);
    if (event.type === 'no_input' || event.digit === '#') return numberDialled(config, state, menu, state.entry, ctx);
    const digits = state.entry + event.digit;
    // Once no longer number can follow, waiting would only delay the caller: the number is complete (or invalid).
    if (!beginsLonger(ctx, digits)) return numberDialled(config, state, menu, digits, ctx);
    return { state: { ...state, entry: digits }, effect: { type: 'dialling', digits } };
  }

  if (event.type === 'no_input') {
    const greeting = menu.number === COMPANY_GREETING_MENU;
    if (state.plays < (greeting ? 1 : PROMPT_PLAYS_BEFORE_NO_INPUT)) return enter(config, path, 'no_input', state.plays + 1);
    const action = greeting ? greetingNoInput(config, ctx) : config.settings.noInput;
    return action.type === 'disconnect' ? end(path, { type: 'disconnect', reason: 'no_input' }) : connect(config, path, action.extension);
  }

  const digit = event.digit;
  if (digit === '#' || digit === '*') {
    const keys = menu.genericKeys ?? config.settings.genericKeys;
    return generic(config, path, digit === '#' ? keys.hash : keys.star);
  }
  // A digit that begins a longer dialable number waits for the rest. `0` never does: it is the
  // operator's key (AR-06), which callers expect to act at once.
  if (digit !== '0' && beginsLonger(ctx, digit)) return { state: { ...state, entry: digit }, effect: { type: 'dialling', digits: digit } };
  return singleDigit(config, state, menu, digit, ctx);
}

/** Runs a whole sequence of events from the top menu: the simulator's and the tests' walk through a tree. */
export function runIvr(config: IvrConfig, topMenu: string | null, events: readonly IvrEvent[], ctx: IvrContext = {}): IvrStep[] {
  const steps = [startIvr(config, topMenu)];
  for (const event of events) steps.push(ivrStep(config, steps[steps.length - 1]!.state, event, ctx));
  return steps;
}
