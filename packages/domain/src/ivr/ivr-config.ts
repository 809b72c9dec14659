import { z } from 'zod';
import type { CompanyRuleInput } from './company-rules.ts';
import { ALWAYS, weeklyScheduleSchema } from '../answering-rules/schedule.ts';

/**
 * An account's IVR configuration (inventory 2 §3–4: IVR-02…IVR-14; AR-05, AR-06): the menus, each an
 * extension with its own number, and the account-wide settings. Targets are extension numbers, as callers
 * dial them: a key that names an extension deleted since still says which one it was, so validation can
 * report it (IVR-15) instead of the key silently vanishing. Pure data with its zod schema, shared by the
 * API, the XML import, the validation, the interpreter and the browser's simulator.
 */

export const IVR_LANGUAGES = ['en', 'fr'] as const;
export type IvrLanguage = (typeof IVR_LANGUAGES)[number];

/** The keys a menu maps (IVR-13); `#` and `*` are the generic navigation keys (IVR-04). */
export const MENU_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'] as const;
export type MenuKey = (typeof MENU_KEYS)[number];
export type IvrDigit = MenuKey | '#' | '*';
export const isIvrDigit = (d: string): d is IvrDigit => d === '#' || d === '*' || (MENU_KEYS as readonly string[]).includes(d);

export const extensionNumber = z.string().regex(/^[0-9]{1,5}$/, '1 to 5 digits');
/** An external number as dialled out (E.164 or national digits); the account's calling permissions apply when the call is placed. */
export const externalNumber = z.string().regex(/^\+?[0-9]{3,15}$/, 'a phone number: 3 to 15 digits, optionally after +');

/**
 * PR-06: a TTS text holds only letters, digits, spaces, commas and periods. The seed's own example
 * ("Hi! How can I help you?") breaks that rule; we accept `!`, `?`, `'` and `-` too (they change nothing
 * a caller could misread) and refuse the symbols a voice would spell out (`#`, `*`, `£`, `@`…), which the
 * UI tells the admin to write as words ("hash", "star").
 */
export const TTS_TEXT_PATTERN = /^[\p{L}\p{N} ,.!?'’-]+$/u;
export const MAX_TTS_TEXT = 1000;
export const ttsText = z
  .string()
  .trim()
  .min(1)
  .max(MAX_TTS_TEXT)
  .regex(TTS_TEXT_PATTERN, 'letters, digits, spaces, commas and periods only; write "hash" or "star" instead of # or *');

/** PR-01: a menu's prompt is a library prompt (audio, by its unique name) or text read aloud. */
export const menuPrompt = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('audio'), prompt: z.string().trim().min(1).max(100) }).strict(),
  z.object({ mode: z.literal('tts'), text: ttsText }).strict(),
]);
export type MenuPrompt = z.infer<typeof menuPrompt>;

/** IVR-13's four actions of a key. `connect` reaches any extension, another IVR menu included. */
export const keyAction = z.discriminatedUnion('type', [
  z.object({ type: z.literal('connect'), extension: extensionNumber }).strict(),
  z.object({ type: z.literal('voicemail'), extension: extensionNumber }).strict(),
  z.object({ type: z.literal('directory') }).strict(),
  z.object({ type: z.literal('external'), number: externalNumber }).strict(),
]);
export type KeyAction = z.infer<typeof keyAction>;

/** IVR-04: what `#` and `*` do. */
export const GENERIC_KEY_ACTIONS = ['repeat', 'root', 'previous'] as const;
export type GenericKeyAction = (typeof GENERIC_KEY_ACTIONS)[number];
export const genericKeys = z.object({ hash: z.enum(GENERIC_KEY_ACTIONS), star: z.enum(GENERIC_KEY_ACTIONS) }).strict();
export type GenericKeys = z.infer<typeof genericKeys>;

export const menuKeys = z.partialRecord(z.enum(MENU_KEYS), keyAction);

export const ivrMenu = z
  .object({
    number: extensionNumber,
    name: z.string().trim().min(1).max(80),
    language: z.enum(IVR_LANGUAGES),
    prompt: menuPrompt.nullable(),
    keys: menuKeys,
    /** null: the account's generic keys ("Use default settings"); else this menu's own (IVR-13 "Specify"). */
    genericKeys: genericKeys.nullable(),
  })
  .strict();
export type IvrMenu = z.infer<typeof ivrMenu>;

