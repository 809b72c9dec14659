import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { faxSettings, faxSettingsUpdate, updateFaxSettings } from '#lib/server/fax/fax-settings.ts';
import type { RequestHandler } from './$types';

/** The caller's outbound fax settings: cover page template and info, and e-mail to fax (the domain, the extra addresses allowed to send). */
export const GET: RequestHandler = async (event) => json(await faxSettings(await getRuntime(), caller(event)));

/**
 * Changes what the body names: `allowedSenders` replaces the extra addresses (the login address is always
 * allowed), `coverTemplate`, `omitCoverWhenSubjectBlank`, `coverInfo` (whose numbers must be the account's).
 */
export const PUT: RequestHandler = async (event) => {
  const body = await readJson(event.request, faxSettingsUpdate);
  if (!body.ok) return body.response;
  const outcome = await updateFaxSettings(await getRuntime(), caller(event), actorOf(event), body.data);
  if (!outcome.ok && 'fields' in outcome) {
    return json({ error: 'invalid_body', message: Object.values(outcome.fields).join('; '), fields: outcome.fields }, { status: 400 });
  }
  if (!outcome.ok) {
    return json({ error: 'address_taken', message: `already allowed for another user: ${outcome.taken.join(', ')}`, fields: { allowedSenders: `already allowed for another user: ${outcome.taken.join(', ')}` } }, { status: 409 });
  }
  return json(outcome.settings);
};
