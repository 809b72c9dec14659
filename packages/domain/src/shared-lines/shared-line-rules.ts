import { z } from 'zod';
import { extensionNumber } from '../ivr/ivr-config.ts';
import { queuePrompt } from '../queues/queue-settings.ts';
import { forwardingNumberSchema } from '../answering-rules/ring-plan.ts';
import { sameNumber } from '../answering-rules/rules.ts';
import { ALWAYS, isWithinSchedule, weeklyScheduleSchema } from '../answering-rules/schedule.ts';
import { audioWhileConnectingSchema, blockedNumbersSchema, BLOCKED_MESSAGES, type BlockedMessage } from '../answering-rules/user-answering.ts';

/**
 * Shared lines (inventory 2 §12, SL-01…SL-09): the rules, with no I/O. A shared line is an extension of
 * type `shared_lines` (its number, name and site stay in `extensions`); core stores its devices and these
 * settings, media-server's shared-line application applies them to calls.
 */

/** SL-01: "Calls to one phone number ring up to 16 phones in the group." */
export const SHARED_LINE_MAX_DEVICES = 16;

/** SL-07 "Number of seconds to wait before forwarding unanswered calls" (the values are not in the source: 5 s steps up to 2 minutes). */
export const SHARED_LINE_RING_SECONDS = [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 90, 120] as const;

/** SL-07 business hours, "When all lines are busy or unanswered, forward calls to": the group's voicemail, or an extension. */
export const sharedLineBusyAction = z.discriminatedUnion('type', [
  z.object({ type: z.literal('voicemail') }).strict(),
  z.object({ type: z.literal('extension'), extension: extensionNumber }).strict(),
]);
export type SharedLineBusyAction = z.infer<typeof sharedLineBusyAction>;

/** SL-07 after hours: the group's voicemail, or unconditional forwarding to an extension or an outside number (E.164). */
export const sharedLineAfterHours = z.discriminatedUnion('type', [
  z.object({ type: z.literal('voicemail') }).strict(),
  z.object({ type: z.literal('extension'), extension: extensionNumber }).strict(),
  z.object({ type: z.literal('number'), number: forwardingNumberSchema }).strict(),
]);
export type SharedLineAfterHours = z.infer<typeof sharedLineAfterHours>;

/** SL-05 "Callers will hear": one of the default messages of blocked callers (user-answering.ts, shared with queues). */
export const SHARED_LINE_BLOCKED_MESSAGES = BLOCKED_MESSAGES;
export type SharedLineBlockedMessage = BlockedMessage;

/** SL-02 "Manager's Email". */
const managerEmail = z.email().max(254);

export const sharedLineSettings = z
  .object({
    /** SL-02 "Manager's Email". */
    managerEmail: managerEmail.nullable(),
    /** SL-03 business hours: 24 h or weekly, read on the account's wall clock (the schedule model of users, queues and the company). */
    hours: weeklyScheduleSchema,
    /** SL-07: how long every device rings before the call is forwarded as unanswered. */
    ringSeconds: z.number().int().refine((n) => (SHARED_LINE_RING_SECONDS as readonly number[]).includes(n), 'one of the ring times offered'),
    /** SL-07 business hours: all devices busy or none answered within ringSeconds. */
    whenUnanswered: sharedLineBusyAction,
    /** SL-07 after hours (only reached with weekly hours). */
    afterHours: sharedLineAfterHours,
    /** SL-04 "Shared line greeting": played once when the call arrives; the default words when `prompt` is null. */
    greeting: z.object({ enabled: z.boolean(), prompt: queuePrompt.nullable() }).strict(),
    /** SL-04 / X-02 "Audio while connecting": what the caller hears while the devices ring. */
    audioWhileConnecting: z.object({ enabled: z.boolean(), audio: audioWhileConnectingSchema }).strict(),
    /** SL-06 / X-02 "Hold music": what a caller held on a phone of the line hears. */
    holdMusic: z.object({ enabled: z.boolean(), audio: audioWhileConnectingSchema }).strict(),
    /** SL-05: block no one, these numbers, or all calls; the blocked caller hears `message`, then the call ends. */
    blocked: z.object({ mode: z.enum(['none', 'numbers', 'all']), numbers: blockedNumbersSchema, message: z.enum(SHARED_LINE_BLOCKED_MESSAGES) }).strict(),
    /** SL-08 "Outbound call displayed as": the group (with one of its direct numbers, E.164) or each line's own caller ID. */
    outboundCallerId: z.discriminatedUnion('mode', [z.object({ mode: z.literal('group'), number: forwardingNumberSchema }).strict(), z.object({ mode: z.literal('individual') }).strict()]),
    /** SL-09 "Take Messages": enabled by default; off, a call nobody answers in business hours goes to the extension of `whenUnanswered` or ends. */
    takeMessages: z.boolean(),
    /** SL-09 "Message Recipient": this extension (null), or another extension by number, whose inbox shows the messages. */
    messageRecipient: extensionNumber.nullable(),
  })
  .strict();
