import { accountInfoFor, recordAudit, revokeOtherSessions, setVoicemailPin, storePassword, validatePassword, verifySecret, type AuditActor, type AuthenticatedSession } from '@carillon/core';
import type { Db } from '@carillon/db';
import type { PinRule } from '@carillon/domain';
import { getUserDetails, patchUserSettings, type PatchRefusal, type UserSettingsPatch } from '#lib/server/users/user-settings.ts';
import type { MePatch } from './schemas.ts';

/**
 * My Extension › Settings: what every user changes for themself. Each change goes through the
 * same server functions as the user details page (patchUserSettings, the credential rules), is
 * audited, and only ever touches the signed-in user.
 */

/** The numbers a user may show as caller ID: their own, and the company's main and additional numbers. */
export async function callerIdChoices(db: Db, accountId: string, extensionId: string) {
  return db
    .selectFrom('phone_numbers')
    .select(['id', 'e164', 'type'])
    .where('account_id', '=', accountId)
    .where((eb) => eb.or([eb('extension_id', '=', extensionId), eb.and([eb('extension_id', 'is', null), eb('type', 'in', ['main', 'additional_company'])])]))
    .orderBy('e164')
    .execute();
}

export type SelfRefusal = PatchRefusal | { status: 409; error: 'no_phone' };

export async function patchOwnSettings(db: Db, auth: AuthenticatedSession, actor: AuditActor, input: MePatch): Promise<SelfRefusal | null> {
  const before = await getUserDetails(db, auth.account.id, auth.user.id);
  if (!before) throw new Error('the signed-in user has no details');
  const patch: UserSettingsPatch = {};
  if (input.language !== undefined) patch.language = input.language;
  if (input.timeZone !== undefined) patch.timeZone = input.timeZone;
  if (input.notificationEmail !== undefined) patch.notificationEmail = input.notificationEmail;
  if (input.callerIdNumberId !== undefined) {
    const choices = await callerIdChoices(db, auth.account.id, before.extensionId);
    if (!choices.some((n) => n.id === input.callerIdNumberId)) return { status: 400, error: 'invalid_body', fields: { callerIdNumberId: "not one of your numbers or the company's" } };
    if (before.phones.length === 0) return { status: 409, error: 'no_phone' };
    patch.callerId = { byPhone: Object.fromEntries(before.phones.map((p) => [p.id, input.callerIdNumberId!])) };
  }
  return patchUserSettings(db, auth, actor, before, patch);
}

export type PasswordChangeResult = { ok: true } | { ok: false; status: 400; error: 'wrong_password' } | { ok: false; status: 400; error: 'password_rules'; rules: string[] };

/** Checks the current password, applies the usual rules to the new one, and ends the user's other sessions. */
export async function changeOwnPassword(db: Db, auth: AuthenticatedSession, actor: AuditActor, input: { currentPassword: string; newPassword: string; newPasswordConfirm: string }): Promise<PasswordChangeResult> {
  const creds = await db.selectFrom('user_credentials').select('password_hash').where('user_id', '=', auth.user.id).executeTakeFirst();
  if (!(await verifySecret(creds?.password_hash, input.currentPassword))) return { ok: false, status: 400, error: 'wrong_password' };
  const rules = validatePassword(input.newPassword, input.newPasswordConfirm, await accountInfoFor(db, auth.account.id, auth.user.id));
  if (rules.length) return { ok: false, status: 400, error: 'password_rules', rules };
  await db.transaction().execute(async (trx) => {
    await storePassword(trx, auth.user.id, input.newPassword);
    await revokeOtherSessions(trx, auth.account.id, auth.user.id, auth.sessionId);
    await recordAudit(trx, actor, { accountId: auth.account.id, action: 'user.password_changed', targetType: 'user', targetId: auth.user.id });
  });
  return { ok: true };
}

export type PinResult = { ok: true } | { ok: false; status: 400; error: 'pin_rules'; rules: (PinRule | 'mismatch')[] };

/** The voicemail PIN: the mailbox's, stored hashed by the same core function as a change by phone. */
export async function setOwnVoicemailPin(db: Db, auth: AuthenticatedSession, actor: AuditActor, input: { pin: string; pinConfirm: string }): Promise<PinResult> {
  const result = await setVoicemailPin(db, actor, auth.account.id, auth.user.id, { ...input, via: 'web' });
  if (!result) throw new Error('the signed-in user is not of their account');
  return result.ok ? result : { ok: false, status: 400, error: 'pin_rules', rules: result.rules };
}
