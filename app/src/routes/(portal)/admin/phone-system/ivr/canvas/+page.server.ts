import { caller } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import type { PageServerLoad } from './$types';

// Hidden until calls run IVR menus (unreleased-features.ts). The account's id keys the node positions this browser keeps.
export const load: PageServerLoad = async (event) => {
  await requireArea('ivr');
  const who = caller(event);
  return { canEdit: who.permissions.has('phone_system.manage'), accountId: who.account.id };
};
