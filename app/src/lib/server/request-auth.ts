/**
 * How a request proves who it is: a browser by its session cookie, an
 * integration by `Authorization: Bearer <API token>`. Cookies ride along on
 * cross-site form posts, so those are refused (the check SvelteKit would make,
 * done here so that bearer requests, which no other site can forge, pass).
 */
export function bearerOf(header: string | null): string | null {
  const m = /^Bearer +(\S+)\s*$/i.exec(header ?? '');
  return m ? m[1]! : null;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/** A form-like request that changes something and comes from another origin (or says nothing of its origin). */
export function isCrossSiteForm(request: Request, selfOrigin: string): boolean {
  if (!MUTATING.has(request.method)) return false;
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type && !FORM_TYPES.includes(type)) return false;
  return request.headers.get('origin') !== selfOrigin;
}
