import { z } from 'zod';
import { scheduleContains, wallClock, weeklyScheduleSchema, type WeeklySchedule } from './schedule.ts';

/**
 * Answering rules (inventory 1 §7.6 and §12.5, inventory 2 RULE-01…06): an
 * ordered list of custom rules, each with conditions on the caller ID, the
 * number called and the date/time, then the hours rule and the after-hours
 * rule. Custom rules are tried first, in their order, and the first whose
 * conditions all hold wins (§12.5: "custom rules are applied before the
 * Business Hours and After Hours rules"); otherwise the hours decide.
 *
 * The evaluator is generic over what a rule routes to: a user's rule rings
 * devices and forwarding numbers (ring-plan.ts), a company's rule goes to a
 * menu, an extension or a queue. There is one evaluator for both.
 */

/** Numbers a condition lists: E.164 (+14155550100) or an internal extension (2–10 digits). */
export const ruleNumberSchema = z
  .string()
  .trim()
  .regex(/^(\+[1-9][0-9]{6,14}|[0-9]{2,10})$/, 'an E.164 number such as +14155550100, or an extension');

const localDateTime = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d$/, 'a date and time as YYYY-MM-DDTHH:MM');

/** Condition lists are bounded: a rule is read on every call. */
export const MAX_CONDITION_NUMBERS = 50;
export const MAX_DATE_RANGES = 10;

export const ruleConditionSchema = z.discriminatedUnion('type', [
  /** The caller is one of these numbers, or one of the owner's contacts; `anonymous` also matches a caller with no caller ID. */
  z
    .object({
      type: z.literal('caller_id'),
      numbers: z.array(ruleNumberSchema).max(MAX_CONDITION_NUMBERS).default([]),
      contactIds: z.array(z.uuid()).max(MAX_CONDITION_NUMBERS).default([]),
      anonymous: z.boolean().default(false),
    })
    .strict()
    .refine((c) => c.numbers.length > 0 || c.contactIds.length > 0 || c.anonymous, { message: 'give at least one number or contact', path: ['numbers'] }),
  /** The caller dialled one of these numbers (a user may have several direct numbers). */
  z.object({ type: z.literal('called_number'), numbers: z.array(ruleNumberSchema).min(1, 'give at least one number').max(MAX_CONDITION_NUMBERS) }).strict(),
  /** Within one of these periods, read on the rule set's time zone (start inclusive, end exclusive). */
  z
    .object({
      type: z.literal('date_range'),
      ranges: z
        .array(z.object({ from: localDateTime, to: localDateTime }).strict().refine((r) => r.from < r.to, { message: 'must end after it starts', path: ['to'] }))
        .min(1, 'give at least one period')
        .max(MAX_DATE_RANGES),
    })
    .strict(),
  /** Within a weekly schedule (time of day and week day). */
  z.object({ type: z.literal('schedule'), schedule: weeklyScheduleSchema }).strict(),
]);
export type RuleCondition = z.output<typeof ruleConditionSchema>;
export type RuleConditionType = RuleCondition['type'];

/** A rule's conditions: at least one, each kind at most once, all of which must hold. */
export const ruleConditionsSchema = z
  .array(ruleConditionSchema)
  .min(1, 'a custom rule needs at least one condition')
  .max(4)
  .superRefine((conditions, ctx) => {
    const seen = new Set<string>();
    conditions.forEach((c, i) => {
      if (seen.has(c.type)) ctx.addIssue({ code: 'custom', path: [i, 'type'], message: `only one ${c.type} condition per rule` });
      seen.add(c.type);
    });
  });

export interface CustomRule<T> {
  id: string;
  name: string;
  enabled: boolean;
  conditions: readonly RuleCondition[];
  target: T;
}

export interface AnsweringRuleSet<T> {
  /** IANA zone the hours, schedules and date ranges are read in (the user's, else the account's). */
  timeZone: string;
  /** User hours, or company business hours. */
  hours: WeeklySchedule;
  /** In the order the owner set; the first that matches wins. */
  custom: readonly CustomRule<T>[];
  inHours: T;
  afterHours: T;
}

export interface IncomingCall {
  at: Date;
  /** The caller's number as received; null when the caller withheld it (anonymous). */
  callerId: string | null;
  /** The owner's contacts whose numbers match the caller: looked up by the caller of the evaluator, which stays pure. */
  callerContactIds?: readonly string[];
  /** The number or extension that was dialled. */
  calledNumber: string | null;
}

export type RuleMatch<T> = { kind: 'custom'; ruleId: string; target: T } | { kind: 'hours'; target: T } | { kind: 'after_hours'; target: T };

/**
 * Numbers compared by their digits: "+1 (415) 555-0100" and "+14155550100" are
 * one number, and so are "+14155550100" and "14155550100" as a trunk may send
 * it. An extension (205) only equals the same short digits.
 */
export function sameNumber(a: string, b: string): boolean {
  const da = a.replace(/\D/g, '');
  return da.length > 0 && da === b.replace(/\D/g, '');
}

function conditionHolds(c: RuleCondition, call: IncomingCall, timeZone: string): boolean {
  switch (c.type) {
    case 'caller_id': {
      if (call.callerId === null || call.callerId.replace(/\D/g, '') === '') return c.anonymous;
      const callerId = call.callerId;
      if (c.numbers.some((n) => sameNumber(n, callerId))) return true;
      const contacts = call.callerContactIds ?? [];
      return c.contactIds.some((id) => contacts.includes(id));
    }
    case 'called_number': {
      const called = call.calledNumber;
      return called !== null && c.numbers.some((n) => sameNumber(n, called));
    }
    case 'date_range': {
      const clock = wallClock(call.at, timeZone);
      // Compared as wall-clock text, which sorts like time: the period is what the owner's clock reads.
      const now = `${clock.date}T${clock.time}`;
      return c.ranges.some((r) => r.from <= now && now < r.to);
    }
    case 'schedule':
      return scheduleContains(c.schedule, wallClock(call.at, timeZone));
  }
}

/** Whether every condition of the rule holds for the call (a rule without conditions matches nothing). */
export function ruleMatches(conditions: readonly RuleCondition[], call: IncomingCall, timeZone: string): boolean {
  return conditions.length > 0 && conditions.every((c) => conditionHolds(c, call, timeZone));
}

/** The rule that takes the call: the first enabled custom rule that matches, else hours or after hours. */
export function selectAnsweringRule<T>(rules: AnsweringRuleSet<T>, call: IncomingCall): RuleMatch<T> {
  for (const rule of rules.custom) {
    if (rule.enabled && ruleMatches(rule.conditions, call, rules.timeZone)) return { kind: 'custom', ruleId: rule.id, target: rule.target };
  }
  return scheduleContains(rules.hours, wallClock(call.at, rules.timeZone)) ? { kind: 'hours', target: rules.inHours } : { kind: 'after_hours', target: rules.afterHours };
}
