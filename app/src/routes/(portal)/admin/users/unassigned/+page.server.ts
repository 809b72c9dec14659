import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { listUnassignedExtensions, unassignedQuery } from '#lib/server/users/unassigned-extensions.ts';
import { usersListFacets } from '#lib/server/users/list.ts';
import { userScopeOf } from '#lib/server/users/scope.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const auth = caller(event);
  const db = (await getRuntime()).db;
  const parsed = unassignedQuery.safeParse({ q: event.url.searchParams.get('q') ?? undefined, site: event.url.searchParams.get('site') || undefined });
  const query = parsed.success ? parsed.data : {};
  const [extensions, facets] = await Promise.all([listUnassignedExtensions(db, auth.account.id, query, await userScopeOf(db, auth)), usersListFacets(db, auth.account.id)]);
  return { extensions, sites: facets.sites, query, canManage: auth.permissions.has('users.manage') };
};
