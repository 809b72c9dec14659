import { decideUserAnswering, DEFAULT_RING_FOR_SECONDS, screeningApplies, type AnsweringDecision, type AudioWhileConnecting, type MusicTrack, type RingStep, type RuleHandling, type AudioChoice } from '@carillon/domain';
import { DestinationRefusedError, type BridgeOutcome, type CallApp, type CallHandle, type PlaySource } from '../call-handle.ts';
import type { Destination, ExtensionDestination, VoicemailReason } from '../../routing/destination.ts';
import { mailboxName, type Mailboxes } from '../voicemail/mailboxes.ts';
import { takeMessage } from '../voicemail/take-message.ts';
import type { AnsweringRulesSource, ExtensionUserAnswering, ForwardingRoutes } from './answering-rules.ts';

/**
 * What the caller hears while the user's phones ring: the North American
 * ring-back cadence (ITU-T E.180: 440 Hz here, 2 s on, 4 s off), looped until
 * the callee answers (`bridgeTo` stops it) or the ringing ends.
 */
export const RING_BACK = { tone: 440, durationMs: 2000, silenceMs: 4000 } as const;

/** "Please hold while I try to connect you." (§7.5, the default connecting message), in the call's language. */
export const CONNECTING_MESSAGE = { en: 'Please hold while I try to connect you.', fr: 'Veuillez patienter pendant que j’essaie de vous mettre en relation.' } as const;
/** Call screening's request to the caller, before the beep. */
export const SAY_YOUR_NAME = { en: 'Please say your name after the tone.', fr: 'Veuillez dire votre nom après le bip.' } as const;
/** The default user greeting's words before the user's name (or their recorded name). */
export const USER_GREETING = { en: 'You have reached', fr: 'Vous êtes bien chez' } as const;
/** "Play a message and disconnect" (§7.5) with the default message: says nothing of who was called. */
export const NOT_AVAILABLE_MESSAGE = { en: 'The person you are calling is not available. Please call again later. Goodbye.', fr: "Votre correspondant n'est pas disponible. Veuillez rappeler plus tard. Au revoir." } as const;
/** What a blocked caller hears before the call is hung up: it says neither who was called nor that they were blocked. */
export const BLOCKED_MESSAGE = { en: 'The person you are calling is not taking calls from this number. Goodbye.', fr: 'Votre correspondant ne prend pas les appels de ce numéro. Au revoir.' } as const;
/** The caller's name, as call screening records it: a few seconds, ended by a pause. */
export const NAME_RECORDING = { maxSeconds: 4, silenceSeconds: 2, beep: true } as const;
/** A name recording shorter than this is taken as nothing said: the callee hears the caller ID instead. */
const MIN_NAME_MS = 300;

/**
 * A call to a user's extension (issue 13, inventory 1 §7.5): the user's
 * answering decides. A blocked caller hears a short message and is hung up
 * (the call log says rejected, by 'blocked'); Do Not Disturb sends the
 * call to the user's mailbox at once, without ringing; otherwise the rule
 * that matches (custom rules, then the user's hours) rings its plan
 * (domain's `ringTimeline`): step after step, each step the user's devices
 * and forwarding numbers of one order, together, for that step's Ring For
 * (all of them at once when the plan rings simultaneously). The first to
 * answer takes the call; a forwarded party must press 1 first when the user
 * asks for it (`confirmForwardedCalls`). When the plan rings out, the line
 * is busy or nothing could be reached, the rule's after-ringing action: the
 * mailbox, with the reason the message keeps ('no_answer', 'busy'), another
 * extension, or a message and the call ends.
 *
 * Before ringing, when the user's settings say so: call screening (the
 * caller says their name, recorded; whoever answers hears it and presses 1
 * to take the call or 2 to send it to voicemail, at once), then the
 * connecting message. While the plan rings the caller hears the rule's
 * audio while connecting: ring-back, or music.
 *
 * The caller is answered before the phones ring, and hears ring-back that the
 * application plays (a B2BUA would send 180 and answer only on the callee's
 * answer): an application call's media exists only once answered
 * (`CallHandle.bridgeTo`), and the voicemail after no answer needs it anyway.
 * The cost: the call log counts the caller as answered from the start.
 *
 * Not yet: custom music while connecting (it plays the default), and the eleven stock tracks
 * (each plays the one shipped piece of music, `music`).
 */
