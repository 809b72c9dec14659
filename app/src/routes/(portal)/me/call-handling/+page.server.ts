import { error } from '@sveltejs/kit';
import { readUserAnswering } from '@carillon/core';
import { readNameRecording } from '@carillon/core/voicemail';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { transferExtensions } from '#lib/server/answering-rules.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import type { PageServerLoad } from './$types';

/** My Extension › Call Handling & Forwarding: reads here, saves through PUT /api/me/answering-rules; the recorded name through /api/me/name-recording. */
export const load: PageServerLoad = async (event) => {
  await requireArea('answering_rules');
  const auth = caller(event);
  const db = (await getRuntime()).db;
  const view = await readUserAnswering(db, auth.account.id, auth.user.id);
  if (!view) error(404, 'Not found');
  const name = await readNameRecording(db, auth.account.id, auth.user.id);
  return { view, extensions: await transferExtensions(db, auth.account.id, auth.user.extension_id), nameRecorded: name?.nameRecording != null };
};
