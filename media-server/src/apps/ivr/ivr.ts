import { COMPANY_GREETING_MENU, companyCallEntry, companyGreetingText, DEFAULT_DIRECTORY_SETTINGS, DEFAULT_SINGLE_LEVEL, withCompanyGreeting, type IvrConfig, type MenuPrompt, type CompanyEntryTarget, DEFAULT_RING_FOR_SECONDS, directoryName, EXTENSION_INTER_DIGIT_MS, isIvrDigit, searchDirectory, type DirectoryEntry, type DirectorySearchBy, type IvrCallState, type IvrLanguage, ivrStep, resumeIvr, startIvr, type IvrContext, type IvrEffect, type IvrEvent, type IvrOutcome, type IvrStep, type MusicTrack, toE164, type CompanyRuleTarget, type IncomingCall } from '@carillon/domain';
import { DestinationRefusedError, type CallApp, type CallHandle, type PlaySource } from '../call-handle.ts';
import type { Destination, ExtensionDestination } from '../../routing/destination.ts';
import type { AnsweringRulesSource, ForwardingRoutes } from '../user-answering/answering-rules.ts';
import { reasonOf, ring, RING_BACK, userAnsweringApp } from '../user-answering/user-answering.ts';
import type { Mailboxes } from '../voicemail/mailboxes.ts';
import { takeMessage } from '../voicemail/take-message.ts';
import type { AccountIvr, IvrMenus } from './ivr-menus.ts';

/** How long the caller has to press a key once a menu's prompt has ended (IVR-04's "no input"). */
export const NO_INPUT_MS = 5000;

/**
 * Steps of one call through the menus (prompts played, keys taken) before it is hung up: a caller
 * pressing keys for ever, or a menu that sends back to itself, does not hold a call slot for ever.
 */
export const MAX_IVR_STEPS = 200;

type IvrDestination = Extract<Destination, { kind: 'ivr' }>;

export interface IvrAppDeps {
  menus: IvrMenus;
  mailboxes: Mailboxes;
  /** Users' answering rules, where they are enabled: a key that connects to a user then follows them. */
  answeringRules?: AnsweringRulesSource;
  /** Users' forwarding numbers, for the users' answering rules. */
  forwarding?: ForwardingRoutes;
  /** Stock tracks' audio, for the users' audio while connecting. */
  music?: (track: MusicTrack) => string;
  noInputMs?: number;
  /** The pause that ends an extension number dialled during a prompt (tests shorten it). */
  interDigitMs?: number;
  /** The clock the company hours are read at when a call arrives (tests set it). */
  now?: () => Date;
}

/**
 * The auto-receptionist on the call side (issue 14): the caller is answered, hears the menu's prompt and
 * presses keys; every key and every silence goes to the domain's interpreter (`ivrStep`, the one the
 * browser's simulator runs), and this application only carries out what it says: play a menu, or leave
 * the IVR for an extension (its phones, then its mailbox when nobody answers), a mailbox, or a hang-up.
 *
 * A company number (no menu named) first goes through the account's custom answering rules (RULE-01): the
 * first enabled rule whose conditions hold sends the call to its menu, or straight to its extension
 * (`companyEntry`). Else, in multi-level mode, it enters at the after-hours menu when the account's hours,
 * on its time zone's wall clock at the call's arrival, say it is closed, else at the business-hours menu;
 * in single-level mode (AR-01) the schedule's extension takes it, or the company greeting answers, a
 * built-in menu of the same interpreter (`withCompanyGreeting`). A menu's own number enters at that menu whatever the time. A directory key runs the dial-by-name directory (`dialByName`).
 * An external transfer bridges the caller to an outside number through the account's trunk (`transferOut`).
 * The caller may also dial an extension number during any menu's prompt (issue 14): the interpreter says
 * when it is `dialling`, and the next digit is then awaited for the inter-digit pause only.
 * A menu's TTS prompt is spoken in the menu's language; what the application says itself, in the account's.
 */
