import type { RouteRule } from '../access-policy.ts';

/**
 * The conference bridge (issue 16): each user reads their own dial-in numbers, access codes and
 * settings, and regenerates their own codes, with the calling right. No administrator route yet.
 */
export const conferenceAccess: Record<string, RouteRule> = {
  '/api/me/conference': { GET: { permission: 'self.calls' } },
  '/api/me/conference/codes': { POST: { permission: 'self.calls' } },
};
