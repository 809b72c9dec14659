import type { RouteRule } from '../access-policy.ts';

const numbers = { permission: 'numbers.manage' } as const;
/** Approving a number for high volume, and the quiet hours, are the account's settings. */
const settings = { permission: 'account.settings' } as const;

/** Text messages (issue 18): a user's own, under My Extension › Messages, with the calling right like the tab. */
export const smsAccess: Record<string, RouteRule> = {
  '/api/me/sms': { GET: { permission: 'self.calls' }, POST: { permission: 'self.calls' } },
  '/api/me/sms/search': { GET: { permission: 'self.calls' } },
  '/api/me/sms/conversations/[id]': { GET: { permission: 'self.calls' }, DELETE: { permission: 'self.calls' } },
  '/api/me/sms/conversations/[id]/read': { POST: { permission: 'self.calls' } },
  // High-volume campaigns (deliverable 2): whoever manages the numbers registers them and runs campaigns.
  '/api/sms/registrations': { GET: numbers, POST: numbers },
  '/api/sms/registrations/[id]/review': { POST: settings },
  '/api/sms/quiet-hours': { GET: numbers, PUT: settings },
  '/api/sms/content-policy': { GET: numbers, PUT: settings },
  '/api/sms/campaigns': { GET: numbers, POST: numbers },
  '/api/sms/campaigns/[id]': { GET: numbers, PATCH: numbers },
  '/api/sms/campaigns/[id]/report': { GET: numbers },
  // The API of integrations (API tokens): one text at a time, and its status.
  '/api/sms/messages': { POST: numbers },
  '/api/sms/messages/[id]': { GET: numbers },
  '/(portal)/admin/phone-system/high-volume-sms': numbers,
};
