import { json } from '@sveltejs/kit';
import { readUserAnswering, saveUserAnswering } from '@carillon/core';
import { userAnsweringSchema } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, notFound, readJson } from '#lib/server/api.ts';
import { hiddenArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** The signed-in user's hours, answering rules and call settings (My Extension › Call Handling & Forwarding). */
export const GET: RequestHandler = async (event) => {
  const hidden = await hiddenArea('answering_rules');
  if (hidden) return hidden;
  const auth = caller(event);
  const view = await readUserAnswering((await getRuntime()).db, auth.account.id, auth.user.id);
  return view ? json(view) : notFound();
};

/** Replaces the whole document; a bad value is a 400 naming the field, and nothing changes. */
export const PUT: RequestHandler = async (event) => {
  const hidden = await hiddenArea('answering_rules');
  if (hidden) return hidden;
  const auth = caller(event);
  const body = await readJson(event.request, userAnsweringSchema);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  const saved = await saveUserAnswering(rt.db, actorOf(event), auth.account.id, auth.user.id, body.data, { dataDir: rt.config.dataDir });
  if (!saved.ok) return json({ error: saved.error, fields: saved.fields }, { status: saved.status });
  return json(saved.view);
};
