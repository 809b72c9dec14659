import { issueUserToken, mailTexts, recordAudit, type AuditActor } from '@carillon/core';
import { queuedMailer } from '../mail-queue.ts';
import type { Runtime } from '../runtime.ts';

/**
 * "Send invite" (seed 000 "Envoi d'une invitation à un utilisateur"): a
 * welcome e-mail with an activation link, through the e-mail queue. The link
 * is the same activation page the first admin used: password, PIN and
 * security question. Called after the user's row is committed, so a link
 * never points at a user that was rolled back.
 */
export async function inviteUser(rt: Runtime, actor: AuditActor, accountId: string, userId: string): Promise<void> {
  const user = await rt.db
    .selectFrom('users')
    .innerJoin('extensions', 'extensions.id', 'users.extension_id')
    .innerJoin('sites', 'sites.id', 'extensions.site_id')
    .innerJoin('accounts', 'accounts.id', 'users.account_id')
    .select(['users.first_name', 'users.email', 'users.language', 'extensions.number', 'sites.site_code', 'accounts.company_name', 'accounts.language as account_language'])
    .where('users.account_id', '=', accountId)
    .where('users.id', '=', userId)
    .executeTakeFirstOrThrow();
  const hours = rt.config.ACTIVATION_TTL_HOURS;
  const token = await issueUserToken(rt.db, { accountId, userId, purpose: 'activation', ttlMs: hours * 3600_000 });
  const t = mailTexts(user.language ?? user.account_language);
  const extension = `${user.site_code ?? ''}${user.number}`;
  await queuedMailer(rt, { accountId, userId: null, purpose: 'invitation' }).send({
    to: user.email,
    subject: t.inviteSubject(user.company_name),
    text: t.inviteBody(user.first_name, user.company_name, extension, `${rt.config.publicUrl}/activate/${token}`, hours),
  });
  await recordAudit(rt.db, actor, { accountId, action: 'user.invited', targetType: 'user', targetId: userId, after: { email: user.email } });
}
