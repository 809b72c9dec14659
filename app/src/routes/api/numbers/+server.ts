import { json } from '@sveltejs/kit';
import { addForwardedNumber, forwardedNumberInput, listNumbers, numberListQuery } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson, readQuery } from '#lib/server/api.ts';
import { refusal } from '#lib/server/numbers/numbers-api.ts';
import type { RequestHandler } from './$types';

/** The account's numbers in one view (all, in_use, inventory, forwarded), optionally searched. */
export const GET: RequestHandler = async (event) => {
  const q = readQuery(event.url, numberListQuery);
  if (!q.ok) return q.response;
  return json(await listNumbers((await getRuntime()).db, caller(event).account.id, q.data));
};

/** Adds a forwarded number: one kept at its current carrier, whose calls are forwarded here. */
export const POST: RequestHandler = async (event) => {
  const body = await readJson(event.request, forwardedNumberInput);
  if (!body.ok) return body.response;
  const r = await addForwardedNumber((await getRuntime()).db, actorOf(event), caller(event).account.id, body.data);
  return r.ok ? json(r.value, { status: 201 }) : refusal(r);
};
