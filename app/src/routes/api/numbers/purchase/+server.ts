import { json } from '@sveltejs/kit';
import { purchaseInput, purchaseNumbers } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { numberProvider, refusal } from '#lib/server/numbers/numbers-api.ts';
import type { RequestHandler } from './$types';

/** Acquires numbers this account holds: to an extension with a nickname, or into the inventory. */
export const POST: RequestHandler = async (event) => {
  const body = await readJson(event.request, purchaseInput);
  if (!body.ok) return body.response;
  const db = (await getRuntime()).db;
  const r = await purchaseNumbers(db, numberProvider(db), actorOf(event), caller(event).account.id, body.data);
  return r.ok ? json(r.value, { status: 201 }) : refusal(r);
};
