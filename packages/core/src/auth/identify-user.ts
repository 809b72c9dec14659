import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import type { Database, DndStatus, User } from '@carillon/db';
import { COUNTRY_CODES, toE164 } from '@carillon/domain';

/**
 * Who is signing in (seed 000 "Accès à votre compte"): an e-mail, or a phone
 * number with an optional extension. The number alone means the account's
 * main line, i.e. its operator extension, or the user the number is assigned to.
 */
export const loginIdentity = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('email'), email: z.email().max(254) }),
  z.object({
    kind: z.literal('phone'),
    country: z.enum(COUNTRY_CODES),
    number: z.string().trim().min(3).max(32),
    extension: z
      .string()
      .trim()
      .regex(/^[0-9]{0,9}$/)
      .optional()
      .transform((v) => (v ? v : undefined)),
  }),
]);
export type LoginIdentity = z.infer<typeof loginIdentity>;

export async function identifyUser(db: Kysely<Database>, id: LoginIdentity): Promise<User | null> {
  if (id.kind === 'email') {
    return (
      (await db
        .selectFrom('users')
        .selectAll()
        .where((eb) => eb(eb.fn('lower', ['email']), '=', id.email.toLowerCase()))
        .where('email_login', '=', true)
        .executeTakeFirst()) ?? null
    );
  }
  const e164 = toE164(id.number, id.country);
  if (!e164) return null;
  const num = await db.selectFrom('phone_numbers').selectAll().where('e164', '=', e164).executeTakeFirst();
  if (!num) return null;
  let extensionId: string | null | undefined;
  if (id.extension) {
    extensionId = await findExtensionId(db, num.account_id, id.extension);
  } else if (num.extension_id) {
    extensionId = num.extension_id;
  } else {
    const acct = await db.selectFrom('accounts').select('operator_extension_id').where('id', '=', num.account_id).executeTakeFirst();
    extensionId = acct?.operator_extension_id;
  }
  if (!extensionId) return null;
  return (
    (await db
      .selectFrom('users')
      .selectAll()
      .where('account_id', '=', num.account_id)
      .where('extension_id', '=', extensionId)
      .executeTakeFirst()) ?? null
  );
}

/** An extension as dialling or sign-in finds it, with what routing checks. */
export interface FoundExtension {
  id: string;
  number: string;
  status: string;
  dndStatus: DndStatus;
}

/** An extension typed short ("101") on the main site, or in full form with its site code ("22101"). */
export async function findExtension(db: Kysely<Database>, accountId: string, typed: string): Promise<FoundExtension | null> {
  const rows = await db
    .selectFrom('extensions')
    .innerJoin('sites', 'sites.id', 'extensions.site_id')
    .select(['extensions.id', 'extensions.number', 'extensions.status', 'extensions.dnd_status as dndStatus', 'sites.site_code', 'sites.is_main'])
    .where('extensions.account_id', '=', accountId)
    // Only the candidates: every call and sign-in comes through here, and an account may hold 10,000 extensions.
    .where((eb) => eb.or([eb('extensions.number', '=', typed), eb(sql<string>`sites.site_code || extensions.number`, '=', typed)]))
    .execute();
  const short = rows.filter((r) => r.number === typed);
  const found = rows.find((r) => r.site_code && r.site_code + r.number === typed) ?? short.find((r) => r.is_main) ?? (short.length === 1 ? short[0] : undefined);
  return found ? { id: found.id, number: found.number, status: found.status, dndStatus: found.dndStatus } : null;
}

export async function findExtensionId(db: Kysely<Database>, accountId: string, typed: string): Promise<string | null> {
  return (await findExtension(db, accountId, typed))?.id ?? null;
}
