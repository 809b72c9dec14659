import { error, fail, redirect } from '@sveltejs/kit';
import { readProgress, saveSetupStep, stepDefaults, SETUP_STEPS, type DataStep } from '@carillon/core';
import { timeZones } from '@carillon/domain';
import { getIvrSettings, PROMPT_LIMITS } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { areaEnabled } from '#lib/server/unreleased.ts';
import { actorOf, caller } from '#lib/server/api.ts';
import type { Actions, PageServerLoad } from './$types';

const DATA_STEPS = ['company', 'my_info', 'regional', 'emergency', 'review'] as const satisfies readonly DataStep[];
const isDataStep = (s: string): s is DataStep => (DATA_STEPS as readonly string[]).includes(s);

export const load: PageServerLoad = async (event) => {
  const { step } = event.params;
  if (!isDataStep(step)) error(404, { message: 'Not found' });
  const auth = caller(event);
  const rt = await getRuntime();
  const progress = await readProgress(rt.db, auth.account.id, auth.user.id);
  return {
    step,
    steps: SETUP_STEPS,
    completed: progress.completed ?? [],
    values: await stepDefaults(rt.db, auth.account.id, auth.user.id),
    company: { name: auth.account.company_name, mainNumber: auth.account.main_number },
    extension: auth.extensionNumber,
    timeZones: step === 'regional' ? timeZones() : [],
    // The company greeting (inventory 3 §1.6): customized only where the auto-receptionist is released or previewed.
    greeting: {
      customizable: await areaEnabled('ivr'),
      mode: step === 'company' && (await getIvrSettings(rt.db, auth.account.id)).singleLevel?.greeting.mode === 'audio' ? ('custom' as const) : ('default' as const),
      maxRecordingMs: PROMPT_LIMITS.maxSeconds * 1000,
    },
  };
};

/** Form fields arrive as strings; checkboxes are present or absent. */
function formValues(step: DataStep, form: FormData): Record<string, unknown> {
  const v: Record<string, unknown> = Object.fromEntries(form);
  if (step === 'my_info') v.emailLogin = form.has('emailLogin');
  if (step === 'emergency') v.acceptTerms = form.has('acceptTerms');
  if (step === 'review') v.confirm = true;
  return v;
}

export const actions: Actions = {
  default: async (event) => {
    const { step } = event.params;
    if (!isDataStep(step)) error(404, { message: 'Not found' });
    const auth = caller(event);
    const rt = await getRuntime();
    const values = formValues(step, await event.request.formData());
    const result = await saveSetupStep(rt.db, { accountId: auth.account.id, userId: auth.user.id }, actorOf(event), step, values);
    if (!result.ok) return fail(400, { errors: result.errors, values });
    redirect(303, result.next === 'done' ? '/admin?welcome=1' : `/setup/${result.next}`);
  },
};
