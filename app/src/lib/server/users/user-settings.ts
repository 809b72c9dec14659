import { z } from 'zod';
import {
  announceConfigChange,
  callerIdByFeatureSchema,
  callerIdValue,
  callHandlingOf,
  callHandlingSchema,
  granterOf,
  notificationsOf,
  notificationsSchema,
  recordAudit,
  refuseGrant,
  regionalSchema,
  userHoursOf,
  userHoursSchema,
  type AuditActor,
  type AuthenticatedSession,
} from '@carillon/core';
import type { Db } from '@carillon/db';
import { PERMISSIONS, type Permission } from '@carillon/domain';
import { roleError } from '../roles/roles.ts';

/**
 * The user details and settings page's data and changes (seed 000 "Détails de
 * l'utilisateur", "Téléphones et numéros", "Numéro principal", "ID de
 * l'appelant sortant", "Notifications"). Every section is one optional key of
 * the PATCH; each change is one audit event naming the sections it touched.
 */
const phone = z.string().trim().regex(/^\+?[0-9 ()./-]{3,25}$/, 'a phone number such as +1 415 555 0100').nullable();
export const userSettingsPatch = z
  .object({
    firstName: z.string().trim().min(1).max(60),
    lastName: z.string().trim().max(60),
    email: z.email().max(254),
    department: z.string().trim().max(60).nullable(),
    jobTitle: z.string().trim().max(60).nullable(),
    contactPhone: phone,
    language: z.enum(['en', 'fr']).nullable(),
    /** The time zone alone (My Extension › Settings); `regional` sets it with the language and clock. */
    timeZone: regionalSchema.shape.timeZone,
    regional: regionalSchema,
    userHours: userHoursSchema,
    roleId: z.uuid(),
    primaryNumberId: z.uuid().nullable(),
    callerId: z
      .object({
        byFeature: callerIdByFeatureSchema,
        /** Device id → the number it shows, or null for the phone's default. */
        byPhone: z.record(z.uuid(), callerIdValue.nullable()),
      })
      .partial()
      .strict(),
    notifications: notificationsSchema,
    /** Where notifications are e-mailed; null: the user's own e-mail. */
    notificationEmail: z.email().max(254).nullable(),
    callHandling: callHandlingSchema,
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change', path: ['_'] })
  // The refinement is invisible to JSON Schema: say it for the OpenAPI document.
  .meta({ minProperties: 1 });
export type UserSettingsPatch = z.output<typeof userSettingsPatch>;

export async function getUserDetails(db: Db, accountId: string, userId: string) {
  const u = await db
    .selectFrom('users')
    .innerJoin('extensions', 'extensions.id', 'users.extension_id')
    .innerJoin('roles', 'roles.id', 'users.role_id')
    .innerJoin('sites', 'sites.id', 'extensions.site_id')
    .select([
      'users.id',
      'users.first_name',
      'users.last_name',
      'users.email',
      'users.email_login',
      'users.department',
      'users.job_title',
      'users.contact_phone',
      'users.language',
      'users.time_zone',
      'users.time_format',
      'users.user_hours',
      'users.notification_settings',
      'users.notification_email',
      'users.caller_id_settings',
      'users.call_handling',
      'users.call_rules',
      'users.primary_number_id',
      'users.role_id',
      'extensions.id as extension_id',
      'extensions.number as extension',
      'extensions.status',
      'extensions.site_id',
      'sites.name as site_name',
      'sites.site_code',
      'roles.key as role_key',
      'roles.name as role_name',
    ])
    .where('users.account_id', '=', accountId)
    .where('extensions.account_id', '=', accountId)
    .where('users.id', '=', userId)
    .executeTakeFirst();
  if (!u) return null;
  const [account, numbers, phones] = await Promise.all([
    db.selectFrom('accounts').select(['language', 'time_zone', 'time_format']).where('id', '=', accountId).executeTakeFirstOrThrow(),
    db.selectFrom('phone_numbers').select(['id', 'e164', 'type', 'nickname']).where('account_id', '=', accountId).where('extension_id', '=', u.extension_id).orderBy('e164').execute(),
    db.selectFrom('devices').select(['id', 'name', 'type', 'caller_id_number_id']).where('account_id', '=', accountId).where('extension_id', '=', u.extension_id).orderBy('name').execute(),
  ]);
  return {
    id: u.id,
    firstName: u.first_name,
    lastName: u.last_name,
    email: u.email,
    emailLogin: u.email_login,
    department: u.department,
    jobTitle: u.job_title,
    contactPhone: u.contact_phone,
    extensionId: u.extension_id,
    extension: u.extension,
    fullExtension: `${u.site_code ?? ''}${u.extension}`,
    status: u.status,
    siteId: u.site_id,
    siteName: u.site_name,
    roleId: u.role_id,
    roleKey: u.role_key,
    roleName: u.role_name,
    language: u.language,
    // The user's own choice, else the company's (seed 000 "Paramètres régionaux").
    regional: { timeZone: u.time_zone ?? account.time_zone, language: u.language ?? account.language, timeFormat: u.time_format ?? account.time_format },
    userHours: userHoursOf(u.user_hours),
    notifications: notificationsOf(u.notification_settings),
    notificationEmail: u.notification_email,
    callHandling: callHandlingOf(u.call_handling),
    callRules: u.call_rules,
    callerId: { byFeature: u.caller_id_settings, byPhone: Object.fromEntries(phones.map((p) => [p.id, p.caller_id_number_id])) },
    primaryNumberId: u.primary_number_id,
    numbers,
    phones: phones.map((p) => ({ id: p.id, name: p.name, type: p.type, callerIdNumberId: p.caller_id_number_id })),
  };
}
export type UserDetails = NonNullable<Awaited<ReturnType<typeof getUserDetails>>>;

export type PatchRefusal =
  | { status: 400; error: 'invalid_body'; fields: Record<string, string> }
  | { status: 403; error: 'self_role' | 'super_admin_protected' }
  | { status: 403; error: 'permission_not_held'; permissions: Permission[] }
  | { status: 403; error: 'scope_too_narrow' }
  | { status: 409; error: 'email_taken' | 'last_super_admin' };

const SECTION_OF: Record<keyof UserSettingsPatch, string> = {
  firstName: 'details',
  lastName: 'details',
  email: 'details',
  department: 'details',
  jobTitle: 'details',
  contactPhone: 'details',
  language: 'regional',
  timeZone: 'regional',
  regional: 'regional',
  userHours: 'userHours',
  roleId: 'role',
  primaryNumberId: 'numbers',
  callerId: 'callerId',
  notifications: 'notifications',
  notificationEmail: 'notifications',
  callHandling: 'callHandling',
};

/** Applies a validated PATCH; refusals name the field or the rule, and change nothing. */
export async function patchUserSettings(db: Db, auth: AuthenticatedSession, actor: AuditActor, before: UserDetails, p: UserSettingsPatch): Promise<PatchRefusal | null> {
  const accountId = auth.account.id;
  if (p.roleId && p.roleId !== before.roleId) {
    // Nobody hands out a permission they do not hold, nor a wider scope than their own.
    const refusal = roleError(await refuseGrant(db, granterOf(auth), { roleId: p.roleId }));
    if (refusal && refusal.status === 403) return refusal;
  }
  const fields: Record<string, string> = {};
  const accountNumbers = async (ids: string[]) =>
    ids.length ? new Set((await db.selectFrom('phone_numbers').select('id').where('account_id', '=', accountId).where('id', 'in', ids).execute()).map((n) => n.id)) : new Set<string>();

  if (p.primaryNumberId && !before.numbers.some((n) => n.id === p.primaryNumberId && n.type === 'direct')) fields.primaryNumberId = "not one of the user's direct numbers";
  if (p.callerId?.byFeature) {
    const ids = Object.values(p.callerId.byFeature).filter((v): v is string => v !== undefined && v !== 'blocked');
    const known = await accountNumbers(ids);
    for (const [f, v] of Object.entries(p.callerId.byFeature)) if (v && v !== 'blocked' && !known.has(v)) fields[`callerId.byFeature.${f}`] = 'not a number of the account';
  }
  if (p.callerId?.byPhone) {
    const known = await accountNumbers(Object.values(p.callerId.byPhone).filter((v): v is string => !!v && v !== 'blocked'));
    for (const [deviceId, v] of Object.entries(p.callerId.byPhone)) {
      if (!before.phones.some((ph) => ph.id === deviceId)) fields[`callerId.byPhone.${deviceId}`] = "not one of the user's phones";
      else if (v === 'blocked') fields[`callerId.byPhone.${deviceId}`] = 'a phone shows a number';
      else if (v && !known.has(v)) fields[`callerId.byPhone.${deviceId}`] = 'not a number of the account';
    }
  }
  let newRoleKey: string | null = null;
  if (p.roleId && p.roleId !== before.roleId) {
    const role = await db.selectFrom('roles').select(['id', 'key']).where('id', '=', p.roleId).where((eb) => eb.or([eb('account_id', '=', accountId), eb('account_id', 'is', null)])).executeTakeFirst();
    if (!role) fields.roleId = 'not_found';
    else newRoleKey = role.key;
  }
  if (Object.keys(fields).length) return { status: 400, error: 'invalid_body', fields };

  if (p.roleId && p.roleId !== before.roleId) {
    if (before.id === auth.user.id) return { status: 403, error: 'self_role' };
    const callerIsSuperAdmin = PERMISSIONS.every((perm) => auth.permissions.has(perm));
    if ((before.roleKey === 'super_admin' || newRoleKey === 'super_admin') && !callerIsSuperAdmin) return { status: 403, error: 'super_admin_protected' };
  }

  const change: Record<string, unknown> = {};
  const set = (col: string, v: unknown) => (change[col] = v);
  if (p.firstName !== undefined) set('first_name', p.firstName);
  if (p.lastName !== undefined) set('last_name', p.lastName);
  if (p.email !== undefined) set('email', p.email.toLowerCase());
  if (p.department !== undefined) set('department', p.department || null);
  if (p.jobTitle !== undefined) set('job_title', p.jobTitle || null);
  if (p.contactPhone !== undefined) set('contact_phone', p.contactPhone || null);
  if (p.language !== undefined) set('language', p.language);
  if (p.timeZone !== undefined) set('time_zone', p.timeZone);
  if (p.regional) {
    set('language', p.regional.language);
    set('time_zone', p.regional.timeZone);
    set('time_format', p.regional.timeFormat);
  }
  if (p.userHours) set('user_hours', JSON.stringify(p.userHours));
  if (p.roleId) set('role_id', p.roleId);
  if (p.primaryNumberId !== undefined) set('primary_number_id', p.primaryNumberId);
  if (p.callerId?.byFeature) set('caller_id_settings', JSON.stringify(p.callerId.byFeature));
  if (p.notifications) set('notification_settings', JSON.stringify(p.notifications));
  if (p.notificationEmail !== undefined) set('notification_email', p.notificationEmail?.toLowerCase() ?? null);
  if (p.callHandling) set('call_handling', JSON.stringify(p.callHandling));

  const sections = [...new Set(Object.keys(p).map((k) => SECTION_OF[k as keyof UserSettingsPatch]))];
  const beforeView: Record<string, unknown> = {};
  const afterView: Record<string, unknown> = {};
  for (const k of Object.keys(p) as (keyof UserSettingsPatch)[]) {
    beforeView[k] = k === 'callerId' ? before.callerId : k === 'timeZone' ? before.regional.timeZone : (before as Record<string, unknown>)[k];
    afterView[k] = p[k];
  }
  if (JSON.stringify(beforeView) === JSON.stringify(afterView)) return null;
  try {
    const refused = await db.transaction().execute(async (trx) => {
      if (p.roleId && before.roleKey === 'super_admin' && p.roleId !== before.roleId) {
        // Serialised per account, as bulk disable is: two admins cannot demote "the other" last Super Admin.
        await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().executeTakeFirst();
        const others = await trx
          .selectFrom('users')
          .innerJoin('extensions', 'extensions.id', 'users.extension_id')
          .innerJoin('roles', 'roles.id', 'users.role_id')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('users.account_id', '=', accountId)
          .where('roles.key', '=', 'super_admin')
          .where('extensions.status', '!=', 'disabled')
          .where('users.id', '!=', before.id)
          .executeTakeFirstOrThrow();
        if (Number(others.n) === 0) return { status: 409 as const, error: 'last_super_admin' as const };
      }
      if (Object.keys(change).length) await trx.updateTable('users').set(change).where('account_id', '=', accountId).where('id', '=', before.id).execute();
      if (p.callerId?.byPhone) {
        for (const [deviceId, numberId] of Object.entries(p.callerId.byPhone)) {
          await trx.updateTable('devices').set({ caller_id_number_id: numberId }).where('account_id', '=', accountId).where('id', '=', deviceId).where('extension_id', '=', before.extensionId).execute();
        }
      }
      await recordAudit(trx, actor, { accountId, action: 'user.updated', targetType: 'user', targetId: before.id, before: { sections, ...beforeView }, after: { sections, ...afterView } });
      return null;
    });
    // The hours, the time zone and the ring mode decide which answering rule takes a call: announced once committed.
    if (!refused && (p.userHours || p.regional || p.timeZone !== undefined || p.callHandling)) await announceConfigChange(accountId, 'answering_rules');
    // The name, the role (calling rights) and the phones' caller ID are read by routing (media-server caches them).
    if (!refused && (p.firstName !== undefined || p.lastName !== undefined || p.roleId || p.callerId?.byPhone)) await announceConfigChange(accountId, 'users');
    return refused;
  } catch (err) {
    if ((err as { code?: string }).code === '23505') return { status: 409, error: 'email_taken' };
    throw err;
  }
}
