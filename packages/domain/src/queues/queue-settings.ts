import { z } from 'zod';
import { extensionNumber, ttsText } from '../ivr/ivr-config.ts';
import { ALWAYS, isWithinSchedule, weeklyScheduleSchema } from '../answering-rules/schedule.ts';
import { ruleConditionsSchema, selectAnsweringRule, type IncomingCall, type RuleMatch } from '../answering-rules/rules.ts';
import { BLOCKED_MESSAGES, blockedNumbersSchema, callerBlocked } from '../answering-rules/user-answering.ts';

/**
 * A call queue's settings (inventory 2 §10: CQ-01, CQ-04, CQ-05; the "Wait Settings" tab that CQ-04
 * names without detailing, defined here): how calls are distributed among the members, how long each
 * member rings, how long and how many callers wait, what happens to a caller past the wait or when the
 * queue is full, the wrap-up time after each call, and what callers hear. The queue itself is an
 * extension of type `call_queue` (its number and name stay in `extensions`). Pure data with its zod
 * schema, validated on every write and every read.
 */

/** CQ-04: Rotating (round-robin over free members), Simultaneous (all free members at once), Sequential (the admin's order). */
export const QUEUE_DISTRIBUTIONS = ['rotating', 'simultaneous', 'sequential'] as const;
export type QueueDistribution = (typeof QUEUE_DISTRIBUTIONS)[number];

/** CQ-01: at most 25 callers wait in a queue; an admin may set fewer, never more. */
export const QUEUE_MAX_CALLERS = 25;
/** CQ-06: overflow queues of one queue, at most. */
export const QUEUE_MAX_OVERFLOW = 3;
/** Members of one queue (a queue rings people, not a directory). */
export const QUEUE_MAX_MEMBERS = 100;

/** A prompt of the prompts library (PR-01: audio, by its unique name) or text read aloud, as IVR menus name them. */
export const queuePrompt = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('audio'), prompt: z.string().trim().min(1).max(100) }).strict(),
  z.object({ mode: z.literal('tts'), text: ttsText }).strict(),
]);
export type QueuePrompt = z.infer<typeof queuePrompt>;

/**
 * What happens to a caller who waited the longest time allowed, or who finds the queue full: the
 * queue's mailbox, another extension (rung for the member ring time; the caller is disconnected if it
 * does not answer), or a message then the end of the call.
 */
export const queueExitAction = z.discriminatedUnion('type', [
  z.object({ type: z.literal('voicemail') }).strict(),
  z.object({ type: z.literal('extension'), extension: extensionNumber }).strict(),
  z.object({ type: z.literal('disconnect'), message: queuePrompt.nullable() }).strict(),
]);
export type QueueExitAction = z.infer<typeof queueExitAction>;

/** Keys a caller can press on a phone's keypad. */
export const QUEUE_CALLBACK_KEYS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'] as const;

/**
 * Beyond the anchors, "callback that keeps your place": while waiting, a caller who presses `key` is
 * told it will be called back at its number, hangs up, and keeps its place; when its turn comes an
 * agent is rung first, then the caller is dialled. Offered with the position announcement.
 */
export const queueCallback = z.object({ enabled: z.boolean(), key: z.enum(QUEUE_CALLBACK_KEYS) }).strict();
export type QueueCallback = z.infer<typeof queueCallback>;
export const DEFAULT_QUEUE_CALLBACK: QueueCallback = { enabled: false, key: '1' };

/** An address notifications are e-mailed to. */
const notificationAddress = z.email().max(254);

/**
 * CQ-11 / X-05: what the queue's notifications e-mail, and to whom. The matrix has the two events a queue
 * can have: messages left in its mailbox, and calls nobody of the queue answered. Faxes and texts are not
 * in it: a fax or a text to a queue's direct number has no reader (a text to a number goes to the user of
 * its extension, sms-messages.ts; a queue has none), so there is nothing to notify about. SMS is not a
 * channel yet (users' notifications have none either). "Send Notifications to": one address for both
 * (null: the queue's managers with Full Access, as RingCentral sends a queue's notifications to the
 * queue's contact e-mail, which is its manager's); Advanced Settings: another address per event, and the
 * message's audio attached.
 */
export const queueNotifications = z
  .object({
    email: notificationAddress.nullable(),
    voicemail: z.object({ email: z.boolean(), attachment: z.boolean(), to: notificationAddress.nullable() }).strict(),
    missedCalls: z.object({ email: z.boolean(), to: notificationAddress.nullable() }).strict(),
  })
  .strict();
