import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import { deleteContact } from '#lib/server/contacts/contacts.ts';
import type { RequestHandler } from './$types';

export const DELETE: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const auth = caller(event);
  const ok = await deleteContact((await getRuntime()).db, auth.account.id, auth.user.id, event.params.id);
  return ok ? new Response(null, { status: 204 }) : notFound();
};
