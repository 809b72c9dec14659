import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';
import { accountInfoFor, storeCredentials, validateCredentials, type CredentialErrors, type CredentialsInput } from './credentials.ts';
import { checkUserToken, consumeUserToken } from './user-tokens.ts';
import { createSession } from './sessions.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { markStepComplete } from '../accounts/setup-wizard.ts';

export type ActivationResult =
  | { ok: true; sessionToken: string; userId: string; accountId: string }
  | { ok: false; reason: 'invalid' | 'expired' | 'used' }
  | { ok: false; reason: 'rules'; errors: CredentialErrors };

/**
 * The first page of the activation link (seed 001 "Activer votre compte"):
 * password, PIN and security question. On success the extension is activated,
 * the link is spent and the user is signed in to go on with quick setup.
 */
export async function activateAccount(
  db: Kysely<Database>,
  token: string,
  input: CredentialsInput,
  ctx: { ip: string | null; userAgent: string | null },
): Promise<ActivationResult> {
  const check = await checkUserToken(db, token, 'activation');
  if (check.status !== 'valid') return { ok: false, reason: check.status };
  const errors = validateCredentials(input, await accountInfoFor(db, check.accountId, check.userId));
  if (errors) return { ok: false, reason: 'rules', errors };
  return db.transaction().execute(async (trx) => {
    if (!(await consumeUserToken(trx, token))) return { ok: false as const, reason: 'used' as const };
    await storeCredentials(trx, check.userId, input);
    const user = await trx
      .selectFrom('users')
      .select('extension_id')
      .where('id', '=', check.userId)
      .where('account_id', '=', check.accountId)
      .executeTakeFirstOrThrow();
    await trx
      .updateTable('extensions')
      .set({ status: 'activated' })
      .where('id', '=', user.extension_id)
      .where('account_id', '=', check.accountId)
      .execute();
    await markStepComplete(trx, check.accountId, check.userId, 'credentials');
    await recordAudit(trx, { userId: check.userId, ip: ctx.ip }, {
      accountId: check.accountId,
      action: 'user.activated',
      targetType: 'user',
      targetId: check.userId,
      after: { securityQuestion: input.securityQuestion },
    });
    const sessionToken = await createSession(trx, { accountId: check.accountId, userId: check.userId, ...ctx });
    return { ok: true as const, sessionToken, userId: check.userId, accountId: check.accountId };
  });
}
