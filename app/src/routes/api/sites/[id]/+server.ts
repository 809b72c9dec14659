import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const site = await (await getRuntime()).db
    .selectFrom('sites')
    .select(['id', 'name', 'site_code as siteCode', 'is_main as isMain'])
    .where('account_id', '=', caller(event).account.id)
    .where('id', '=', event.params.id)
    .executeTakeFirst();
  return site ? json(site) : notFound();
};
