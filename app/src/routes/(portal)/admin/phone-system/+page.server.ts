import { fail } from '@sveltejs/kit';
import { companyInfoInput, updateCompanyInfo, zodFieldErrors } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller } from '#lib/server/api.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const a = caller(event).account;
  return {
    canEdit: caller(event).permissions.has('phone_system.manage'),
    company: {
      companyName: a.company_name,
      callerIdName: a.caller_id_name ?? '',
      mainNumber: a.main_number,
      street: a.street ?? '',
      street2: a.street2 ?? '',
      city: a.city ?? '',
      state: a.state ?? '',
      postalCode: a.postal_code ?? '',
      addressCountry: a.address_country ?? a.country,
    },
  };
};

export const actions: Actions = {
  default: async (event) => {
    const auth = caller(event);
    const values = Object.fromEntries(await event.request.formData());
    const parsed = companyInfoInput.safeParse(values);
    if (!parsed.success) return fail(400, { errors: zodFieldErrors(parsed.error), values });
    await updateCompanyInfo((await getRuntime()).db, auth.account.id, actorOf(event), parsed.data);
    return { saved: true };
  },
};
