import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  const rows = await (await getRuntime()).db
    .selectFrom('sites')
    .select(['id', 'name', 'site_code as siteCode', 'is_main as isMain'])
    .where('account_id', '=', caller(event).account.id)
    .orderBy('is_main', 'desc')
    .orderBy('name')
    .execute();
  return json(rows);
};
