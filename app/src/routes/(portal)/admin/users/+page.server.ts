import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { listUsers } from '#lib/server/users.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const auth = caller(event);
  return { users: await listUsers((await getRuntime()).db, auth.account.id) };
};
