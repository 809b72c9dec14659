import type { RouteRule } from '../access-policy.ts';

/**
 * Video meetings (issue 17): each user hosts their own meetings (personal meeting ID, created
 * meetings) with the calling right; any user of the account may open a meeting's join page, where
 * the server checks the passcode. `meetings.manage` stays for the administrator's account
 * defaults (inventory 3 §8.4), which do not exist yet.
 */
export const meetingsAccess: Record<string, RouteRule> = {
  '/api/me/meetings': { GET: { permission: 'self.calls' }, POST: { permission: 'self.calls' } },
  '/api/me/meetings/[id]': { GET: { permission: 'self.calls' }, DELETE: { permission: 'self.calls' } },
  // Any user of the account with the calling right, passcode checked in the handler (rate-limited).
  '/api/meetings/[number]/join': { POST: { permission: 'self.calls' } },
  '/(portal)/meetings/[id]': { permission: 'self.calls' },
};