export function userAnsweringApp(deps: {
  rules: AnsweringRulesSource;
  mailboxes: Mailboxes;
  /** Forwarding numbers; without it (no trunk on this node's wiring) rows of forwarding numbers do not ring. */
  forwarding?: ForwardingRoutes;
  /** The audio file of a stock track (audio while connecting); without it, music rules play ring-back. */
  music?: (track: MusicTrack) => string;
  now?: () => Date;
}): CallApp {
  const now = deps.now ?? (() => new Date());
  return async (call, destination) => {
    if (destination.kind !== 'extension') throw new TypeError(`user-answering app given a ${destination.kind} destination`);
    const user = await deps.rules.ofExtension(destination.accountId, destination.extensionId);
    const decision: AnsweringDecision | null = user
      ? decideUserAnswering(user.answering, { timeZone: user.timeZone, dnd: user.dnd }, { at: now(), callerId: call.caller.number, calledNumber: call.dialed })
      : null;
    if (decision?.action === 'blocked') {
      // Answered to be told (a caller answered already, by an IVR, is told too), then hung up as refused.
      await call.answer();
      await call.play({ tts: BLOCKED_MESSAGE[call.language] });
      await call.hangup({ blocked: true });
      return;
    }
    if (decision?.action === 'voicemail') {
      await takeMessage(call, destination, 'dnd', deps.mailboxes);
      return;
    }
    if (!user || !decision) {
      const outcome = await ring(call, destination, DEFAULT_RING_FOR_SECONDS);
      if (outcome.outcome !== 'answered') await takeMessage(call, destination, reasonOf(outcome), deps.mailboxes);
      return;
    }
    const settings = user.answering.settings;
    const steps = decision.timeline.steps;
    // §7.5 "User Greeting": callers hear it first, whatever follows (it is not the voicemail greeting).
    if (settings.userGreeting.enabled) await playUserGreeting(call, destination, settings.userGreeting.audio, deps.mailboxes);
    // Screening and the connecting message only when something is going to ring: otherwise straight to the mailbox.
    // The name recording is the call's own file: the call deletes it when it ends (AppCall), as every recording not deposited.
    const screen = screeningApplies(settings.screening, call.caller);
    const nameRecording = steps.length > 0 && screen ? await recordName(call) : null;
    if (steps.length > 0 && settings.connectingMessage.enabled) {
      await call.answer();
      const custom = await userAudioFile(deps.mailboxes, destination, settings.connectingMessage.audio);
      await call.play(custom ? { file: custom } : { tts: CONNECTING_MESSAGE[call.language] });
    }
    const o = {
      confirm: settings.confirmForwardedCalls,
      forwarding: deps.forwarding,
      audio: await connectingAudio(decision.rule.target.audioWhileConnecting, deps.music, deps.mailboxes, destination),
      screening: screen ? { nameRecording } : null,
    };
    let last: BridgeOutcome = { outcome: 'no-answer', status: 480 };
    for (const step of steps) {
      const outcome = await ringStep(call, destination, step, o);
      if (!outcome) continue;
      if (outcome.outcome === 'answered') return;
      // Declined (a phone's Decline, or 2 when screening): to the mailbox now, the later steps do not ring.
      if (outcome.outcome === 'rejected') break;
      // A busy line says more than a later step nobody answered.
      if (last.outcome !== 'busy') last = outcome;
    }
    await afterRinging(call, destination, decision.rule.target, user, reasonOf(last as Exclude<BridgeOutcome, { outcome: 'answered' }>), deps.mailboxes);
  };
}

/**
 * The rule's after-ringing action (§7.5 "If the call is not answered"): the mailbox, with the rule's
 * greeting (issue 13: one per rule); another extension, whose own handling then takes the call (its
 * rules, its queue, its mailbox), or the mailbox when that extension cannot take it (gone, disabled,
 * a loop of hand-offs); or a message, then the call ends.
 */