export function ivrApp(deps: IvrAppDeps): CallApp {
  const noInputMs = deps.noInputMs ?? NO_INPUT_MS;
  const interDigitMs = deps.interDigitMs ?? EXTENSION_INTER_DIGIT_MS;
  const now = deps.now ?? (() => new Date());
  const toUser = deps.answeringRules
    ? userAnsweringApp({ rules: deps.answeringRules, mailboxes: deps.mailboxes, ...(deps.forwarding ? { forwarding: deps.forwarding } : {}), ...(deps.music ? { music: deps.music } : {}), ...(deps.now ? { now: deps.now } : {}) })
    : null;

  return async (call, destination) => {
    if (destination.kind !== 'ivr') throw new TypeError(`IVR app given a ${destination.kind} destination`);
    const arrivedAt = now();
    const ivr = await deps.menus.ofAccount(destination.accountId);
    let top = ivr && (destination.menuId ? (ivr.menuNumbers.get(destination.menuId) ?? null) : null);
    if (ivr && !destination.menuId) {
      const entry = companyEntry(ivr, call, arrivedAt, true);
      const tried = entry?.type === 'extension' ? entry.extension : null;
      // RULE-02: a custom rule sends the call straight to an extension, which handles it as a menu key's `connect` would.
      if (tried !== null && (await connectExtension(call, destination, ivr, tried, { ...deps, toUser }))) return;
      // Not taken there (its feature is not available on this node): the company hours decide, as without the rule.
      const byHours = entry?.type === 'menu' ? entry : companyEntry(ivr, call, arrivedAt, false);
      // AR-01 (single level): the schedule's extension takes the call; one that cannot (gone meanwhile, its feature not here) leaves it to the company greeting.
      if (byHours?.type === 'extension' && byHours.extension !== tried && (await connectExtension(call, destination, ivr, byHours.extension, { ...deps, toUser }))) return;
      top = byHours === null ? null : byHours.type === 'menu' ? byHours.menu : COMPANY_GREETING_MENU;
    }
    if (!ivr || !top) {
      // RFC 3261 §21.4.18: nothing to answer with now (no menu set up), which the admin can fix.
      await call.reject(480, 'Auto-Receptionist Not Available');
      return;
    }
    await call.answer();
    // The company greeting is a menu of the same interpreter (AR-01): 9 the directory, 0 the operator, extensions dialled during it.
    const config = top === COMPANY_GREETING_MENU ? withCompanyGreeting(ivr.config, await greetingPrompt(deps.menus, call, ivr), call.language) : ivr.config;
    const ctx: IvrContext = { extensionExists: (n) => (ivr.extensions.get(n)?.reach ?? 'disabled') !== 'disabled', dialable: ivr.dialable };
    let step: IvrStep = startIvr(config, top);
    for (let i = 0; i < MAX_IVR_STEPS; i++) {
      const effect = step.effect;
      if (effect.type === 'end') {
        const left =
          effect.outcome.type === 'directory'
            ? await dialByName(call, destination, ivr, languageAt(config, step.state, call.language), noInputMs, { ...deps, toUser })
            : await leave(call, destination, ivr, effect.outcome, { ...deps, toUser });
        if (left) return;
        step = resumeIvr(config, step.state);
        continue;
      }
      // Mid extension number the prompt stays cut short and a silence of the inter-digit pause ends the number.
      const event =
        effect.type === 'dialling' ? await listen(call, null, interDigitMs) : await listen(call, effect.type === 'play' ? await promptOf(deps.menus, call.accountId, effect) : null, noInputMs);
      step = ivrStep(config, step.state, event, ctx);
    }
    await call.hangup();
  };
}

