import { z } from 'zod';
import { dndTakesCall, type DndStatus } from './do-not-disturb.ts';
import { afterRingingSchema, audioChoiceSchema, forwardingNumberSchema, MAX_FORWARDING_NUMBERS, ringPlanSchema, ringTimeline, type RingPlan, type RingTimeline } from './ring-plan.ts';
import { ruleConditionsSchema, sameNumber, selectAnsweringRule, type AnsweringRuleSet, type IncomingCall, type RuleMatch } from './rules.ts';
import { weeklyScheduleSchema } from './schedule.ts';

/**
 * A user's answering rules and call settings as one document (inventory 1
 * §7.5–7.6): their hours, the User Hours rule, the After Hours rule, their
 * custom rules in order, and the settings that apply to every call
 * (greeting, screening, connecting message, hold music, blocking).
 */

/** Inventory 2 X-02: the stock tracks for music while connecting and on hold. */
export const MUSIC_TRACKS = ['acoustic', 'beautiful', 'classical', 'corporate', 'country', 'holiday', 'latin', 'modern_jazz', 'nature', 'reggae', 'world'] as const;
export type MusicTrack = (typeof MUSIC_TRACKS)[number];

/** "Set Audio": ring tones, a stock track, or an uploaded file of the account. */
const musicSchema = z.object({ kind: z.literal('music'), track: z.enum(MUSIC_TRACKS) }).strict();
const customAudioSchema = z.object({ kind: z.literal('custom'), audioId: z.uuid() }).strict();
export const audioWhileConnectingSchema = z.discriminatedUnion('kind', [z.object({ kind: z.literal('ring_tone') }).strict(), musicSchema, customAudioSchema]);
export type AudioWhileConnecting = z.output<typeof audioWhileConnectingSchema>;

/** What one rule does with a call it takes. */
export const ruleHandlingSchema = z
  .object({
    ringPlan: ringPlanSchema,
    afterRinging: afterRingingSchema,
    /** The voicemail greeting of this rule: issue 13 keeps one per rule (user hours, after hours, each custom rule). */
    greeting: audioChoiceSchema,
    /** Rule-based (§7.5): what the caller hears while the rule rings. */
    audioWhileConnecting: audioWhileConnectingSchema,
  })
  .strict();
export type RuleHandling = z.output<typeof ruleHandlingSchema>;

export const MAX_CUSTOM_RULES = 50;
export const MAX_BLOCKED_NUMBERS = 100;

/** Blocked outside numbers (E.164), each once: a user's call blocking, and a shared line's (SL-05). */
export const blockedNumbersSchema = z
  .array(forwardingNumberSchema)
  .max(MAX_BLOCKED_NUMBERS, `at most ${MAX_BLOCKED_NUMBERS} blocked numbers`)
  .superRefine((numbers, ctx) => {
    const seen = new Set<string>();
    numbers.forEach((n, i) => {
      const digits = n.replace(/\D/g, '');
      if (seen.has(digits)) ctx.addIssue({ code: 'custom', path: [i], message: 'this number is already blocked' });
      seen.add(digits);
    });
  });

export const customUserRuleSchema = ruleHandlingSchema.extend({
  /** Absent on a rule being created; kept on save so that what refers to a rule (its greeting) stays attached. */
  id: z.uuid().optional(),
  name: z.string().trim().min(1, 'give the rule a name').max(60),
  enabled: z.boolean(),
  conditions: ruleConditionsSchema,
});
export type CustomUserRule = z.output<typeof customUserRuleSchema>;

/**
 * Call screening (§7.5, "Incoming Call Information"): off; for outside callers (not another
 * extension of the account); when the caller ID is missing; or for every call.
 */
export const SCREENING_MODES = ['off', 'outside', 'anonymous_only', 'always'] as const;
export type ScreeningMode = (typeof SCREENING_MODES)[number];

