import { z } from 'zod';
import type { Permission } from '@carillon/domain';
import { meetingRequest } from '@carillon/contracts/meeting-control';
import { FEATURE_ROUTE_ACCESS } from './access-features/index.ts';

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
export type RouteRule = Requirement | Partial<Record<Method, Requirement>>;
type Rule = RouteRule;

const perm = (permission: Permission): Requirement => ({ permission });

const CENTRAL_ROUTE_ACCESS: Record<string, Rule> = {
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
  '/(portal)/admin/more/queues': perm('account.settings'),
  '/(portal)/me': 'authenticated',
  '/(portal)/me/settings': perm('self.settings'),
  '/(portal)/me/phone': perm('self.calls'),
  '/(portal)/me/call-log': perm('self.calls'),
  '/(portal)/admin/call-log': perm('reports.company_call_log'),

  '/api/session': 'authenticated',
  '/api/session/logout-all': 'authenticated',
  '/api/me': { GET: 'authenticated', PATCH: perm('self.settings') },
  '/api/me/password': { POST: perm('self.settings') },
  '/api/me/voicemail-pin': { PUT: perm('self.settings') },
  '/api/me/softphone': { GET: perm('self.calls') },
  '/api/me/dnd': { GET: perm('self.calls'), PUT: perm('self.calls') },
  '/api/me/contacts': { GET: perm('self.calls'), POST: perm('self.calls') },
  '/api/me/contacts/[id]': { DELETE: perm('self.calls') },
  '/(portal)/me/contacts': perm('self.calls'),
  '/api/presence': { GET: perm('self.calls') },
  '/api/account': { GET: 'authenticated', PATCH: perm('phone_system.manage') },
  '/api/account/settings': { GET: perm('account.settings'), PATCH: perm('account.settings') },
  '/api/sites': { GET: perm('phone_system.view'), POST: perm('phone_system.manage') },
  '/api/sites/[id]': { GET: perm('phone_system.view'), PATCH: perm('phone_system.manage') },
  '/(portal)/admin/phone-system/sites': perm('phone_system.view'),
  '/api/users': perm('users.view'),
  '/api/users/export': perm('users.view'),
  '/api/users/bulk': { POST: perm('users.manage') },
  '/api/users/batch': { GET: perm('users.manage'), POST: perm('users.manage') },
  '/api/users/bulk-edit': { POST: perm('users.manage') },
  '/api/users/bulk-edit/[id]': { GET: perm('users.manage') },
  '/api/users/bulk-edit/[id]/confirm': { POST: perm('users.manage') },
  '/api/users/[id]': { GET: perm('users.view'), PATCH: perm('users.manage') },
  // Roles and user groups (issue 5): a scoped admin or group manager is narrowed further in the handlers.
  '/api/roles': { GET: perm('users.view'), POST: perm('roles.manage') },
  '/api/roles/[id]': { GET: perm('users.view'), PATCH: perm('roles.manage'), DELETE: perm('roles.manage') },
  '/(portal)/admin/users/roles': perm('roles.manage'),
  '/api/user-groups': { GET: perm('users.view'), POST: perm('users.manage') },
  '/api/user-groups/[id]': { GET: perm('users.view'), PATCH: perm('users.manage'), DELETE: perm('users.manage') },
  '/api/user-groups/[id]/members': { POST: perm('users.manage') },
  '/api/user-groups/[id]/members/[userId]': { DELETE: perm('users.manage') },
  '/(portal)/admin/users/groups': { GET: perm('users.view'), POST: perm('users.manage') },
  '/api/extensions/[id]': { GET: perm('users.view'), DELETE: perm('users.manage') },
  '/api/extensions/[id]/assign': { POST: perm('users.manage') },
  '/api/extensions/unassigned': { GET: perm('users.view') },
  '/(portal)/admin/users/unassigned': perm('users.view'),
  '/(portal)/admin/users/add': perm('users.manage'),
  '/(portal)/me/emergency-address': 'authenticated',
  '/(portal)/admin/users/bulk-edit': perm('users.manage'),
  '/api/templates': { GET: perm('users.view'), POST: perm('users.manage') },
  '/api/templates/[id]': { GET: perm('users.view'), PATCH: perm('users.manage'), DELETE: perm('users.manage') },
  '/api/templates/[id]/apply': { POST: perm('users.manage') },
  '/api/template-applications/[id]': { GET: perm('users.view') },
  '/api/users/[id]/reset-assign': { POST: perm('users.manage') },
  '/(portal)/admin/users/templates': perm('users.view'),
  '/(portal)/admin/users/[id]': perm('users.view'),
  '/api/audit-events': perm('audit.view'),
  '/api/audit-events/export': perm('audit.view'),
  '/api/devices': { GET: perm('phone_system.view'), POST: perm('devices.manage') },
  '/api/devices/[id]': { GET: perm('phone_system.view'), DELETE: perm('devices.manage') },
  '/api/devices/[id]/credentials': { POST: perm('devices.manage') },
  '/api/devices/[id]/assign': { POST: perm('devices.manage') },
  '/api/devices/common-area': { POST: perm('devices.manage') },
  '/api/numbers': { GET: perm('phone_system.view'), POST: perm('numbers.manage') },
  '/api/numbers/[id]': { GET: perm('phone_system.view'), PATCH: perm('numbers.manage') },
  '/api/numbers/pool': { GET: perm('numbers.manage') },
  '/api/numbers/reservations': { GET: perm('numbers.manage'), POST: perm('numbers.manage'), DELETE: perm('numbers.manage') },
  '/api/numbers/purchase': { POST: perm('numbers.manage') },
  '/(portal)/admin/phone-system/numbers': { GET: perm('phone_system.view'), POST: perm('numbers.manage') },
  '/api/calls': { anyOf: ['self.calls', 'reports.company_call_log'] },
  '/api/calls/[id]': { anyOf: ['self.calls', 'reports.company_call_log'] },
  '/api/calls/export': { anyOf: ['self.calls', 'reports.company_call_log'] },
  '/api/calls/[id]/recording': { anyOf: ['self.calls', 'reports.company_call_log'] },
  // Scoped further in the handler: one's own live calls with self.calls, any call of the account with phone_system.manage.
  '/api/calls/[id]/commands': { POST: { anyOf: ['self.calls', 'phone_system.manage'] } },
  // Scoped further in the handlers: a Standard user exports only their own calls, and sees only their own exports.
  '/api/calls/recordings-export': { POST: { anyOf: ['self.calls', 'reports.company_call_log'] } },
  '/api/calls/recordings-export/[id]': { GET: { anyOf: ['self.calls', 'reports.company_call_log'] } },
  '/api/calls/recordings-export/[id]/download': { GET: { anyOf: ['self.calls', 'reports.company_call_log'] } },
  '/api/trunk': { GET: perm('phone_system.view'), PUT: perm('phone_system.manage') },
  '/api/health': perm('account.settings'),
  '/api/transcriptions': { GET: perm('self.calls'), POST: perm('self.calls') },
  '/api/transcriptions/[id]': { GET: perm('self.calls') },
  '/api/queues': { GET: perm('account.settings') },
  // FaxOut: a user sees only the faxes they sent and those received by their own extension.
  '/(portal)/me/fax': perm('self.calls'),
  '/(portal)/me/messages': perm('self.calls'),
  '/api/faxes': { GET: perm('self.calls'), POST: perm('self.calls') },
  '/api/faxes/[id]': { GET: perm('self.calls') },
  '/api/faxes/[id]/preview/[page]': { GET: perm('self.calls') },
  '/api/fax-messages': { GET: perm('self.calls') },
  '/api/fax-messages/[id]/pdf': { GET: perm('self.calls') },
  '/api/me/fax-settings': { GET: perm('self.calls'), PUT: perm('self.calls') },
  '/api/queues/[queue]/jobs/[id]/retry': { POST: perm('account.settings') },
  '/(portal)/admin/more/api-tokens': perm('account.settings'),
  '/api/api-tokens': { GET: perm('account.settings'), POST: perm('account.settings') },
  '/api/api-tokens/[id]': { GET: perm('account.settings'), DELETE: perm('account.settings') },
  '/api/openapi.json': 'public',
};

