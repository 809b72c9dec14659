import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { deleteParkLocation, loadParkLocation, ParkError, updateParkLocation } from '@carillon/core';
import { parkLocationUpdate } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { parkRefusal } from '../park-errors.ts';
import type { RequestHandler } from './$types';

const locationId = z.string().uuid();
const notFound = () => json({ error: 'not_found' }, { status: 404 });

/** A park location of the account (another account's is not found). */
export const GET: RequestHandler = inArea('park', async (event) => {
  const id = locationId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  const location = await loadParkLocation(rt.db, caller(event).account.id, id.data);
  return location ? json({ location }) : notFound();
});

/** PK-02 Details (number, name, status) and PK-03 Location Members; a member list given replaces the stored one. */
export const PATCH: RequestHandler = inArea('park', async (event) => {
  const id = locationId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  // Another account's location is not found, whatever the body says.
  if (!(await loadParkLocation(rt.db, accountId, id.data))) return notFound();
  const body = await readJson(event.request, parkLocationUpdate);
  if (!body.ok) return body.response;
  try {
    if (!(await updateParkLocation(rt.db, actorOf(event), accountId, id.data, body.data))) return notFound();
  } catch (err) {
    if (err instanceof ParkError) return parkRefusal(err);
    throw err;
  }
  return json({ location: await loadParkLocation(rt.db, accountId, id.data) });
});

export const DELETE: RequestHandler = inArea('park', async (event) => {
  const id = locationId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  if (!(await deleteParkLocation(rt.db, actorOf(event), caller(event).account.id, id.data))) return notFound();
  return new Response(null, { status: 204 });
});
