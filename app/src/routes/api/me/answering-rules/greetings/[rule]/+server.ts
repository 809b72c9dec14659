import { deleteGreeting, getGreeting, putGreeting } from '#lib/server/voicemail/greetings.ts';
import type { RequestHandler } from './$types';

/** The signed-in user's voicemail greeting of one rule (`in_hours`, `after_hours` or a custom rule's id). */
export const GET: RequestHandler = (event) => getGreeting(event);
export const PUT: RequestHandler = (event) => putGreeting(event);
export const DELETE: RequestHandler = (event) => deleteGreeting(event);
