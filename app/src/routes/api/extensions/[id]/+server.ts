import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const ext = await (await getRuntime()).db
    .selectFrom('extensions')
    .select(['id', 'number', 'type', 'status', 'name', 'site_id as siteId'])
    .where('account_id', '=', caller(event).account.id)
    .where('id', '=', event.params.id)
    .executeTakeFirst();
  return ext ? json(ext) : notFound();
};
