import { json } from '@sveltejs/kit';
import { revokeAllSessions, SESSION_COOKIE } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import type { RequestHandler } from './$types';

export const POST: RequestHandler = async (event) => {
  const auth = caller(event);
  const ended = await revokeAllSessions((await getRuntime()).db, auth.account.id, auth.user.id);
  event.cookies.delete(SESSION_COOKIE, { path: '/' });
  return json({ ended });
};