export type QueueNotifications = z.infer<typeof queueNotifications>;
/** X-05's screenshot defaults: voicemail by e-mail, missed calls not. */
export const DEFAULT_QUEUE_NOTIFICATIONS: QueueNotifications = {
  email: null,
  voicemail: { email: true, attachment: false, to: null },
  missedCalls: { email: false, to: null },
};

/** CQ-12 custom rules of one queue, at most (each is read on every call to the queue). */
export const QUEUE_MAX_RULES = 20;

/**
 * CQ-12: what a queue's custom rule does with the call: the queue's exit actions (its mailbox, another
 * extension, a message then goodbye), or 'queue': the caller queues as usual (a rule that lets, say, a
 * VIP in after hours).
 */
export const queueRuleTarget = z.discriminatedUnion('type', [...queueExitAction.options, z.object({ type: z.literal('queue') }).strict()]);
export type QueueRuleTarget = z.infer<typeof queueRuleTarget>;

/**
 * CQ-12 "Custom Rules", "presumably the same condition model as RULE-*": a rule stored in the shape of
 * the company's and users' custom rules (name, enabled, conditions, target), evaluated by the one
 * evaluator (`selectAnsweringRule`). `id` is kept once given, absent on a rule being created (as users' rules).
 */
export const queueCustomRule = z
  .object({
    id: z.uuid().optional(),
    name: z.string().trim().min(1, 'give the rule a name').max(60),
    enabled: z.boolean(),
    conditions: ruleConditionsSchema,
    target: queueRuleTarget,
  })
  .strict();
export type QueueCustomRule = z.infer<typeof queueCustomRule>;

/** CQ-12 "Blocked Calls", in the users' call blocking shape: anonymous callers and listed numbers, with the message they hear. */
export const queueBlocking = z.object({ anonymous: z.boolean(), numbers: blockedNumbersSchema, message: z.enum(BLOCKED_MESSAGES) }).strict();
export type QueueBlocking = z.infer<typeof queueBlocking>;
export const DEFAULT_QUEUE_BLOCKING: QueueBlocking = { anonymous: false, numbers: [], message: 'not_accepting' };

export const queueSettings = z
  .object({
    distribution: z.enum(QUEUE_DISTRIBUTIONS),
    /** How long one offer rings a member (all members at once, for Simultaneous). */
    ringSeconds: z.number().int().min(5).max(120),
    /** The longest a caller waits before `onMaxWait`. */
    maxWaitSeconds: z.number().int().min(10).max(7200),
    /** Callers waiting at once, past which a new caller gets `onFull`. */
    maxCallers: z.number().int().min(1).max(QUEUE_MAX_CALLERS),
    onMaxWait: queueExitAction,
    onFull: queueExitAction,
    /** After a queue call, the member is not offered another one for this long. */
    wrapUpSeconds: z.number().int().min(0).max(600),
    /** CQ-05: played once, before the caller waits; none when null. */
    greeting: queuePrompt.nullable(),
    /** CQ-05: what the caller hears while waiting: the shipped music, or a library prompt looped. */
    holdMusic: z.discriminatedUnion('mode', [z.object({ mode: z.literal('default') }).strict(), z.object({ mode: z.literal('audio'), prompt: z.string().trim().min(1).max(100) }).strict()]),
    /** Beyond the anchors: the caller's place and expected wait, told on entry and at each interrupt. */
    announcePosition: z.boolean(),
    /** Callback that keeps the caller's place (off unless set; a stored queue from before reads it as off). */
    callback: queueCallback.default(DEFAULT_QUEUE_CALLBACK),
    /** CQ-05 "Interrupt audio": every `everySeconds` of waiting, the hold music stops for the prompt (and the position). */
    interrupt: z
      .object({ everySeconds: z.number().int().min(10).max(600), prompt: queuePrompt.nullable() })
      .strict()
      .nullable(),
    /**
     * CQ-06: other queues, in order, that take a caller when nobody of this one is free: the caller
     * moves to the first that has a free member, and follows that queue's settings from then on.
     */
    overflow: z.array(extensionNumber).max(QUEUE_MAX_OVERFLOW),
    /**
     * CQ-01, CQ-03 a: the queue's own business hours, 24 h or a weekly schedule read on the account's
     * time zone wall clock (the schedule model of user and company hours). Outside them, `afterHours`.
     */
    hours: weeklyScheduleSchema,
    /** CQ-12 "After Hours": what a caller outside the queue's hours gets (the queue's mailbox, another extension, or a message then goodbye). */
    afterHours: queueExitAction,
    /** CQ-11: the queue's notifications (a stored queue from before reads the defaults). */
    notifications: queueNotifications.default(DEFAULT_QUEUE_NOTIFICATIONS),
    /** CQ-12: tried in order before the hours; the first enabled rule whose conditions all hold takes the call. */
    customRules: z.array(queueCustomRule).max(QUEUE_MAX_RULES).default([]),
    /** CQ-12: callers refused before anything else. */
    blocked: queueBlocking.default(DEFAULT_QUEUE_BLOCKING),
  })
  .strict()
  .superRefine((s, ctx) => {
    // CQ-06: only from Rotating or Sequential; each queue once (a queue never overflows to itself: checked where its number is known).
    if (s.overflow.length && s.distribution === 'simultaneous') ctx.addIssue({ code: 'custom', path: ['overflow'], message: 'overflow only from a Rotating or Sequential queue' });
    if (new Set(s.overflow).size !== s.overflow.length) ctx.addIssue({ code: 'custom', path: ['overflow'], message: 'each overflow queue once' });
  });
