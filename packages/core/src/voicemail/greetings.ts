import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '@carillon/db';
import type { AudioChoice } from '@carillon/domain';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { announceConfigChange } from '../accounts/config-changes.ts';
import { readUserAnswering, removeUnusedGreetings } from '../answering-rules/answering-rules.ts';
import { importUploadedAudio, MediaAudioError } from '../audio/media-audio.ts';

/**
 * A user's voicemail greetings (issue 13): each answering rule (User Hours,
 * After Hours, each custom rule) plays the default greeting or a custom one,
 * uploaded (WAV, MP3) or recorded in the browser. The audio is converted once,
 * on upload, to the media format, under DATA_DIR/greetings/<account>/. A
 * rule's handling names its greeting (`greeting: { source: 'custom', audioId }`);
 * a greeting is set and reset only here, never by saving the rules document
 * (`saveUserAnswering` keeps each rule's greeting as stored). Replacing one
 * stores the new file and points the rule at it before the old file is
 * removed: a refused upload leaves the old greeting playing.
 */

/** Limits of an uploaded greeting: a greeting is a few sentences. */
export const GREETING_LIMITS = { maxUploadBytes: 10 * 1024 * 1024, maxSeconds: 180 } as const;

/** A rule of the user, as the greeting routes name it: `in_hours`, `after_hours`, or a custom rule's id. */
export const greetingRuleKey = z.union([z.enum(['in_hours', 'after_hours']), z.uuid()]);
export type GreetingRuleKey = z.infer<typeof greetingRuleKey>;

export const GREETING_SOURCES = ['upload', 'browser', 'phone'] as const;
export type GreetingSource = (typeof GREETING_SOURCES)[number];

/** The upload's query: how the audio was made (for the trail), and the file's own name. */
export const greetingUploadQuery = z
  .object({
    source: z.enum(['upload', 'browser']).default('upload'),
    name: z.string().trim().min(1).max(200).optional(),
  })
  .strict();

export const greetingDirectory = (dataDir: string, accountId: string) => path.join(dataDir, 'greetings', accountId);

export class GreetingError extends Error {
  readonly code: MediaAudioError['code'] | 'no_rule';
  constructor(code: GreetingError['code'], message: string) {
    super(message);
    this.name = 'GreetingError';
    this.code = code;
  }
}

export interface RuleGreetingView {
  rule: GreetingRuleKey;
  greeting: AudioChoice;
  /** The custom greeting's length and file name, when it has one. */
  durationMs: number | null;
  originalName: string | null;
}

type Db = Kysely<Database>;

/** The rule's current greeting; null when the user is not the account's or has no such custom rule. */
async function currentGreeting(db: Db, accountId: string, userId: string, rule: GreetingRuleKey): Promise<AudioChoice | null> {
  const view = await readUserAnswering(db, accountId, userId);
  if (!view) return null;
  if (rule === 'in_hours') return view.answering.inHours.greeting;
  if (rule === 'after_hours') return view.answering.afterHours.greeting;
  return view.answering.custom.find((r) => r.id === rule)?.greeting ?? null;
}

/**
 * Points the rule at `greeting`, changing nothing else of it (a concurrent save of the rules
 * keeps its own fields): the hours rules' row is created, with the handling the user has now
 * (the defaults), when they never saved any.
 */
async function pointRuleAt(trx: Db, accountId: string, userId: string, rule: GreetingRuleKey, greeting: AudioChoice): Promise<boolean> {
  const value = JSON.stringify(greeting);
  let update = trx
    .updateTable('answering_rules')
    .set({ handling: sql`jsonb_set(handling, '{greeting}', ${value}::jsonb)`, updated_at: new Date() })
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId);
  update = rule === 'in_hours' || rule === 'after_hours' ? update.where('kind', '=', rule) : update.where('kind', '=', 'custom').where('id', '=', rule);
  const updated = await update.executeTakeFirst();
  if (updated.numUpdatedRows > 0n) return true;
  if (rule !== 'in_hours' && rule !== 'after_hours') return false;
  const view = await readUserAnswering(trx, accountId, userId);
  if (!view) return false;
  const handling = rule === 'in_hours' ? view.answering.inHours : view.answering.afterHours;
  await trx
    .insertInto('answering_rules')
    .values({ account_id: accountId, user_id: userId, kind: rule, handling: JSON.stringify({ ringPlan: handling.ringPlan, afterRinging: handling.afterRinging, greeting, audioWhileConnecting: handling.audioWhileConnecting }) })
    .execute();
  return true;
}

async function view(db: Db, accountId: string, rule: GreetingRuleKey, greeting: AudioChoice): Promise<RuleGreetingView> {
  if (greeting.source !== 'custom') return { rule, greeting, durationMs: null, originalName: null };
  const row = await db.selectFrom('voicemail_greetings').select(['duration_ms', 'original_name']).where('account_id', '=', accountId).where('id', '=', greeting.audioId).executeTakeFirst();
  return { rule, greeting, durationMs: row?.duration_ms ?? null, originalName: row?.original_name ?? null };
}

