import { json } from '@sveltejs/kit';
import { createMeeting, meetingsOf } from '@carillon/core/meetings';
import { createMeetingSchema } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, notFound, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** The signed-in user's meetings (issue 17): their personal meeting first (created on first read), then the ones they created. */
export const GET: RequestHandler = inArea('meetings', async (event) => {
  const auth = caller(event);
  return json({ meetings: await meetingsOf((await getRuntime()).db, auth.account.id, auth.user.id) });
});

/** A new meeting of the signed-in user: its own 10-digit ID, a topic, an optional start, a passcode (given or drawn). Audited without the passcode. */
export const POST: RequestHandler = inArea('meetings', async (event) => {
  const auth = caller(event);
  const body = await readJson(event.request, createMeetingSchema);
  if (!body.ok) return body.response;
  const created = await createMeeting((await getRuntime()).db, actorOf(event), auth.account.id, auth.user.id, body.data);
  if (!created.ok) return created.error === 'not_found' ? notFound() : json({ error: 'too_many_meetings' }, { status: 409 });
  return json({ meeting: created.meeting }, { status: 201 });
});
