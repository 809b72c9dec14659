import { greetingUploadQuery } from '@carillon/core/voicemail';
import { readQuery } from '#lib/server/api.ts';
import { hiddenArea } from '#lib/server/unreleased.ts';
import { deleteGreeting, getGreeting, putGreeting } from '#lib/server/voicemail/greetings.ts';
import type { RequestHandler } from './$types';

/** A user's voicemail greeting of one rule, for their administrators (users.view to play it, users.manage to change it). */
export const GET: RequestHandler = (event) => getGreeting(event);
/** The body is the audio file itself; the query says how it was made and its name. */
export const PUT: RequestHandler = async (event) => {
  const hidden = await hiddenArea('answering_rules');
  if (hidden) return hidden;
  const query = readQuery(event.url, greetingUploadQuery);
  if (!query.ok) return query.response;
  return putGreeting(event, query.data);
};
export const DELETE: RequestHandler = (event) => deleteGreeting(event);
