import { fail, redirect } from '@sveltejs/kit';
import { accountInfoFor, activateAccount, checkUserToken, credentialsInput } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { setSessionCookie } from '#lib/server/session-cookie.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params }) => {
  const rt = await getRuntime();
  const check = await checkUserToken(rt.db, params.token, 'activation');
  if (check.status !== 'valid') return { status: check.status, accountInfo: null };
  // The user's own details, so the browser can tick "no account information" while they type.
  return { status: 'valid' as const, accountInfo: await accountInfoFor(rt.db, check.accountId, check.userId) };
};

export const actions: Actions = {
  default: async ({ params, request, locals, cookies, url }) => {
    const rt = await getRuntime();
    const form = Object.fromEntries(await request.formData());
    const parsed = credentialsInput.safeParse(form);
    const kept = { securityQuestion: String(form.securityQuestion ?? '') };
    if (!parsed.success) {
      return fail(400, { ...kept, errors: { securityQuestion: ['required'] } as Record<string, string[]> });
    }
    const result = await activateAccount(rt.db, params.token, parsed.data, {
      ip: locals.ip,
      userAgent: request.headers.get('user-agent'),
    });
    if (!result.ok) {
      if (result.reason === 'rules') return fail(400, { ...kept, errors: result.errors as Record<string, string[]> });
      return fail(410, { ...kept, tokenStatus: result.reason });
    }
    setSessionCookie(cookies, result.sessionToken, url);
    // The front door sends the account's first admin on to quick setup, and an invited user to where they work.
    redirect(303, '/');
  },
};
