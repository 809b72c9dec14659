import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { getUser } from '#lib/server/users.ts';
import { mePatch } from '#lib/server/me/schemas.ts';
import { patchOwnSettings } from '#lib/server/me/self-settings.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  const auth = caller(event);
  const me = await getUser((await getRuntime()).db, auth.account.id, auth.user.id);
  return json({ ...me, permissions: [...auth.permissions].sort(), accountId: auth.account.id });
};

export const PATCH: RequestHandler = async (event) => {
  const auth = caller(event);
  const body = await readJson(event.request, mePatch);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  const refusal = await patchOwnSettings(rt.db, auth, actorOf(event), body.data);
  if (refusal) {
    const { status, ...rest } = refusal;
    return json(rest, { status });
  }
  return json(await getUser(rt.db, auth.account.id, auth.user.id));
};
