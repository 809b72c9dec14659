import type { Permission } from '@carillon/domain';

/**
 * The one place that says who may reach what: every page, form action, API
 * route and socket event. The server hook and the socket middleware both ask
 * here; a route missing from the table is refused (fail closed), and a test
 * checks that every route file of the app has an entry.
 */
export type Requirement =
  | 'public'
  | 'authenticated'
  | { permission: Permission }
  | { anyOf: Permission[] };
type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
type Rule = Requirement | Partial<Record<Method, Requirement>>;

const perm = (permission: Permission): Requirement => ({ permission });

export const ROUTE_ACCESS: Record<string, Rule> = {
  '/': 'public',
  '/login': 'public',
  '/logout': 'public',
  '/forgot-password': 'public',
  '/reset-password/[token]': 'public',
  '/activate/[token]': 'public',
  '/language': 'public',
  '/setup': perm('account.settings'),
  '/setup/[step]': perm('account.settings'),

  '/(portal)/admin': perm('admin.portal'),
  '/(portal)/admin/users': perm('users.view'),
  '/(portal)/admin/phone-system': { GET: perm('phone_system.view'), POST: perm('phone_system.manage') },
  '/(portal)/admin/phone-system/devices': { GET: perm('phone_system.view'), POST: perm('devices.manage') },
  '/(portal)/admin/phone-system/trunk': { GET: perm('phone_system.view'), POST: perm('phone_system.manage') },
  '/(portal)/admin/more': perm('account.settings'),
  '/(portal)/admin/more/audit-trail': perm('audit.view'),
  '/(portal)/admin/more/health': perm('account.settings'),
  '/(portal)/me': 'authenticated',
  '/(portal)/me/settings': perm('self.settings'),
  '/(portal)/me/phone': perm('self.calls'),
  '/(portal)/me/call-log': perm('self.calls'),
  '/(portal)/admin/call-log': perm('reports.company_call_log'),

  '/api/session': 'authenticated',
  '/api/session/logout-all': 'authenticated',
  '/api/me': { GET: 'authenticated', PATCH: perm('self.settings') },
  '/api/me/softphone': { GET: perm('self.calls') },
  '/api/me/dnd': { GET: perm('self.calls'), PUT: perm('self.calls') },
  '/api/presence': { GET: perm('self.calls') },
  '/api/account': { GET: 'authenticated', PATCH: perm('phone_system.manage') },
  '/api/account/settings': { GET: perm('account.settings'), PATCH: perm('account.settings') },
  '/api/sites': perm('phone_system.view'),
  '/api/sites/[id]': perm('phone_system.view'),
  '/api/users': perm('users.view'),
  '/api/users/[id]': { GET: perm('users.view'), PATCH: perm('users.manage') },
  '/api/extensions/[id]': perm('users.view'),
  '/api/audit-events': perm('audit.view'),
  '/api/devices': { GET: perm('phone_system.view'), POST: perm('devices.manage') },
  '/api/devices/[id]': { GET: perm('phone_system.view'), DELETE: perm('devices.manage') },
  '/api/devices/[id]/credentials': { POST: perm('devices.manage') },
  '/api/calls': { anyOf: ['self.calls', 'reports.company_call_log'] },
  '/api/calls/[id]': { anyOf: ['self.calls', 'reports.company_call_log'] },
  '/api/calls/export': { anyOf: ['self.calls', 'reports.company_call_log'] },
  '/api/calls/[id]/recording': { anyOf: ['self.calls', 'reports.company_call_log'] },
  '/api/trunk': { GET: perm('phone_system.view'), PUT: perm('phone_system.manage') },
  '/api/health': perm('account.settings'),
};

/** Socket.io events a client may emit, with what each requires. */
export const SOCKET_EVENT_ACCESS: Record<string, Requirement> = {
  'health:watch': perm('account.settings'),
  'session:ping': 'authenticated',
  'presence:watch': perm('self.calls'),
};

export function requirementFor(routeId: string, method: string): Requirement | undefined {
  const rule = ROUTE_ACCESS[routeId];
  if (rule === undefined) return undefined;
  if (typeof rule === 'string' || 'permission' in rule || 'anyOf' in rule) return rule as Requirement;
  const byMethod = rule as Partial<Record<Method, Requirement>>;
  // HEAD reads like GET; an unlisted method is refused.
  return byMethod[(method === 'HEAD' ? 'GET' : method) as Method];
}

export function allows(permissions: ReadonlySet<Permission> | null, req: Requirement): boolean {
  if (req === 'public') return true;
  if (!permissions) return false;
  if (req === 'authenticated') return true;
  if ('permission' in req) return permissions.has(req.permission);
  return req.anyOf.some((p) => permissions.has(p));
}
