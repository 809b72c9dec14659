import type { ConferenceCommand, ConferenceRole, ListeningMode, ToneState } from '@carillon/domain';

/** What the conference says, in the account's language (spoken by TTS). */
export interface ConferenceTexts {
  enterCode: string;
  wrongCode: string;
  tooManyAttempts: string;
  locked: string;
  full: string;
  waitingForHost: string;
  sayName: string;
  /** After the member's recorded name, to the others. */
  hasJoined: string;
  hasLeft: string;
  count(n: number): string;
  menu(commands: { key: string; command: ConferenceCommand }[]): string;
  notAllowed: string;
  mode(mode: ListeningMode): string;
  muted(muted: boolean): string;
  cannotUnmute: string;
  lock(locked: boolean): string;
  tones(state: ToneState): string;
  /** To every member as the host's `*9` starts or stops the recording (and as it stops when the host leaves). */
  recording(on: boolean): string;
}

const EN_COMMANDS: Record<ConferenceCommand, string> = {
  count: 'the number of callers',
  leave: 'leave the conference',
  menu: 'this menu',
  listening_mode: 'the listening modes',
  mute: 'mute or unmute your line',
  lock: 'lock or unlock the conference',
  tones: 'the enter and exit sounds',
  record: 'start or stop recording the conference',
};
const FR_COMMANDS: Record<ConferenceCommand, string> = {
  count: 'le nombre de participants',
  leave: 'quitter la conférence',
  menu: 'ce menu',
  listening_mode: "les modes d'écoute",
  mute: 'couper ou rétablir votre micro',
  lock: 'verrouiller ou ouvrir la conférence',
  tones: "les sons d'entrée et de sortie",
  record: "démarrer ou arrêter l'enregistrement de la conférence",
};

export const CONFERENCE_TEXTS: Record<'en' | 'fr', ConferenceTexts> = {
  en: {
    enterCode: 'Please enter your access code, followed by the pound key.',
    wrongCode: 'That access code is not valid.',
    tooManyAttempts: 'That access code is not valid. Goodbye.',
    locked: 'This conference is locked. Goodbye.',
    full: 'This conference is full. Goodbye.',
    waitingForHost: 'The host has not joined yet. Please wait.',
    sayName: 'After the tone, please say your name, then press the pound key.',
    hasJoined: 'has joined the conference.',
    hasLeft: 'has left the conference.',
    count: (n) => (n === 1 ? 'You are the only caller in the conference.' : `There are ${n} callers in the conference.`),
    menu: (commands) => commands.map((c) => `Star ${c.key}: ${EN_COMMANDS[c.command]}.`).join(' '),
    notAllowed: 'Only the host can do that.',
    mode: (m) => (m === 'muted' ? 'Callers are muted. They can unmute with star 6.' : m === 'listen_only' ? 'Callers are in listen only mode.' : 'The line is open.'),
    muted: (muted) => (muted ? 'You are muted.' : 'You are unmuted.'),
    cannotUnmute: 'The host has set listen only mode.',
    lock: (locked) => (locked ? 'The conference is locked.' : 'The conference is open.'),
    recording: (on) => (on ? 'This conference is being recorded.' : 'Recording stopped.'),
    tones: (t) => (t.enter && t.exit ? 'Enter and exit sounds on.' : t.enter ? 'Enter sound on, exit sound off.' : t.exit ? 'Enter sound off, exit sound on.' : 'Enter and exit sounds off.'),
  },
  fr: {
    enterCode: "Veuillez saisir votre code d'accès, suivi de la touche dièse.",
    wrongCode: "Ce code d'accès n'est pas valide.",
    tooManyAttempts: "Ce code d'accès n'est pas valide. Au revoir.",
    locked: 'Cette conférence est verrouillée. Au revoir.',
    full: 'Cette conférence est complète. Au revoir.',
    waitingForHost: "L'organisateur n'est pas encore arrivé. Veuillez patienter.",
    sayName: 'Après le bip, dites votre nom, puis appuyez sur la touche dièse.',
    hasJoined: 'a rejoint la conférence.',
    hasLeft: 'a quitté la conférence.',
    count: (n) => (n === 1 ? 'Vous êtes seul dans la conférence.' : `Il y a ${n} participants dans la conférence.`),
    menu: (commands) => commands.map((c) => `Étoile ${c.key} : ${FR_COMMANDS[c.command]}.`).join(' '),
    notAllowed: "Seul l'organisateur peut le faire.",
    mode: (m) => (m === 'muted' ? 'Les participants sont en sourdine. Ils peuvent rétablir leur micro avec étoile 6.' : m === 'listen_only' ? 'Les participants sont en écoute seule.' : 'La ligne est ouverte.'),
    muted: (muted) => (muted ? 'Votre micro est coupé.' : 'Votre micro est rétabli.'),
    cannotUnmute: "L'organisateur a choisi l'écoute seule.",
    lock: (locked) => (locked ? 'La conférence est verrouillée.' : 'La conférence est ouverte.'),
    recording: (on) => (on ? 'Cette conférence est enregistrée.' : 'Enregistrement arrêté.'),
    tones: (t) => (t.enter && t.exit ? "Sons d'entrée et de sortie activés." : t.enter ? "Son d'entrée activé, son de sortie désactivé." : t.exit ? "Son d'entrée désactivé, son de sortie activé." : "Sons d'entrée et de sortie désactivés."),
  },
};

export const roomRoleOf = (role: ConferenceRole) => (role === 'host' ? ('moderator' as const) : ('speaker' as const));
