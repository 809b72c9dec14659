import { error } from '@sveltejs/kit';
import { meetingForJoin } from '@carillon/core/meetings';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import type { PageServerLoad } from './$types';

/** A meeting's join page (issue 17): a meeting of the caller's account by its 10-digit ID; another account's is not found. The passcode is checked by the join API. */
export const load: PageServerLoad = async (event) => {
  await requireArea('meetings');
  const auth = caller(event);
  const meeting = await meetingForJoin((await getRuntime()).db, auth.account.id, event.params.id);
  if (!meeting) error(404, 'Not found');
  return { meeting: { number: meeting.number, topic: meeting.topic, ended: meeting.ended }, host: meeting.hostUserId === auth.user.id };
};
