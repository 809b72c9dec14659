import fs from 'node:fs';
import { json } from '@sveltejs/kit';
import { createAudioPrompt, createTtsPrompt, listPrompts, PromptError, promptName, ttsPromptInput } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson, readQuery } from '#lib/server/api.ts';
import { appFfmpeg, promptListQuery, receiveAudioUpload, ttsCache } from '#lib/server/ivr/ivr.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = inArea('ivr', async (event) => {
  const query = readQuery(event.url, promptListQuery);
  if (!query.ok) return query.response;
  return json(await listPrompts((await getRuntime()).db, caller(event).account.id, query.data.search));
});

const refusal = (err: PromptError) =>
  json({ error: err.code, message: err.message, ...(err.usedIn.length ? { usedIn: err.usedIn } : {}) }, { status: err.code === 'name_taken' || err.code === 'in_use' ? 409 : err.code === 'too_large' ? 413 : 422 });

/**
 * PR-04 and PR-06. JSON `{name, text, language}`: a text-to-speech prompt. multipart/form-data with
 * `name` and `file` (WAV or MP3, at most 10 MB and 5 minutes): uploaded audio, converted once.
 */
export const POST: RequestHandler = inArea('ivr', async (event) => {
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  const type = event.request.headers.get('content-type') ?? '';
  try {
    if (!type.startsWith('multipart/form-data')) {
      const body = await readJson(event.request, ttsPromptInput);
      if (!body.ok) return body.response;
      return json(await createTtsPrompt(rt.db, ttsCache(rt), rt.config.dataDir, actorOf(event), accountId, body.data), { status: 201 });
    }
    const received = await receiveAudioUpload(event.request);
    if (!received.ok) return received.response;
    const { form, upload, originalName } = received;
    const name = promptName.safeParse(form.get('name'));
    if (!name.success) {
      fs.rmSync(upload, { force: true });
      return json({ error: 'invalid_body', fields: { name: '1 to 100 characters' } }, { status: 400 });
    }
    return json(await createAudioPrompt(rt.db, { ffmpeg: appFfmpeg(rt), dataDir: rt.config.dataDir }, actorOf(event), accountId, { name: name.data, originalName, upload }), { status: 201 });
  } catch (err) {
    if (err instanceof PromptError) return refusal(err);
    throw err;
  }
});
