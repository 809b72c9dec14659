import { json } from '@sveltejs/kit';
import type { RequestEvent } from '@sveltejs/kit';
import type { z } from 'zod';
import type { AuthenticatedSession, AuditActor } from '@carillon/core';

/** The caller of an authenticated route; the access policy guarantees it exists. */
export function caller(event: Pick<RequestEvent, 'locals'>): AuthenticatedSession {
  const auth = event.locals.auth;
  if (!auth) throw new Error('route reached without a session: check access-policy.ts');
  return auth;
}

export function actorOf(event: Pick<RequestEvent, 'locals'>): AuditActor {
  return { userId: event.locals.auth?.user.id ?? null, ip: event.locals.ip, apiTokenId: event.locals.auth?.apiTokenId ?? null };
}

export const notFound = () => json({ error: 'not_found' }, { status: 404 });

/** Parses a JSON body with a schema; a bad body is a 400 naming the fields, never a 500. */
export async function readJson<S extends z.ZodType>(
  request: Request,
  schema: S,
): Promise<{ ok: true; data: z.output<S> } | { ok: false; response: Response }> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return { ok: false, response: json({ error: 'invalid_json' }, { status: 400 }) };
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    return { ok: false, response: json({ error: 'invalid_body', fields: fieldsOf(parsed.error) }, { status: 400 }) };
  }
  return { ok: true, data: parsed.data };
}

// An unknown parameter of a strict schema has no path: the issue names it instead.
const fieldsOf = (error: z.ZodError) => Object.fromEntries(error.issues.map((i) => [i.path.join('.') || ('keys' in i ? i.keys.join(',') : '_'), i.message]));

/** A query string read against its schema: the data, or the 400 to answer. */
export type QueryRead<S extends z.ZodType> = { ok: true; data: z.output<S> } | { ok: false; response: Response };

/** Parses a URL's query with a schema; a bad query is a 400 naming the parameters. */
export function readQuery<S extends z.ZodType>(url: URL, schema: S): QueryRead<S> {
  const parsed = schema.safeParse(Object.fromEntries(url.searchParams));
  if (!parsed.success) return { ok: false, response: json({ error: 'invalid_query', fields: fieldsOf(parsed.error) }, { status: 400 }) };
  return { ok: true, data: parsed.data };
}

/** Ids in paths are UUIDs; anything else cannot name a row, so it is simply not found. */
export const isUuid = (v: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
