import { caller } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import type { PageServerLoad } from './$types';

// Hidden until calls run IVR menus (unreleased-features.ts).
export const load: PageServerLoad = async (event) => {
  await requireArea('ivr');
  return { canEdit: caller(event).permissions.has('phone_system.manage') };
};