export type SharedLineSettings = z.infer<typeof sharedLineSettings>;

export const DEFAULT_SHARED_LINE_SETTINGS: SharedLineSettings = {
  managerEmail: null,
  hours: ALWAYS,
  ringSeconds: 20,
  whenUnanswered: { type: 'voicemail' },
  afterHours: { type: 'voicemail' },
  greeting: { enabled: false, prompt: null },
  audioWhileConnecting: { enabled: true, audio: { kind: 'ring_tone' } },
  holdMusic: { enabled: true, audio: { kind: 'music', track: 'acoustic' } },
  blocked: { mode: 'none', numbers: [], message: 'not_accepting' },
  outboundCallerId: { mode: 'individual' },
  takeMessages: true,
  messageRecipient: null,
};

/** Settings as stored (JSON), read back: a field added since takes its default; a row that no longer validates reads as the defaults rather than breaking every call. */
export function readSharedLineSettings(raw: unknown): SharedLineSettings {
  const stored = raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {};
  const parsed = sharedLineSettings.safeParse({ ...DEFAULT_SHARED_LINE_SETTINGS, ...stored });
  return parsed.success ? parsed.data : DEFAULT_SHARED_LINE_SETTINGS;
}

const deviceIds = z
  .array(z.uuid())
  .max(SHARED_LINE_MAX_DEVICES, `a shared line rings at most ${SHARED_LINE_MAX_DEVICES} devices`)
  .refine((ids) => new Set(ids).size === ids.length, 'each device once');

/** SL-02 "Group Details" then devices in order: a new shared line. */
export const newSharedLineInput = z
  .object({
    name: z.string().trim().min(1).max(80),
    number: extensionNumber,
    siteId: z.uuid().nullable().default(null),
    managerEmail: managerEmail.nullable().default(null),
    /** SL-02 "choose devices", "order of phone numbers": the devices, in the order the line lists them. */
    deviceIds: deviceIds.default([]),
  })
  .strict();
export type NewSharedLineInput = z.input<typeof newSharedLineInput>;

/** SL-03: an edit; a field left out is kept, `deviceIds` given replaces the list (its order is the line's), `settings` replaces them whole. */
export const sharedLineUpdate = z
  .object({
    name: z.string().trim().min(1).max(80),
    number: extensionNumber,
    siteId: z.uuid(),
    enabled: z.boolean(),
    deviceIds,
    settings: sharedLineSettings,
  })
  .partial()
  .strict();
export type SharedLineUpdate = z.input<typeof sharedLineUpdate>;

/** SL-02 "Shared Lines" list, filtered by site (list filter: Sites). */
export const sharedLineListQuery = z.object({ siteId: z.uuid().optional() }).strict();

/** SL-05: whether a caller is blocked: every caller with 'all'; with 'numbers', a caller whose number is listed (a withheld number never matches a list). */
export function sharedLineBlocks(blocked: SharedLineSettings['blocked'], callerNumber: string | null): boolean {
  if (blocked.mode === 'all') return true;
  if (blocked.mode === 'none' || callerNumber === null) return false;
  return blocked.numbers.some((n) => sameNumber(n, callerNumber));
}

/** SL-07: within the line's business hours on the account's wall clock (24 h: always). */
export function sharedLineIsOpen(settings: Pick<SharedLineSettings, 'hours'>, timeZone: string, at: Date): boolean {
  return isWithinSchedule(settings.hours, timeZone, at);
}
