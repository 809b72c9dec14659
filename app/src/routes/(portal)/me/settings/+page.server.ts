import { fail } from '@sveltejs/kit';
import { z } from 'zod';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = (event) => {
  const auth = caller(event);
  return { language: auth.user.language, accountLanguage: auth.account.language };
};

const languageInput = z.object({ language: z.enum(['', 'en', 'fr']) });

export const actions: Actions = {
  default: async (event) => {
    const auth = caller(event);
    const parsed = languageInput.safeParse(Object.fromEntries(await event.request.formData()));
    if (!parsed.success) return fail(400, { error: 'error.invalid' as const });
    await (await getRuntime()).db
      .updateTable('users')
      .set({ language: parsed.data.language || null })
      .where('id', '=', auth.user.id)
      .where('account_id', '=', auth.account.id)
      .execute();
    return { saved: true };
  },
};