/** IVR-04: after the prompt played 3 times with no input. */
export const noInputAction = z.discriminatedUnion('type', [
  z.object({ type: z.literal('disconnect') }).strict(),
  z.object({ type: z.literal('extension'), extension: extensionNumber }).strict(),
]);
export type NoInputAction = z.infer<typeof noInputAction>;

/** AR-06 (multi-level variant of IVR-04): what `0` does when the menu does not map it. */
export const zeroDialing = z.discriminatedUnion('type', [
  z.object({ type: z.literal('top_menu') }).strict(),
  z.object({ type: z.literal('nothing') }).strict(),
  z.object({ type: z.literal('operator') }).strict(),
  z.object({ type: z.literal('extension'), extension: extensionNumber }).strict(),
]);
export type ZeroDialing = z.infer<typeof zeroDialing>;

/** The dial-by-name directory's settings (issue 14, deliverable 2); the search itself is in directory.ts. */
export const DIRECTORY_SEARCH_BY = ['first_name', 'last_name'] as const;
export type DirectorySearchBy = (typeof DIRECTORY_SEARCH_BY)[number];

/** Bound on the list of included extensions an admin (or an imported file) can store. */
export const MAX_DIRECTORY_EXTENSIONS = 10_000;

export const directorySettings = z
  .object({
    /**
     * AR-04's "Enable Dial-by-Name Directory": false switches it off (a directory key then tells callers the
     * option is not available); absent (settings saved before the switch existed, the default): on.
     */
    enabled: z.boolean().optional(),
    /** Which name the keypad spells (the admin picks). */
    searchBy: z.enum(DIRECTORY_SEARCH_BY),
    /** The extensions listed, by number; null: every user extension of the account. */
    extensions: z.array(extensionNumber).max(MAX_DIRECTORY_EXTENSIONS).nullable(),
  })
  .strict();
export type DirectorySettings = z.infer<typeof directorySettings>;

/** What settings saved before the directory had any read as: by last name, every user. */
export const DEFAULT_DIRECTORY_SETTINGS: DirectorySettings = { searchBy: 'last_name', extensions: null };

/**
 * AR-01, single-level mode: where a call to a company number goes in one schedule (business hours, after
 * hours): the company greeting, or an extension of a kind that takes calls (a user, a call queue,
 * a shared line, a message-only mailbox, an announcement, a limited extension), by its number as callers
 * dial it: a target deleted since still says which one it was (IVR-15).
 */
export const companyCallTarget = z.discriminatedUnion('type', [
  z.object({ type: z.literal('company_greeting') }).strict(),
  z.object({ type: z.literal('extension'), extension: extensionNumber }).strict(),
]);
export type CompanyCallTarget = z.infer<typeof companyCallTarget>;

/**
 * The company greeting's audio (X-01 "Set Greeting"): `default`, the seed's text read aloud with the
 * company's name in the account's greetings language (`companyGreetingText`), or a library prompt (PR-01).
 */
export const companyGreetingPrompt = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('default') }).strict(),
  z.object({ mode: z.literal('audio'), prompt: z.string().trim().min(1).max(100) }).strict(),
]);
export type CompanyGreetingPrompt = z.infer<typeof companyGreetingPrompt>;

/** AR-01's "If Caller Enters no Action" after the company greeting. */
export const GREETING_NO_ACTION = ['operator', 'disconnect'] as const;
export type GreetingNoAction = (typeof GREETING_NO_ACTION)[number];

/** AR-01: company call handling in single-level mode, per schedule, with the greeting and its no-action rule. */
export const singleLevelSettings = z
  .object({
    businessHours: companyCallTarget,
    afterHours: companyCallTarget,
    greeting: companyGreetingPrompt,
    noAction: z.enum(GREETING_NO_ACTION),
  })
  .strict();
export type SingleLevelSettings = z.infer<typeof singleLevelSettings>;

/** AR-01's defaults: the company greeting in both schedules, spoken from the seed's text; no action reaches the operator. */
export const DEFAULT_SINGLE_LEVEL: SingleLevelSettings = {
  businessHours: { type: 'company_greeting' },
  afterHours: { type: 'company_greeting' },
  greeting: { mode: 'default' },
  noAction: 'operator',
};

/**
 * X-01's default company greeting, the company name inserted. English and French; the French is the
 * setup wizard's (app i18n `setup.greetingText`), which shows the admin this very text.
 */
