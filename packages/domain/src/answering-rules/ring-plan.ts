import { z } from 'zod';

/**
 * What a user's rule rings (inventory 1 §7.6, inventory 3 §1.11): the user's
 * devices (browser softphone, desk phones, other registered devices), then
 * forwarding numbers (mobile, home, work; at most 10), either in order, where
 * each row rings for its "Ring For" time and rows that share an order number
 * ring together, or all simultaneously. When nobody answers, the call goes to
 * voicemail, to another extension, or hears a message and is hung up.
 */

/** "1 Ring / 5 Secs": the seed's rate, one ring every five seconds. */
export const SECONDS_PER_RING = 5;
export const MAX_RING_FOR_SECONDS = 60;
/** Inventory 3 §1.11: "up to 10 forwarding numbers per extension". */
export const MAX_FORWARDING_NUMBERS = 10;
/** Rows of one plan: the forwarding numbers and the devices of one extension. */
export const MAX_RING_ROWS = 40;

export const FORWARDING_LABELS = ['mobile', 'home', 'work', 'other'] as const;
export type ForwardingLabel = (typeof FORWARDING_LABELS)[number];

export const forwardingNumberSchema = z.string().trim().regex(/^\+[1-9][0-9]{6,14}$/, 'an E.164 number such as +14155550100');

export const ringTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('device'), deviceId: z.uuid() }).strict(),
  z.object({ kind: z.literal('forwarding'), label: z.enum(FORWARDING_LABELS), number: forwardingNumberSchema }).strict(),
]);
export type RingTarget = z.output<typeof ringTargetSchema>;

export const ringRowSchema = z
  .object({
    target: ringTargetSchema,
    /** 1, 2, …: rows with the same order ring together. Ignored when the plan rings simultaneously. */
    order: z.int().min(1).max(MAX_RING_ROWS),
    active: z.boolean(),
    /** 0–60 s in whole rings; a row of 0 s does not ring. */
    ringForSeconds: z.int().min(0).max(MAX_RING_FOR_SECONDS).multipleOf(SECONDS_PER_RING, `in whole rings of ${SECONDS_PER_RING} seconds`),
  })
  .strict();
export type RingRow = z.output<typeof ringRowSchema>;

const targetKey = (t: RingTarget) => (t.kind === 'device' ? `device:${t.deviceId}` : `forwarding:${t.number.replace(/\D/g, '')}`);

export const ringPlanSchema = z
  .object({
    mode: z.enum(['in_order', 'simultaneous']),
    rows: z.array(ringRowSchema).max(MAX_RING_ROWS),
  })
  .strict()
  .superRefine((plan, ctx) => {
    const forwarding = plan.rows.filter((r) => r.target.kind === 'forwarding').length;
    if (forwarding > MAX_FORWARDING_NUMBERS) ctx.addIssue({ code: 'custom', path: ['rows'], message: `at most ${MAX_FORWARDING_NUMBERS} forwarding numbers` });
    const seen = new Set<string>();
    plan.rows.forEach((r, i) => {
      const key = targetKey(r.target);
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['rows', i, 'target'], message: 'this device or number is already in the list' });
      seen.add(key);
    });
  });
export type RingPlan = z.output<typeof ringPlanSchema>;

/** A recording chosen for a rule: the built-in one, or an audio file of the account (by its id). */
export const audioChoiceSchema = z.discriminatedUnion('source', [
  z.object({ source: z.literal('default') }).strict(),
  z.object({ source: z.literal('custom'), audioId: z.uuid() }).strict(),
]);
export type AudioChoice = z.output<typeof audioChoiceSchema>;

/** Where an unanswered call goes once the plan has rung out. */
export const afterRingingSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('voicemail') }).strict(),
  z.object({ type: z.literal('extension'), extensionId: z.uuid() }).strict(),
  z.object({ type: z.literal('message_hang_up'), message: audioChoiceSchema }).strict(),
]);
export type AfterRinging = z.output<typeof afterRingingSchema>;

export interface RingStep {
  /** Seconds after the rule starts ringing. */
  startSeconds: number;
  ringSeconds: number;
  targets: RingTarget[];
}

export interface RingTimeline {
  steps: RingStep[];
  /** When the plan has rung out and the after-ringing action starts. */
  totalSeconds: number;
}

/**
 * The plan as a timeline. In order: active rows with some ringing time,
 * grouped by order number, one group after the other; a group rings as long
 * as its longest row. Simultaneously: every active row at once, for the
 * longest Ring For of them. Inactive rows and rows of 0 s do not ring.
 */
export function ringTimeline(plan: RingPlan): RingTimeline {
  const rows = plan.rows.filter((r) => r.active && r.ringForSeconds > 0);
  if (rows.length === 0) return { steps: [], totalSeconds: 0 };
  if (plan.mode === 'simultaneous') {
    const ringSeconds = Math.max(...rows.map((r) => r.ringForSeconds));
    return { steps: [{ startSeconds: 0, ringSeconds, targets: rows.map((r) => r.target) }], totalSeconds: ringSeconds };
  }
  const orders = [...new Set(rows.map((r) => r.order))].sort((a, b) => a - b);
  const steps: RingStep[] = [];
  let at = 0;
  for (const order of orders) {
    const group = rows.filter((r) => r.order === order);
    const ringSeconds = Math.max(...group.map((r) => r.ringForSeconds));
    steps.push({ startSeconds: at, ringSeconds, targets: group.map((r) => r.target) });
    at += ringSeconds;
  }
  return { steps, totalSeconds: at };
}

/** "4 Rings / 20 Secs" */
export const ringsOf = (seconds: number): number => Math.round(seconds / SECONDS_PER_RING);
