import { json } from '@sveltejs/kit';
import { accountSettingsInput, updateAccountSettings } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = (event) => json({ sessionTimeoutMinutes: caller(event).account.session_timeout_minutes });

export const PATCH: RequestHandler = async (event) => {
  const auth = caller(event);
  const body = await readJson(event.request, accountSettingsInput);
  if (!body.ok) return body.response;
  await updateAccountSettings((await getRuntime()).db, auth.account.id, actorOf(event), body.data);
  return json(body.data);
};
