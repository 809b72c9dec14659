import fs from 'node:fs';
import { json, type RequestEvent } from '@sveltejs/kit';
import { z } from 'zod';
import { GREETING_LIMITS, GreetingError, greetingRuleKey, greetingUploadQuery, readRuleGreeting, resetRuleGreeting, ruleGreetingFile, setRuleGreeting } from '@carillon/core/voicemail';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound } from '#lib/server/api.ts';
import { appFfmpeg } from '#lib/server/ivr/ivr.ts';
import { hiddenArea } from '#lib/server/unreleased.ts';
import { userVisibleTo } from '#lib/server/users/scope.ts';
import { receiveUpload } from '#lib/server/streamed-upload.ts';

/**
 * The voicemail greeting of one answering rule (issue 13), for the user themselves
 * (/api/me/answering-rules/greetings/[rule]) and their administrators
 * (/api/users/[id]/answering-rules/greetings/[rule]): the same handlers, the user
 * chosen by the route. Another account's user, or one outside a scoped
 * administrator's reach, is not found; so is a rule the user does not have.
 */

type Event = RequestEvent<{ rule: string; id?: string }>;

/** The user whose greeting this is, or the 404 to answer. */
async function target(event: Event): Promise<{ ok: true; userId: string; rule: z.infer<typeof greetingRuleKey> } | { ok: false; response: Response }> {
  const hidden = await hiddenArea('answering_rules');
  if (hidden) return { ok: false, response: hidden };
  const auth = caller(event);
  const rule = greetingRuleKey.safeParse(event.params.rule);
  if (!rule.success) return { ok: false, response: notFound() };
  if (event.params.id === undefined) return { ok: true, userId: auth.user.id, rule: rule.data };
  if (!isUuid(event.params.id) || !(await userVisibleTo((await getRuntime()).db, auth, event.params.id))) return { ok: false, response: notFound() };
  return { ok: true, userId: event.params.id, rule: rule.data };
}

const refusal = (err: GreetingError) =>
  err.code === 'no_rule' ? notFound() : json({ error: err.code, message: err.message }, { status: err.code === 'too_large' ? 413 : 422 });

/** The custom greeting's audio (8 kHz mono WAV) for the page's player; 404 while the rule plays the default one. */
export async function getGreeting(event: Event): Promise<Response> {
  const t = await target(event);
  if (!t.ok) return t.response;
  const rt = await getRuntime();
  const file = await ruleGreetingFile(rt.db, rt.config.dataDir, caller(event).account.id, t.userId, t.rule);
  if (!file || !fs.existsSync(file)) return notFound();
  return new Response(fs.readFileSync(file), { headers: { 'content-type': 'audio/wav', 'cache-control': 'private, no-store' } });
}

/**
 * The body is the audio file itself (WAV or MP3, at most 10 MB and 3 minutes), streamed to disk
 * with its size bounded, then checked and converted once. Whatever is refused, the rule keeps
 * the greeting it had.
 */
export async function putGreeting(event: Event, query: z.output<typeof greetingUploadQuery>): Promise<Response> {
  const t = await target(event);
  if (!t.ok) return t.response;
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  if (!(await readRuleGreeting(rt.db, accountId, t.userId, t.rule))) return notFound();
  const upload = await receiveUpload(event.request, GREETING_LIMITS.maxUploadBytes);
  if (!upload.ok) return upload.response;
  try {
    const originalName = query.name?.replace(/[\\/\r\n\0]/g, '_') ?? null;
    const saved = await setRuleGreeting(rt.db, { ffmpeg: appFfmpeg(rt), dataDir: rt.config.dataDir }, actorOf(event), accountId, t.userId, t.rule, { upload: upload.file, originalName, source: query.source });
    return saved ? json(saved) : notFound();
  } catch (err) {
    if (err instanceof GreetingError) return refusal(err);
    throw err;
  } finally {
    fs.rmSync(upload.file, { force: true });
  }
}

/** Back to the default greeting; the custom one is removed. */
export async function deleteGreeting(event: Event): Promise<Response> {
  const t = await target(event);
  if (!t.ok) return t.response;
  const rt = await getRuntime();
  const reset = await resetRuleGreeting(rt.db, rt.config.dataDir, actorOf(event), caller(event).account.id, t.userId, t.rule);
  return reset ? json(reset) : notFound();
}
