import { json } from '@sveltejs/kit';
import { getNumber, numberUpdateInput, updateNumber } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { refusal } from '#lib/server/numbers/numbers-api.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const n = await getNumber((await getRuntime()).db, caller(event).account.id, event.params.id);
  return n ? json(n) : notFound();
};

/** Nickname, assign (extensionId) or unassign (extensionId: null), type, fax capability. */
export const PATCH: RequestHandler = async (event) => {
  const auth = caller(event);
  const db = (await getRuntime()).db;
  // Another account's number is not found, whatever the body says.
  if (!isUuid(event.params.id) || !(await getNumber(db, auth.account.id, event.params.id))) return notFound();
  const body = await readJson(event.request, numberUpdateInput);
  if (!body.ok) return body.response;
  const r = await updateNumber(db, actorOf(event), auth.account.id, event.params.id, body.data);
  return r.ok ? json(r.value) : refusal(r);
};
