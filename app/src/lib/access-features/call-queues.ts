import type { Requirement } from '../access-policy.ts';

/**
 * Who reaches call queues (issue 15): reading needs phone_system.view, every change phone_system.manage.
 * The routes also answer 404 while the `queues` area is unreleased (unreleased-features.ts).
 */
const view: Requirement = { permission: 'phone_system.view' };
const manage: Requirement = { permission: 'phone_system.manage' };

export const callQueuesAccess = {
  // The admin's pages read with phone_system.view; their changes go through the API routes below (phone_system.manage).
  '/(portal)/admin/phone-system/call-queues': view,
  '/(portal)/admin/phone-system/call-queues/[id]': view,
  '/api/call-queues': { GET: view, POST: manage },
  '/api/call-queues/[id]': { GET: view, PUT: manage },
  '/api/call-queues/[id]/managers': { GET: view, PUT: manage },
  '/api/call-queues/[id]/voicemail': { GET: view, PUT: manage },
  // A queue's managers (CQ-02) need no admin permission: the route finds only the queues the user manages, and core checks Full Access or Members Only.
  '/api/me/managed-call-queues': { GET: 'authenticated' },
  '/api/me/managed-call-queues/[id]': { GET: 'authenticated', PUT: 'authenticated' },
  // An agent's own log-in, with the calling right (a queue call is a call).
  '/api/me/call-queues': { GET: { permission: 'self.calls' }, PUT: { permission: 'self.calls' } },
  // The agent's page of the same toggles.
  '/(portal)/me/call-queues': { permission: 'self.calls' },
  // The supervisor view: admins (phone_system.view) and the queues' managers; the page lists only the queues the user may watch.
  '/(portal)/me/call-queues/supervisor': 'authenticated',
} as const;
