import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const auth = caller(event);
  const rt = await getRuntime();
  const direct = await rt.db
    .selectFrom('phone_numbers')
    .select('e164')
    .where('account_id', '=', auth.account.id)
    .where('extension_id', '=', auth.user.extension_id)
    .execute();
  return {
    info: {
      firstName: auth.user.first_name,
      lastName: auth.user.last_name,
      email: auth.user.email,
      extension: auth.extensionNumber,
      directNumbers: direct.map((d) => d.e164),
      roleId: auth.user.role_id,
    },
  };
};
