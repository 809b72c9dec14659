import { json } from '@sveltejs/kit';
import type { PagingGroupError } from '@carillon/core';

/**
 * A refused change of a paging group, as the API answers it: an id that is not
 * the account's (a device, a user, a site; another account's among them) is bad
 * input (400, naming the field); a number taken or the bound reached is a
 * conflict (409).
 */
export function pagingGroupRefusal(err: PagingGroupError): Response {
  switch (err.code) {
    case 'not_found':
      return json({ error: 'not_found' }, { status: 404 });
    case 'bad_receiver':
      return json({ error: 'invalid_body', fields: { receiverDeviceIds: err.message } }, { status: 400 });
    case 'bad_pager':
      return json({ error: 'invalid_body', fields: { pagerExtensionIds: err.message } }, { status: 400 });
    case 'bad_site':
      return json({ error: 'invalid_body', fields: { siteId: err.message } }, { status: 400 });
    case 'number_taken':
    case 'too_many_groups':
      return json({ error: err.code, detail: err.message }, { status: 409 });
  }
}
