import { fail } from '@sveltejs/kit';
import { accountSettingsInput, SESSION_TIMEOUT_CHOICES, updateAccountSettings } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller } from '#lib/server/api.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = (event) => ({
  sessionTimeoutMinutes: caller(event).account.session_timeout_minutes,
  onDemandRecording: caller(event).account.on_demand_recording,
  choices: [...SESSION_TIMEOUT_CHOICES],
});

export const actions: Actions = {
  default: async (event) => {
    const form = await event.request.formData();
    const parsed = accountSettingsInput.safeParse({ ...Object.fromEntries(form), onDemandRecording: form.has('onDemandRecording') });
    if (!parsed.success) return fail(400, { error: 'error.invalid' as const });
    await updateAccountSettings((await getRuntime()).db, caller(event).account.id, actorOf(event), parsed.data);
    return { saved: true };
  },
};
