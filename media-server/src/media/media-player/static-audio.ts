/** Paths of the audio files shipped in static/audio (see its README for how they were made). */
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const STATIC_AUDIO = new URL('../../../../static/audio/', import.meta.url);

export const PROMPT_LANGUAGES = ['en', 'fr'] as const;
export const PROMPT_NAMES = ['recording-started', 'recording-stopped'] as const;
export type PromptLanguage = (typeof PROMPT_LANGUAGES)[number];
export type PromptName = (typeof PROMPT_NAMES)[number];

/** A shipped file: the tones, or a stock music track (`music/<track>.wav`, made by music/make-music.sh). */
export type StaticAudioName = 'hold-music.wav' | 'ringback-us.wav' | `music/${string}.wav`;

export function staticAudioPath(name: StaticAudioName): string {
  return fileURLToPath(new URL(name, STATIC_AUDIO));
}

/**
 * The spoken prompt `name` in `lang`: prompts/<lang>/<name>.wav under `root`
 * (the shipped static/audio unless another tree is given). Checked here
 * rather than when it plays: a missing prompt is a deployment error to
 * report to the caller, not a silent gap in a call.
 */
export function promptPath(lang: PromptLanguage, name: PromptName, root: URL = STATIC_AUDIO): string {
  if (!(PROMPT_LANGUAGES as readonly string[]).includes(lang)) {
    throw new RangeError(`no prompts in language ${JSON.stringify(lang)} (available: ${PROMPT_LANGUAGES.join(', ')})`);
  }
  if (!(PROMPT_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(`no prompt named ${JSON.stringify(name)} (available: ${PROMPT_NAMES.join(', ')})`);
  }
  const path = fileURLToPath(new URL(`prompts/${lang}/${name}.wav`, root.href.endsWith('/') ? root : `${root.href}/`));
  if (!statSync(path, { throwIfNoEntry: false })?.isFile()) {
    throw new Error(`prompt ${lang}/${name} is missing: ${path} (static/audio/README.md says how to make it)`);
  }
  return path;
}
