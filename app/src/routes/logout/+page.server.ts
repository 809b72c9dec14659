import { redirect } from '@sveltejs/kit';
import { revokeAllSessions, revokeSession, SESSION_COOKIE } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
  // Named actions only: SvelteKit refuses a default action beside named ones.
  session: async ({ cookies }) => {
    const token = cookies.get(SESSION_COOKIE);
    if (token) await revokeSession((await getRuntime()).db, token);
    cookies.delete(SESSION_COOKIE, { path: '/' });
    redirect(303, '/login?loggedOut=1');
  },
  everywhere: async ({ cookies, locals }) => {
    if (locals.auth) await revokeAllSessions((await getRuntime()).db, locals.auth.account.id, locals.auth.user.id);
    cookies.delete(SESSION_COOKIE, { path: '/' });
    redirect(303, '/login?loggedOut=1');
  },
};
