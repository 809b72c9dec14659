import { deleteNameRecording, getNameRecording, putNameRecording } from '#lib/server/voicemail/name-recording.ts';
import type { RequestHandler } from './$types';

/** A user's recorded name, for their administrators (users.view to play it, users.manage to change it). */
export const GET: RequestHandler = (event) => getNameRecording(event);
/** The body is the audio file itself; the query says how it was made. */
export const PUT: RequestHandler = (event) => putNameRecording(event);
export const DELETE: RequestHandler = (event) => deleteNameRecording(event);
