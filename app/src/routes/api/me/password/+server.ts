import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { passwordChange } from '#lib/server/me/schemas.ts';
import { changeOwnPassword } from '#lib/server/me/self-settings.ts';
import type { RequestHandler } from './$types';

/** Wrong current passwords are limited per user, like sign-in, so a stolen session cannot guess the password. */
const TRIES_PER_15_MINUTES = 10;

export const POST: RequestHandler = async (event) => {
  const auth = caller(event);
  const body = await readJson(event.request, passwordChange);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  if (!(await rt.limiter.hit(`me-password:${auth.user.id}`, TRIES_PER_15_MINUTES, 900)).allowed) return json({ error: 'rate_limited' }, { status: 429, headers: { 'retry-after': '900' } });
  const result = await changeOwnPassword(rt.db, auth, actorOf(event), body.data);
  if (!result.ok) {
    const { status, ok: _ok, ...rest } = result;
    return json(rest, { status });
  }
  return json({ ok: true });
};
