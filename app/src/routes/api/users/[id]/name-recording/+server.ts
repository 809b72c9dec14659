import { nameRecordingUploadQuery } from '@carillon/core/voicemail';
import { readQuery } from '#lib/server/api.ts';
import { deleteNameRecording, getNameRecording, putNameRecording } from '#lib/server/voicemail/name-recording.ts';
import type { RequestHandler } from './$types';

/** A user's recorded name, for their administrators (users.view to play it, users.manage to change it). */
export const GET: RequestHandler = (event) => getNameRecording(event);
/** The body is the audio file itself; the query says how it was made and its name. */
export const PUT: RequestHandler = (event) => putNameRecording(event, readQuery(event.url, nameRecordingUploadQuery));
/** No recorded name any more: TTS says the name. */
export const DELETE: RequestHandler = (event) => deleteNameRecording(event);