/** Whether the caller must say their name before the user's phones ring. */
export function screeningApplies(mode: ScreeningMode, caller: { number: string | null; extensionId: string | null }): boolean {
  switch (mode) {
    case 'off':
      return false;
    case 'always':
      return true;
    case 'outside':
      return caller.extensionId === null;
    case 'anonymous_only':
      return caller.number === null || caller.number.replace(/\D/g, '') === '';
  }
}

/** Settings of every call, whatever the rule (§7.5). */
export const userCallSettingsSchema = z
  .object({
    /** Answer with the user's greeting before ringing (not the voicemail greeting). */
    userGreeting: z.object({ enabled: z.boolean(), audio: audioChoiceSchema }).strict(),
    /** The caller says their name; the callee hears it and accepts with 1 or sends to voicemail with 2. */
    screening: z.enum(SCREENING_MODES),
    /** "Please hold while I try to connect you." */
    connectingMessage: z.object({ enabled: z.boolean(), audio: audioChoiceSchema }).strict(),
    /**
     * "Press 1 to accept" on calls forwarded to the user's numbers: whoever answers must press 1
     * before the caller is connected, so that a mobile's own voicemail cannot take the call. Settings
     * saved before it existed read as off.
     */
    confirmForwardedCalls: z.boolean().default(false),
    /** Applies to all calls, not per rule. */
    holdMusic: z.object({ enabled: z.boolean(), audio: z.discriminatedUnion('kind', [musicSchema, customAudioSchema]) }).strict(),
    blocking: z
      .object({
        anonymous: z.boolean(),
        /** Outside numbers, E.164; each once. */
        numbers: blockedNumbersSchema,
      })
      .strict(),
  })
  .strict();
export type UserCallSettings = z.output<typeof userCallSettingsSchema>;

export const userAnsweringSchema = z
  .object({
    hours: weeklyScheduleSchema,
    inHours: ruleHandlingSchema,
    afterHours: ruleHandlingSchema,
    custom: z.array(customUserRuleSchema).max(MAX_CUSTOM_RULES),
    settings: userCallSettingsSchema,
  })
  .strict()
  .superRefine((doc, ctx) => {
    // Inventory 3 §1.11: up to 10 forwarding numbers per extension, over all of its rules.
    const plans = [doc.inHours.ringPlan, doc.afterHours.ringPlan, ...doc.custom.map((r) => r.ringPlan)];
    const numbers = new Set(plans.flatMap((p) => p.rows.flatMap((r) => (r.target.kind === 'forwarding' ? [r.target.number.replace(/\D/g, '')] : []))));
    if (numbers.size > MAX_FORWARDING_NUMBERS) ctx.addIssue({ code: 'custom', path: ['custom'], message: `at most ${MAX_FORWARDING_NUMBERS} different forwarding numbers over all rules` });
    const ids = new Set<string>();
    doc.custom.forEach((r, i) => {
      if (r.id && ids.has(r.id)) ctx.addIssue({ code: 'custom', path: ['custom', i, 'id'], message: 'two rules with the same id' });
      if (r.id) ids.add(r.id);
    });
  });
export type UserAnswering = z.output<typeof userAnsweringSchema>;

export const DEFAULT_RING_FOR_SECONDS = 20;

/** A rule that rings every device of the user together, then takes a message. */
export function defaultRuleHandling(deviceIds: readonly string[], mode: RingPlan['mode'] = 'in_order'): RuleHandling {
  return {
    ringPlan: { mode, rows: deviceIds.map((deviceId) => ({ target: { kind: 'device' as const, deviceId }, order: 1, active: true, ringForSeconds: DEFAULT_RING_FOR_SECONDS })) },
    afterRinging: { type: 'voicemail' },
    greeting: { source: 'default' },
    audioWhileConnecting: { kind: 'ring_tone' },
  };
}

export const DEFAULT_CALL_SETTINGS: UserCallSettings = {
  userGreeting: { enabled: false, audio: { source: 'default' } },
  screening: 'off',
  connectingMessage: { enabled: false, audio: { source: 'default' } },
  confirmForwardedCalls: false,
  holdMusic: { enabled: true, audio: { kind: 'music', track: 'acoustic' } },
  blocking: { anonymous: false, numbers: [] },
};

