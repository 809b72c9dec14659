import { json } from '@sveltejs/kit';
import { getTrunk, saveTrunk, trunkForwardingInput, type TrunkView } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, notFound, readJson } from '#lib/server/api.ts';
import { areaEnabled } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** The trunk as the API shows it: what forwarding needs (`forwardCallerId`) only where the unreleased area 'answering_rules' is enabled. */
async function shown(trunk: TrunkView): Promise<Omit<TrunkView, 'forwardCallerId'> & { forwardCallerId?: boolean }> {
  if (await areaEnabled('answering_rules')) return trunk;
  const { forwardCallerId: _hidden, ...rest } = trunk;
  return rest;
}

export const GET: RequestHandler = async (event) => {
  const trunk = await getTrunk((await getRuntime()).db, caller(event).account.id);
  return trunk ? json(await shown(trunk)) : notFound();
};

export const PUT: RequestHandler = async (event) => {
  const rt = await getRuntime();
  const body = await readJson(event.request, trunkForwardingInput);
  if (!body.ok) return body.response;
  // While the area is hidden its field is not taken (dropped, as an unknown field would be).
  const { forwardCallerId: _hidden, ...rest } = body.data;
  const input = (await areaEnabled('answering_rules')) ? body.data : rest;
  return json(await shown(await saveTrunk(rt.db, rt.secrets, caller(event).account.id, actorOf(event), input)));
};
