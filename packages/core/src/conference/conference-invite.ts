import { randomUUID } from 'node:crypto';
import type { Db } from '@carillon/db';
import { calendarInvite, timestamps, type ConferenceInvite, type Regional } from '@carillon/domain';
import type { OutgoingMail } from '../mail/mailer.ts';
import { conferenceCodesOf, conferenceDialIns } from './conference-bridge.ts';

/** The host who sends the invite: their conference is their extension's. */
export interface InviteHost {
  extensionId: string;
  name: string;
  email: string;
  regional: Regional;
}

/** Why an invite is not sent: nothing is queued then. */
export type InviteRefusal = 'no_conference' | 'no_dial_in' | 'unknown_dial_in' | 'in_the_past';

/** An invite may name a start this long ago (a form filled over a minute or two), not more. */
const PAST_GRACE_MS = 5 * 60_000;

/**
 * "Send e-mail invite" (inventory 1 §5.1, issue 16): one message per
 * recipient, each with the same calendar event (one UID, every recipient an
 * attendee) so that each calendar shows one meeting. The text gives the
 * time in the host's zone, the dial-in numbers chosen (all of the bridge's
 * when none is) and the host's participant code; the host code never leaves
 * the host's page.
 */
export async function conferenceInviteMails(db: Db, accountId: string, host: InviteHost, invite: ConferenceInvite, now = new Date()): Promise<{ ok: true; mails: OutgoingMail[] } | { ok: false; reason: InviteRefusal; detail?: string }> {
  const codes = await conferenceCodesOf(db, accountId, host.extensionId);
  if (!codes) return { ok: false, reason: 'no_conference' };
  const bridge = await conferenceDialIns(db, accountId);
  if (bridge.length === 0) return { ok: false, reason: 'no_dial_in' };
  const unknown = (invite.dialIns ?? []).find((n) => !bridge.includes(n));
  if (unknown) return { ok: false, reason: 'unknown_dial_in', detail: unknown };
  const start = new Date(invite.start);
  if (start.getTime() < now.getTime() - PAST_GRACE_MS) return { ok: false, reason: 'in_the_past' };
  const dialIns = invite.dialIns && invite.dialIns.length > 0 ? invite.dialIns : bridge;

  const fr = host.regional.lang === 'fr';
  const when = `${timestamps(host.regional).dateTime(start)} (${invite.durationMinutes} min)`;
  const lines = fr
    ? [`${host.name} vous invite à une conférence téléphonique : ${invite.topic}`, '', `Quand : ${when}`, `Numéros d’accès : ${dialIns.join(', ')}`, `Code d’accès participant : ${codes.participant} #`]
    : [`${host.name} invites you to an audio conference: ${invite.topic}`, '', `When: ${when}`, `Dial-in numbers: ${dialIns.join(', ')}`, `Participant access code: ${codes.participant} #`];
  if (invite.note.trim()) lines.push('', invite.note.trim());
  const text = lines.join('\n');
  const calendar = calendarInvite({
    uid: `${randomUUID()}@carillon`,
    start,
    durationMinutes: invite.durationMinutes,
    summary: invite.topic,
    description: text,
    location: `${dialIns[0]} (${fr ? 'code' : 'access code'} ${codes.participant})`,
    organizer: { name: host.name, email: host.email },
    attendees: invite.to,
    stamp: now,
  });
  const subject = fr ? `Invitation : ${invite.topic}` : `Invitation: ${invite.topic}`;
  return { ok: true, mails: invite.to.map((to) => ({ to, subject, text, calendar: { content: calendar } })) };
}
