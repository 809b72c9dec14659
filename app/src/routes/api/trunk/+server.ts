import { json } from '@sveltejs/kit';
import { getTrunk, saveTrunk, trunkInput } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, notFound, readJson } from '#lib/server/api.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  const trunk = await getTrunk((await getRuntime()).db, caller(event).account.id);
  return trunk ? json(trunk) : notFound();
};

export const PUT: RequestHandler = async (event) => {
  const rt = await getRuntime();
  const body = await readJson(event.request, trunkInput);
  if (!body.ok) return body.response;
  return json(await saveTrunk(rt.db, rt.secrets, caller(event).account.id, actorOf(event), body.data));
};
