import { fail } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid } from '#lib/server/api.ts';
import { apiTokenInput, ApiTokenError, createApiToken, grantableRoles, listApiTokens, revokeApiToken } from '#lib/server/api-tokens/api-tokens.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const db = (await getRuntime()).db;
  const auth = caller(event);
  const [tokens, roles] = await Promise.all([listApiTokens(db, auth.account.id), grantableRoles(db, auth)]);
  return { tokens, roles };
};

const ERRORS = { name: 'apiTokens.error.name', expiresAt: 'apiTokens.error.expiresAt', roleId: 'apiTokens.error.role' } as const;

export const actions: Actions = {
  create: async (event) => {
    const form = await event.request.formData();
    const name = String(form.get('name') ?? '');
    const expiry = String(form.get('expiresAt') ?? '');
    const parsed = apiTokenInput.safeParse({
      name,
      roleId: String(form.get('roleId') ?? ''),
      // A date picked in the form: the token works until the end of that day (UTC).
      expiresAt: expiry ? `${expiry}T23:59:59Z` : null,
    });
    if (!parsed.success) {
      const field = (parsed.error.issues[0]?.path[0] ?? 'name') as keyof typeof ERRORS;
      return fail(400, { error: ERRORS[field] ?? ERRORS.name, name, expiry });
    }
    try {
      const created = await createApiToken((await getRuntime()).db, actorOf(event), caller(event), parsed.data);
      // The secret goes back in this one answer only; reloading the page shows the prefix.
      return { created: { id: created.id, name: created.name, secret: created.secret } };
    } catch (err) {
      if (err instanceof ApiTokenError) return fail(400, { error: ERRORS.roleId, name, expiry });
      throw err;
    }
  },
  revoke: async (event) => {
    const id = String((await event.request.formData()).get('id') ?? '');
    const token = isUuid(id) ? await revokeApiToken((await getRuntime()).db, actorOf(event), caller(event).account.id, id) : null;
    if (!token) return fail(404, { error: 'error.notFound' as const });
    return { revoked: token.name };
  },
};
