import { fail, redirect } from '@sveltejs/kit';
import { signIn, SESSION_COOKIE } from '@carillon/core';
import { identityFromForm } from '#lib/server/login-form.ts';
import { getRuntime } from '#lib/server/runtime.ts';
import { setSessionCookie, safeNext } from '#lib/server/session-cookie.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals, url }) => {
  if (locals.auth) redirect(303, safeNext(url.searchParams.get('next')));
  return {
    notice: url.searchParams.has('expired')
      ? 'login.expired'
      : url.searchParams.has('loggedOut')
        ? 'login.loggedOut'
        : url.searchParams.has('reset')
          ? 'login.resetDone'
          : null,
  };
};

export const actions: Actions = {
  default: async ({ request, cookies, locals, url }) => {
    const rt = await getRuntime();
    const form = await request.formData();
    const password = String(form.get('password') ?? '');
    const kept = {
      identifier: String(form.get('identifier') ?? ''),
      country: String(form.get('country') ?? 'US'),
      extension: String(form.get('extension') ?? ''),
    };
    const identity = identityFromForm(form);
    // The identifier step posted without JavaScript: show the password stage, no error yet.
    if (identity && !form.has('password')) return { ...kept, error: null, params: {}, attemptsLeft: null };
    if (!identity || !password) return fail(400, { ...kept, error: 'login.invalid' as const, params: {}, attemptsLeft: null });
    const result = await signIn(rt.db, rt.limiter, rt.signInPolicy, {
      identity,
      password,
      ip: locals.ip,
      userAgent: request.headers.get('user-agent'),
    });
    if (!result.ok) {
      switch (result.reason) {
        case 'locked':
          return fail(423, { ...kept, error: 'login.locked' as const, params: { time: result.lockedUntil.toISOString().slice(11, 16) + ' UTC' }, attemptsLeft: null });
        case 'rate_limited':
          return fail(429, { ...kept, error: 'login.rateLimited' as const, params: {}, attemptsLeft: null });
        case 'disabled':
          return fail(403, { ...kept, error: 'login.disabled' as const, params: {}, attemptsLeft: null });
        default:
          return fail(401, {
            ...kept,
            error: 'login.invalid' as const,
            params: {},
            attemptsLeft: result.attemptsLeft,
          });
      }
    }
    cookies.delete(SESSION_COOKIE, { path: '/' });
    setSessionCookie(cookies, result.sessionToken, url);
    redirect(303, result.setupComplete ? safeNext(url.searchParams.get('next')) : '/setup');
  },
};
