import { z } from 'zod';
import { ruleConditionsSchema, selectAnsweringRule, type AnsweringRuleSet, type CustomRule, type IncomingCall, type RuleMatch } from '../answering-rules/rules.ts';
import { DEFAULT_SINGLE_LEVEL, extensionNumber, type CompanyCallTarget, type IvrSettings } from './ivr-config.ts';

/**
 * The company's custom answering rules (inventory 2 RULE-01…RULE-06; issue 14, deliverable 1): special
 * routing of calls to a company number for holidays, a lunch break or special callers. An ordered list of
 * rules, each with a name, an enabled flag, conditions (caller ID, called number, date and/or time, all of
 * which must hold) and a target. They are the answering rules' `CustomRule<T>`, evaluated by the one
 * evaluator (`selectAnsweringRule`) that users' rules use; a matching rule overrides the company's
 * business-hours and after-hours handling (IVR-03), and the first enabled rule that matches wins.
 */

/** RULE-06's list is bounded: every call to a company number reads it. */
export const MAX_COMPANY_RULES = 50;
export const MAX_COMPANY_RULE_NAME = 60;

/**
 * RULE-02 step 3, "Select top level IVR menu or extension": a menu (multi-level mode), where the caller
 * enters the IVR as at a top menu, or an extension of any kind (a user, a queue, a message-only or an
 * announcement extension…), which takes the call as a menu key's `connect` would. Extension numbers, as
 * IVR keys name their targets: a rule whose target was deleted still says which one it was (IVR-15).
 */
export const companyRuleTarget = z.discriminatedUnion('type', [
  z.object({ type: z.literal('menu'), menu: extensionNumber }).strict(),
  z.object({ type: z.literal('extension'), extension: extensionNumber }).strict(),
]);
export type CompanyRuleTarget = z.infer<typeof companyRuleTarget>;

/** The body of a new or changed rule (RULE-02): its name, whether it is active, its conditions and its target. */
export const companyRuleInput = z
  .object({
    name: z.string().trim().min(1, 'give the rule a name').max(MAX_COMPANY_RULE_NAME),
    enabled: z.boolean().default(true),
    conditions: ruleConditionsSchema,
    target: companyRuleTarget,
  })
  .strict();
export type CompanyRuleInput = z.output<typeof companyRuleInput>;

export type CompanyRule = CustomRule<CompanyRuleTarget>;

/** The extension number a target names. */
export const companyRuleTargetNumber = (t: CompanyRuleTarget): string => (t.type === 'menu' ? t.menu : t.extension);

/**
 * Where a call to a company number goes: a top menu or an extension, or (single-level mode, AR-01) the
 * company greeting; null when the account has no top menu for this time.
 */
export type CompanyEntryTarget = CompanyRuleTarget | { type: 'company_greeting' };
export type CompanyCallEntry = RuleMatch<CompanyEntryTarget | null>;

/** The settings a company call's entry reads. `mode` absent reads as multi-level (menus by the hours). */
export type CompanyEntrySettings = Pick<IvrSettings, 'hours' | 'businessHoursMenu' | 'afterHoursMenu'> & Partial<Pick<IvrSettings, 'mode' | 'singleLevel'>>;

/**
 * Where a call to a company number enters (RULE-01, IVR-03, AR-01, AR-03): the target of the first enabled
 * custom rule whose conditions all hold for the call (caller ID, number called, the account's wall clock
 * at its arrival); else, by the account's hours, the schedule's handling: in multi-level mode the
 * after-hours menu when closed, else the business-hours menu (an account that set no after-hours menu
 * keeps answering with its business-hours menu); in single-level mode the schedule's target, the company
 * greeting or an extension. `usable` leaves out rules whose target the call cannot reach now (a deleted
 * extension, a menu that is gone): such a rule is passed over, as if it did not match, rather than
 * dropping the caller.
 */
export function companyCallEntry(
  settings: CompanyEntrySettings,
  rules: readonly CompanyRule[],
  timeZone: string,
  call: IncomingCall,
  usable: (target: CompanyRuleTarget) => boolean = () => true,
): CompanyCallEntry {
  const menu = (n: string | null): CompanyEntryTarget | null => (n === null ? null : { type: 'menu', menu: n });
  const single = settings.singleLevel ?? DEFAULT_SINGLE_LEVEL;
  const scheduled = (t: CompanyCallTarget): CompanyEntryTarget => (t.type === 'company_greeting' ? t : { type: 'extension', extension: t.extension });
  const set: AnsweringRuleSet<CompanyEntryTarget | null> = {
    timeZone,
    hours: settings.hours,
    custom: rules.filter((r) => usable(r.target)),
    inHours: settings.mode === 'single' ? scheduled(single.businessHours) : menu(settings.businessHoursMenu),
    afterHours: settings.mode === 'single' ? scheduled(single.afterHours) : menu(settings.afterHoursMenu ?? settings.businessHoursMenu),
  };
  return selectAnsweringRule(set, call);
}
