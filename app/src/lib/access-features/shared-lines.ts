import type { Requirement } from '../access-policy.ts';

/**
 * Who reaches shared lines (issue 15 point 3): reading needs phone_system.view, every change
 * phone_system.manage, as for the other groups. The routes also answer 404 while the `shared_lines`
 * area is unreleased.
 */
const view: Requirement = { permission: 'phone_system.view' };
const manage: Requirement = { permission: 'phone_system.manage' };

export const sharedLinesAccess = {
  // The admin's pages read with phone_system.view; their changes go through the API routes below (phone_system.manage).
  '/(portal)/admin/phone-system/shared-lines': view,
  '/(portal)/admin/phone-system/shared-lines/[id]': view,
  '/api/shared-lines': { GET: view, POST: manage },
  '/api/shared-lines/[id]': { GET: view, PATCH: manage, DELETE: manage },
} as const;
