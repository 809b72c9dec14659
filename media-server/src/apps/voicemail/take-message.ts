import type { AudioChoice } from '@carillon/domain';
import type { CallHandle, PlaySource } from '../call-handle.ts';
import type { VoicemailReason } from '../../routing/destination.ts';
import { mailboxName, type Mailboxes } from './mailboxes.ts';

/** The key that, during a mailbox's greeting, takes its owner to the PIN prompt (RingCentral's, and Asterisk's VoiceMail `*`). */
export const SIGN_IN_KEY = '*';

/** Shorter than this, a recording is a hang-up, not a message: it is dropped. */
export const MIN_MESSAGE_MS = 1000;

/** The mailbox a message is left in: an extension of the account. */
export interface MailboxRef {
  accountId: string;
  extensionId: string;
  extensionNumber: string;
}

/**
 * Takes a message, the one deposit flow of every application that sends a
 * caller to a mailbox (a message-only extension, a user who does not answer):
 * the caller hears the greeting (custom, or the default text naming the
 * extension, with the user's recorded name in place of the name when there is one), a beep, and is recorded until `#`, the mailbox's longest
 * message, or its hang-up; the message is stored with `reason`. A full
 * mailbox says so and records nothing. `greeting` is the greeting of the
 * answering rule that sent the call (issue 13); without one, or with the
 * default, the mailbox's.
 */
export async function takeMessage(call: CallHandle, destination: MailboxRef, reason: VoicemailReason, mailboxes: Mailboxes, options: { greeting?: AudioChoice } = {}): Promise<void> {
  const greetingId = options.greeting?.source === 'custom' ? options.greeting.audioId : undefined;
  const settings = await mailboxes.settings(destination.accountId, destination.extensionId, greetingId);
  await call.answer();
  if (settings.messageCount >= settings.maxMessages) {
    await call.play({ tts: mailboxFull(call.language) });
    await call.hangup();
    return;
  }
  const greeting: PlaySource[] = [];
  if (settings.greetingFile) {
    greeting.push({ file: settings.greetingFile });
  } else if (settings.nameRecordingFile) {
    // Issue 13: the default greeting "with the user's recorded name": the recording takes the place of the spoken name.
    const [before, after] = defaultGreetingAround(call.language);
    greeting.push({ tts: before }, { file: settings.nameRecordingFile }, { tts: after });
  } else {
    greeting.push({ tts: defaultGreeting(mailboxName(settings, destination.extensionNumber, call.language), call.language) });
  }
  // With mailboxes by phone, a key during the greeting cuts it short: `*` is the owner signing in
  // (when the mailbox has a PIN), any other key goes straight to the beep (the caller knows the greeting).
  const signIn = mailboxes.ownerSignIn;
  for (const part of greeting) {
    const { digit } = await call.play(part, { bargeIn: signIn !== undefined });
    if (digit === null) continue;
    if (digit === SIGN_IN_KEY && signIn && (await signIn(call, destination))) return;
    break;
  }
  const recording = await call.record({ maxSeconds: settings.maxMessageSeconds, terminators: '#', beep: true });
  if (recording.durationMs < MIN_MESSAGE_MS) {
    await mailboxes.discard(recording.path);
  } else {
    await mailboxes.deposit({
      accountId: destination.accountId,
      mailboxExtensionId: destination.extensionId,
      callId: call.id || null,
      fromNumber: call.caller.number,
      fromName: call.caller.name,
      toNumber: call.dialed,
      reason,
      recordingPath: recording.path,
      durationMs: recording.durationMs,
    });
  }
  if (recording.reason !== 'hangup') await call.hangup();
}

/** The default greeting, without "for more options": `#` only ends the message here. */
export function defaultGreeting(name: string, language: 'en' | 'fr'): string {
  const [before, after] = defaultGreetingAround(language);
  return `${before} ${name}. ${after}`;
}

/** The default greeting's words before and after the mailbox's name: a recorded name is played between them. */
export function defaultGreetingAround(language: 'en' | 'fr'): [before: string, after: string] {
  return language === 'fr'
    ? ['Votre appel a été transféré vers la messagerie de', "Personne n'est disponible pour prendre votre appel. Veuillez laisser un message après le bip. Quand vous avez terminé, raccrochez ou appuyez sur la touche dièse."]
    : ['Your call has been forwarded to the voicemail for', 'No one is available to take your call. Please leave a message after the tone. When you have finished recording, you may hang up or press the pound key.'];
}

export function mailboxFull(language: 'en' | 'fr'): string {
  return language === 'fr' ? 'La messagerie de ce poste est pleine. Veuillez rappeler plus tard. Au revoir.' : 'The mailbox is full. Please call again later. Goodbye.';
}