/**
 * Where a call to a company number enters (RULE-01, IVR-03, AR-01): the account's custom answering rules first (unless `withRules` is false),
 * by the answering rules' one evaluator, on the caller ID and the number called as E.164 where they read
 * as one (a trunk may send national digits; an extension calling keeps its number), and the account's
 * wall clock at the call's arrival; else the business-hours or after-hours menu (multi-level mode), or the
 * schedule's company greeting or extension (single level). A rule whose target the call cannot reach now
 * (deleted, disabled, not a menu any more) is passed over.
 */
function companyEntry(ivr: AccountIvr, call: CallHandle, at: Date, withRules: boolean): CompanyEntryTarget | null {
  const e164 = (n: string) => toE164(n, ivr.country) ?? n;
  const caller = call.caller.number;
  const incoming: IncomingCall = { at, callerId: caller === null ? null : call.caller.extensionId ? caller : e164(caller), calledNumber: call.dialed ? e164(call.dialed) : null };
  const usable = (t: CompanyRuleTarget) => {
    if (t.type === 'menu') return ivr.config.menus.some((m) => m.number === t.menu);
    const reach = ivr.extensions.get(t.extension)?.reach;
    return reach === 'user' || reach === 'mailbox' || reach === 'transfer';
  };
  return companyCallEntry(ivr.config.settings, withRules ? ivr.customRules : [], ivr.timeZone, incoming, usable).target;
}

/**
 * The company greeting as the call plays it (X-01, AR-01): the admin's library prompt, or the seed's text
 * with the company's name, read in the account's language; a library prompt deleted since falls back to
 * the default text rather than greeting callers with silence.
 */
async function greetingPrompt(menus: IvrMenus, call: CallHandle, ivr: AccountIvr): Promise<MenuPrompt> {
  const greeting = (ivr.config.settings.singleLevel ?? DEFAULT_SINGLE_LEVEL).greeting;
  if (greeting.mode === 'audio' && (await menus.promptFile(call.accountId, greeting.prompt))) return greeting;
  return { mode: 'tts', text: companyGreetingText(call.language, ivr.companyName) };
}

/** The menu's prompt as the call plays it; null when it has none (or its library prompt was deleted): the caller only hears silence and may press a key. */
async function promptOf(menus: IvrMenus, accountId: string, effect: Extract<IvrEffect, { type: 'play' }>): Promise<PlaySource | null> {
  const prompt = effect.prompt;
  if (!prompt) return null;
  if (prompt.mode === 'tts') return { tts: prompt.text, language: effect.language };
  const file = await menus.promptFile(accountId, prompt.prompt);
  return file ? { file } : null;
}

/**
 * Plays the prompt, a key cutting it short, then waits for one key; a silence of `timeoutMs` is `no_input`.
 * Keys a menu cannot map (A–D) are passed over. Digits keyed meanwhile wait in the call's buffer, so an
 * extension number keyed quickly (RFC 4733 events back to back) loses none between two calls of it.
 */
async function listen(call: CallHandle, prompt: PlaySource | null, timeoutMs: number): Promise<IvrEvent> {
  if (prompt) {
    const { digit } = await call.play(prompt, { bargeIn: true });
    if (digit && isIvrDigit(digit)) return { type: 'digit', digit };
  }
  for (;;) {
    const got = await call.collect({ maxDigits: 1, timeoutMs });
    const digit = got.digits[0];
    if (digit === undefined) return { type: 'no_input' };
    if (isIvrDigit(digit)) return { type: 'digit', digit };
  }
}

/**
 * Carries out where the interpreter says the call leaves the IVR. False when it cannot (a target that
 * is gone or not reachable from a menu, an outcome not supported yet): the caller has been told and
 * goes back to the menu.
 */
