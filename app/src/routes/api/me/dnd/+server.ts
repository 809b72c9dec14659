import { json } from '@sveltejs/kit';
import { PRESENCE_CHANNEL } from '@carillon/contracts/presence';
import { announceConfigChange } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, readJson } from '#lib/server/api.ts';
import { dndInput } from '#lib/server/me/schemas.ts';
import type { RequestHandler } from './$types';

/** The signed-in user's Do Not Disturb state (seed 000 "Ne pas déranger"). */
export const GET: RequestHandler = async (event) => {
  const auth = caller(event);
  const rt = await getRuntime();
  const ext = auth.user.extension_id
    ? await rt.db.selectFrom('extensions').select('dnd_status').where('account_id', '=', auth.account.id).where('id', '=', auth.user.extension_id).executeTakeFirst()
    : undefined;
  if (!ext) return json({ error: 'no_extension' }, { status: 409 });
  return json({ dnd: ext.dnd_status });
};

export const PUT: RequestHandler = async (event) => {
  const auth = caller(event);
  const body = await readJson(event.request, dndInput);
  if (!body.ok) return body.response;
  if (!auth.user.extension_id) return json({ error: 'no_extension' }, { status: 409 });
  const rt = await getRuntime();
  await rt.db.updateTable('extensions').set({ dnd_status: body.data.dnd }).where('account_id', '=', auth.account.id).where('id', '=', auth.user.extension_id).execute();
  await rt.redis.publish(PRESENCE_CHANNEL, auth.account.id);
  // The one writer of DND: media-server's routing caches the account's extensions and drops them on this announcement.
  await announceConfigChange(auth.account.id, 'extensions');
  return json({ dnd: body.data.dnd });
};
