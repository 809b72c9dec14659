import { json } from '@sveltejs/kit';
import { numberQuota, releaseNumbers, reserveInput, reserveNumbers } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { numberProvider, refusal } from '#lib/server/numbers/numbers-api.ts';
import type { RequestHandler } from './$types';

/** This account's held numbers (each for 10 minutes) and its number quota. */
export const GET: RequestHandler = async (event) => {
  const accountId = caller(event).account.id;
  const db = (await getRuntime()).db;
  return json({ reservations: await numberProvider(db).reservations(accountId), quota: await numberQuota(db, accountId) });
};

/** Holds numbers for 10 minutes: all of them, or none if one is taken or the quota would be passed. */
export const POST: RequestHandler = async (event) => {
  const body = await readJson(event.request, reserveInput);
  if (!body.ok) return body.response;
  const db = (await getRuntime()).db;
  const r = await reserveNumbers(db, numberProvider(db), actorOf(event), caller(event).account.id, body.data.numbers);
  return r.ok ? json({ reservations: r.value }, { status: 201 }) : refusal(r);
};

/** Lets held numbers go back to the pool before their 10 minutes are up. */
export const DELETE: RequestHandler = async (event) => {
  const body = await readJson(event.request, reserveInput);
  if (!body.ok) return body.response;
  const db = (await getRuntime()).db;
  return json({ released: await releaseNumbers(db, numberProvider(db), actorOf(event), caller(event).account.id, body.data.numbers) });
};