async function leave(
  call: CallHandle,
  from: IvrDestination,
  ivr: AccountIvr,
  outcome: IvrOutcome,
  deps: IvrAppDeps & { toUser: CallApp | null },
): Promise<boolean> {
  switch (outcome.type) {
    case 'disconnect':
      await call.hangup();
      return true;
    case 'connect':
      if (await connectExtension(call, from, ivr, outcome.extension, deps)) return true;
      break;
    case 'voicemail': {
      const target = ivr.extensions.get(outcome.extension);
      if (target?.reach === 'user' || target?.reach === 'mailbox') {
        // The menu's key sends callers to the mailbox without ringing: the account's rule, not the user's.
        await takeMessage(call, { accountId: from.accountId, extensionId: target.extensionId, extensionNumber: target.number }, 'rule', deps.mailboxes);
        return true;
      }
      break;
    }
    case 'external':
      return transferOut(call, from, outcome.number, deps);
    case 'directory': // dialByName's, before leaving
      break;
  }
  await call.play({ tts: notAvailable(call.language) });
  return false;
}

/**
 * Hands the call to an extension as its own kind handles it: a user's phones (the user's answering rules
 * where they run, else ringing then the mailbox), a message-only mailbox, or the extension's application
 * (a call queue, an announcement: `CallHandle.transfer`). False, with nothing said to the caller, when it
 * cannot take the call (gone, disabled, not reachable from the IVR, its feature not available here).
 */
async function connectExtension(call: CallHandle, from: IvrDestination, ivr: AccountIvr, extension: string, deps: IvrAppDeps & { toUser: CallApp | null }): Promise<boolean> {
  const target = ivr.extensions.get(extension);
  if (target?.reach === 'user') {
    const destination: ExtensionDestination = { kind: 'extension', accountId: from.accountId, extensionId: target.extensionId, extensionNumber: target.number, direction: from.direction };
    if (deps.toUser) {
      await deps.toUser(call, destination);
      return true;
    }
    const rang = await ring(call, destination, DEFAULT_RING_FOR_SECONDS);
    if (rang.outcome !== 'answered') await takeMessage(call, destination, reasonOf(rang), deps.mailboxes);
    return true;
  }
  if (target?.reach === 'mailbox') {
    await takeMessage(call, { accountId: from.accountId, extensionId: target.extensionId, extensionNumber: target.number }, 'message_only', deps.mailboxes);
    return true;
  }
  if (target?.reach === 'transfer') {
    try {
      await call.transfer(target.number);
      return true;
    } catch (err) {
      // Its feature is not available here (a hidden area), or it went meanwhile.
      if (!(err instanceof DestinationRefusedError)) throw err;
    }
  }
  return false;
}

/** How long an external number rings before the caller is told it did not answer and is back at the menu. */
export const EXTERNAL_RING_SECONDS = 30;

/**
 * A key's external transfer (IVR-13): the caller is bridged to the number through the account's trunk
 * (`CallHandle.bridgeTo` to an outside destination, as a user's forwarding is), hearing ring-back
 * meanwhile. A number the account may not call is refused before anything is dialled; one that does
 * not answer (busy, no answer, the carrier's failure) is said so. Either way the caller is back at the
 * menu, as for an option that is not available (false); the call ends with the bridge once it answered.
 */
async function transferOut(call: CallHandle, from: IvrDestination, number: string, deps: IvrAppDeps): Promise<boolean> {
  const route = await deps.menus.externalRoute({ accountId: from.accountId, menuId: from.menuId }, number, call.caller);
  if (!route) {
    await call.play({ tts: externalText.refused(call.language) });
    return false;
  }
  // Not awaited: bridgeTo stops it when the number answers or the ringing ends (or it ends with the call).
  call.play(RING_BACK, { loop: true }).catch(() => undefined);
  const bridged = await call.bridgeTo(route, { ringSeconds: EXTERNAL_RING_SECONDS });
  if (bridged.outcome === 'answered') return true;
  await call.play({ tts: externalText.unanswered(call.language) });
  return false;
}

