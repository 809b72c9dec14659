import { z } from 'zod';

/**
 * The audio conference bridge (inventory 1 §5.1–5.3; issue 16): every account has a bridge
 * dial-in number, every user a host access code and a participant access code; the code the
 * caller enters decides the role. Pure rules, shared by the app, core and media-server.
 */

/** Access codes are this many digits, unique within the account (host and participant codes together). */
export const ACCESS_CODE_DIGITS = 6;

export type ConferenceRole = 'host' | 'participant';

export function isAccessCode(code: string): boolean {
  return new RegExp(`^[0-9]{${ACCESS_CODE_DIGITS}}$`).test(code);
}

/**
 * A new access code from `randomBelow` (crypto's randomInt in production). A leading zero is
 * allowed, but not a code of one repeated digit or a run like 123456, which callers guess.
 */
export function newAccessCode(randomBelow: (max: number) => number): string {
  for (;;) {
    const code = String(randomBelow(10 ** ACCESS_CODE_DIGITS)).padStart(ACCESS_CODE_DIGITS, '0');
    if (!isGuessable(code)) return code;
  }
}

function isGuessable(code: string): boolean {
  if (/^(\d)\1+$/.test(code)) return true;
  const steps = new Set([...code].slice(1).map((d, i) => (Number(d) - Number(code[i]) + 10) % 10));
  return steps.size === 1 && (steps.has(1) || steps.has(9));
}

/** Inventory 1 §5.2: the host's settings of their conference. */
export const conferenceSettingsSchema = z.object({
  /** §5.2 d: participants may start the conference without the host; otherwise they hear music until the host joins. */
  joinBeforeHost: z.boolean(),
  /** §5.3 *8: a tone when someone joins, and when someone leaves. */
  enterTone: z.boolean(),
  exitTone: z.boolean(),
  /** Each caller records their name, announced to the room when they join and leave. */
  announceNames: z.boolean(),
}).strict();
export type ConferenceSettings = z.infer<typeof conferenceSettingsSchema>;

export const DEFAULT_CONFERENCE_SETTINGS: ConferenceSettings = { joinBeforeHost: false, enterTone: true, exitTone: true, announceNames: false };

/** Wrong access codes before the call ends with an announcement (issue 16, bad input). */
export const ACCESS_CODE_ATTEMPTS = 3;

/** Inventory 1 §5.3: the keypad commands, `*` then the key. */
export type ConferenceCommand = 'count' | 'leave' | 'menu' | 'listening_mode' | 'mute' | 'lock' | 'tones' | 'record';

export const CONFERENCE_COMMANDS: Readonly<Record<string, ConferenceCommand>> = {
  '2': 'count',
  '3': 'leave',
  '4': 'menu',
  '5': 'listening_mode',
  '6': 'mute',
  '7': 'lock',
  '8': 'tones',
  '9': 'record',
};

/**
 * §5.3: the host can use every command; participants have "limited control". What the seed gives
 * them: the count, leaving, the menu, and `*6`, which is their self-unmute in listening mode 1
 * ("callers can unmute with * # 6"). Muting the others, the lock, the tones and the recording
 * are the host's.
 */
const PARTICIPANT_COMMANDS: ReadonlySet<ConferenceCommand> = new Set(['count', 'leave', 'menu', 'mute']);

export function commandAllowed(role: ConferenceRole, command: ConferenceCommand): boolean {
  return role === 'host' || PARTICIPANT_COMMANDS.has(command);
}

/** The commands of a role, in key order (the `*4` menu reads them). */
export function commandsOf(role: ConferenceRole): { key: string; command: ConferenceCommand }[] {
  return Object.entries(CONFERENCE_COMMANDS)
    .filter(([, command]) => commandAllowed(role, command))
    .map(([key, command]) => ({ key, command }));
}

/**
 * §5.3 *5, the listening modes, cycling on repeated presses: 1×: callers muted, each may unmute
 * with *6; 2×: listen only, no unmuting; 3×: open again.
 */
export type ListeningMode = 'open' | 'muted' | 'listen_only';

export function nextListeningMode(mode: ListeningMode): ListeningMode {
  return mode === 'open' ? 'muted' : mode === 'muted' ? 'listen_only' : 'open';
}

/**
 * §5.3 *8, the enter/exit sounds, a 4-state cycle: 1×: all off; 2×: enter on, exit off; 3×:
 * enter off, exit on; 4×: all on. The next press moves to the next of the four.
 */
export type ToneState = { enter: boolean; exit: boolean };

const TONE_CYCLE: readonly ToneState[] = [
  { enter: false, exit: false },
  { enter: true, exit: false },
  { enter: false, exit: true },
  { enter: true, exit: true },
];

export function nextToneState(state: ToneState): ToneState {
  const at = TONE_CYCLE.findIndex((t) => t.enter === state.enter && t.exit === state.exit);
  return TONE_CYCLE[(at + 1) % TONE_CYCLE.length]!;
}

/** `POST /api/me/conference/codes`: which of the caller's codes to regenerate. */
export const regenerateCodesSchema = z.object({ which: z.enum(['host', 'participant', 'both']).default('both') }).strict();

/** At most this many people in one e-mail invite (issue 16, scheduling and invites). */
export const MAX_INVITE_RECIPIENTS = 50;

/**
 * "Send e-mail invite" (inventory 1 §5.1, issue 16): the host invites people by e-mail to a
 * conference at a time, with the dial-in numbers they choose among the account's (all when
 * none is chosen) and their participant code; never the host code.
 */
export const conferenceInviteSchema = z
  .object({
    to: z
      .array(z.string().trim().toLowerCase().pipe(z.email('not an e-mail address').max(254)))
      .min(1, 'at least one recipient')
      .max(MAX_INVITE_RECIPIENTS, `at most ${MAX_INVITE_RECIPIENTS} recipients`)
      .refine((to) => new Set(to).size === to.length, 'a recipient is listed twice'),
    /** An instant with its offset (the browser's ISO string); in the future. */
    start: z.iso.datetime({ offset: true, message: 'not a date and time' }),
    durationMinutes: z.number().int().min(15).max(12 * 60),
    topic: z.string().trim().min(1).max(200),
    note: z.string().max(2000).default(''),
    /** E.164 numbers among the bridge's dial-ins. */
    dialIns: z.array(z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'not an E.164 number')).max(20).optional(),
  })
  .strict();
export type ConferenceInvite = z.infer<typeof conferenceInviteSchema>;
