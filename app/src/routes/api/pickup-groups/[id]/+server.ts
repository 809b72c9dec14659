import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { deletePickupGroup, loadPickupGroup, ParkError, updatePickupGroup } from '@carillon/core';
import { pickupGroupUpdate } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { parkRefusal } from '../../park-locations/park-errors.ts';
import type { RequestHandler } from './$types';

const groupId = z.string().uuid();
const notFound = () => json({ error: 'not_found' }, { status: 404 });

/** A pickup group of the account (another account's is not found). */
export const GET: RequestHandler = inArea('park', async (event) => {
  const id = groupId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  const group = await loadPickupGroup(rt.db, caller(event).account.id, id.data);
  return group ? json({ group }) : notFound();
});

/** Edits a group's name, site or members; a member list given replaces the stored one. */
export const PATCH: RequestHandler = inArea('park', async (event) => {
  const id = groupId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  // Another account's group is not found, whatever the body says.
  if (!(await loadPickupGroup(rt.db, accountId, id.data))) return notFound();
  const body = await readJson(event.request, pickupGroupUpdate);
  if (!body.ok) return body.response;
  try {
    if (!(await updatePickupGroup(rt.db, actorOf(event), accountId, id.data, body.data))) return notFound();
  } catch (err) {
    if (err instanceof ParkError) return parkRefusal(err);
    throw err;
  }
  return json({ group: await loadPickupGroup(rt.db, accountId, id.data) });
});

export const DELETE: RequestHandler = inArea('park', async (event) => {
  const id = groupId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  if (!(await deletePickupGroup(rt.db, actorOf(event), caller(event).account.id, id.data))) return notFound();
  return new Response(null, { status: 204 });
});
