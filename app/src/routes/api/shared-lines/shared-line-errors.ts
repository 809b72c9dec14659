import { json } from '@sveltejs/kit';
import type { SharedLineError } from '@carillon/core';

/**
 * A refused change of a shared line, as the API answers it: an id or number that is not the account's
 * (a device, an extension, a site, a caller ID; another account's among them) or a device already on
 * another line is bad input (400, naming the field); a number taken or the bound reached is a conflict (409).
 */
export function sharedLineRefusal(err: SharedLineError): Response {
  switch (err.code) {
    case 'not_found':
      return json({ error: 'not_found' }, { status: 404 });
    case 'bad_device':
    case 'device_in_other_line':
      return json({ error: 'invalid_body', fields: { deviceIds: err.message } }, { status: 400 });
    case 'bad_extension':
      return json({ error: 'invalid_body', fields: { settings: err.message } }, { status: 400 });
    case 'bad_caller_id':
      return json({ error: 'invalid_body', fields: { 'settings.outboundCallerId.number': err.message } }, { status: 400 });
    case 'bad_site':
      return json({ error: 'invalid_body', fields: { siteId: err.message } }, { status: 400 });
    case 'number_taken':
    case 'too_many_lines':
      return json({ error: err.code, detail: err.message }, { status: 409 });
  }
}
