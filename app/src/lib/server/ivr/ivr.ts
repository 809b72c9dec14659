import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { ffmpegPath } from '@carillon/core/audio';
import { PROMPT_LIMITS, companyRuleChoices, EspeakTtsEngine, getIvrSettings, listCompanyRules, TtsCache, ttsCacheDirectory, validateAccountIvr, type CompanyRuleError, type IvrMenuView } from '@carillon/core/ivr';
import { ivrMenu, MAX_IVR_MENUS, type IvrIssue } from '@carillon/domain';
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

/** The menus the visual editor asks to validate before they are saved (POST /api/ivr/validate). */
/** `{}` (or no body): the stored configuration; `{menus}`: those menus (the canvas's unsaved copy) with the stored settings. */
export const validateMenusInput = z.object({ menus: z.array(ivrMenu).max(MAX_IVR_MENUS).optional() }).strict();

export const importQuery = z.object({ accept: z.enum(['true', 'false']).default('false') }).strict();
export const sampleQuery = z.object({ kind: z.enum(['single-level', 'multi-level']) }).strict();
export const promptListQuery = z.object({ search: z.string().max(100).optional() }).strict();

/**
 * One audio file of a multipart body (its `file` field), as PR-04 takes them: over the prompts' size
 * limit it is refused before it is read; else it is written to a private temporary file that core's
 * audio check converts and removes. The form comes back for its other fields.
 */
export async function receiveAudioUpload(request: Request): Promise<{ ok: true; form: FormData; upload: string; originalName: string } | { ok: false; response: Response }> {
  const tooLarge = { ok: false as const, response: json({ error: 'too_large', maxBytes: PROMPT_LIMITS.maxUploadBytes }, { status: 413 }) };
  if (!(request.headers.get('content-type') ?? '').startsWith('multipart/form-data')) return { ok: false, response: json({ error: 'invalid_body', fields: { file: 'a multipart/form-data body with the file' } }, { status: 400 }) };
  if (Number(request.headers.get('content-length') ?? 0) > PROMPT_LIMITS.maxUploadBytes + 64 * 1024) return tooLarge;
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    return { ok: false, response: json({ error: 'invalid_body' }, { status: 400 }) };
  }
  const file = form.get('file');
  if (!(file instanceof File)) return { ok: false, response: json({ error: 'invalid_body', fields: { file: 'required' } }, { status: 400 }) };
  if (file.size > PROMPT_LIMITS.maxUploadBytes) return tooLarge;
  const upload = path.join(os.tmpdir(), `carillon-prompt-${randomUUID()}`);
  fs.writeFileSync(upload, new Uint8Array(await file.arrayBuffer()), { mode: 0o600 });
  return { ok: true, form, upload, originalName: (file.name || 'upload').replace(/[\\/\r\n\0]/g, '_') };
}

/** Largest IVR XML file accepted (the parser's own bound too). */
export const MAX_IVR_XML_BYTES = 1024 * 1024;

/**
 * A custom answering rule refused by core (RULE-02): a target or number that is not there is the body's
 * fault, a 400 naming the field as a bad body's is; the 51st rule is a 409 (the list is full).
 */
export function companyRuleRefusal(err: CompanyRuleError): Response {
  return json({ error: err.code, detail: err.detail, fields: { [err.field]: err.detail } }, { status: err.code === 'too_many_rules' ? 409 : 400 });
}

/** The rules page's data (RULE-06): the rules in order, what they can name, the mode and zone they are read in, and the rules' validation issues. */
export async function companyRulesView(rt: Runtime, accountId: string, timeZone: string) {
  const [rules, choices, settings, issues] = await Promise.all([listCompanyRules(rt.db, accountId), companyRuleChoices(rt.db, accountId), getIvrSettings(rt.db, accountId), validateAccountIvr(rt.db, accountId)]);
  return { rules, ...choices, mode: settings.mode, timeZone, issues: issues.filter((i) => i.rule === 'custom_rule_target') };
}