/** What the caller hears when an external transfer does not go through, in the account's language. */
export const externalText = {
  refused: (language: 'en' | 'fr'): string => (language === 'fr' ? "Ce numéro ne peut pas être appelé depuis ce menu." : 'This number cannot be called from this menu.'),
  unanswered: (language: 'en' | 'fr'): string => (language === 'fr' ? "Le numéro demandé n'a pas répondu." : 'The number you asked for did not answer.'),
};

export function notAvailable(language: 'en' | 'fr'): string {
  return language === 'fr' ? "Cette option n'est pas disponible." : 'This option is not available.';
}

/** Tries of the dial-by-name directory (no match, too many matches, silence, a choice not offered) before the caller is back at the menu. */
export const DIRECTORY_TRIES = 3;
/** Letters a caller can key for a name: enough to tell people apart, a bound on what is collected. */
export const DIRECTORY_MAX_LETTERS = 10;
/** The pause between two letters after which what was keyed is searched (no `#` needed). */
export const DIRECTORY_INTER_DIGIT_MS = 3000;

/** The language of the menu the caller is in: what the directory speaks, as that menu's TTS prompt does. */
function languageAt(config: IvrConfig, state: IvrCallState, fallback: IvrLanguage): IvrLanguage {
  const number = state.path[state.path.length - 1];
  return config.menus.find((m) => m.number === number)?.language ?? fallback;
}

/**
 * The dial-by-name directory (issue 14, deliverable 2): the caller keys the first letters of a name
 * (ITU-T E.161 letters, ended by `#` or a pause), hears the matches, at most 8, as "press 1 for …", and
 * picks one, which is connected the way a menu key connects to an extension (`leave`); a single match is
 * connected at once. `*` goes back to the menu, and so do DIRECTORY_TRIES failed tries. True when the
 * call has left the IVR. A user's recorded name is played where there is one; other names are spoken by
 * TTS in the menu's language.
 */
async function dialByName(call: CallHandle, from: IvrDestination, ivr: AccountIvr, language: IvrLanguage, noInputMs: number, deps: IvrAppDeps & { toUser: CallApp | null }): Promise<boolean> {
  const settings = ivr.config.settings.directory ?? DEFAULT_DIRECTORY_SETTINGS;
  const say = (text: string): PlaySource => ({ tts: text, language });
  // AR-04: switched off by the admin; the key stays in the menu, the caller is told and is back at it.
  if (settings.enabled === false) {
    await call.play(say(notAvailable(language)));
    return false;
  }
  for (let tries = 0; tries < DIRECTORY_TRIES; tries++) {
    const letters = await call.collect({
      prompt: say(directoryText.spell(language, settings.searchBy)),
      maxDigits: DIRECTORY_MAX_LETTERS,
      timeoutMs: noInputMs,
      interDigitTimeoutMs: DIRECTORY_INTER_DIGIT_MS,
      terminators: '#*',
    });
    if (letters.terminator === '*' || letters.digits.includes('*')) return false;
    const found = searchDirectory(ivr.directory, settings, letters.digits);
    if (found.type === 'none') {
      // A silence is a try too, without the "no match" (nothing was keyed).
      if (letters.digits) await call.play(say(directoryText.noMatch(language)));
      continue;
    }
    if (found.type === 'too_many') {
      await call.play(say(directoryText.tooMany(language)));
      continue;
    }
    const recordings = await deps.menus.nameRecordings(from.accountId, found.entries.map((e) => e.extension));
    let chosen = found.entries.length === 1 ? found.entries[0] : undefined;
    if (chosen) {
      for (const part of directoryPrompt(language, [chosen], recordings, 'connecting')) await call.play(part);
    } else {
      // The choices end with words ("press 8."): the parts before them barge in one by one, the last is the collect's prompt.
      const parts = directoryPrompt(language, found.entries, recordings, 'choices');
      const early = await playUntilDigit(call, parts.slice(0, -1));
      const collected = early === null ? await call.collect({ prompt: parts[parts.length - 1], maxDigits: 1, timeoutMs: noInputMs, terminators: '*' }) : null;
      const choice = early ?? (collected?.terminator === '*' ? '*' : (collected?.digits ?? ''));
      if (choice === '*') return false;
      // '' (silence), '0', '9', '#' or a key past the matches offered pick nobody: a try lost.
      chosen = /^[1-8]$/.test(choice) ? found.entries[Number(choice) - 1] : undefined;
      if (!chosen) continue;
    }
    return leave(call, from, ivr, { type: 'connect', extension: chosen.extension }, deps);
  }
  return false;
}

