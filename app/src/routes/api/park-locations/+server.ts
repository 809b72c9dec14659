import { json } from '@sveltejs/kit';
import { createParkLocation, listParkLocations, loadParkLocation, ParkError } from '@carillon/core';
import { parkLocationInput } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { parkRefusal } from './park-errors.ts';
import type { RequestHandler } from './$types';

/** PK-01: the account's park locations, with their members. */
export const GET: RequestHandler = inArea('park', async (event) => {
  const rt = await getRuntime();
  return json({ locations: await listParkLocations(rt.db, caller(event).account.id) });
});

/** PK-02 "Add Park Location" (a new extension of type 'park_location'), with its members (PK-03); the 101st is refused. */
export const POST: RequestHandler = inArea('park', async (event) => {
  const body = await readJson(event.request, parkLocationInput);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  try {
    const id = await createParkLocation(rt.db, actorOf(event), accountId, body.data);
    return json({ location: await loadParkLocation(rt.db, accountId, id) }, { status: 201 });
  } catch (err) {
    if (err instanceof ParkError) return parkRefusal(err);
    throw err;
  }
});
