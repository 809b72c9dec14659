import { BLOCKED_MESSAGE_TEXT, sharedLineBlocks, sharedLineIsOpen, type SharedLineSettings } from '@carillon/domain';
import { DestinationRefusedError, type BridgeOutcome, type CallApp, type CallHandle, type PlaySource } from '../call-handle.ts';
import type { ExtensionDestination, VoicemailReason } from '../../routing/destination.ts';
import type { Mailboxes } from '../voicemail/mailboxes.ts';
import { takeMessage } from '../voicemail/take-message.ts';
import type { ForwardingRoutes } from '../user-answering/answering-rules.ts';
import { RING_BACK, reasonOf } from '../user-answering/user-answering.ts';
import type { SharedLinePlan, SharedLines } from './shared-lines.ts';

/** SL-04's default shared-line greeting (the source gives no words; ours), in the call's language. */
export const DEFAULT_LINE_GREETING = { en: 'Thank you for calling. Please hold while we connect you.', fr: 'Merci de votre appel. Veuillez patienter, nous vous mettons en relation.' } as const;

/**
 * A call to a shared line (issue 15 point 3; inventory 2 §12, SL-01…SL-09):
 *
 * 1. a blocked caller (SL-05: its number listed, or all calls blocked) is answered, hears the line's
 *    chosen message, and is hung up (the call log says rejected, by 'blocked');
 * 2. outside the line's business hours (SL-07 after hours; 24 h lines are always open): the line's
 *    voicemail, or unconditional forwarding to an extension or an outside number;
 * 3. in business hours: the greeting when enabled (SL-04), then every registered device of the line
 *    rings at once (up to 16), with the audio while connecting to the caller; the first to answer takes
 *    the call and the others are CANCELled (`bridgeTo` over the devices' extensions, limited to the
 *    line's devices);
 * 4. nobody answers within the ring time, or every device is busy or none is registered (SL-07 "when
 *    all lines are busy"): the group voicemail (SL-09: the message recipient's mailbox, when taking
 *    messages) or the extension chosen.
 *
 * The caller is answered before the devices ring, as the user-answering application does (its media
 * exists only once answered, and the voicemail after no answer needs it).
 */
export function sharedLineApp(deps: { lines: SharedLines; mailboxes: Mailboxes; forwarding?: ForwardingRoutes; now?: () => Date }): CallApp {
  const now = deps.now ?? (() => new Date());
  return async (call, destination) => {
    if (destination.kind !== 'shared_line') throw new TypeError(`shared-line app given a ${destination.kind} destination`);
    const plan = await deps.lines.plan(destination.accountId, destination.extensionId);
    if (!plan) return call.reject(404, 'Not Found');
    const s = plan.settings;
    if (sharedLineBlocks(s.blocked, call.caller.number)) {
      await call.answer();
      await call.play({ tts: BLOCKED_MESSAGE_TEXT[s.blocked.message][call.language] });
      await call.hangup({ blocked: true });
      return;
    }
    if (!sharedLineIsOpen(s, plan.timeZone, now())) return afterHours(call, plan, destination.direction, deps);
    if (s.greeting.enabled) {
      await call.answer();
      await call.play(await greeting(s, call, deps.lines));
    }
    const outcome = await ringDevices(call, plan, destination.direction, connectingAudio(s, deps.lines));
    if (outcome.outcome === 'answered') return;
    await unanswered(call, plan, s.whenUnanswered, reasonOf(outcome), deps);
  };
}

