import { z } from 'zod';
import { ffmpegPath } from '@carillon/core/audio';
import { EspeakTtsEngine, TtsCache, ttsCacheDirectory, validateAccountIvr, type IvrMenuView } from '@carillon/core/ivr';
import type { IvrIssue } from '@carillon/domain';
import type { Runtime } from '../runtime.ts';

/**
 * The app's side of the IVR (issue 14): one TTS cache per process over the shared cache directory
 * (DATA_DIR/prompts/tts), the ffmpeg that converts uploads, and the answer of every write: the saved
 * thing with the validation issues of the whole configuration (IVR-15: validation runs on save).
 */
const KEY = Symbol.for('carillon.app.tts-cache');
type Holder = { [KEY]?: TtsCache };

export function ttsCache(rt: Runtime): TtsCache {
  const g = globalThis as Holder;
  return (g[KEY] ??= new TtsCache(new EspeakTtsEngine(), ttsCacheDirectory(rt.config.dataDir)));
}

export const appFfmpeg = (rt: Runtime) => ffmpegPath(rt.config.FFMPEG_PATH);

export async function withIssues<T extends object>(rt: Runtime, accountId: string, value: T): Promise<T & { issues: IvrIssue[] }> {
  return { ...value, issues: await validateAccountIvr(rt.db, accountId) };
}

/** A menu with a TTS prompt: the audio is made on save (PR-06: "converted to a voice file"), so the first call does not wait for it. */
export async function speakMenuPrompt(rt: Runtime, menu: IvrMenuView): Promise<void> {
  if (menu.prompt?.mode !== 'tts') return;
  await ttsCache(rt)
    .speak(menu.prompt.text, menu.language)
    .catch((err: unknown) => rt.log.warn('ivr: TTS of a menu prompt failed', { menu: menu.number, error: (err as Error).message }));
}

export const importQuery = z.object({ accept: z.enum(['true', 'false']).default('false') }).strict();
export const sampleQuery = z.object({ kind: z.enum(['single-level', 'multi-level']) }).strict();
export const promptListQuery = z.object({ search: z.string().max(100).optional() }).strict();

/** Largest IVR XML file accepted (the parser's own bound too). */
export const MAX_IVR_XML_BYTES = 1024 * 1024;
