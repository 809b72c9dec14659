import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '@carillon/db';
import { COUNTRY_CODES, LANGUAGES, toE164 } from '@carillon/domain';
import { predefinedRoleId } from './roles.ts';
import { issueUserToken } from '../auth/user-tokens.ts';
import { recordAudit } from '../audit/record-audit.ts';

export const createAccountInput = z.object({
  company: z.string().trim().min(1).max(120),
  email: z.email().max(254),
  firstName: z.string().trim().min(1).max(60).default('Admin'),
  lastName: z.string().trim().max(60).default(''),
  country: z.enum(COUNTRY_CODES).default('US'),
  language: z.enum(LANGUAGES).default('en'),
  mainNumber: z.string().optional(),
  plan: z.enum(['essentials', 'standard', 'premium', 'ultimate']).default('standard'),
});
export type CreateAccountInput = z.input<typeof createAccountInput>;

export interface CreatedAccount {
  accountId: string;
  userId: string;
  extension: string;
  mainNumber: string;
  activationToken: string;
}

/** The operator extension of a new account (seed 001 "Définir l'extension de l'opérateur"). */
export const FIRST_ADMIN_EXTENSION = '101';

/**
 * Creates a company the way a purchase does: the account, its main site, the
 * main number, and the first Super Admin on extension 101, not yet activated,
 * with an activation token valid `activationTtlHours`.
 */
export async function createAccount(
  db: Kysely<Database>,
  rawInput: CreateAccountInput,
  opts: { activationTtlHours: number },
): Promise<CreatedAccount> {
  const input = createAccountInput.parse(rawInput);
  return db.transaction().execute(async (trx) => {
    const mainNumber = input.mainNumber
      ? (toE164(input.mainNumber, input.country) ?? fail(`Invalid main number: ${input.mainNumber}`))
      : await allocateDemoNumber(trx);
    const account = await trx
      .insertInto('accounts')
      .values({
        company_name: input.company,
        country: input.country,
        language: input.language,
        plan: input.plan,
        main_number: mainNumber,
        time_format: input.country === 'US' || input.country === 'CA' ? '12h' : '24h',
        time_zone: input.country === 'FR' ? 'Europe/Paris' : input.country === 'GB' ? 'Europe/London' : 'America/New_York',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const site = await trx
      .insertInto('sites')
      .values({ account_id: account.id, name: input.company, is_main: true })
      .returning('id')
      .executeTakeFirstOrThrow();
    const ext = await trx
      .insertInto('extensions')
      .values({ account_id: account.id, site_id: site.id, number: FIRST_ADMIN_EXTENSION, type: 'user' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const user = await trx
      .insertInto('users')
      .values({
        account_id: account.id,
        extension_id: ext.id,
        role_id: await predefinedRoleId(trx, 'super_admin'),
        first_name: input.firstName,
        last_name: input.lastName,
        email: input.email.toLowerCase(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx.insertInto('user_credentials').values({ user_id: user.id }).execute();
    await trx
      .insertInto('phone_numbers')
      .values({ account_id: account.id, e164: mainNumber, type: 'main', site_id: site.id })
      .execute();
    await trx
      .updateTable('accounts')
      .set({ operator_extension_id: ext.id })
      .where('id', '=', account.id)
      .execute();
    const activationToken = await issueUserToken(trx, {
      accountId: account.id,
      userId: user.id,
      purpose: 'activation',
      ttlMs: opts.activationTtlHours * 3600_000,
    });
    await recordAudit(trx, { userId: null, ip: null }, {
      accountId: account.id,
      action: 'account.created',
      targetType: 'account',
      targetId: account.id,
      after: { company: input.company, email: input.email, plan: input.plan, mainNumber },
    });
    return { accountId: account.id, userId: user.id, extension: FIRST_ADMIN_EXTENSION, mainNumber, activationToken };
  });
}

function fail(message: string): never {
  throw new Error(message);
}

/**
 * Demo and embedded accounts get a main number from the NANP fictional range
 * 555-0100…0199, so a number handed out here can never ring a real person.
 */
async function allocateDemoNumber(db: Kysely<Database>): Promise<string> {
  const areaCodes = ['201', '212', '213', '312', '415', '512', '617', '646', '702', '718', '805', '917'];
  for (let attempt = 0; attempt < 200; attempt++) {
    const candidate = `+1${areaCodes[randomInt(areaCodes.length)]}555${String(100 + randomInt(100)).padStart(4, '0')}`;
    const taken = await db.selectFrom('phone_numbers').select('id').where('e164', '=', candidate).executeTakeFirst();
    if (!taken) return candidate;
  }
  throw new Error('No demo number left in the fictional 555-01xx range');
}
