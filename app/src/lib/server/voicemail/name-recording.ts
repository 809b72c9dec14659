import fs from 'node:fs';
import { json, type RequestEvent } from '@sveltejs/kit';
import { NAME_RECORDING_LIMITS, NameRecordingError, nameRecordingFile, type nameRecordingUploadQuery, readNameRecording, resetNameRecording, setNameRecording } from '@carillon/core/voicemail';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, type QueryRead } from '#lib/server/api.ts';
import { appFfmpeg } from '#lib/server/ivr/ivr.ts';
import { hiddenArea } from '#lib/server/unreleased.ts';
import { userVisibleTo } from '#lib/server/users/scope.ts';
import { receiveUpload } from '#lib/server/streamed-upload.ts';

/**
 * A user's recorded name (issues 13 and 14), for the user themselves (/api/me/name-recording)
 * and their administrators (/api/users/[id]/name-recording): the same handlers, the user chosen
 * by the route, as the greeting routes (server/voicemail/greetings.ts). Another account's user,
 * or one outside a scoped administrator's reach, is not found. It sits with the answering rules
 * on Call Handling, and is hidden with them while they are unreleased.
 */

type Event = RequestEvent<{ id?: string }>;

/** The user whose recorded name this is, or the 404 to answer. */
async function target(event: Event): Promise<{ ok: true; userId: string } | { ok: false; response: Response }> {
  const hidden = await hiddenArea('answering_rules');
  if (hidden) return { ok: false, response: hidden };
  const auth = caller(event);
  if (event.params.id === undefined) return { ok: true, userId: auth.user.id };
  if (!isUuid(event.params.id) || !(await userVisibleTo((await getRuntime()).db, auth, event.params.id))) return { ok: false, response: notFound() };
  return { ok: true, userId: event.params.id };
}

/** The recording's audio (8 kHz mono WAV) for the page's player; 404 while the user has none. */
export async function getNameRecording(event: Event): Promise<Response> {
  const t = await target(event);
  if (!t.ok) return t.response;
  const rt = await getRuntime();
  const file = await nameRecordingFile(rt.db, rt.config.dataDir, caller(event).account.id, t.userId);
  if (!file || !fs.existsSync(file)) return notFound();
  return new Response(fs.readFileSync(file), { headers: { 'content-type': 'audio/wav', 'cache-control': 'private, no-store' } });
}

/**
 * The body is the audio file itself (WAV or MP3, at most 4 MB and 10 seconds), streamed to disk
 * with its size bounded, then checked (sound, not silence) and converted once. Whatever is
 * refused, the user keeps the recording they had. The route reads the query (its schema is its
 * contract in the OpenAPI test); a hidden area answers 404 before a bad query answers 400.
 */
export async function putNameRecording(event: Event, query: QueryRead<typeof nameRecordingUploadQuery>): Promise<Response> {
  const t = await target(event);
  if (!t.ok) return t.response;
  if (!query.ok) return query.response;
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  if (!(await readNameRecording(rt.db, accountId, t.userId))) return notFound();
  const upload = await receiveUpload(event.request, NAME_RECORDING_LIMITS.maxUploadBytes);
  if (!upload.ok) return upload.response;
  try {
    const saved = await setNameRecording(rt.db, { ffmpeg: appFfmpeg(rt), dataDir: rt.config.dataDir }, actorOf(event), accountId, t.userId, { upload: upload.file, source: query.data.source, originalName: query.data.name?.replace(/[\\/\r\n\0]/g, '_') ?? null });
    return saved ? json(saved) : notFound();
  } catch (err) {
    if (err instanceof NameRecordingError) return json({ error: err.code, message: err.message }, { status: err.code === 'too_large' ? 413 : 422 });
    throw err;
  } finally {
    fs.rmSync(upload.file, { force: true });
  }
}

/** No recorded name any more: TTS says the user's name again; the file is removed. */
export async function deleteNameRecording(event: Event): Promise<Response> {
  const t = await target(event);
  if (!t.ok) return t.response;
  const rt = await getRuntime();
  const reset = await resetNameRecording(rt.db, rt.config.dataDir, actorOf(event), caller(event).account.id, t.userId);
  return reset ? json(reset) : notFound();
}

