import { PIN_MAX, PIN_MIN, spellDigits, type PinRule } from '@carillon/domain';
import type { CallApp, CallHandle } from '../call-handle.ts';
import type { MailboxDestination } from '../../routing/destination.ts';
import type { MailboxAccess, MailboxCallBack, PhoneMessage } from './mailbox-access.ts';
import type { MailboxSignIn } from '../voicemail/mailboxes.ts';

/** PIN attempts in one call before it ends; the lockout counts failures across calls (the port). */
export const PIN_TRIES_PER_CALL = 3;
/** Longest PIN keyed (the PIN rules cap it well below this). */
const MAX_PIN_DIGITS = 20;
const KEY_TIMEOUT_MS = 10_000;
/** Menus met with silence in a row before the call ends (a phone left off the hook). */
const SILENT_MENUS_BEFORE_GOODBYE = 3;
/** A recording shorter than this is a slip of the pound key, not a greeting. */
const MIN_GREETING_MS = 1000;
/** A name is said in well under a second ("Ann"): shorter than this is a slip of the pound key. */
const MIN_NAME_MS = 500;
/** Recordings in a row that are too short before the caller is sent back. */
const GREETING_TRIES = 3;

/**
 * The keys of the mailbox by phone, each written once here; the prompts (TEXTS) say them.
 * The guides give none: these follow the usual voicemail keypads (Asterisk's VoiceMailMain,
 * Cisco Unity): 1 new and 2 saved messages; per message 4 again, 7 delete, 9 save, # skip;
 * * always goes back up. 5 calls the sender back, as on Cisco Unity's "live reply".
 */
export const MAIN_MENU_KEYS = { newMessages: '1', savedMessages: '2', greeting: '3', pin: '4', end: '#' } as const;
export const MESSAGE_KEYS = { repeat: '4', callBack: '5', delete: '7', save: '9', skip: '#', mainMenu: '*' } as const;
export const GREETING_KEYS = { record: '1', useDefault: '2', listen: '3', recordName: '4', mainMenu: '*' } as const;
/** After a greeting or a name is recorded, before it is kept. */
export const GREETING_REVIEW_KEYS = { keep: '1', listen: '2', again: '3', cancel: '*' } as const;

type Folder = 'new' | 'saved';
/** What the caller records by phone: the user-hours greeting, or their name (for the default greeting and the directory). */
type Recorded = 'greeting' | 'name';
/** Where a submenu leaves the caller: back at the main menu, or the call is over (a call back was answered). */
type Next = 'menu' | 'ended';

/**
 * A user's mailbox by phone (issue 13, phone access: `*86`, or their own
 * extension, from their own device): the PIN (ended by `#`), three tries per
 * call; then "you have N new and M saved messages" and the main menu
 * (MAIN_MENU_KEYS): the new messages, the saved ones (newest first, as the
 * web inbox), the user-hours greeting (record one by phone, or the default;
 * and the user's recorded name, which the default greeting and the directory
 * play), and the PIN. Each message plays (its audio, then who left it), after which
 * MESSAGE_KEYS apply: delete (to the trash), save (heard), again, call the
 * sender back, skip (a new message stays new), back to the menu. A mailbox
 * locked by wrong PINs says so and hangs up.
 */
export function mailboxApp(access: MailboxAccess, callBack: MailboxCallBack | null = null): CallApp {
  return async (call, destination) => {
    if (destination.kind !== 'mailbox') return call.reject(480, 'Mailbox Not Available');
    await call.answer();
    await openMailbox(call, destination, access, callBack);
  };
}

/**
 * The owner of a mailbox signing in from any phone (issue 13: "from another phone, reach it through
 * the main number with the extension and PIN"): whoever reaches a user's voicemail greeting (by the
 * main number and the extension, by a direct number, from a colleague's phone) and presses `*` during
 * it gets the PIN prompt of that mailbox, then its menus, as on RingCentral. The caller is not who the
 * mailbox belongs to, so only the PIN opens it, with the same per-mailbox lockout as `*86`. Null when
 * the mailbox has no PIN to sign in with (no user, or a user who never set one): the greeting goes on.
 */
