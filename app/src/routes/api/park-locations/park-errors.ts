import { json } from '@sveltejs/kit';
import type { ParkError } from '@carillon/core';

/**
 * A refused change of a park location or a pickup group, as the API answers it: a member or a site that is
 * not the account's (another account's among them), or a call queue's user without the queue's others, is bad
 * input (400, naming the field); a number taken or
 * the 100 locations reached (PK-01) is a conflict (409).
 */
export function parkRefusal(err: ParkError): Response {
  switch (err.code) {
    case 'bad_member':
      return json({ error: 'invalid_body', fields: { memberExtensionIds: err.message } }, { status: 400 });
    case 'incomplete_queue':
      // PK-03: the members chosen leave out users of a call queue one of them is in; the detail names them.
      return json({ error: 'incomplete_queue', detail: err.message, fields: { memberExtensionIds: err.message } }, { status: 400 });
    case 'bad_site':
      return json({ error: 'invalid_body', fields: { siteId: err.message } }, { status: 400 });
    case 'number_taken':
    case 'too_many_locations':
      return json({ error: err.code, detail: err.message }, { status: 409 });
  }
}