/** The rule's greeting as the page shows it; null when the user or the rule is not the account's. */
export async function readRuleGreeting(db: Db, accountId: string, userId: string, rule: GreetingRuleKey): Promise<RuleGreetingView | null> {
  const greeting = await currentGreeting(db, accountId, userId, rule);
  return greeting ? view(db, accountId, rule, greeting) : null;
}

/** The rule's custom greeting file (absolute), for the page's player; null when it plays the default. */
export async function ruleGreetingFile(db: Db, dataDir: string, accountId: string, userId: string, rule: GreetingRuleKey): Promise<string | null> {
  const greeting = await currentGreeting(db, accountId, userId, rule);
  if (greeting?.source !== 'custom') return null;
  const row = await db.selectFrom('voicemail_greetings').select('file').where('account_id', '=', accountId).where('user_id', '=', userId).where('id', '=', greeting.audioId).executeTakeFirst();
  return row ? path.join(dataDir, row.file) : null;
}

/**
 * An uploaded file (on disk at `upload`, its size already bounded while it was received) becomes
 * the rule's greeting: checked and converted by the one check of uploaded audio (WAV or MP3 by its
 * content, decodes, sound, at most GREETING_LIMITS.maxSeconds). The old greeting is removed once the
 * rule plays the new one. The upload is removed in every case. Null when the user is not the account's.
 */
export async function setRuleGreeting(
  db: Db,
  options: { ffmpeg: string; dataDir: string },
  actor: AuditActor,
  accountId: string,
  userId: string,
  rule: GreetingRuleKey,
  input: { upload: string; originalName: string | null; source: GreetingSource },
): Promise<RuleGreetingView | null> {
  const id = randomUUID();
  const output = path.join(greetingDirectory(options.dataDir, accountId), `${id}.wav`);
  let stored = false;
  try {
    const before = await currentGreeting(db, accountId, userId, rule);
    if (!before) {
      const user = await db.selectFrom('users').select('id').where('account_id', '=', accountId).where('id', '=', userId).executeTakeFirst();
      if (!user) return null;
      throw new GreetingError('no_rule', 'no such rule of this user');
    }
    let durationMs: number;
    try {
      ({ durationMs } = await importUploadedAudio(input.upload, output, { ffmpeg: options.ffmpeg, maxBytes: GREETING_LIMITS.maxUploadBytes, maxSeconds: GREETING_LIMITS.maxSeconds }));
    } catch (err) {
      if (err instanceof MediaAudioError) throw new GreetingError(err.code, err.message);
      throw err;
    }
    const greeting: AudioChoice = { source: 'custom', audioId: id };
    const originalName = input.originalName?.slice(0, 200) ?? null;
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('voicemail_greetings')
        .values({ id, account_id: accountId, user_id: userId, file: path.relative(options.dataDir, output), duration_ms: durationMs, original_name: originalName, source: input.source, created_by: actor.userId })
        .execute();
      if (!(await pointRuleAt(trx, accountId, userId, rule, greeting))) throw new GreetingError('no_rule', 'no such rule of this user');
      await recordAudit(trx, actor, {
        accountId,
        action: 'user.voicemail_greeting_changed',
        targetType: 'user',
        targetId: userId,
        before: { rule, greeting: before },
        after: { rule, greeting, source: input.source, originalName, durationMs },
      });
    });
    stored = true;
    await announceConfigChange(accountId, 'answering_rules');
    await removeUnusedGreetings(db, options.dataDir, accountId, userId);
    return view(db, accountId, rule, greeting);
  } finally {
    if (!stored) fs.rmSync(output, { force: true });
    fs.rmSync(input.upload, { force: true });
  }
}

/** The rule plays the default greeting again; its custom one is removed. Null when the user or the rule is not the account's. */
export async function resetRuleGreeting(db: Db, dataDir: string, actor: AuditActor, accountId: string, userId: string, rule: GreetingRuleKey): Promise<RuleGreetingView | null> {
  const before = await currentGreeting(db, accountId, userId, rule);
  if (!before) return null;
  const greeting: AudioChoice = { source: 'default' };
  if (before.source !== 'default') {
    await db.transaction().execute(async (trx) => {
      await pointRuleAt(trx, accountId, userId, rule, greeting);
      await recordAudit(trx, actor, { accountId, action: 'user.voicemail_greeting_changed', targetType: 'user', targetId: userId, before: { rule, greeting: before }, after: { rule, greeting } });
    });
    await announceConfigChange(accountId, 'answering_rules');
  }
  await removeUnusedGreetings(db, dataDir, accountId, userId);
  return view(db, accountId, rule, greeting);
}
