import type { Requirement } from '../access-policy.ts';

/**
 * Who reaches the IVR (issue 14): reading needs phone_system.view, every change phone_system.manage.
 * The pages are also hidden while the `ivr` area is unreleased (unreleased-features.ts).
 */
const view: Requirement = { permission: 'phone_system.view' };
const manage: Requirement = { permission: 'phone_system.manage' };

export const ivrAccess = {
  '/(portal)/admin/phone-system/ivr': view,
  '/(portal)/admin/phone-system/ivr/prompts': view,
  '/(portal)/admin/phone-system/ivr/editor': view,
  '/(portal)/admin/phone-system/ivr/canvas': view,
  '/(portal)/admin/phone-system/ivr/hours': view,
  '/(portal)/admin/phone-system/ivr/directory': view,
  '/(portal)/admin/phone-system/ivr/custom-rules': view,
  '/api/ivr': { GET: view },
  '/api/ivr/settings': { PUT: manage },
  '/api/ivr/hours': { GET: view, PUT: manage },
  '/api/ivr/directory': { GET: view, PUT: manage },
  '/api/ivr/custom-rules': { GET: view, POST: manage },
  '/api/ivr/custom-rules/[id]': { PUT: manage, DELETE: manage },
  '/api/ivr/custom-rules/[id]/move': { POST: manage },
  '/api/ivr/menus': { GET: view, POST: manage },
  '/api/ivr/menus/[id]': { GET: view, PATCH: manage, DELETE: manage },
  '/api/ivr/menus/[id]/prompt': { GET: view },
  '/api/ivr/validate': { POST: view },
  '/api/ivr/export': { GET: view },
  '/api/ivr/import': { POST: manage },
  '/api/ivr/sample': { GET: view },
  '/api/ivr/greeting': { GET: view, PUT: manage, DELETE: manage },
  '/api/ivr/prompts': { GET: view, POST: manage },
  '/api/ivr/prompts/bulk': { POST: manage },
  '/api/ivr/prompts/[id]': { DELETE: manage },
  '/api/ivr/prompts/[id]/audio': { GET: view },
} as const;
