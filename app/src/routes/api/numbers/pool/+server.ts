import { json } from '@sveltejs/kit';
import { poolSearchInput } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, readQuery } from '#lib/server/api.ts';
import { numberProvider } from '#lib/server/numbers/numbers-api.ts';
import type { RequestHandler } from './$types';

/** Numbers the carrier can offer in a country and area code; those another account holds are not offered. */
export const GET: RequestHandler = async (event) => {
  const q = readQuery(event.url, poolSearchInput);
  if (!q.ok) return q.response;
  const db = (await getRuntime()).db;
  return json(await numberProvider(db).search(caller(event).account.id, q.data));
};
