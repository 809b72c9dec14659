import { decideUserAnswering, DEFAULT_RING_FOR_SECONDS, type AnsweringDecision } from '@carillon/domain';
import type { BridgeOutcome, CallApp, CallHandle } from '../call-handle.ts';
import type { ExtensionDestination, VoicemailReason } from '../../routing/destination.ts';
import type { Mailboxes } from '../voicemail/mailboxes.ts';
import { takeMessage } from '../voicemail/take-message.ts';
import type { AnsweringRulesSource } from './answering-rules.ts';

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
 * that matches (custom rules, then the user's hours) rings the extension for
 * its ring time (default 20 s: 4 rings of 5 s), and when nobody answers, the
 * line is busy or no device is registered, does its after-ringing action:
 * the mailbox, with the reason the message keeps ('no_answer', 'busy').
 *
 * The caller is answered before the phones ring, and hears ring-back that the
 * application plays (a B2BUA would send 180 and answer only on the callee's
 * answer): an application call's media exists only once answered
 * (`CallHandle.bridgeTo`), and the voicemail after no answer needs it anyway.
 * The cost: the call log counts the caller as answered from the start.
 *
 * Not yet: the ring plan's order and device subset (every registered device
 * rings at once, for the plan's total time), forwarding numbers, the
 * after-ringing actions other than voicemail (they take a message too), the
 * user greeting, screening and connecting message.
 */
export function userAnsweringApp(deps: {
  rules: AnsweringRulesSource;
  mailboxes: Mailboxes;
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
    const ringSeconds = decision ? decision.timeline.totalSeconds : DEFAULT_RING_FOR_SECONDS;
    const outcome = ringSeconds > 0 ? await ring(call, destination, ringSeconds) : ({ outcome: 'no-answer', status: 480 } as const);
    if (outcome.outcome === 'answered') return;
    await takeMessage(call, destination, reasonOf(outcome), deps.mailboxes);
  };
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
