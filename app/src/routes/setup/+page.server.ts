import { redirect } from '@sveltejs/kit';
import { nextStep, readProgress } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import type { PageServerLoad } from './$types';

/** Resumes quick setup where it was left. */
export const load: PageServerLoad = async (event) => {
  const auth = caller(event);
  const rt = await getRuntime();
  const step = nextStep(await readProgress(rt.db, auth.account.id, auth.user.id));
  redirect(303, step === 'done' || step === 'credentials' ? (auth.account.setup_completed_at ? '/admin' : '/setup/company') : `/setup/${step}`);
};
