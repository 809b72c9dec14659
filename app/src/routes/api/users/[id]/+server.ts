import { json } from '@sveltejs/kit';
import { diffFields, recordAudit } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { getUser } from '#lib/server/users.ts';
import { userPatch } from '#lib/server/users/schemas.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const user = await getUser((await getRuntime()).db, caller(event).account.id, event.params.id);
  return user ? json(user) : notFound();
};

export const PATCH: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const auth = caller(event);
  const rt = await getRuntime();
  const before = await rt.db
    .selectFrom('users')
    .selectAll()
    .where('account_id', '=', auth.account.id)
    .where('id', '=', event.params.id)
    .executeTakeFirst();
  if (!before) return notFound();
  const body = await readJson(event.request, userPatch);
  if (!body.ok) return body.response;
  const change = {
    ...(body.data.firstName !== undefined && { first_name: body.data.firstName }),
    ...(body.data.lastName !== undefined && { last_name: body.data.lastName }),
    ...(body.data.language !== undefined && { language: body.data.language }),
  };
  const diff = diffFields(before, change);
  if (diff) {
    await rt.db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set(change).where('account_id', '=', auth.account.id).where('id', '=', before.id).execute();
      await recordAudit(trx, actorOf(event), { accountId: auth.account.id, action: 'user.updated', targetType: 'user', targetId: before.id, ...diff });
    });
  }
  return json(await getUser(rt.db, auth.account.id, before.id));
};
