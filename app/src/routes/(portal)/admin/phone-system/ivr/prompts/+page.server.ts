import { PROMPT_LIMITS } from '@carillon/core/ivr';
import { caller } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import type { PageServerLoad } from './$types';

// Hidden until calls run IVR menus (unreleased-features.ts).
export const load: PageServerLoad = async (event) => {
  await requireArea('ivr');
  // A recording in the browser stops by itself at the server's limit.
  return { canEdit: caller(event).permissions.has('phone_system.manage'), maxRecordingMs: PROMPT_LIMITS.maxSeconds * 1000 };
};
