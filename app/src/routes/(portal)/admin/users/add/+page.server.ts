import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { addUsersOptions } from '#lib/server/users/add-users.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const auth = caller(event);
  return { options: await addUsersOptions((await getRuntime()).db, auth.account.id), accountCountry: auth.account.country };
};
