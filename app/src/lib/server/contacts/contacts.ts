import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';

/** A personal contact as the API shows it. */
export interface Contact {
  id: string;
  firstName: string;
  lastName: string;
  company: string;
  phone: string;
  email: string | null;
}

const name = z.string().trim().max(80);
export const contactInput = z
  .object({
    firstName: name.default(''),
    lastName: name.default(''),
    company: name.default(''),
    // Spaces, dots, dashes and brackets are how people write numbers; what is dialled is the digits.
    phone: z
      .string()
      .trim()
      .transform((v) => v.replace(/[\s.()-]/g, ''))
      .pipe(z.string().regex(/^\+?[0-9*#]{2,20}$/, 'a phone number: digits, with an optional leading +')),
    email: z.string().trim().email().max(200).nullable().default(null),
  })
  .strict()
  .refine((c) => c.firstName || c.lastName || c.company, { message: 'a first name, last name or company is required', path: ['firstName'] });

export type ContactInput = z.output<typeof contactInput>;

const owner = (db: Kysely<Database>, accountId: string, userId: string) =>
  db.selectFrom('contacts').where('account_id', '=', accountId).where('owner_user_id', '=', userId);

const toContact = (r: { id: string; first_name: string; last_name: string; company: string; phone: string; email: string | null }): Contact => ({
  id: r.id,
  firstName: r.first_name,
  lastName: r.last_name,
  company: r.company,
  phone: r.phone,
  email: r.email,
});

/**
 * The user's contacts, optionally those whose first or last name or company
 * starts with `q`, or whose number contains its digits (as the dial box types
 * them).
 */
export async function listContacts(db: Kysely<Database>, accountId: string, userId: string, q = ''): Promise<Contact[]> {
  const text = q.trim().toLowerCase();
  const digits = text.replace(/[^0-9+]/g, '');
  let query = owner(db, accountId, userId).select(['id', 'first_name', 'last_name', 'company', 'phone', 'email']);
  if (text) {
    const prefix = `${text.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
    query = query.where((eb) =>
      eb.or([
        eb(eb.fn('lower', ['first_name']), 'like', prefix),
        eb(eb.fn('lower', ['last_name']), 'like', prefix),
        eb(eb.fn('lower', ['company']), 'like', prefix),
        ...(digits.length >= 2 ? [eb('phone', 'like', `%${digits}%`)] : []),
      ]),
    );
  }
  const rows = await query.orderBy('last_name').orderBy('first_name').orderBy('company').limit(200).execute();
  return rows.map(toContact);
}

export async function createContact(db: Kysely<Database>, accountId: string, userId: string, c: ContactInput): Promise<Contact> {
  const row = await db
    .insertInto('contacts')
    .values({ account_id: accountId, owner_user_id: userId, first_name: c.firstName, last_name: c.lastName, company: c.company, phone: c.phone, email: c.email })
    .returning(['id', 'first_name', 'last_name', 'company', 'phone', 'email'])
    .executeTakeFirstOrThrow();
  return toContact(row);
}

/** False when the contact is not this user's (another user's or another account's are the same: not found). */
export async function deleteContact(db: Kysely<Database>, accountId: string, userId: string, id: string): Promise<boolean> {
  const res = await db.deleteFrom('contacts').where('account_id', '=', accountId).where('owner_user_id', '=', userId).where('id', '=', id).executeTakeFirst();
  return res.numDeletedRows > 0n;
}