export function companyGreetingText(language: IvrLanguage, companyName: string): string {
  return language === 'fr'
    ? `Merci d'avoir appelé ${companyName}. Si vous connaissez l'extension de votre correspondant, vous pouvez la composer à tout moment. Pour l'opérateur, appuyez sur 0 ou restez en ligne. Pour l'annuaire par nom, appuyez sur 9.`
    : `Thank you for calling ${companyName}. If you know your party's extension, you may dial it at any time. For the operator, press 0 or stay on the line. For the dial-by-name directory, press 9.`;
}

export const IVR_MODES = ['single', 'multi'] as const;
export type IvrMode = (typeof IVR_MODES)[number];

export const ivrSettings = z
  .object({
    /** IVR-02: single level (company greeting) or multi-level (menus). */
    mode: z.enum(IVR_MODES),
    /** IVR-03: the top menus, by extension number. */
    businessHoursMenu: extensionNumber.nullable(),
    afterHoursMenu: extensionNumber.nullable(),
    /**
     * AR-03: the company's business hours, 24 hours or ranges per week day, read in the account's time
     * zone by the one schedule evaluator (answering-rules/schedule.ts). Outside them a company number
     * enters at `afterHoursMenu`. Settings saved before hours existed read as 24 hours.
     */
    hours: weeklyScheduleSchema.default(ALWAYS),
    genericKeys,
    noInput: noInputAction,
    zeroDialing,
    /** AR-05: the operator (default: the first admin's extension). */
    operatorExtension: extensionNumber.nullable(),
    /** IVR-04: who receives faxes and SMS sent to company numbers in multi-level mode. */
    faxSmsRecipient: extensionNumber.nullable(),
    /** The dial-by-name directory; absent (settings saved before it existed): DEFAULT_DIRECTORY_SETTINGS. */
    directory: directorySettings.optional(),
    /** AR-01, single-level mode's company call handling; absent (settings saved before it existed): DEFAULT_SINGLE_LEVEL. */
    singleLevel: singleLevelSettings.optional(),
  })
  .strict();
export type IvrSettings = z.infer<typeof ivrSettings>;

/**
 * A change of the settings as the general settings form sends it: the company hours and the directory have
 * their own pages (and routes), so a form opened before one of them was saved must not write back what it
 * read then. Absent, each keeps what is stored; given (an API client that sends them), each is saved.
 * The single-level company call handling left out keeps what is stored too (a client that predates it).
 */
export const ivrSettingsChange = ivrSettings.extend({ hours: weeklyScheduleSchema.optional() });
export type IvrSettingsChange = z.infer<typeof ivrSettingsChange>;

/** At most this many menus per account: a bound on what one admin (or one imported file) can store. */
export const MAX_IVR_MENUS = 500;

export const ivrConfig = z
  .object({ settings: ivrSettings, menus: z.array(ivrMenu).max(MAX_IVR_MENUS) })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.menus.forEach((m, i) => {
      if (seen.has(m.number)) ctx.addIssue({ code: 'custom', path: ['menus', i, 'number'], message: `menu number ${m.number} is used twice` });
      seen.add(m.number);
    });
  });
export type IvrConfig = z.infer<typeof ivrConfig>;
/**
 * A whole configuration as an XML file gives it: it may leave out the company hours, and carry the
 * company's custom answering rules (RULE-01…RULE-06, in their order); what it leaves out, the
 * account keeps.
 */
export type IvrConfigInput = {
  settings: Omit<IvrSettings, 'hours'> & { hours?: IvrSettings['hours'] };
  menus: IvrConfig['menus'];
  customRules?: readonly CompanyRuleInput[];
};

/** IVR-04's UI defaults: `#` repeats, `*` goes back; no input disconnects; `0` reaches the operator. */
export const DEFAULT_IVR_SETTINGS: IvrSettings = {
  mode: 'single',
  businessHoursMenu: null,
  afterHoursMenu: null,
  hours: ALWAYS,
  genericKeys: { hash: 'repeat', star: 'previous' },
  noInput: { type: 'disconnect' },
  zeroDialing: { type: 'operator' },
  operatorExtension: null,
  faxSmsRecipient: null,
};

/** How many times a prompt plays with no input before the no-input action (IVR-04). */
export const PROMPT_PLAYS_BEFORE_NO_INPUT = 3;
