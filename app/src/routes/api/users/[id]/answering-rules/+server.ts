import { json } from '@sveltejs/kit';
import { readUserAnswering, saveUserAnswering } from '@carillon/core';
import { userAnsweringSchema } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { hiddenArea } from '#lib/server/unreleased.ts';
import { userVisibleTo } from '#lib/server/users/scope.ts';
import type { RequestHandler } from './$types';

/**
 * A user's hours, answering rules and call settings, for their administrators
 * (the user's page › Call Handling & Forwarding). Another account's user, or
 * one outside a scoped administrator's sites or groups, is not found.
 */
export const GET: RequestHandler = async (event) => {
  const hidden = await hiddenArea('answering_rules');
  if (hidden) return hidden;
  if (!isUuid(event.params.id)) return notFound();
  const auth = caller(event);
  const db = (await getRuntime()).db;
  if (!(await userVisibleTo(db, auth, event.params.id))) return notFound();
  const view = await readUserAnswering(db, auth.account.id, event.params.id);
  return view ? json(view) : notFound();
};

export const PUT: RequestHandler = async (event) => {
  const hidden = await hiddenArea('answering_rules');
  if (hidden) return hidden;
  if (!isUuid(event.params.id)) return notFound();
  const auth = caller(event);
  const db = (await getRuntime()).db;
  if (!(await userVisibleTo(db, auth, event.params.id))) return notFound();
  const body = await readJson(event.request, userAnsweringSchema);
  if (!body.ok) return body.response;
  const saved = await saveUserAnswering(db, actorOf(event), auth.account.id, event.params.id, body.data, { dataDir: (await getRuntime()).config.dataDir });
  if (!saved.ok) return json({ error: saved.error, fields: saved.fields }, { status: saved.status });
  return json(saved.view);
};
