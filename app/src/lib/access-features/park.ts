import type { Requirement } from '../access-policy.ts';

/**
 * Who reaches park locations and directed call pickup groups (issue 15 points 4, 5): reading needs
 * phone_system.view, every change phone_system.manage. The routes also answer 404 while the `park` area is
 * unreleased.
 */
const view: Requirement = { permission: 'phone_system.view' };
const manage: Requirement = { permission: 'phone_system.manage' };

export const parkAccess = {
  // The admin's pages read with phone_system.view; their changes go through the API routes below (phone_system.manage).
  '/(portal)/admin/phone-system/park': view,
  '/(portal)/admin/phone-system/pickup': view,
  '/api/park-locations': { GET: view, POST: manage },
  '/api/park-locations/[id]': { GET: view, PATCH: manage, DELETE: manage },
  '/api/pickup-groups': { GET: view, POST: manage },
  '/api/pickup-groups/[id]': { GET: view, PATCH: manage, DELETE: manage },
} as const;