export function mailboxSignIn(access: MailboxAccess, callBack: MailboxCallBack | null = null): MailboxSignIn {
  return async (call, mailbox) => {
    if (!(await access.hasPin(mailbox.accountId, mailbox.extensionId))) return false;
    await openMailbox(call, { kind: 'mailbox', accountId: mailbox.accountId, extensionId: mailbox.extensionId }, access, callBack);
    return true;
  };
}

/** An answered call at the mailbox's door: locked, or the PIN and then the menus. */
async function openMailbox(call: CallHandle, destination: MailboxDestination, access: MailboxAccess, callBack: MailboxCallBack | null): Promise<void> {
  if (await access.isLocked(destination.accountId, destination.extensionId)) return goodbye(call, TEXTS[call.language].locked);
  if (!(await signIn(call, destination, access))) return;
  await new MailboxSession(call, destination, access, callBack).run();
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

/** One signed-in call: the main menu and what it leads to. */
class MailboxSession {
  private readonly call: CallHandle;
  private readonly access: MailboxAccess;
  private readonly callBack: MailboxCallBack | null;
  private readonly accountId: string;
  private readonly extensionId: string;
  private readonly texts: Texts;

  constructor(call: CallHandle, destination: MailboxDestination, access: MailboxAccess, callBack: MailboxCallBack | null) {
    this.call = call;
    this.access = access;
    this.callBack = callBack;
    this.accountId = destination.accountId;
    this.extensionId = destination.extensionId;
    this.texts = TEXTS[call.language];
  }

  async run(): Promise<void> {
    const [fresh, saved] = await Promise.all([this.access.newMessages(this.accountId, this.extensionId), this.access.savedMessages(this.accountId, this.extensionId)]);
    await this.call.play({ tts: this.texts.summary(fresh.length, saved.length) });
    let silences = 0;
    for (;;) {
      const key = await this.menuKey(this.texts.mainMenu);
      if (!key) {
        if (++silences >= SILENT_MENUS_BEFORE_GOODBYE) return goodbye(this.call, this.texts.goodbye);
        continue;
      }
      silences = 0;
      let next: Next = 'menu';
      if (key === MAIN_MENU_KEYS.newMessages) next = await this.listenTo('new');
      else if (key === MAIN_MENU_KEYS.savedMessages) next = await this.listenTo('saved');
      else if (key === MAIN_MENU_KEYS.greeting) await this.greetingMenu();
      else if (key === MAIN_MENU_KEYS.pin) await this.changePin();
      else if (key === MAIN_MENU_KEYS.end) return goodbye(this.call, this.texts.goodbye);
      else await this.call.play({ tts: this.texts.notAnOption });
      if (next === 'ended') return;
    }
  }

  private async menuKey(prompt: string): Promise<string> {
    return (await this.call.collect({ prompt: { tts: prompt }, maxDigits: 1, timeoutMs: KEY_TIMEOUT_MS })).digits;
  }

  /** The folder's messages as they are when the caller asks for them, one after the other. */
  private async listenTo(folder: Folder): Promise<Next> {
    const messages = folder === 'new' ? await this.access.newMessages(this.accountId, this.extensionId) : await this.access.savedMessages(this.accountId, this.extensionId);
    if (messages.length === 0) {
      await this.call.play({ tts: this.texts.none(folder) });
      return 'menu';
    }
    for (const message of messages) {
      const after = await this.listen(folder, message);
      if (after !== 'next') return after;
    }
    await this.call.play({ tts: this.texts.noMore(folder) });
    return 'menu';
  }

  private async listen(folder: Folder, message: PhoneMessage): Promise<Next | 'next'> {
    let play = true;
    for (;;) {
      if (play) {
        await this.call.play({ file: message.audioFile });
        await this.call.play({ tts: this.texts.from(message.fromNumber) });
      }
      play = false;
      const key = await this.menuKey(this.texts.messageOptions(folder));
      if (key === MESSAGE_KEYS.repeat) {
        play = true;
      } else if (key === MESSAGE_KEYS.callBack) {
        if ((await this.callBackSender(message)) === 'ended') return 'ended';
      } else if (key === MESSAGE_KEYS.delete) {
        await this.access.trash(this.accountId, this.extensionId, message.id);
        await this.call.play({ tts: this.texts.deleted });
        return 'next';
      } else if (key === MESSAGE_KEYS.save && folder === 'new') {
        await this.access.save(this.accountId, this.extensionId, message.id);
        await this.call.play({ tts: this.texts.saved });
        return 'next';
      } else if (key === MESSAGE_KEYS.mainMenu) {
        return 'menu';
      } else {
        // '#', another key or a silence: the next message, this one left as it is (a new one stays new).
        return 'next';
      }
    }
  }

  /**
   * Connects the caller to whoever left the message (bridgeTo, as the user dialling the number): once
   * answered, the call ends with that conversation. Not reached, or not callable: said, and the
   * caller is back at the message's options.
   */
  private async callBackSender(message: PhoneMessage): Promise<'ended' | 'stay'> {
    if (!message.fromNumber) {
      await this.call.play({ tts: this.texts.withheld });
      return 'stay';
    }
    const destination = this.callBack ? await this.callBack.destinationFor({ accountId: this.accountId, extensionId: this.extensionId }, message.fromNumber) : null;
    if (!destination) {
      await this.call.play({ tts: this.texts.cannotCallBack });
      return 'stay';
    }
    await this.call.play({ tts: this.texts.callingBack(message.fromNumber) });
    const { outcome } = await this.call.bridgeTo(destination);
    if (outcome === 'answered') return 'ended';
    await this.call.play({ tts: this.texts.notReached });
    return 'stay';
  }

  /** The user-hours greeting: hear it, record a new one, or go back to the default; and record the user's name. */
  private async greetingMenu(): Promise<void> {
    for (;;) {
      const current = await this.access.userHoursGreeting(this.accountId, this.extensionId);
      const key = await this.menuKey(this.texts.greetingMenu(current !== null));
      if (key === GREETING_KEYS.record) {
        await this.record('greeting');
      } else if (key === GREETING_KEYS.recordName) {
        await this.record('name');
      } else if (key === GREETING_KEYS.useDefault) {
        await this.access.resetUserHoursGreeting(this.accountId, this.extensionId);
        await this.call.play({ tts: this.texts.defaultGreetingSet });
      } else if (key === GREETING_KEYS.listen) {
        await this.call.play(current ? { file: current } : { tts: this.texts.defaultGreetingInUse });
      } else {
        // '*', another key or a silence: back to the main menu.
        return;
      }
    }
  }

  /**
   * Beep, record until '#', then keep, listen or record again; kept only on the keep key, through
   * the same core function as a recording made in the browser (the greeting's, or the name's).
   */
  private async record(what: Recorded): Promise<void> {
    const texts = this.texts.recording[what];
    for (let tries = 0; tries < GREETING_TRIES; ) {
      await this.call.play({ tts: texts.afterBeep });
      const maxSeconds = what === 'greeting' ? this.access.greetingMaxSeconds : this.access.nameMaxSeconds;
      const recording = await this.call.record({ maxSeconds, terminators: '#', beep: true });
      if (recording.durationMs < (what === 'greeting' ? MIN_GREETING_MS : MIN_NAME_MS)) {
        tries++;
        await this.call.play({ tts: this.texts.greetingTooShort });
        continue;
      }
      let silences = 0;
      for (;;) {
        const key = await this.menuKey(texts.review);
        if (key === GREETING_REVIEW_KEYS.keep) {
          const kept =
            what === 'greeting'
              ? await this.access.setUserHoursGreeting(this.accountId, this.extensionId, recording.path)
              : await this.access.setNameRecording(this.accountId, this.extensionId, recording.path);
          await this.call.play({ tts: kept ? texts.saved : texts.refused });
          return;
        }
        if (key === GREETING_REVIEW_KEYS.listen) {
          await this.call.play({ file: recording.path });
          continue;
        }
        if (key === GREETING_REVIEW_KEYS.again) break;
        if (key === GREETING_REVIEW_KEYS.cancel || (!key && ++silences >= SILENT_MENUS_BEFORE_GOODBYE)) {
          // The recording is left to the call, which removes its files when it ends.
          await this.call.play({ tts: texts.notChanged });
          return;
        }
      }
    }
  }

  /** The new PIN twice (each ended by '#'), checked by the shared rules where it is stored; a refusal says the rule. */
  private async changePin(): Promise<void> {
    const first = await this.call.collect({ prompt: { tts: this.texts.newPin }, maxDigits: MAX_PIN_DIGITS, timeoutMs: KEY_TIMEOUT_MS, terminators: '#' });
    if (!first.digits) return;
    const second = await this.call.collect({ prompt: { tts: this.texts.newPinAgain }, maxDigits: MAX_PIN_DIGITS, timeoutMs: KEY_TIMEOUT_MS, terminators: '#' });
    if (!second.digits) return;
    const change = await this.access.changePin(this.accountId, this.extensionId, first.digits, second.digits);
    await this.call.play({ tts: change.ok ? this.texts.pinChanged : this.texts.pinRefused(change.rules) });
  }
}

async function goodbye(call: CallHandle, text: string): Promise<void> {
  await call.play({ tts: text });
  await call.hangup();
}

/** Phone numbers are read digit by digit. */

const KEY_NAMES = { en: { '#': 'pound', '*': 'star' }, fr: { '#': 'dièse', '*': 'étoile' } } as const;
const keyName = (language: 'en' | 'fr', key: string) => (key === '#' || key === '*' ? KEY_NAMES[language][key] : key);
const en = (key: string) => keyName('en', key);
const fr = (key: string) => keyName('fr', key);

/** The PIN rules in the order they are said: the first one broken is the one the caller hears. */
const PIN_RULE_ORDER: readonly (PinRule | 'mismatch')[] = ['mismatch', 'digitsOnly', 'length', 'noRuns'];
const firstRule = (rules: readonly (PinRule | 'mismatch')[]) => PIN_RULE_ORDER.find((r) => rules.includes(r)) ?? 'length';

interface Texts {
  pin: string;
  wrongPin: string;
  tooManyTries: string;
  locked: string;
  summary: (fresh: number, saved: number) => string;
  mainMenu: string;
  notAnOption: string;
  goodbye: string;
  none: (folder: Folder) => string;
  noMore: (folder: Folder) => string;
  from: (number: string | null) => string;
  messageOptions: (folder: Folder) => string;
  deleted: string;
  saved: string;
  withheld: string;
  cannotCallBack: string;
  callingBack: (number: string) => string;
  notReached: string;
  greetingMenu: (custom: boolean) => string;
  defaultGreetingSet: string;
  defaultGreetingInUse: string;
  greetingTooShort: string;
  /** Recording the greeting or the name by phone: before the beep, the review's keys, and how it ended. */
  recording: Record<Recorded, { afterBeep: string; review: string; saved: string; refused: string; notChanged: string }>;
  newPin: string;
  newPinAgain: string;
  pinChanged: string;
  pinRefused: (rules: readonly (PinRule | 'mismatch')[]) => string;
}

const M = MAIN_MENU_KEYS;
const K = MESSAGE_KEYS;
const G = GREETING_KEYS;
const R = GREETING_REVIEW_KEYS;

const TEXTS: Record<'en' | 'fr', Texts> = {
  en: {
    pin: 'Please enter your PIN, followed by the pound key.',
    wrongPin: 'That PIN is not correct. Please enter your PIN, followed by the pound key.',
    tooManyTries: 'That PIN is not correct. Goodbye.',
    locked: 'This mailbox is locked after too many wrong PINs. Please try again later. Goodbye.',
    summary: (fresh, saved) => `You have ${fresh} new ${fresh === 1 ? 'message' : 'messages'} and ${saved} saved ${saved === 1 ? 'message' : 'messages'}.`,
    mainMenu: `For new messages, press ${en(M.newMessages)}. For saved messages, press ${en(M.savedMessages)}. For your greeting, press ${en(M.greeting)}. To change your PIN, press ${en(M.pin)}. To end the call, press ${en(M.end)}.`,
    notAnOption: 'That is not an option.',
    goodbye: 'Goodbye.',
    none: (folder) => (folder === 'new' ? 'You have no new messages.' : 'You have no saved messages.'),
    noMore: (folder) => (folder === 'new' ? 'You have no more new messages.' : 'You have no more saved messages.'),
    from: (number) => (number ? `From ${spellDigits(number)}.` : 'From an unknown caller.'),
    messageOptions: (folder) =>
      `To delete this message, press ${en(K.delete)}.${folder === 'new' ? ` To save it, press ${en(K.save)}.` : ''} To hear it again, press ${en(K.repeat)}. To call the sender back, press ${en(K.callBack)}. For the next message, press ${en(K.skip)}. For the main menu, press ${en(K.mainMenu)}.`,
    deleted: 'Message deleted.',
    saved: 'Message saved.',
    withheld: "The caller's number was withheld: it cannot be called back.",
    cannotCallBack: 'This number cannot be called from your phone.',
    callingBack: (number) => `Calling ${spellDigits(number)}.`,
    notReached: 'The call did not go through.',
    greetingMenu: (custom) =>
      `Your callers hear ${custom ? 'your own greeting' : 'the default greeting'} during user hours. To record a new greeting, press ${en(G.record)}. To use the default greeting, press ${en(G.useDefault)}. To hear your greeting, press ${en(G.listen)}. To record your name, press ${en(G.recordName)}. For the main menu, press ${en(G.mainMenu)}.`,
    defaultGreetingSet: 'Your callers now hear the default greeting.',
    defaultGreetingInUse: 'You use the default greeting.',
    greetingTooShort: 'Nothing was recorded.',
    recording: {
      greeting: {
        afterBeep: 'Record your greeting after the tone, then press pound.',
        review: `To keep this greeting, press ${en(R.keep)}. To hear it, press ${en(R.listen)}. To record it again, press ${en(R.again)}. To cancel, press ${en(R.cancel)}.`,
        saved: 'Your greeting is saved.',
        refused: 'This recording could not be used as a greeting. Your greeting has not changed.',
        notChanged: 'Your greeting has not changed.',
      },
      name: {
        afterBeep: 'Say your name after the tone, then press pound.',
        review: `To keep this recording of your name, press ${en(R.keep)}. To hear it, press ${en(R.listen)}. To record it again, press ${en(R.again)}. To cancel, press ${en(R.cancel)}.`,
        saved: 'Your name is saved.',
        refused: 'This recording could not be used. Your recorded name has not changed.',
        notChanged: 'Your recorded name has not changed.',
      },
    },
    newPin: 'Please enter your new PIN, followed by the pound key.',
    newPinAgain: 'Please enter your new PIN again, followed by the pound key.',
    pinChanged: 'Your PIN is changed.',
    pinRefused: (rules) =>
      ({
        mismatch: 'The two PINs are not the same.',
        digitsOnly: 'A PIN has digits only.',
        length: `A PIN has ${PIN_MIN} to ${PIN_MAX} digits.`,
        noRuns: 'A PIN must not have three identical or consecutive digits in a row, such as 1 1 1 or 1 2 3.',
      })[firstRule(rules)] + ' Your PIN has not changed.',
  },
  fr: {
    pin: 'Veuillez saisir votre code, suivi de la touche dièse.',
    wrongPin: "Ce code n'est pas correct. Veuillez saisir votre code, suivi de la touche dièse.",
    tooManyTries: "Ce code n'est pas correct. Au revoir.",
    locked: 'Cette messagerie est verrouillée après trop de codes erronés. Veuillez réessayer plus tard. Au revoir.',
    summary: (fresh, saved) => `Vous avez ${fresh} ${fresh <= 1 ? 'nouveau message' : 'nouveaux messages'} et ${saved} ${saved <= 1 ? 'message conservé' : 'messages conservés'}.`,
    mainMenu: `Pour les nouveaux messages, appuyez sur ${fr(M.newMessages)}. Pour les messages conservés, appuyez sur ${fr(M.savedMessages)}. Pour votre annonce, appuyez sur ${fr(M.greeting)}. Pour changer votre code, appuyez sur ${fr(M.pin)}. Pour terminer l'appel, appuyez sur ${fr(M.end)}.`,
    notAnOption: "Ce choix n'existe pas.",
    goodbye: 'Au revoir.',
    none: (folder) => (folder === 'new' ? "Vous n'avez aucun nouveau message." : "Vous n'avez aucun message conservé."),
    noMore: (folder) => (folder === 'new' ? "Vous n'avez plus de nouveaux messages." : "Vous n'avez plus de messages conservés."),
    from: (number) => (number ? `De ${spellDigits(number)}.` : "D'un numéro inconnu."),
    messageOptions: (folder) =>
      `Pour supprimer ce message, appuyez sur ${fr(K.delete)}.${folder === 'new' ? ` Pour le conserver, appuyez sur ${fr(K.save)}.` : ''} Pour le réécouter, appuyez sur ${fr(K.repeat)}. Pour rappeler l'appelant, appuyez sur ${fr(K.callBack)}. Pour le message suivant, appuyez sur ${fr(K.skip)}. Pour le menu principal, appuyez sur ${fr(K.mainMenu)}.`,
    deleted: 'Message supprimé.',
    saved: 'Message conservé.',
    withheld: "Le numéro de l'appelant était masqué : il ne peut pas être rappelé.",
    cannotCallBack: 'Ce numéro ne peut pas être appelé depuis votre poste.',
    callingBack: (number) => `Appel du ${spellDigits(number)}.`,
    notReached: "L'appel n'a pas abouti.",
    greetingMenu: (custom) =>
      `Vos appelants entendent ${custom ? 'votre propre annonce' : "l'annonce par défaut"} pendant vos heures. Pour enregistrer une nouvelle annonce, appuyez sur ${fr(G.record)}. Pour utiliser l'annonce par défaut, appuyez sur ${fr(G.useDefault)}. Pour écouter votre annonce, appuyez sur ${fr(G.listen)}. Pour enregistrer votre nom, appuyez sur ${fr(G.recordName)}. Pour le menu principal, appuyez sur ${fr(G.mainMenu)}.`,
    defaultGreetingSet: "Vos appelants entendent désormais l'annonce par défaut.",
    defaultGreetingInUse: "Vous utilisez l'annonce par défaut.",
    greetingTooShort: "Rien n'a été enregistré.",
    recording: {
      greeting: {
        afterBeep: 'Enregistrez votre annonce après le bip, puis appuyez sur dièse.',
        review: `Pour garder cette annonce, appuyez sur ${fr(R.keep)}. Pour l'écouter, appuyez sur ${fr(R.listen)}. Pour l'enregistrer à nouveau, appuyez sur ${fr(R.again)}. Pour annuler, appuyez sur ${fr(R.cancel)}.`,
        saved: 'Votre annonce est enregistrée.',
        refused: "Cet enregistrement ne peut pas servir d'annonce. Votre annonce n'a pas changé.",
        notChanged: "Votre annonce n'a pas changé.",
      },
      name: {
        afterBeep: 'Dites votre nom après le bip, puis appuyez sur dièse.',
        review: `Pour garder cet enregistrement de votre nom, appuyez sur ${fr(R.keep)}. Pour l'écouter, appuyez sur ${fr(R.listen)}. Pour l'enregistrer à nouveau, appuyez sur ${fr(R.again)}. Pour annuler, appuyez sur ${fr(R.cancel)}.`,
        saved: 'Votre nom est enregistré.',
        refused: "Cet enregistrement ne peut pas être utilisé. Votre nom enregistré n'a pas changé.",
        notChanged: "Votre nom enregistré n'a pas changé.",
      },
    },
    newPin: 'Veuillez saisir votre nouveau code, suivi de la touche dièse.',
    newPinAgain: 'Veuillez saisir à nouveau votre nouveau code, suivi de la touche dièse.',
    pinChanged: 'Votre code est changé.',
    pinRefused: (rules) =>
      ({
        mismatch: 'Les deux codes ne sont pas identiques.',
        digitsOnly: 'Un code ne contient que des chiffres.',
        length: `Un code a de ${PIN_MIN} à ${PIN_MAX} chiffres.`,
        noRuns: 'Un code ne doit pas contenir trois chiffres identiques ou consécutifs à la suite, comme 1 1 1 ou 1 2 3.',
      })[firstRule(rules)] + " Votre code n'a pas changé.",
  },
};
