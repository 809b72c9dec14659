import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, readJson } from '#lib/server/api.ts';
import { getUser } from '#lib/server/users.ts';
import { mePatch } from '#lib/server/me/schemas.ts';
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
  await rt.db.updateTable('users').set({ language: body.data.language }).where('id', '=', auth.user.id).where('account_id', '=', auth.account.id).execute();
  return json(await getUser(rt.db, auth.account.id, auth.user.id));
};
