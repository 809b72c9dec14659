import { deleteGreeting, getGreeting, putGreeting } from '#lib/server/voicemail/greetings.ts';
import type { RequestHandler } from './$types';

/** A user's voicemail greeting of one rule, for their administrators (users.view to play it, users.manage to change it). */
export const GET: RequestHandler = (event) => getGreeting(event);
export const PUT: RequestHandler = (event) => putGreeting(event);
export const DELETE: RequestHandler = (event) => deleteGreeting(event);
