import { error } from '@sveltejs/kit';
import { conferenceCodesOf, conferenceDialIns, conferenceSettingsOf } from '@carillon/core/conference';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import type { PageServerLoad } from './$types';

/** My Extension › Conferencing (issue 16): the bridge's numbers, the user's codes and settings, and the invite form; changes go through /api/me/conference. */
export const load: PageServerLoad = async (event) => {
  await requireArea('conference');
  const me = caller(event);
  const extensionId = me.user.extension_id;
  if (!extensionId) error(404, 'no extension');
  const db = (await getRuntime()).db;
  const codes = await conferenceCodesOf(db, me.account.id, extensionId);
  if (!codes) error(404, 'no conference');
  return { dialIns: await conferenceDialIns(db, me.account.id), codes, settings: await conferenceSettingsOf(db, me.account.id, extensionId) };
};
