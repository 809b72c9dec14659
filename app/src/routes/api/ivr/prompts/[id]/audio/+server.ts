import fs from 'node:fs';
import { promptFile } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** The prompt's audio for the library's player (PR-02): the media file itself, 8 kHz mono WAV. */
export const GET: RequestHandler = inArea('ivr', async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const rt = await getRuntime();
  const file = await promptFile(rt.db, rt.config.dataDir, caller(event).account.id, event.params.id);
  if (!file || !fs.existsSync(file)) return notFound();
  return new Response(fs.readFileSync(file), { headers: { 'content-type': 'audio/wav', 'cache-control': 'private, max-age=3600' } });
});
