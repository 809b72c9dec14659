import fs from 'node:fs';
import { json } from '@sveltejs/kit';
import { menuPromptAudio } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import { ttsCache } from '#lib/server/ivr/ivr.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** What a caller hears when the menu plays (the "try it" simulator's sound): 8 kHz mono WAV. */
export const GET: RequestHandler = inArea('ivr', async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const rt = await getRuntime();
  let file: string | null;
  try {
    file = await menuPromptAudio(rt.db, ttsCache(rt), rt.config.dataDir, caller(event).account.id, event.params.id);
  } catch (err) {
    return json({ error: 'tts_failed', message: (err as Error).message }, { status: 422 });
  }
  if (!file || !fs.existsSync(file)) return notFound();
  return new Response(fs.readFileSync(file), { headers: { 'content-type': 'audio/wav', 'cache-control': 'private, no-cache' } });
});
