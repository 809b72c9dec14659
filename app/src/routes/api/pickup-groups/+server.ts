import { json } from '@sveltejs/kit';
import { createPickupGroup, listPickupGroups, loadPickupGroup, ParkError } from '@carillon/core';
import { pickupGroupInput } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { parkRefusal } from '../park-locations/park-errors.ts';
import type { RequestHandler } from './$types';

/** PU-02: the account's directed call pickup groups, with their members. */
export const GET: RequestHandler = inArea('park', async (event) => {
  const rt = await getRuntime();
  return json({ groups: await listPickupGroups(rt.db, caller(event).account.id) });
});

/** PU-02 "New Directed Call Pickup": a name, a site, and members from any site. */
export const POST: RequestHandler = inArea('park', async (event) => {
  const body = await readJson(event.request, pickupGroupInput);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  try {
    const id = await createPickupGroup(rt.db, actorOf(event), accountId, body.data);
    return json({ group: await loadPickupGroup(rt.db, accountId, id) }, { status: 201 });
  } catch (err) {
    if (err instanceof ParkError) return parkRefusal(err);
    throw err;
  }
});
