import { json } from '@sveltejs/kit';
import type { TemplateError } from './templates.ts';

/** A duplicate name is a conflict (409); bad settings name their fields (400). */
export function templateErrorResponse(e: TemplateError): Response {
  if (e.error === 'name_taken') return json({ error: 'name_taken', fields: { name: 'a template of this type already has this name' } }, { status: 409 });
  return json(e, { status: 400 });
}
