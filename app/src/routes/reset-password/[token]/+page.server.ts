import { fail, redirect } from '@sveltejs/kit';
import { accountInfoFor, checkUserToken, resetPassword } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params }) => {
  const rt = await getRuntime();
  const check = await checkUserToken(rt.db, params.token, 'password_reset');
  if (check.status !== 'valid') return { status: check.status, accountInfo: null };
  return { status: 'valid' as const, accountInfo: await accountInfoFor(rt.db, check.accountId, check.userId) };
};

export const actions: Actions = {
  default: async ({ params, request, locals }) => {
    const rt = await getRuntime();
    const form = await request.formData();
    const result = await resetPassword(rt.db, params.token, String(form.get('password') ?? ''), String(form.get('passwordConfirm') ?? ''), locals.ip);
    if (result.ok) redirect(303, '/login?reset=1');
    if (result.reason === 'rules') return fail(400, { errors: result.errors });
    return fail(410, { tokenStatus: result.reason });
  },
};
