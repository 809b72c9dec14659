import { redirect } from '@sveltejs/kit';
import { isLang } from '#lib/i18n/index.ts';
import { getRuntime } from '#lib/server/runtime.ts';
import type { RequestHandler } from './$types';

/** Switches the UI language: a cookie before sign-in, the user's own setting after. */
export const POST: RequestHandler = async ({ request, cookies, locals }) => {
  const form = await request.formData();
  const lang = form.get('lang');
  const back = String(form.get('back') ?? '/');
  if (isLang(lang)) {
    cookies.set('lang', lang, { path: '/', httpOnly: false, sameSite: 'lax', maxAge: 365 * 24 * 3600 });
    if (locals.auth) {
      const rt = await getRuntime();
      await rt.db
        .updateTable('users')
        .set({ language: lang })
        .where('id', '=', locals.auth.user.id)
        .where('account_id', '=', locals.auth.account.id)
        .execute();
    }
  }
  // Only local paths: never an open redirect.
  redirect(303, back.startsWith('/') && !back.startsWith('//') ? back : '/');
};
