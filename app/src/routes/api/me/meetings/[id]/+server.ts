import { json } from '@sveltejs/kit';
import { deleteMeeting, meetingOfHost } from '@carillon/core/meetings';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** `id`: the meeting's uuid or its 10-digit meeting ID; anything else names no meeting. */
const named = (id: string) => isUuid(id) || /^[0-9]{10}$/.test(id);

/** One of the signed-in user's meetings, with its passcode (the host shares it). */
export const GET: RequestHandler = inArea('meetings', async (event) => {
  if (!named(event.params.id)) return notFound();
  const auth = caller(event);
  const meeting = await meetingOfHost((await getRuntime()).db, auth.account.id, auth.user.id, event.params.id);
  return meeting ? json({ meeting }) : notFound();
});

/** Deletes one of the signed-in user's meetings; the personal meeting cannot be deleted (409). Audited. */
export const DELETE: RequestHandler = inArea('meetings', async (event) => {
  if (!named(event.params.id)) return notFound();
  const auth = caller(event);
  const result = await deleteMeeting((await getRuntime()).db, actorOf(event), auth.account.id, auth.user.id, event.params.id);
  if (result.ok) return new Response(null, { status: 204 });
  return result.error === 'not_found' ? notFound() : json({ error: 'personal_meeting' }, { status: 409 });
});
