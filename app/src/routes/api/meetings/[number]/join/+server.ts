import { json } from '@sveltejs/kit';
import { meetingForJoin, meetingPasscodeMatches } from '@carillon/core/meetings';
import { MEETING_PASSCODE_ATTEMPTS, joinMeetingSchema } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, notFound, readJson } from '#lib/server/api.ts';
import { issueJoinToken } from '#lib/server/meetings/join-tokens.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** The window of the passcode attempts' bound, in seconds. */
const ATTEMPT_WINDOW_SECONDS = 600;

/**
 * Joining a meeting of the caller's account by its 10-digit ID (issue 17): the passcode is checked
 * here, on the server (the host needs none), and a wrong one is refused with `wrong_passcode`; after
 * MEETING_PASSCODE_ATTEMPTS attempts in ten minutes the user is refused (429) for that meeting, so a
 * 6-digit passcode cannot be guessed. A meeting of another account is not found. The answer carries a
 * short-lived join token for the meeting's socket signalling.
 */
export const POST: RequestHandler = inArea('meetings', async (event) => {
  const auth = caller(event);
  const meeting = await meetingForJoin((await getRuntime()).db, auth.account.id, event.params.number);
  if (!meeting) return notFound();
  const body = await readJson(event.request, joinMeetingSchema);
  if (!body.ok) return body.response;
  if (meeting.ended) return json({ error: 'meeting_ended' }, { status: 410 });
  const rt = await getRuntime();
  const host = meeting.hostUserId === auth.user.id;
  if (!host) {
    if (!(await rt.limiter.hit(`meeting-passcode:${auth.user.id}:${meeting.id}`, MEETING_PASSCODE_ATTEMPTS, ATTEMPT_WINDOW_SECONDS)).allowed) {
      return json({ error: 'rate_limited' }, { status: 429, headers: { 'retry-after': String(ATTEMPT_WINDOW_SECONDS) } });
    }
    if (!(await meetingPasscodeMatches(rt.db, auth.account.id, meeting.id, body.data.passcode))) return json({ error: 'wrong_passcode' }, { status: 403 });
  }
  const joinToken = await issueJoinToken(rt.redis, { accountId: auth.account.id, userId: auth.user.id, meetingId: meeting.id, host });
  return json({ meeting: { id: meeting.id, number: meeting.number, topic: meeting.topic }, host, joinToken });
});
