import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { getUserDetails, patchUserSettings, userSettingsPatch } from '#lib/server/users/user-settings.ts';
import { userVisibleTo } from '#lib/server/users/scope.ts';
import type { RequestHandler } from './$types';

/** GET → the user's details and every settings section (the user details page's data). */
export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const db = (await getRuntime()).db;
  // A site-scoped admin or a group manager sees only the users they administer.
  if (!(await userVisibleTo(db, caller(event), event.params.id))) return notFound();
  const user = await getUserDetails(db, caller(event).account.id, event.params.id);
  return user ? json(user) : notFound();
};

/**
 * PATCH any of the sections (details, regional, userHours, roleId,
 * primaryNumberId, callerId, notifications, callHandling); a bad value is a
 * 400 naming the field, a rule broken a 403/409 naming the rule, and nothing changes.
 */
export const PATCH: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const auth = caller(event);
  const rt = await getRuntime();
  const before = await getUserDetails(rt.db, auth.account.id, event.params.id);
  if (!before || !(await userVisibleTo(rt.db, auth, before.id))) return notFound();
  const body = await readJson(event.request, userSettingsPatch);
  if (!body.ok) return body.response;
  const refused = await patchUserSettings(rt.db, auth, actorOf(event), before, body.data);
  if (refused) {
    const { status, ...rest } = refused;
    return json(rest, { status });
  }
  return json(await getUserDetails(rt.db, auth.account.id, before.id));
};
