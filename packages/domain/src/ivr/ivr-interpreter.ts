import { PROMPT_PLAYS_BEFORE_NO_INPUT, type GenericKeyAction, type IvrConfig, type IvrDigit, type IvrLanguage, type IvrMenu, type KeyAction, type MenuPrompt } from './ivr-config.ts';

/**
 * The interpreter of a menu tree (IVR-03…IVR-13, AR-06): given a caller's key presses and silences as
 * events, it says which prompt plays next and where the call ends. It is pure (no clock, no I/O): the
 * call-side application feeds it the DTMF digits and prompt timeouts of a real call, and the browser's
 * "try it" simulator feeds it the buttons the admin clicks, so both walk the very same path.
 */

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
  readonly ended: IvrOutcome | null;
}

export type IvrEvent =
  | { type: 'digit'; digit: IvrDigit }
  /** The prompt played to its end and the caller pressed nothing in the time allowed. */
  | { type: 'no_input' };

export type IvrEffect =
  | { type: 'play'; menu: string; menuName: string; language: IvrLanguage; prompt: MenuPrompt | null; play: number; reason: 'enter' | 'repeat' | 'invalid_key' | 'no_input' }
  | { type: 'end'; outcome: IvrOutcome }
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
}

const menuOf = (config: IvrConfig, number: string): IvrMenu | undefined => config.menus.find((m) => m.number === number);

function enter(config: IvrConfig, path: readonly string[], reason: 'enter' | 'repeat' | 'invalid_key' | 'no_input', plays: number): IvrStep {
  const number = path[path.length - 1]!;
  const menu = menuOf(config, number);
  if (!menu) return end(path, { type: 'disconnect', reason: 'no_menu' });
  return {
    state: { path, plays, ended: null },
    effect: { type: 'play', menu: menu.number, menuName: menu.name, language: menu.language, prompt: menu.prompt, play: plays, reason },
  };
}

function end(path: readonly string[], outcome: IvrOutcome): IvrStep {
  return { state: { path, plays: 0, ended: outcome }, effect: { type: 'end', outcome } };
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

/** The one transition function of an IVR call. A call that has ended stays ended. */
export function ivrStep(config: IvrConfig, state: IvrCallState, event: IvrEvent, ctx: IvrContext = {}): IvrStep {
  if (state.ended) return { state, effect: event.type === 'digit' ? { type: 'ignored', digit: event.digit } : { type: 'end', outcome: state.ended } };
  const path = state.path;
  const menu = menuOf(config, path[path.length - 1] ?? '');
  if (!menu) return end(path, { type: 'disconnect', reason: 'no_menu' });

  if (event.type === 'no_input') {
    if (state.plays < PROMPT_PLAYS_BEFORE_NO_INPUT) return enter(config, path, 'no_input', state.plays + 1);
    const action = config.settings.noInput;
    return action.type === 'disconnect' ? end(path, { type: 'disconnect', reason: 'no_input' }) : connect(config, path, action.extension);
  }

  const digit = event.digit;
  if (digit === '#' || digit === '*') {
    const keys = menu.genericKeys ?? config.settings.genericKeys;
    return generic(config, path, digit === '#' ? keys.hash : keys.star);
  }
  const action = menu.keys[digit];
  if (action) return keyStep(config, path, action);
  if (digit === '0') return zero(config, path, ctx) ?? { state, effect: { type: 'ignored', digit } };
  // A key the menu does not map: the menu is offered again.
  return enter(config, path, 'invalid_key', 1);
}

/** Runs a whole sequence of events from the top menu: the simulator's and the tests' walk through a tree. */
export function runIvr(config: IvrConfig, topMenu: string | null, events: readonly IvrEvent[], ctx: IvrContext = {}): IvrStep[] {
  const steps = [startIvr(config, topMenu)];
  for (const event of events) steps.push(ivrStep(config, steps[steps.length - 1]!.state, event, ctx));
  return steps;
}
