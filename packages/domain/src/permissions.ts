/**
 * The permission catalogue and the seven predefined roles of the RingEX guide
 * (seed 000 "Rôles prédéfinis"). Predefined roles are defined here, in code,
 * and cannot be edited; custom roles (later) store their own permission sets.
 */
export const PERMISSIONS = [
  'admin.portal', // open the Admin Portal at all
  'users.view',
  'users.manage',
  'roles.manage',
  'phone_system.view',
  'phone_system.manage',
  'numbers.manage',
  'devices.manage',
  'meetings.manage',
  'reports.view',
  'reports.company_call_log',
  'billing.view',
  'billing.manage',
  'account.settings',
  'audit.view',
  'calls.international',
  'self.settings',
  'self.calls',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const PREDEFINED_ROLE_KEYS = [
  'super_admin',
  'phone_system_admin',
  'billing_admin',
  'user_admin',
  'manager',
  'standard_international',
  'standard',
] as const;
export type PredefinedRoleKey = (typeof PREDEFINED_ROLE_KEYS)[number];

/** New users get this role unless the account chose another default (seed 000 "Définition d'un rôle par défaut"). */
export const DEFAULT_ROLE_KEY: PredefinedRoleKey = 'standard_international';

const standard: Permission[] = ['self.settings', 'self.calls'];
const standardInternational: Permission[] = [...standard, 'calls.international'];

export const PREDEFINED_ROLE_PERMISSIONS: Record<PredefinedRoleKey, readonly Permission[]> = {
  super_admin: PERMISSIONS,
  phone_system_admin: [
    ...standardInternational,
    'admin.portal',
    'phone_system.view',
    'phone_system.manage',
    'numbers.manage',
    'devices.manage',
    'users.view',
    'users.manage',
  ],
  billing_admin: [
    ...standardInternational,
    'admin.portal',
    'billing.view',
    'billing.manage',
    'reports.view',
    'reports.company_call_log',
  ],
  user_admin: [...standardInternational, 'admin.portal', 'users.view', 'users.manage'],
  manager: [...standardInternational, 'admin.portal', 'reports.view', 'reports.company_call_log'],
  standard_international: standardInternational,
  standard,
};

export function isPredefinedRoleKey(key: string | null | undefined): key is PredefinedRoleKey {
  return PREDEFINED_ROLE_KEYS.includes(key as PredefinedRoleKey);
}

export function permissionsOfPredefinedRole(key: PredefinedRoleKey): ReadonlySet<Permission> {
  return new Set(PREDEFINED_ROLE_PERMISSIONS[key]);
}
