import { error } from '@sveltejs/kit';
import { readUserAnswering } from '@carillon/core';
import { readNameRecording } from '@carillon/core/voicemail';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid } from '#lib/server/api.ts';
import { transferExtensions } from '#lib/server/answering-rules.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import { userVisibleTo } from '#lib/server/users/scope.ts';
import type { PageServerLoad } from './$types';

/** A user's Call Handling & Forwarding, for their administrators: saved through PUT /api/users/[id]/answering-rules (users.manage). */
export const load: PageServerLoad = async (event) => {
  await requireArea('answering_rules');
  const auth = caller(event);
  const db = (await getRuntime()).db;
  if (!isUuid(event.params.id) || !(await userVisibleTo(db, auth, event.params.id))) error(404, 'Not found');
  const view = await readUserAnswering(db, auth.account.id, event.params.id);
  const user = await db.selectFrom('users').select(['first_name', 'last_name', 'extension_id']).where('account_id', '=', auth.account.id).where('id', '=', event.params.id).executeTakeFirst();
  if (!view || !user) error(404, 'Not found');
  return {
    view,
    userId: event.params.id,
    name: `${user.first_name} ${user.last_name}`.trim(),
    extensions: await transferExtensions(db, auth.account.id, user.extension_id),
    canManage: auth.permissions.has('users.manage'),
    nameRecorded: (await readNameRecording(db, auth.account.id, event.params.id))?.nameRecording != null,
  };
};
