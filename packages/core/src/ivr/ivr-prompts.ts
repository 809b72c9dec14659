import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '@carillon/db';
import { IVR_LANGUAGES, menuPrompt, ttsText, type IvrLanguage } from '@carillon/domain';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { announceConfigChange } from '../accounts/config-changes.ts';
import { importUploadedAudio, MediaAudioError } from '../audio/media-audio.ts';
import type { TtsCache } from './tts.ts';

/**
 * The IVR prompts library (PR-01…PR-06): text spoken by the TTS engine (French or English) and uploaded
 * audio (WAV, MP3), converted once, on upload, to the media format media-server plays. A prompt in use
 * by a menu cannot be deleted: the refusal lists the menus.
 */

/** Limits of an uploaded prompt: a prompt is a few sentences, not an album. */
/** Per file; `maxBulkFiles` files at most in one bulk import. */
export const PROMPT_LIMITS = { maxUploadBytes: 10 * 1024 * 1024, maxSeconds: 300, maxBulkFiles: 50 } as const;

export const promptName = z.string().trim().min(1).max(100);
export const ttsPromptInput = z.object({ name: promptName, text: ttsText, language: z.enum(IVR_LANGUAGES) }).strict();
export type TtsPromptInput = z.infer<typeof ttsPromptInput>;

export interface PromptView {
  id: string;
  name: string;
  kind: 'tts' | 'audio';
  text: string | null;
  language: IvrLanguage | null;
  durationMs: number;
  originalName: string | null;
  createdAt: string;
  /** PR-02 "Used In": the menus whose prompt this is. */
  usedIn: { id: string; number: string; name: string }[];
}

export class PromptError extends Error {
  readonly code: 'name_taken' | 'in_use' | MediaAudioError['code'] | 'tts_failed';
  readonly usedIn: PromptView['usedIn'];
  constructor(code: PromptError['code'], message: string, usedIn: PromptView['usedIn'] = []) {
    super(message);
    this.code = code;
    this.usedIn = usedIn;
  }
}

type Db = Kysely<Database>;

/** Where an account's uploaded prompts live, under DATA_DIR; TTS audio is in the shared cache (`prompts/tts`). */
export const promptDirectory = (dataDir: string, accountId: string) => path.join(dataDir, 'prompts', accountId);
export const ttsCacheDirectory = (dataDir: string) => path.join(dataDir, 'prompts', 'tts');

async function usage(db: Db, accountId: string): Promise<Map<string, PromptView['usedIn']>> {
  const rows = await db
    .selectFrom('ivr_menus as m')
    .innerJoin('extensions as e', 'e.id', 'm.extension_id')
    .select(['e.id', 'e.number', 'e.name', 'm.prompt'])
    .where('m.account_id', '=', accountId)
    .orderBy('e.number')
    .execute();
  const out = new Map<string, PromptView['usedIn']>();
  for (const r of rows) {
    const p = r.prompt as { mode?: string; prompt?: unknown } | null;
    if (p?.mode !== 'audio' || typeof p.prompt !== 'string') continue;
    const list = out.get(p.prompt) ?? [];
    list.push({ id: r.id, number: r.number, name: r.name ?? r.number });
    out.set(p.prompt, list);
  }
  return out;
}

const columns = ['id', 'name', 'kind', 'text', 'language', 'duration_ms', 'original_name', 'created_at', 'file'] as const;