/** The central table and the features' own (access-features/); a route in two of them throws at load. */
export const ROUTE_ACCESS: Record<string, Rule> = mergeRouteAccess(CENTRAL_ROUTE_ACCESS, ...FEATURE_ROUTE_ACCESS);

function mergeRouteAccess(...tables: Record<string, Rule>[]): Record<string, Rule> {
  const merged: Record<string, Rule> = {};
  for (const table of tables) {
    for (const [route, rule] of Object.entries(table)) {
      if (Object.hasOwn(merged, route)) throw new Error(`access policy: ${route} is listed twice`);
      merged[route] = rule;
    }
  }
  return merged;
}

/**
 * Routes an API token may not call, whatever its role: a token cannot mint or
 * revoke tokens (a leaked one could otherwise keep itself alive) nor act on
 * its creator's browser sessions, password or PIN.
 */
export const SESSION_ONLY_ROUTES: ReadonlySet<string> = new Set(['/api/api-tokens', '/api/api-tokens/[id]', '/api/session', '/api/session/logout-all', '/api/me/password', '/api/me/voicemail-pin']);

/**
 * A socket.io event a client may emit: who may send it, and the arguments it
 * carries before its acknowledgement (a zod tuple, checked before any handler
 * runs; an event that does not match is answered `invalid_payload` or dropped).
 */
