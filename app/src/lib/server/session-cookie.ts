import type { Cookies } from '@sveltejs/kit';
import { SESSION_COOKIE } from '@carillon/core';

/** A browser-session cookie: the idle timeout is enforced on the server, not by cookie expiry. */
export function setSessionCookie(cookies: Cookies, token: string, url: URL): void {
  cookies.set(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure: url.protocol === 'https:' });
}

/** Where to go after sign-in: only a local path, never another site. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}
