import { caller } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import type { PageServerLoad } from './$types';

// High-volume SMS (issue 18, deliverable 2): hidden, with no link, while the 'sms' area is unreleased.
export const load: PageServerLoad = async (event) => {
  await requireArea('sms');
  return { canReview: caller(event).permissions.has('account.settings') };
};