export interface SocketEventSpec {
  access: Requirement;
  payload: z.ZodTuple;
}

/** The no-argument payload of the watch and ping events: anything sent along is refused, not ignored. */
const noPayload = z.tuple([]);

/**
 * Socket.io events a client may emit. The socket server serves exactly these
 * (its handler table is typed by this one), and the fuzz test sends each of
 * them every kind of bad input, so a new event is checked by being added here.
 */
export const SOCKET_EVENTS = {
  'health:watch': { access: perm('account.settings'), payload: noPayload },
  'session:ping': { access: 'authenticated', payload: noPayload },
  'presence:watch': { access: perm('self.calls'), payload: noPayload },
  'queues:watch': { access: perm('account.settings'), payload: noPayload },
  // The call queues' supervisor view (issue 15): admins and queue managers alike, so the handler checks each queue
  // (supervisableQueues) and answers not_found for any other.
  'queues:supervise': { access: 'authenticated', payload: z.tuple([z.object({ queueIds: z.array(z.string().uuid()).min(1).max(50) }).strict()]) },
  // The host's conference console (issue 16): the handler refuses any conference but the caller's own.
  'conference:watch': { access: perm('self.calls'), payload: z.tuple([z.object({ hostExtensionId: z.string().uuid() }).strict()]) },
  // Video meetings (issue 17): the join token (given after the passcode check) names the meeting; signalling then acts on the socket's own peer only.
  'meeting:join': { access: perm('self.calls'), payload: z.tuple([z.object({ joinToken: z.string().min(1).max(64) }).strict()]) },
  'meeting:signal': { access: perm('self.calls'), payload: z.tuple([meetingRequest]) },
} as const satisfies Record<string, SocketEventSpec>;

export type SocketEventName = keyof typeof SOCKET_EVENTS;
export const isSocketEventName = (name: unknown): name is SocketEventName => typeof name === 'string' && Object.hasOwn(SOCKET_EVENTS, name);

/**
 * What one client may take of a node's resources through socket.io. Each socket
 * has a token bucket of events; a watch is kept once per socket however often it
 * is asked, and a user may keep each watch on a bounded number of sockets.
 */
export const SOCKET_LIMITS = {
  /** Events a socket may send at once before it is answered `rate_limited`… */
  eventBurst: 30,
  /** …and how many it regains each second. */
  eventsPerSecond: 10,
  /** Open sockets of one user, per app node: a tab holds one. */
  socketsPerUser: 50,
  /** Sockets of one user watching the same thing (tabs open on the health page, say), per app node. */
  watchingSocketsPerUser: 10,
  /** Larger socket.io messages close the socket: no event carries more than a few bytes. */
  maxMessageBytes: 64 * 1024,
} as const;

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
