import { z } from 'zod';

/**
 * Video meetings (issue 17; inventory 3 §8.1): every user has a personal meeting ID, and each
 * meeting they create gets its own ID; a meeting has a topic, an optional scheduled start and a
 * passcode that the host reads and shares (so it is stored as it is, like the conference codes).
 * Pure rules, shared by the app, core and media-server.
 */

/** Meeting IDs are this many digits (the personal ID and per-meeting IDs alike), unique across the service: a link names one meeting. */
export const MEETING_ID_DIGITS = 10;
/** Passcodes are 6 to 10 letters or digits (a drawn one is 6 digits, easy to say on a phone). */
export const MEETING_PASSCODE = /^[A-Za-z0-9]{6,10}$/;
/** Default seats of a meeting (inventory 3 §8.4: 100 on the base edition). */
export const DEFAULT_MEETING_CAPACITY = 100;
/** Scheduled meetings a host keeps at once: a bound on what one user can grow. */
export const MAX_MEETINGS_PER_HOST = 200;
/** Wrong passcodes per user and meeting before joining is refused for a while (as wrong access codes are bounded). */
export const MEETING_PASSCODE_ATTEMPTS = 5;

export type MeetingKind = 'personal' | 'scheduled';

export function isMeetingId(id: string): boolean {
  return new RegExp(`^[1-9][0-9]{${MEETING_ID_DIGITS - 1}}$`).test(id);
}

/** A new meeting ID from `randomBelow` (crypto's randomInt in production); no leading zero, so it reads as a number. */
export function newMeetingId(randomBelow: (max: number) => number): string {
  return String(10 ** (MEETING_ID_DIGITS - 1) + randomBelow(9 * 10 ** (MEETING_ID_DIGITS - 1)));
}

/** A new passcode: 6 digits. */
export function newMeetingPasscode(randomBelow: (max: number) => number): string {
  return String(randomBelow(1_000_000)).padStart(6, '0');
}

export const createMeetingSchema = z
  .object({
    topic: z.string().trim().min(1, 'a topic is required').max(200),
    /** ISO 8601 with an offset; absent for a meeting without a set time. */
    scheduledStart: z.string().datetime({ offset: true }).optional(),
    /** Absent: one is drawn. */
    passcode: z.string().regex(MEETING_PASSCODE, 'a passcode is 6 to 10 letters or digits').optional(),
  })
  .strict();
export type CreateMeeting = z.infer<typeof createMeetingSchema>;

export const joinMeetingSchema = z.object({ passcode: z.string().max(64) }).strict();
