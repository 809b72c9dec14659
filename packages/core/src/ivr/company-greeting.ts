import fs from 'node:fs';
import path from 'node:path';
import { companyGreetingText, type CompanyGreetingPrompt } from '@carillon/domain';
import type { AuditActor } from '../audit/record-audit.ts';
import { createAudioPrompt, uniquePromptName } from './ivr-prompts.ts';
import { getIvrSettings, saveCompanyGreeting } from './ivr-store.ts';
import type { TtsCache } from './tts.ts';
import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';

type Db = Kysely<Database>;

/** The name a greeting uploaded or recorded in the setup wizard takes in the prompts library (made unique). */
export const COMPANY_GREETING_PROMPT_NAME = 'Company greeting';

/**
 * The company greeting as a caller hears it in single-level mode (X-01; the setup wizard's player,
 * inventory 3 §1.6): the library prompt chosen, else the default text with the company's name, read
 * aloud in the account's language (a chosen prompt deleted since falls back to it, as calls do).
 */
export async function companyGreetingAudio(db: Db, tts: TtsCache, dataDir: string, accountId: string): Promise<{ file: string; greeting: CompanyGreetingPrompt }> {
  const account = await db.selectFrom('accounts').select(['company_name', 'language']).where('id', '=', accountId).executeTakeFirstOrThrow();
  const greeting = (await getIvrSettings(db, accountId)).singleLevel?.greeting ?? { mode: 'default' };
  if (greeting.mode === 'audio') {
    const lib = await db.selectFrom('ivr_prompts').select('file').where('account_id', '=', accountId).where('name', '=', greeting.prompt).executeTakeFirst();
    const file = lib ? path.join(dataDir, lib.file) : null;
    if (file && fs.existsSync(file)) return { file, greeting };
  }
  return { file: (await tts.speak(companyGreetingText(account.language, account.company_name), account.language)).file, greeting: { mode: 'default' } };
}

/**
 * "Customize" (inventory 3 §1.6: import a WAV or MP3, or record it): the audio goes into the prompts
 * library through the same checks as any upload (PromptError when refused), named "Company greeting"
 * (made unique), and becomes the company greeting. Both changes are audited.
 */
export async function setCompanyGreetingAudio(db: Db, options: { ffmpeg: string; dataDir: string }, actor: AuditActor, accountId: string, input: { originalName: string | null; upload: string }): Promise<CompanyGreetingPrompt> {
  const taken = new Set((await db.selectFrom('ivr_prompts').select('name').where('account_id', '=', accountId).execute()).map((r) => r.name));
  const prompt = await createAudioPrompt(db, options, actor, accountId, { name: uniquePromptName(COMPANY_GREETING_PROMPT_NAME, taken), originalName: input.originalName, upload: input.upload });
  const greeting: CompanyGreetingPrompt = { mode: 'audio', prompt: prompt.name };
  await saveCompanyGreeting(db, actor, accountId, greeting);
  return greeting;
}