/** Every registered device of the line at once: one extension destination per extension the devices register under, limited to the line's devices. */
async function ringDevices(call: CallHandle, plan: SharedLinePlan, direction: ExtensionDestination['direction'], audio: PlaySource): Promise<BridgeOutcome> {
  const extensions = new Map<string, ExtensionDestination>();
  for (const d of plan.devices) {
    if (!extensions.has(d.extensionId)) extensions.set(d.extensionId, { kind: 'extension', accountId: call.accountId, extensionId: d.extensionId, extensionNumber: d.extensionNumber, direction });
  }
  if (extensions.size === 0) return { outcome: 'unavailable', status: 480 };
  await call.answer();
  // Not awaited: bridgeTo stops it when a device answers or the ringing ends (or it ends with the call).
  call.play(audio, { loop: true }).catch(() => undefined);
  return call.bridgeTo([...extensions.values()], { ringSeconds: plan.settings.ringSeconds, deviceIds: plan.devices.map((d) => d.deviceId) });
}

/** SL-07 "when all lines are busy or unanswered": the group voicemail (SL-09: when taking messages), or the extension. */
async function unanswered(call: CallHandle, plan: SharedLinePlan, action: SharedLineSettings['whenUnanswered'], reason: VoicemailReason, deps: { mailboxes: Mailboxes }): Promise<void> {
  if (action.type === 'extension') return handOn(call, action.extension);
  if (!plan.settings.takeMessages || !plan.mailbox) return call.hangup();
  await takeMessage(call, { accountId: call.accountId, ...plan.mailbox }, reason, deps.mailboxes);
}

/** SL-07 after hours: the line's voicemail, or unconditional forwarding to an extension or an outside number (through the account's trunk). */
async function afterHours(call: CallHandle, plan: SharedLinePlan, direction: ExtensionDestination['direction'], deps: { mailboxes: Mailboxes; forwarding?: ForwardingRoutes }): Promise<void> {
  const action = plan.settings.afterHours;
  switch (action.type) {
    case 'voicemail':
      if (!plan.mailbox) return call.reject(480, 'Temporarily Unavailable');
      return takeMessage(call, { accountId: call.accountId, ...plan.mailbox }, 'rule', deps.mailboxes);
    case 'extension':
      return handOn(call, action.extension);
    case 'number': {
      const line: ExtensionDestination = { kind: 'extension', accountId: call.accountId, extensionId: plan.extensionId, extensionNumber: plan.number, direction };
      const pstn = deps.forwarding ? await deps.forwarding.forwardTo(line, action.number, call.caller) : null;
      if (!pstn) return call.reject(480, 'Temporarily Unavailable');
      await call.answer();
      call.play(RING_BACK, { loop: true }).catch(() => undefined);
      await call.bridgeTo(pstn, { ringSeconds: 60 });
      return;
    }
  }
}

/** Hands the call to an extension of the account (its application or its phones); one that leads nowhere ends the call with the refusal it got. */
async function handOn(call: CallHandle, extension: string): Promise<void> {
  try {
    await call.transfer(extension);
  } catch (err) {
    if (!(err instanceof DestinationRefusedError)) throw err;
    await call.hangup();
  }
}

/** SL-04: the line's greeting (a library prompt, or text), else the default words. */
async function greeting(s: SharedLineSettings, call: CallHandle, lines: SharedLines): Promise<PlaySource> {
  const prompt = s.greeting.prompt;
  if (!prompt) return { tts: DEFAULT_LINE_GREETING[call.language] };
  if (prompt.mode === 'tts') return { tts: prompt.text };
  const file = await lines.promptFile(call.accountId, prompt.prompt);
  // A prompt deleted from the library since: its name is read aloud rather than leaving silence.
  return file ? { file } : { tts: prompt.prompt };
}

/** SL-04 / X-02 "Audio while connecting": ring-back (ring tones, or the setting off), or a stock track (a custom upload plays the shipped music until uploads are read here). */
function connectingAudio(s: SharedLineSettings, lines: SharedLines): PlaySource {
  const audio = s.audioWhileConnecting;
  if (!audio.enabled || audio.audio.kind === 'ring_tone') return RING_BACK;
  return { file: lines.music(audio.audio.kind === 'music' ? audio.audio.track : 'acoustic') };
}
