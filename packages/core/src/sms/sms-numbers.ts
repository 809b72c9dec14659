import type { Db } from '@carillon/db';
import { getIvrSettings } from '../ivr/ivr-store.ts';

/**
 * Who reads the texts of which business number (issue 18): a number of a
 * user's extension is that user's; a company number (main or additional
 * company, held by no user's extension: unassigned or on an IVR menu) is the
 * Company Fax/SMS recipient's (IVR-04, `faxSmsRecipient` of the IVR
 * settings). The recipient is read when asked, so an admin who names another
 * one hands over the company conversations, history included. With no
 * recipient (or one that is no longer a user's extension) nobody reads them
 * until the admin names one; the texts are kept.
 */

export interface SmsUser {
  accountId: string;
  userId: string;
}

const COMPANY_NUMBER_TYPES = ['main', 'additional_company'] as const;

const withPlus = (e164: string): string => (e164.startsWith('+') ? e164 : `+${e164}`);

/** The user the Company Fax/SMS recipient names, or null. */
export async function smsCompanyRecipient(db: Db, accountId: string): Promise<string | null> {
  const extension = (await getIvrSettings(db, accountId)).faxSmsRecipient;
  if (extension === null) return null;
  const row = await db
    .selectFrom('users')
    .innerJoin('extensions as e', 'e.id', 'users.extension_id')
    .select('users.id')
    .where('users.account_id', '=', accountId)
    .where('e.account_id', '=', accountId)
    .where('e.type', '=', 'user')
    .where('e.number', '=', extension)
    .executeTakeFirst();
  return row?.id ?? null;
}

/** The account's company numbers, in E.164 with '+'. */
export async function smsCompanyNumbers(db: Db, accountId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('phone_numbers as p')
    .select('p.e164')
    .where('p.account_id', '=', accountId)
    .where('p.type', 'in', COMPANY_NUMBER_TYPES)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('users as u').select('u.id').whereRef('u.extension_id', '=', 'p.extension_id').where('u.account_id', '=', accountId))),
    )
    .execute();
  return rows.map((r) => withPlus(r.e164));
}

/** The numbers a user texts from and receives on: those of the user's extension, and the company numbers when the user is the recipient. */
export async function smsNumbersOfUser(db: Db, user: SmsUser): Promise<string[]> {
  const rows = await db
    .selectFrom('phone_numbers')
    .innerJoin('users', 'users.extension_id', 'phone_numbers.extension_id')
    .select('phone_numbers.e164')
    .where('users.id', '=', user.userId)
    .where('users.account_id', '=', user.accountId)
    .where('phone_numbers.account_id', '=', user.accountId)
    .execute();
  const own = rows.map((r) => withPlus(r.e164));
  const company = (await smsCompanyRecipient(db, user.accountId)) === user.userId ? await smsCompanyNumbers(db, user.accountId) : [];
  return [...new Set([...own, ...company])].sort();
}

/** The users who see a business number's conversations: the users of the number's extension, or the recipient for a company number. */
export async function smsUsersOfNumber(db: Db, accountId: string, businessNumber: string): Promise<string[]> {
  const number = withPlus(businessNumber);
  const rows = await db
    .selectFrom('phone_numbers')
    .innerJoin('users', 'users.extension_id', 'phone_numbers.extension_id')
    .select('users.id')
    .where('phone_numbers.account_id', '=', accountId)
    .where('users.account_id', '=', accountId)
    .where('phone_numbers.e164', 'in', [number, number.slice(1)])
    .orderBy('users.id')
    .execute();
  if (rows.length > 0) return [...new Set(rows.map((r) => r.id))];
  if (!(await smsCompanyNumbers(db, accountId)).includes(number)) return [];
  const recipient = await smsCompanyRecipient(db, accountId);
  return recipient ? [recipient] : [];
}
