import type { Db } from '@carillon/db';

export type FaxRoute =
  | { kind: 'extension'; extensionId: string; number: string }
  | { kind: 'none'; reason: string };

/** Why an external number fails until faxes can go out over the SIP trunk. */
export const NO_OUTBOUND_FAX_ROUTE = 'no outbound fax route';

/**
 * Where a fax to `number` (E.164) goes. A number of the same account that is
 * assigned to an extension delivers to that extension's Messages (every
 * number takes voice and fax, spec inventory 1 §9); anything else has no
 * route yet, since sending to the PSTN comes later.
 */
export async function resolveFaxRoute(db: Db, accountId: string, number: string): Promise<FaxRoute> {
  const row = await db
    .selectFrom('phone_numbers')
    .select(['extension_id', 'e164'])
    .where('account_id', '=', accountId)
    .where('e164', '=', number)
    .executeTakeFirst();
  if (!row) return { kind: 'none', reason: NO_OUTBOUND_FAX_ROUTE };
  if (!row.extension_id) return { kind: 'none', reason: 'this number of the account is not assigned to an extension' };
  return { kind: 'extension', extensionId: row.extension_id, number: row.e164 };
}
