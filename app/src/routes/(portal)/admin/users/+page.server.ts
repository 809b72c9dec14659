import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { listUsersPage, usersListFacets, usersListQuery } from '#lib/server/users/list.ts';
import { listTemplates } from '#lib/server/templates/templates.ts';
import type { PageServerLoad } from './$types';

const KNOWN = Object.keys(usersListQuery.shape);

export const load: PageServerLoad = async (event) => {
  const auth = caller(event);
  const db = (await getRuntime()).db;
  // The page reads the same filters as GET /api/users from its own URL; a hand-edited bad value falls back to the defaults, and says so.
  const given = Object.fromEntries([...event.url.searchParams].filter(([k]) => KNOWN.includes(k)));
  const parsed = usersListQuery.safeParse(given);
  const query = parsed.success ? parsed.data : usersListQuery.parse({});
  const canManage = auth.permissions.has('users.manage');
  const [page, facets, templates] = await Promise.all([listUsersPage(db, auth, query), usersListFacets(db, auth.account.id), canManage ? listTemplates(db, auth.account.id) : []]);
  return {
    page,
    facets,
    query,
    badQuery: !parsed.success,
    canManage,
    /** For the "Apply template" bulk action (seed 000 "Application d'un modèle aux utilisateurs"). */
    templates: templates.map((tpl) => ({ id: tpl.id, name: tpl.name, kind: tpl.kind })),
    /** Column choices are remembered per admin, in this browser. */
    columnsKey: `carillon.users.columns.${auth.user.id}`,
  };
};
