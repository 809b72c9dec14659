import { error } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { hostedConference } from '#lib/server/conference-console.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import type { PageServerLoad } from './$types';

/** My Extension › Conferencing › Console (issue 16): the host's live view of their own conference; the roster and its changes come over socket.io. */
export const load: PageServerLoad = async (event) => {
  await requireArea('conference');
  const own = await hostedConference(await getRuntime(), caller(event));
  if (!own) error(404, 'no conference');
  return { hostExtensionId: own.hostExtensionId };
};