export type QueueSettings = z.infer<typeof queueSettings>;

/** A new queue's settings: Rotating (the guide's default), 15 s per member, 10 minutes of wait, 25 callers. */
export const DEFAULT_QUEUE_SETTINGS: QueueSettings = {
  distribution: 'rotating',
  ringSeconds: 15,
  maxWaitSeconds: 600,
  maxCallers: QUEUE_MAX_CALLERS,
  onMaxWait: { type: 'voicemail' },
  onFull: { type: 'voicemail' },
  wrapUpSeconds: 0,
  greeting: null,
  holdMusic: { mode: 'default' },
  announcePosition: false,
  callback: DEFAULT_QUEUE_CALLBACK,
  interrupt: null,
  overflow: [],
  hours: ALWAYS,
  afterHours: { type: 'voicemail' },
  notifications: DEFAULT_QUEUE_NOTIFICATIONS,
  customRules: [],
  blocked: DEFAULT_QUEUE_BLOCKING,
};

/**
 * Whether the queue takes callers now (CQ-12): within its hours on the account's wall clock at `at`.
 * The answering rules' schedule evaluator decides, the one user and company hours use.
 */
export function queueIsOpen(settings: Pick<QueueSettings, 'hours'>, timeZone: string, at: Date): boolean {
  return isWithinSchedule(settings.hours, timeZone, at);
}

/** How a call to the queue starts (CQ-12): refused as blocked, or the rule that matched and what it does. */
export type QueueEntry = { kind: 'blocked' } | RuleMatch<QueueRuleTarget>;

/**
 * CQ-12: where a call to the queue goes, in the order RingCentral applies a group's handling: a blocked
 * caller is refused; else the first enabled custom rule whose conditions hold (caller ID, number called,
 * the account's wall clock at its arrival) does its target; else, within the queue's hours, the queue
 * ('queue'), outside them the after-hours action. Through the answering rules' one evaluator.
 */
export function queueEntry(settings: Pick<QueueSettings, 'hours' | 'afterHours' | 'customRules' | 'blocked'>, timeZone: string, call: IncomingCall): QueueEntry {
  if (callerBlocked(settings.blocked, call.callerId)) return { kind: 'blocked' };
  return selectAnsweringRule<QueueRuleTarget>(
    {
      timeZone,
      hours: settings.hours,
      custom: settings.customRules.map((r, i) => ({ id: r.id ?? `#${i}`, name: r.name, enabled: r.enabled, conditions: r.conditions, target: r.target })),
      inHours: { type: 'queue' },
      afterHours: settings.afterHours,
    },
    call,
  );
}

/**
 * Settings as stored (JSON), read back: a field added since the row was written takes its default; a row
 * that no longer validates reads as the defaults rather than breaking every call.
 */
export function readQueueSettings(raw: unknown): QueueSettings {
  const stored = raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {};
  const parsed = queueSettings.safeParse({ ...DEFAULT_QUEUE_SETTINGS, ...stored });
  return parsed.success ? parsed.data : DEFAULT_QUEUE_SETTINGS;
}
