import fs from 'node:fs';
import { json } from '@sveltejs/kit';
import { companyGreetingAudio, IvrError, PromptError, saveCompanyGreeting, setCompanyGreetingAudio } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller } from '#lib/server/api.ts';
import { appFfmpeg, receiveAudioUpload, ttsCache } from '#lib/server/ivr/ivr.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/**
 * The company greeting (X-01; the setup wizard's step, inventory 3 §1.6). GET: what a caller hears, as
 * 8 kHz mono WAV (the default text read aloud with the company's name, or the prompt chosen), with the
 * choice in `x-greeting-mode`; the wizard plays it whether or not the auto-receptionist is released.
 * PUT (multipart `file`, WAV or MP3, or a recording): "Customize": stored in the prompts library and
 * made the greeting. DELETE: "Keep defaults". Both audited.
 */
export const GET: RequestHandler = async (event) => {
  const rt = await getRuntime();
  let spoken: Awaited<ReturnType<typeof companyGreetingAudio>>;
  try {
    spoken = await companyGreetingAudio(rt.db, ttsCache(rt), rt.config.dataDir, caller(event).account.id);
  } catch (err) {
    return json({ error: 'tts_failed', message: (err as Error).message }, { status: 422 });
  }
  return new Response(fs.readFileSync(spoken.file), { headers: { 'content-type': 'audio/wav', 'cache-control': 'private, no-cache', 'x-greeting-mode': spoken.greeting.mode } });
};

export const PUT: RequestHandler = inArea('ivr', async (event) => {
  const received = await receiveAudioUpload(event.request);
  if (!received.ok) return received.response;
  const rt = await getRuntime();
  try {
    const greeting = await setCompanyGreetingAudio(rt.db, { ffmpeg: appFfmpeg(rt), dataDir: rt.config.dataDir }, actorOf(event), caller(event).account.id, { originalName: received.originalName, upload: received.upload });
    return json({ greeting });
  } catch (err) {
    if (err instanceof PromptError) return json({ error: err.code, message: err.message }, { status: err.code === 'too_large' ? 413 : 422 });
    throw err;
  } finally {
    fs.rmSync(received.upload, { force: true });
  }
});

export const DELETE: RequestHandler = inArea('ivr', async (event) => {
  const rt = await getRuntime();
  try {
    await saveCompanyGreeting(rt.db, actorOf(event), caller(event).account.id, { mode: 'default' });
  } catch (err) {
    if (err instanceof IvrError) return json({ error: err.code }, { status: 409 });
    throw err;
  }
  return json({ greeting: { mode: 'default' } });
});
