import type { RouteRule } from '../access-policy.ts';

/**
 * The conference bridge (issue 16): each user reads their own dial-in numbers, access codes and
 * settings, regenerates their own codes, saves their settings and sends e-mail invites, with the
 * calling right. No administrator route yet.
 */
export const conferenceAccess: Record<string, RouteRule> = {
  '/api/me/conference': { GET: { permission: 'self.calls' }, PUT: { permission: 'self.calls' } },
  '/api/me/conference/codes': { POST: { permission: 'self.calls' } },
  '/api/me/conference/invite': { POST: { permission: 'self.calls' } },
  // The host's console: their own conference in progress (the handler finds it by the caller's extension).
  '/api/me/conference/console': { GET: { permission: 'self.calls' }, POST: { permission: 'self.calls' } },
  '/(portal)/me/conferencing/console': { permission: 'self.calls' },
  // My Extension › Conferencing: the same user's page of all of it.
  '/(portal)/me/conferencing': { permission: 'self.calls' },
};