/**
 * The directory's "press 1 for …" (or "connecting you to …") as what is played: a user's recorded name
 * where there is one (issue 14: "name recordings are played where they exist and TTS otherwise"),
 * between the words around it; the words next to each other are one TTS prompt.
 */
function directoryPrompt(language: IvrLanguage, entries: readonly DirectoryEntry[], recordings: ReadonlyMap<string, string>, what: 'choices' | 'connecting'): PlaySource[] {
  const parts: PlaySource[] = [];
  let words = '';
  const flush = () => {
    if (words) parts.push({ tts: words, language });
    words = '';
  };
  const text = (t: string) => (words = words ? `${words} ${t}` : t);
  entries.forEach((entry, i) => {
    const recording = recordings.get(entry.extension);
    if (!recording) return text(what === 'choices' ? directoryText.choices(language, [entry], i) : directoryText.connecting(language, entry));
    const [before, after] = what === 'choices' ? directoryText.choiceAround(language, i) : [directoryText.connectingTo(language), ''];
    text(before);
    flush();
    parts.push({ file: recording });
    if (after) text(after);
  });
  flush();
  return parts;
}

/** Plays the parts one after the other; the first digit the caller keys stops them and is returned (barge-in, as `collect`'s prompt). */
async function playUntilDigit(call: CallHandle, parts: readonly PlaySource[]): Promise<string | null> {
  for (const part of parts) {
    const { digit } = await call.play(part, { bargeIn: true });
    if (digit !== null) return digit;
  }
  return null;
}

/** What the directory says, in the menu's language. */
export const directoryText = {
  spell: (language: IvrLanguage, by: DirectorySearchBy): string =>
    language === 'fr'
      ? `Composez les premières lettres du ${by === 'first_name' ? 'prénom' : 'nom de famille'} de la personne, puis appuyez sur dièse. Pour revenir au menu, appuyez sur étoile.`
      : `Enter the first letters of the person's ${by === 'first_name' ? 'first' : 'last'} name, then press hash. To return to the menu, press star.`,
  noMatch: (language: IvrLanguage): string => (language === 'fr' ? 'Aucun nom ne correspond.' : 'No name matches.'),
  tooMany: (language: IvrLanguage): string => (language === 'fr' ? 'Trop de noms correspondent. Composez plus de lettres.' : 'Too many names match. Please enter more letters.'),
  /** The choices of `entries`, the first of them numbered `first + 1`. */
  choices: (language: IvrLanguage, entries: readonly DirectoryEntry[], first = 0): string =>
    entries
      .map((e, i) => {
        const [before, after] = directoryText.choiceAround(language, first + i);
        return `${before} ${directoryName(e)}, ${after}`;
      })
      .join(' '),
  /** The words before and after the name of the choice numbered `index + 1` (a recorded name plays between them). */
  choiceAround: (language: IvrLanguage, index: number): [before: string, after: string] =>
    language === 'fr' ? ['Pour', `appuyez sur ${index + 1}.`] : ['For', `press ${index + 1}.`],
  connecting: (language: IvrLanguage, entry: DirectoryEntry): string => `${directoryText.connectingTo(language)} ${directoryName(entry)}.`,
  connectingTo: (language: IvrLanguage): string => (language === 'fr' ? 'Mise en relation avec' : 'Connecting you to'),
};
