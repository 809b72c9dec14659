import { json } from '@sveltejs/kit';
import { LocalNumberPool, type NumberProvider, type NumberResult } from '@carillon/core';
import type { Db } from '@carillon/db';

/** The carrier behind "Add numbers": the embedded pool until a carrier's provider is configured. */
export const numberProvider = (db: Db): NumberProvider => new LocalNumberPool(db);

/** A refused number operation as JSON: the code, the fields and what the client needs to explain it. */
export function refusal(r: Extract<NumberResult<unknown>, { ok: false }>): Response {
  return json({ error: r.error, ...(r.fields ? { fields: r.fields } : {}), ...(r.detail ?? {}) }, { status: r.status });
}