async function afterRinging(call: CallHandle, destination: ExtensionDestination, rule: RuleHandling, user: ExtensionUserAnswering, reason: VoicemailReason, mailboxes: Mailboxes): Promise<void> {
  const action = rule.afterRinging;
  if (action.type === 'extension') {
    const number = user.afterRingingNumbers[action.extensionId];
    if (number !== undefined && number !== destination.extensionNumber) {
      try {
        await call.transfer(number);
        return;
      } catch (err) {
        if (!(err instanceof DestinationRefusedError)) throw err;
      }
    }
  } else if (action.type === 'message_hang_up') {
    await call.answer();
    const custom = await userAudioFile(mailboxes, destination, action.message);
    await call.play(custom ? { file: custom } : { tts: NOT_AVAILABLE_MESSAGE[call.language] });
    await call.hangup();
    return;
  }
  await takeMessage(call, destination, reason, mailboxes, { greeting: rule.greeting });
}

/**
 * The user greeting: a custom recording of the user's, or the default "You have reached …" with the
 * user's recorded name where there is one (as the default voicemail greeting says it), else the
 * extension's name or number.
 */
async function playUserGreeting(call: CallHandle, destination: ExtensionDestination, audio: AudioChoice, mailboxes: Mailboxes): Promise<void> {
  await call.answer();
  const custom = await userAudioFile(mailboxes, destination, audio);
  if (custom) {
    await call.play({ file: custom });
    return;
  }
  const mailbox = await mailboxes.settings(destination.accountId, destination.extensionId);
  if (mailbox.nameRecordingFile) {
    await call.play({ tts: USER_GREETING[call.language] });
    await call.play({ file: mailbox.nameRecordingFile });
    return;
  }
  await call.play({ tts: `${USER_GREETING[call.language]} ${mailboxName(mailbox, destination.extensionNumber, call.language)}.` });
}

/**
 * A custom audio choice of the user's (greeting, connecting message, message before hang-up): the file
 * of that recording when it is one of this user's (the mailboxes port checks it); null for the default
 * or a recording that is not there, and the default plays.
 */
async function userAudioFile(mailboxes: Mailboxes, destination: ExtensionDestination, choice: AudioChoice): Promise<string | null> {
  if (choice.source !== 'custom') return null;
  return mailboxes.userRecording(destination.accountId, destination.extensionId, choice.audioId);
}

/** Call screening: the caller says their name after the beep. The recording, or null when nothing was said. */
async function recordName(call: CallHandle): Promise<string | null> {
  await call.answer();
  await call.play({ tts: SAY_YOUR_NAME[call.language] });
  const name = await call.record(NAME_RECORDING);
  return name.durationMs >= MIN_NAME_MS ? name.path : null;
}

/**
 * What the caller hears while a rule rings (X-02 "Audio while connecting"): ring-back, a stock track, or
 * the user's own uploaded audio (a recording of theirs that is gone plays the first stock track instead).
 */
async function connectingAudio(choice: AudioWhileConnecting, music: ((track: MusicTrack) => string) | undefined, mailboxes: Mailboxes, destination: ExtensionDestination): Promise<PlaySource> {
  if (choice.kind === 'custom') {
    const file = await mailboxes.userRecording(destination.accountId, destination.extensionId, choice.audioId);
    if (file) return { file };
  }
  if (choice.kind === 'ring_tone' || !music) return RING_BACK;
  return { file: music(choice.kind === 'music' ? choice.track : 'acoustic') };
}

/**
 * One step of a ring plan: its devices (those of the extension the plan
 * lists) and its forwarding numbers, together, with the rule’s audio while
 * connecting to the caller (ring-back or music).
 * Null when the step has nothing that can ring (a number with no route).
 */
async function ringStep(
  call: CallHandle,
  destination: ExtensionDestination,
  step: RingStep,
  o: { confirm: boolean; forwarding: ForwardingRoutes | undefined; audio: PlaySource; screening: { nameRecording: string | null } | null },
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
  call.play(o.audio, { loop: true }).catch(() => undefined);
  return call.bridgeTo(targets, { ringSeconds: step.ringSeconds, deviceIds, acceptWithDigit: o.confirm, ...(o.screening ? { screening: o.screening } : {}) });
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
