import { json } from '@sveltejs/kit';
import { touchSession } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import type { RequestHandler } from './$types';

/** Reads the session without counting as activity (the idle warning asks this). */
export const GET: RequestHandler = (event) => {
  const auth = caller(event);
  return json({ idleExpiresAt: auth.idleExpiresAt.toISOString(), timeoutMinutes: auth.account.session_timeout_minutes });
};

/** The "OK" of the idle warning: keep this session alive. */
export const POST: RequestHandler = async (event) => {
  const auth = caller(event);
  await touchSession((await getRuntime()).db, auth.sessionId);
  return json({ ok: true, idleExpiresAt: new Date(Date.now() + auth.account.session_timeout_minutes * 60_000).toISOString() });
};
