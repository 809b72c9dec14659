import type { RouteRule } from '../access-policy.ts';

/**
 * Answering rules (issue 13): a user's own under My Extension, any user's for
 * their administrators (a scoped administrator or group manager is narrowed
 * further in the handlers, as on the user's page).
 */
export const answeringRulesAccess: Record<string, RouteRule> = {
  '/(portal)/me/call-handling': { permission: 'self.settings' },
  '/api/me/answering-rules': { GET: { permission: 'self.settings' }, PUT: { permission: 'self.settings' } },
  '/(portal)/admin/users/[id]/call-handling': { permission: 'users.view' },
  '/api/users/[id]/answering-rules': { GET: { permission: 'users.view' }, PUT: { permission: 'users.manage' } },
  '/api/me/answering-rules/greetings/[rule]': { GET: { permission: 'self.settings' }, PUT: { permission: 'self.settings' }, DELETE: { permission: 'self.settings' } },
  '/api/users/[id]/answering-rules/greetings/[rule]': { GET: { permission: 'users.view' }, PUT: { permission: 'users.manage' }, DELETE: { permission: 'users.manage' } },
  // The user's recorded name (issues 13 and 14), on the same pages as the greetings and with the same permissions.
  '/api/me/name-recording': { GET: { permission: 'self.settings' }, PUT: { permission: 'self.settings' }, DELETE: { permission: 'self.settings' } },
  '/api/users/[id]/name-recording': { GET: { permission: 'users.view' }, PUT: { permission: 'users.manage' }, DELETE: { permission: 'users.manage' } },
};