export async function listPrompts(db: Db, accountId: string, search = ''): Promise<PromptView[]> {
  let q = db.selectFrom('ivr_prompts').select(columns).where('account_id', '=', accountId).orderBy('name');
  if (search.trim()) q = q.where('name', 'ilike', `%${search.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  const [rows, used] = await Promise.all([q.limit(1000).execute(), usage(db, accountId)]);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    kind: r.kind,
    text: r.text,
    language: r.language,
    durationMs: r.duration_ms,
    originalName: r.original_name,
    createdAt: new Date(r.created_at).toISOString(),
    usedIn: used.get(r.name) ?? [],
  }));
}

/** The prompt's media file (absolute), for the player; null when the prompt is not the account's. */
export async function promptFile(db: Db, dataDir: string, accountId: string, id: string): Promise<string | null> {
  const row = await db.selectFrom('ivr_prompts').select('file').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return row ? path.join(dataDir, row.file) : null;
}

async function nameFree(db: Db, accountId: string, name: string): Promise<void> {
  const taken = await db.selectFrom('ivr_prompts').select('id').where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
  if (taken) throw new PromptError('name_taken', `a prompt is already named "${name}"`);
}

async function insertPrompt(db: Db, actor: AuditActor, accountId: string, values: { id?: string; name: string; kind: 'tts' | 'audio'; text: string | null; language: IvrLanguage | null; file: string; durationMs: number; originalName: string | null }) {
  try {
    const row = await db
      .insertInto('ivr_prompts')
      .values({ ...(values.id ? { id: values.id } : {}), account_id: accountId, name: values.name, kind: values.kind, text: values.text, language: values.language, file: values.file, duration_ms: values.durationMs, original_name: values.originalName, created_by: actor.userId })
      .returning('id')
      .executeTakeFirstOrThrow();
    await recordAudit(db, actor, { accountId, action: 'ivr_prompt.created', targetType: 'ivr_prompt', targetId: row.id, after: { name: values.name, kind: values.kind, text: values.text, language: values.language } });
    await announceConfigChange(accountId, 'ivr');
    return row.id;
  } catch (err) {
    // Two uploads of one name at once: the unique constraint decides.
    if ((err as { code?: string }).code === '23505') throw new PromptError('name_taken', `a prompt is already named "${values.name}"`);
    throw err;
  }
}

/** PR-06: the text is spoken once per text, voice and language (the cache), and the library keeps a reference to that audio. */
export async function createTtsPrompt(db: Db, tts: TtsCache, dataDir: string, actor: AuditActor, accountId: string, input: TtsPromptInput): Promise<PromptView> {
  await nameFree(db, accountId, input.name);
  let spoken;
  try {
    spoken = await tts.speak(input.text, input.language);
  } catch (err) {
    throw new PromptError('tts_failed', `the text could not be spoken: ${(err as Error).message}`);
  }
  const id = await insertPrompt(db, actor, accountId, {
    name: input.name,
    kind: 'tts',
    text: input.text,
    language: input.language,
    file: path.relative(dataDir, spoken.file),
    durationMs: spoken.durationMs,
    originalName: null,
  });
  return (await listPrompts(db, accountId)).find((p) => p.id === id)!;
}

/**
 * PR-04: an uploaded file (already on disk at `upload`, at most PROMPT_LIMITS.maxUploadBytes) becomes a
 * prompt. Its first bytes must be WAV or MP3 whatever its name says, it must decode, hold sound, and
 * last at most PROMPT_LIMITS.maxSeconds. The upload itself is removed in every case.
 */
export async function createAudioPrompt(
  db: Db,
  options: { ffmpeg: string; dataDir: string },
  actor: AuditActor,
  accountId: string,
  input: { name: string; originalName: string | null; upload: string },
): Promise<PromptView> {
  const id = randomUUID();
  const dir = promptDirectory(options.dataDir, accountId);
  const output = path.join(dir, `${id}.wav`);
  try {
    const name = promptName.parse(input.name);
    await nameFree(db, accountId, name);
    let durationMs: number;
    try {
      ({ durationMs } = await importUploadedAudio(input.upload, output, { ffmpeg: options.ffmpeg, maxBytes: PROMPT_LIMITS.maxUploadBytes, maxSeconds: PROMPT_LIMITS.maxSeconds }));
    } catch (err) {
      if (err instanceof MediaAudioError) throw new PromptError(err.code, err.message);
      throw err;
    }
    await insertPrompt(db, actor, accountId, { id, name, kind: 'audio', text: null, language: null, file: path.relative(options.dataDir, output), durationMs, originalName: input.originalName?.slice(0, 200) ?? null });
    return (await listPrompts(db, accountId)).find((p) => p.id === id)!;
  } catch (err) {
    fs.rmSync(output, { force: true });
    throw err;
  } finally {
    fs.rmSync(input.upload, { force: true });
  }
}

/** PR-02: a prompt that a menu uses is not deleted; the refusal names the menus. */
export async function deletePrompt(db: Db, dataDir: string, actor: AuditActor, accountId: string, id: string): Promise<boolean> {
  const row = await db.selectFrom('ivr_prompts').select(columns).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  if (!row) return false;
  const usedIn = (await usage(db, accountId)).get(row.name) ?? [];
  if (usedIn.length) throw new PromptError('in_use', `used by ${usedIn.map((m) => `${m.name} (${m.number})`).join(', ')}`, usedIn);
  await db.deleteFrom('ivr_prompts').where('account_id', '=', accountId).where('id', '=', id).execute();
  await recordAudit(db, actor, { accountId, action: 'ivr_prompt.deleted', targetType: 'ivr_prompt', targetId: id, before: { name: row.name, kind: row.kind, text: row.text } });
  // Uploaded audio is the prompt's own; TTS audio stays in the shared cache, where another prompt may use it.
  if (row.kind === 'audio') fs.rmSync(path.join(dataDir, row.file), { force: true });
  await announceConfigChange(accountId, 'ivr');
  return true;
}

/**
 * The audio of a menu's prompt, as a call will hear it: its TTS text spoken in the menu's language (from
 * the cache), or its library prompt's file. Null when the menu is not the account's, has no prompt, or
 * names a prompt no longer in the library.
 */
export async function menuPromptAudio(db: Db, tts: TtsCache, dataDir: string, accountId: string, menuId: string): Promise<string | null> {
  const row = await db
    .selectFrom('ivr_menus')
    .select(['prompt', 'language'])
    .where('account_id', '=', accountId)
    .where('extension_id', '=', menuId)
    .executeTakeFirst();
  const prompt = menuPrompt.nullable().catch(null).parse(row?.prompt ?? null);
  if (!row || !prompt) return null;
  if (prompt.mode === 'tts') return (await tts.speak(prompt.text, row.language)).file;
  const lib = await db.selectFrom('ivr_prompts').select('file').where('account_id', '=', accountId).where('name', '=', prompt.prompt).executeTakeFirst();
  return lib ? path.join(dataDir, lib.file) : null;
}

/** One line of a bulk import's report, in the order the files came. */
export type BulkImportLine = { fileName: string; name: string } & ({ imported: true; prompt: PromptView } | { imported: false; error: PromptError['code']; message: string });

/** "Main menu.wav" → "Main menu"; a name already in the library, or earlier in the batch, gets " (2)", " (3)"… */
export function uniquePromptName(fileName: string, taken: Set<string>): string {
  const base = fileName.replace(/\.[^.]{1,5}$/, '').replace(/\s+/g, ' ').trim().slice(0, 90) || 'Prompt';
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base} (${n})`;
  taken.add(name);
  return name;
}

/**
 * PR-0x bulk import: many uploaded files (each already on disk, or `upload: null` when it was over the
 * size limit and not kept), each through the same checks as one upload (createAudioPrompt), named from
 * its file name and made unique. A refused file does not stop the others: the report has one line per
 * file. One at a time, as ffmpeg converts each. Every upload is removed.
 */
export async function importAudioPrompts(
  db: Db,
  options: { ffmpeg: string; dataDir: string },
  actor: AuditActor,
  accountId: string,
  files: { fileName: string; upload: string | null }[],
): Promise<BulkImportLine[]> {
  const taken = new Set((await db.selectFrom('ivr_prompts').select('name').where('account_id', '=', accountId).execute()).map((r) => r.name));
  const report: BulkImportLine[] = [];
  for (const file of files) {
    const name = uniquePromptName(file.fileName, taken);
    if (!file.upload) {
      report.push({ fileName: file.fileName, name, imported: false, error: 'too_large', message: `the file is larger than ${PROMPT_LIMITS.maxUploadBytes / 1024 / 1024} MB` });
      continue;
    }
    try {
      report.push({ fileName: file.fileName, name, imported: true, prompt: await createAudioPrompt(db, options, actor, accountId, { name, originalName: file.fileName, upload: file.upload }) });
    } catch (err) {
      if (!(err instanceof PromptError)) throw err;
      report.push({ fileName: file.fileName, name, imported: false, error: err.code, message: err.message });
    }
  }
  return report;
}
