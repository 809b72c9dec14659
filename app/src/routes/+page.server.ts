import { redirect } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';

/** The front door: each kind of user lands where they work. */
export const load: PageServerLoad = ({ locals }) => {
  const auth = locals.auth;
  if (!auth) redirect(303, '/login');
  if (!auth.account.setup_completed_at && auth.permissions.has('account.settings')) redirect(303, '/setup');
  redirect(303, auth.permissions.has('admin.portal') ? '/admin' : '/me');
};
