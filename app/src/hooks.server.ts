import { error, json, redirect } from '@sveltejs/kit';
import { sequence, type Handle, type HandleServerError } from '@sveltejs/kit/hooks';
import { resolveApiToken, resolveSession, SESSION_COOKIE, type AuthenticatedSession } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { bearerOf, isCrossSiteForm } from '#lib/server/request-auth.ts';
import { allows, requirementFor, SESSION_ONLY_ROUTES } from '#lib/access-policy.ts';
import { isLang, langFromAcceptLanguage, translator } from '#lib/i18n/index.ts';

/**
 * Headers of every response. The Content-Security-Policy itself is SvelteKit's
 * (`csp` in vite.config.ts), which puts a nonce on its own inline script; the
 * browser softphone's SIP WebSocket is added here, as its host is only known
 * per request (SIP_PUBLIC_ADDRESS, or the host the page was loaded from, as in
 * softphone.ts) and its port is the SIP edge's.
 */
const securityHeaders: Handle = async ({ event, resolve }) => {
  const response = await resolve(event);
  const csp = response.headers.get('content-security-policy');
  if (csp) {
    const configured = (await getRuntime()).config.SIP_PUBLIC_ADDRESS;
    const host = configured ? (configured.includes(':') ? `[${configured}]` : configured) : event.url.hostname;
    response.headers.set('content-security-policy', csp.replace(/(^|;\s*)connect-src ([^;]*)/, `$1connect-src $2 ws://${host}:* wss://${host}:*`));
  }
  // For browsers without CSP frame-ancestors; the rest stop MIME sniffing and leaking paths (reset links) to other sites.
  response.headers.set('x-frame-options', 'DENY');
  response.headers.set('x-content-type-options', 'nosniff');
  response.headers.set('referrer-policy', 'same-origin');
  return response;
};

/**
 * A NUL byte has no business in a URL or a JSON string, and PostgreSQL refuses
 * it in text: it would surface as a 500 from whichever query it reached.
 * Refused as a bad request. (Uploads are multipart, and not read here.)
 */
const refuseNulBytes: Handle = async ({ event, resolve }) => {
  const jsonBody = event.request.headers.get('content-type')?.startsWith('application/json') ?? false;
  if (/%00/i.test(event.url.pathname + event.url.search) || (jsonBody && /\\u0000|\0/i.test(await event.request.clone().text()))) {
    return event.url.pathname.startsWith('/api/') ? json({ error: 'bad_request' }, { status: 400 }) : new Response('Bad request', { status: 400 });
  }
  return resolve(event);
};

/**
 * Thin on purpose: resolve the session (or the API token), pick the language,
 * and enforce the access policy for every route before any handler runs.
 */
const authorize: Handle = async ({ event, resolve }) => {
  const rt = await getRuntime();
  const bearer = event.url.pathname.startsWith('/api/') ? bearerOf(event.request.headers.get('authorization')) : null;
  let auth: AuthenticatedSession | null = null;
  let token: string | undefined;
  if (bearer !== null) {
    // An integration: the token alone says who calls; a bad one is refused, never read as anonymous.
    auth = await resolveApiToken(rt.db, bearer);
    if (!auth) return json({ error: 'invalid_token' }, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
    if (!(await rt.limiter.hit(`api-token:${auth.apiTokenId}`, rt.config.API_TOKEN_MAX_PER_MINUTE, 60)).allowed) {
      return json({ error: 'rate_limited' }, { status: 429, headers: { 'retry-after': '60' } });
    }
    if (event.route.id !== null && SESSION_ONLY_ROUTES.has(event.route.id)) return json({ error: 'forbidden_for_api_tokens' }, { status: 403 });
  } else {
    if (isCrossSiteForm(event.request, event.url.origin)) {
      const message = `Cross-site ${event.request.method} form submissions are forbidden`;
      return event.request.headers.get('accept') === 'application/json' ? json({ message }, { status: 403 }) : new Response(message, { status: 403 });
    }
    token = event.cookies.get(SESSION_COOKIE);
    // The idle-warning probe must not count as activity, or the session would never time out.
    const probe = event.url.pathname === '/api/session' && event.request.method === 'GET';
    auth = token ? await resolveSession(rt.db, token, { touch: !probe }) : null;
    if (token && !auth) event.cookies.delete(SESSION_COOKIE, { path: '/' });
  }

  const cookieLang = event.cookies.get('lang');
  const lang = auth
    ? (auth.user.language ?? auth.account.language)
    : isLang(cookieLang)
      ? cookieLang
      : langFromAcceptLanguage(event.request.headers.get('accept-language'));
  event.locals.auth = auth;
  event.locals.lang = lang;
  event.locals.t = translator(lang);
  event.locals.ip = safeClientAddress(event.getClientAddress);

  const routeId = event.route.id;
  if (routeId !== null) {
    const isApi = routeId.startsWith('/api/');
    const req = requirementFor(routeId, event.request.method);
    if (!req) {
      if (isApi) return json({ error: 'method_not_allowed' }, { status: 405 });
      error(405, { message: 'Method not allowed' });
    }
    if (!allows(auth?.permissions ?? null, req)) {
      if (!auth) {
        if (isApi) return json({ error: 'unauthenticated' }, { status: 401 });
        const next = event.url.pathname + event.url.search;
        redirect(303, `/login?next=${encodeURIComponent(next)}${token ? '&expired=1' : ''}`);
      }
      if (isApi) return json({ error: 'forbidden' }, { status: 403 });
      error(403, { message: event.locals.t('error.forbidden'), code: 'forbidden' });
    }
    // The first admin finishes quick setup before using the portal (seed 001).
    if (auth && routeId.startsWith('/(portal)') && !auth.account.setup_completed_at && auth.permissions.has('account.settings')) {
      redirect(303, '/setup');
    }
  }

  return resolve(event, { transformPageChunk: ({ html }) => html.replace('%lang%', lang) });
};

export const handle = sequence(securityHeaders, refuseNulBytes, authorize);

function safeClientAddress(get: () => string): string | null {
  try {
    return get();
  } catch {
    return null;
  }
}

export const handleError: HandleServerError = async (input) => {
  // App and framework errors (403, 404…) carry their own safe message; only surprises are logged.
  if (input.kind !== 'unknown') return;
  const rt = await getRuntime();
  const err = input.error;
  rt.log.error('request failed', { route: input.event.route.id, error: err instanceof Error ? err : String(err) });
  return { message: 'Internal error' };
};
