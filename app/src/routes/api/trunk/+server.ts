import { json } from '@sveltejs/kit';
import { getTrunk, saveTrunk, trunkForwardingInput, trunkInput, type TrunkView } from '@carillon/core';
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
  // While the area is hidden its field is not taken (an unknown field is dropped, as any other).
  const body = await readJson(event.request, (await areaEnabled('answering_rules')) ? trunkForwardingInput : trunkInput);
  if (!body.ok) return body.response;
  return json(await shown(await saveTrunk(rt.db, rt.secrets, caller(event).account.id, actorOf(event), body.data)));
};
