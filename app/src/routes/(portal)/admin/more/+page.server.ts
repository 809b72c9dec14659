import { fail } from '@sveltejs/kit';
import { accountSettingsInput, MAX_VOICEMAIL_RETENTION_DAYS, SESSION_TIMEOUT_CHOICES, updateAccountSettings } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller } from '#lib/server/api.ts';
import { areaEnabled } from '#lib/server/unreleased.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => ({
  sessionTimeoutMinutes: caller(event).account.session_timeout_minutes,
  onDemandRecording: caller(event).account.on_demand_recording,
  // Voicemail is unreleased: its retention is shown (and taken) only where the area is enabled.
  voicemailRetentionDays: (await areaEnabled('voicemail')) ? caller(event).account.voicemail_retention_days : null,
  maxRetentionDays: MAX_VOICEMAIL_RETENTION_DAYS,
  choices: [...SESSION_TIMEOUT_CHOICES],
});

export const actions: Actions = {
  default: async (event) => {
    const form = await event.request.formData();
    const { voicemailRetentionDays, ...fields } = Object.fromEntries(form);
    const retention = (await areaEnabled('voicemail')) && voicemailRetentionDays !== undefined ? { voicemailRetentionDays } : {};
    const parsed = accountSettingsInput.safeParse({ ...fields, ...retention, onDemandRecording: form.has('onDemandRecording') });
    if (!parsed.success) return fail(400, { error: 'error.invalid' as const });
    await updateAccountSettings((await getRuntime()).db, caller(event).account.id, actorOf(event), parsed.data);
    return { saved: true };
  },
};
