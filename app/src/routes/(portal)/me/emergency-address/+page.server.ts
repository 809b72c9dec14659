import { fail, redirect } from '@sveltejs/kit';
import { saveSetupStep } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller } from '#lib/server/api.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const auth = caller(event);
  return { name: `${auth.user.first_name} ${auth.user.last_name}`.trim(), country: auth.account.country };
};

export const actions: Actions = {
  default: async (event) => {
    const auth = caller(event);
    const form = await event.request.formData();
    const values: Record<string, unknown> = { ...Object.fromEntries(form), acceptTerms: form.has('acceptTerms') };
    // The same checks and audit entry as the emergency step of quick setup.
    const result = await saveSetupStep((await getRuntime()).db, { accountId: auth.account.id, userId: auth.user.id }, actorOf(event), 'emergency', values);
    if (!result.ok) return fail(400, { errors: result.errors, values });
    redirect(303, '/');
  },
};
