import type { Requirement } from '../access-policy.ts';

/**
 * Who reaches call monitoring groups (issue 15 point 6, MON-02): reading needs phone_system.view,
 * every change phone_system.manage, as the other groups of the phone system. The routes also
 * answer 404 while the `monitoring` area is unreleased (unreleased-features.ts).
 */
const view: Requirement = { permission: 'phone_system.view' };
const manage: Requirement = { permission: 'phone_system.manage' };

export const monitoringAccess = {
  // The admin's pages read with phone_system.view; their changes go through the API routes below (phone_system.manage).
  '/(portal)/admin/phone-system/monitoring': view,
  '/api/monitoring-groups': { GET: view, POST: manage },
  '/api/monitoring-groups/[id]': { GET: view, PUT: manage, DELETE: manage },
} as const;
