import type { CallApp, CallHandle } from '../call-handle.ts';
import type { MailboxDestination } from '../../routing/destination.ts';
import type { MailboxAccess, PhoneMessage } from './mailbox-access.ts';

/** PIN attempts in one call before it ends; the lockout counts failures across calls (the port). */
export const PIN_TRIES_PER_CALL = 3;
/** Longest PIN keyed (the PIN rules cap it well below this). */
const MAX_PIN_DIGITS = 20;
const KEY_TIMEOUT_MS = 10_000;

/**
 * A user's mailbox by phone (issue 13, phone access: `*86` from their own
 * device): the PIN (ended by `#`), three tries per call; then "you have N new
 * messages", and each new message (its audio, then who left it), after which
 * 7 deletes it (to the trash), 9 saves it (heard), 4 plays it again and #
 * goes on to the next one, leaving it new. A mailbox locked by wrong PINs
 * says so and hangs up.
 */
export function mailboxApp(access: MailboxAccess): CallApp {
  return async (call, destination) => {
    if (destination.kind !== 'mailbox') return call.reject(480, 'Mailbox Not Available');
    await call.answer();
    const texts = TEXTS[call.language];
    if (await access.isLocked(destination.accountId, destination.extensionId)) return goodbye(call, texts.locked);
    if (!(await signIn(call, destination, access))) return;
    const messages = await access.newMessages(destination.accountId, destination.extensionId);
    await call.play({ tts: texts.count(messages.length) });
    for (const message of messages) await listen(call, destination, access, message);
    await goodbye(call, texts.noMore);
  };
}

/** True once the PIN is right; false when the call has been ended (too many tries, or locked). */
async function signIn(call: CallHandle, destination: MailboxDestination, access: MailboxAccess): Promise<boolean> {
  const texts = TEXTS[call.language];
  for (let attempt = 0; attempt < PIN_TRIES_PER_CALL; attempt++) {
    const { digits } = await call.collect({ prompt: { tts: attempt === 0 ? texts.pin : texts.wrongPin }, maxDigits: MAX_PIN_DIGITS, timeoutMs: KEY_TIMEOUT_MS, terminators: '#' });
    // A silence is not an attempt at the PIN: it is not counted against the mailbox.
    if (!digits) continue;
    const check = await access.checkPin(destination.accountId, destination.extensionId, digits);
    if (check === 'ok') return true;
    if (check === 'locked') {
      await goodbye(call, texts.locked);
      return false;
    }
  }
  await goodbye(call, texts.tooManyTries);
  return false;
}

async function listen(call: CallHandle, destination: MailboxDestination, access: MailboxAccess, message: PhoneMessage): Promise<void> {
  const texts = TEXTS[call.language];
  for (;;) {
    await call.play({ file: message.audioFile });
    await call.play({ tts: texts.from(message.fromNumber) });
    const { digits } = await call.collect({ prompt: { tts: texts.options }, maxDigits: 1, timeoutMs: KEY_TIMEOUT_MS });
    if (digits === '4') continue;
    if (digits === '7') {
      await access.trash(destination.accountId, destination.extensionId, message.id);
      await call.play({ tts: texts.deleted });
    } else if (digits === '9') {
      await access.save(destination.accountId, destination.extensionId, message.id);
      await call.play({ tts: texts.saved });
    }
    // '#', another key or a silence: the next message, this one left new.
    return;
  }
}

async function goodbye(call: CallHandle, text: string): Promise<void> {
  await call.play({ tts: text });
  await call.hangup();
}

/** Phone numbers are read digit by digit. */
const spell = (number: string) => number.split('').join(' ');

const TEXTS = {
  en: {
    pin: 'Please enter your PIN, followed by the pound key.',
    wrongPin: 'That PIN is not correct. Please enter your PIN, followed by the pound key.',
    tooManyTries: 'That PIN is not correct. Goodbye.',
    locked: 'This mailbox is locked after too many wrong PINs. Please try again later. Goodbye.',
    count: (n: number) => (n === 1 ? 'You have 1 new message.' : `You have ${n} new messages.`),
    from: (number: string | null) => (number ? `From ${spell(number)}.` : 'From an unknown caller.'),
    options: 'To delete this message, press 7. To save it, press 9. To hear it again, press 4. For the next message, press pound.',
    deleted: 'Message deleted.',
    saved: 'Message saved.',
    noMore: 'You have no more new messages. Goodbye.',
  },
  fr: {
    pin: 'Veuillez saisir votre code, suivi de la touche dièse.',
    wrongPin: "Ce code n'est pas correct. Veuillez saisir votre code, suivi de la touche dièse.",
    tooManyTries: "Ce code n'est pas correct. Au revoir.",
    locked: 'Cette messagerie est verrouillée après trop de codes erronés. Veuillez réessayer plus tard. Au revoir.',
    count: (n: number) => (n <= 1 ? `Vous avez ${n} nouveau message.` : `Vous avez ${n} nouveaux messages.`),
    from: (number: string | null) => (number ? `De ${spell(number)}.` : "D'un numéro inconnu."),
    options: 'Pour supprimer ce message, appuyez sur 7. Pour le conserver, appuyez sur 9. Pour le réécouter, appuyez sur 4. Pour le message suivant, appuyez sur dièse.',
    deleted: 'Message supprimé.',
    saved: 'Message conservé.',
    noMore: "Vous n'avez plus de nouveaux messages. Au revoir.",
  },
} as const;
