import { decideUserAnswering, DEFAULT_RING_FOR_SECONDS, type AnsweringDecision, type RingStep } from '@carillon/domain';
import type { BridgeOutcome, CallApp, CallHandle } from '../call-handle.ts';
import type { Destination, ExtensionDestination, VoicemailReason } from '../../routing/destination.ts';
import type { Mailboxes } from '../voicemail/mailboxes.ts';
import { takeMessage } from '../voicemail/take-message.ts';
import type { AnsweringRulesSource, ForwardingRoutes } from './answering-rules.ts';

/**
 * What the caller hears while the user's phones ring: the North American
 * ring-back cadence (ITU-T E.180: 440 Hz here, 2 s on, 4 s off), looped until
 * the callee answers (`bridgeTo` stops it) or the ringing ends.
 */
export const RING_BACK = { tone: 440, durationMs: 2000, silenceMs: 4000 } as const;

/**
 * A call to a user's extension (issue 13, inventory 1 §7.5): the user's
 * answering decides. A blocked caller is refused; Do Not Disturb sends the
 * call to the user's mailbox at once, without ringing; otherwise the rule
 * that matches (custom rules, then the user's hours) rings its plan
 * (domain's `ringTimeline`): step after step, each step the user's devices
 * and forwarding numbers of one order, together, for that step's Ring For
 * (all of them at once when the plan rings simultaneously). The first to
 * answer takes the call; a forwarded party must press 1 first when the user
 * asks for it (`confirmForwardedCalls`). When the plan rings out, the line
 * is busy or nothing could be reached, the after-ringing action: the
 * mailbox, with the reason the message keeps ('no_answer', 'busy').
 *
 * The caller is answered before the phones ring, and hears ring-back that the
 * application plays (a B2BUA would send 180 and answer only on the callee's
 * answer): an application call's media exists only once answered
 * (`CallHandle.bridgeTo`), and the voicemail after no answer needs it anyway.
 * The cost: the call log counts the caller as answered from the start.
 *
 * Not yet: the after-ringing actions other than voicemail (they take a
 * message too), the user greeting, screening and connecting message.
 */
export function userAnsweringApp(deps: {
  rules: AnsweringRulesSource;
  mailboxes: Mailboxes;
  /** Forwarding numbers; without it (no trunk on this node's wiring) rows of forwarding numbers do not ring. */
  forwarding?: ForwardingRoutes;
  now?: () => Date;
  /** What a caller the user blocks gets; by default 603 (a call another application answered already is hung up on instead). */
  whenBlocked?: (call: CallHandle) => Promise<void>;
}): CallApp {
  const now = deps.now ?? (() => new Date());
  // RFC 3261 §21.6.2: the callee does not wish to take the call, and says nothing more.
  const whenBlocked = deps.whenBlocked ?? ((call: CallHandle) => call.reject(603, 'Decline'));
  return async (call, destination) => {
    if (destination.kind !== 'extension') throw new TypeError(`user-answering app given a ${destination.kind} destination`);
    const user = await deps.rules.ofExtension(destination.accountId, destination.extensionId);
    const decision: AnsweringDecision | null = user
      ? decideUserAnswering(user.answering, { timeZone: user.timeZone, dnd: user.dnd }, { at: now(), callerId: call.caller.number, calledNumber: call.dialed })
      : null;
    if (decision?.action === 'blocked') {
      await whenBlocked(call);
      return;
    }
    if (decision?.action === 'voicemail') {
      await takeMessage(call, destination, 'dnd', deps.mailboxes);
      return;
    }
    if (!decision) {
      const outcome = await ring(call, destination, DEFAULT_RING_FOR_SECONDS);
      if (outcome.outcome !== 'answered') await takeMessage(call, destination, reasonOf(outcome), deps.mailboxes);
      return;
    }
    const confirm = user?.answering.settings.confirmForwardedCalls ?? false;
    let last: BridgeOutcome = { outcome: 'no-answer', status: 480 };
    for (const step of decision.timeline.steps) {
      const outcome = await ringStep(call, destination, step, { confirm, forwarding: deps.forwarding });
      if (!outcome) continue;
      if (outcome.outcome === 'answered') return;
      // A busy line says more than a later step nobody answered.
      if (last.outcome !== 'busy') last = outcome;
    }
    await takeMessage(call, destination, reasonOf(last as Exclude<BridgeOutcome, { outcome: 'answered' }>), deps.mailboxes);
  };
}

/**
 * One step of a ring plan: its devices (those of the extension the plan
 * lists) and its forwarding numbers, together, with ring-back to the caller.
 * Null when the step has nothing that can ring (a number with no route).
 */
async function ringStep(
  call: CallHandle,
  destination: ExtensionDestination,
  step: RingStep,
  o: { confirm: boolean; forwarding: ForwardingRoutes | undefined },
): Promise<BridgeOutcome | null> {
  const deviceIds = step.targets.flatMap((t) => (t.kind === 'device' ? [t.deviceId] : []));
  const targets: Destination[] = deviceIds.length ? [destination] : [];
  for (const t of step.targets) {
    if (t.kind !== 'forwarding' || !o.forwarding) continue;
    const pstn = await o.forwarding.forwardTo(destination, t.number, call.caller);
    if (pstn) targets.push(pstn);
  }
  if (targets.length === 0) return null;
  await call.answer();
  // Not awaited: bridgeTo stops it when a party answers or the step ends (or it ends with the call).
  call.play(RING_BACK, { loop: true }).catch(() => undefined);
  return call.bridgeTo(targets, { ringSeconds: step.ringSeconds, deviceIds, acceptWithDigit: o.confirm });
}

/** Rings the extension with ring-back to the caller; the outcome once answered and over, or why not. Also the IVR's, for a user without answering rules. */
export async function ring(call: CallHandle, destination: ExtensionDestination, ringSeconds: number): Promise<BridgeOutcome> {
  await call.answer();
  // Not awaited: bridgeTo stops it when the callee answers or the ringing ends (or it ends with the call).
  call.play(RING_BACK, { loop: true }).catch(() => undefined);
  return call.bridgeTo(destination, { ringSeconds });
}

/** The reason a message keeps when the extension did not answer. */
export function reasonOf(outcome: Exclude<BridgeOutcome, { outcome: 'answered' }>): VoicemailReason {
  return outcome.outcome === 'busy' ? 'busy' : 'no_answer';
}