/**
 * A stored plan against the user's devices now: rows of devices the user no
 * longer has are dropped, and a device added since rings with the first group
 * (a new phone that silently never rang would be the worse surprise).
 */
export function reconcileDevices(plan: RingPlan, deviceIds: readonly string[]): RingPlan {
  const have = new Set(deviceIds);
  const rows = plan.rows.filter((r) => r.target.kind !== 'device' || have.has(r.target.deviceId));
  const listed = new Set(rows.flatMap((r) => (r.target.kind === 'device' ? [r.target.deviceId] : [])));
  const firstOrder = rows.length ? Math.min(...rows.map((r) => r.order)) : 1;
  const added = deviceIds.filter((id) => !listed.has(id)).map((deviceId) => ({ target: { kind: 'device' as const, deviceId }, order: firstOrder, active: true, ringForSeconds: DEFAULT_RING_FOR_SECONDS }));
  return { mode: plan.mode, rows: [...added, ...rows] };
}

/**
 * Whether call blocking refuses this caller: a caller with no caller ID (withheld or empty) when
 * anonymous callers are blocked, else one whose number is listed. A user's blocking, and a queue's (CQ-12).
 */
export function callerBlocked(blocking: { anonymous: boolean; numbers: readonly string[] }, callerId: string | null): boolean {
  const anonymous = callerId === null || callerId.replace(/\D/g, '') === '';
  return anonymous ? blocking.anonymous : blocking.numbers.some((n) => sameNumber(n, callerId));
}

/** SL-05, CQ-12: the default messages a blocked caller hears (the source names no wording; ours are below, per language). */
export const BLOCKED_MESSAGES = ['not_accepting', 'unavailable', 'goodbye'] as const;
export type BlockedMessage = (typeof BLOCKED_MESSAGES)[number];

/** The words of the blocked callers' messages, as the caller hears them. */
export const BLOCKED_MESSAGE_TEXT: Record<BlockedMessage, Record<'en' | 'fr', string>> = {
  not_accepting: { en: 'This line is not accepting calls from your number. Goodbye.', fr: "Cette ligne n'accepte pas les appels de votre numéro. Au revoir." },
  unavailable: { en: 'The line you are calling is not available. Goodbye.', fr: "La ligne que vous appelez n'est pas disponible. Au revoir." },
  goodbye: { en: 'Thank you for calling. Goodbye.', fr: 'Merci de votre appel. Au revoir.' },
};

export type AnsweringDecision =
  | { action: 'blocked' }
  | { action: 'voicemail'; reason: 'do_not_disturb' }
  | { action: 'ring'; rule: RuleMatch<RuleHandling>; timeline: RingTimeline };

/**
 * What happens to a direct call to the user: a blocked caller is refused;
 * Do Not Disturb ("take no calls") sends it to voicemail at once (§4); else the
 * rule that matches rings its plan, then does its after-ringing action.
 */
export function decideUserAnswering(doc: UserAnswering, owner: { timeZone: string; dnd: DndStatus }, call: IncomingCall): AnsweringDecision {
  if (callerBlocked(doc.settings.blocking, call.callerId)) return { action: 'blocked' };
  if (!dndTakesCall(owner.dnd, 'direct')) return { action: 'voicemail', reason: 'do_not_disturb' };
  const set: AnsweringRuleSet<RuleHandling> = {
    timeZone: owner.timeZone,
    hours: doc.hours,
    custom: doc.custom.map((r, i) => ({ id: r.id ?? `#${i}`, name: r.name, enabled: r.enabled, conditions: r.conditions, target: r })),
    inHours: doc.inHours,
    afterHours: doc.afterHours,
  };
  const rule = selectAnsweringRule(set, call);
  return { action: 'ring', rule, timeline: ringTimeline(rule.target.ringPlan) };
}
