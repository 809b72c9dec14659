import type { Requirement } from '../access-policy.ts';

/**
 * Who reaches paging groups (issue 15 point 2): reading needs phone_system.view, every change
 * phone_system.manage. The routes also answer 404 while the `paging` area is unreleased.
 */
const view: Requirement = { permission: 'phone_system.view' };
const manage: Requirement = { permission: 'phone_system.manage' };

export const pagingAccess = {
  // The admin's pages read with phone_system.view; their changes go through the API routes below (phone_system.manage).
  '/(portal)/admin/phone-system/paging': view,
  '/(portal)/admin/phone-system/paging/[id]': view,
  '/api/paging-groups': { GET: view, POST: manage },
  '/api/paging-groups/[id]': { GET: view, PATCH: manage, DELETE: manage },
} as const;
