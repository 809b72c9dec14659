import { json } from '@sveltejs/kit';
import { granterOf } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { addUsers, addUsersOptions, addUsersRequest } from '#lib/server/users/add-users.ts';
import type { RequestHandler } from './$types';

/** GET /api/users/batch → what the Add Users wizard offers: sites, number inventory, unassigned phones, next extensions. */
export const GET: RequestHandler = async (event) => {
  return json(await addUsersOptions((await getRuntime()).db, caller(event).account.id));
};

/**
 * POST /api/users/batch { userType, onboarding, requireUniqueEmail?, credentials?, continueWithoutEmergencyAddress?, rows[≤25] }
 * → 200 { created, errors: [] } when every row was created; 422 { created, errors: [{ row, field, reason }] } otherwise
 * (the good rows are created all the same).
 */
export const POST: RequestHandler = async (event) => {
  const body = await readJson(event.request, addUsersRequest);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  const outcome = await addUsers(rt, granterOf(caller(event)), actorOf(event), body.data);
  return json(outcome, { status: outcome.errors.length ? 422 : 200 });
};
