import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, readJson } from '#lib/server/api.ts';
import { contactInput, createContact, listContacts } from '#lib/server/contacts/contacts.ts';
import type { RequestHandler } from './$types';

/** The signed-in user's personal contacts; `?q=` searches them as the dial box does. */
export const GET: RequestHandler = async (event) => {
  const auth = caller(event);
  const q = (event.url.searchParams.get('q') ?? '').slice(0, 100);
  return json(await listContacts((await getRuntime()).db, auth.account.id, auth.user.id, q));
};

export const POST: RequestHandler = async (event) => {
  const auth = caller(event);
  const body = await readJson(event.request, contactInput);
  if (!body.ok) return body.response;
  return json(await createContact((await getRuntime()).db, auth.account.id, auth.user.id, body.data), { status: 201 });
};
