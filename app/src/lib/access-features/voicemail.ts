import type { RouteRule } from '../access-policy.ts';

/**
 * The voicemail inbox (issue 13): the messages of the mailboxes a user reads,
 * under My Extension › Messages, with the calling right like the tab. No
 * administrator route: no permission lets anyone read another user's voicemail.
 */
export const voicemailAccess: Record<string, RouteRule> = {
  '/api/me/voicemail': { GET: { permission: 'self.calls' } },
  '/api/me/voicemail/unread': { GET: { permission: 'self.calls' } },
  '/api/me/voicemail/messages/[id]': { PATCH: { permission: 'self.calls' }, DELETE: { permission: 'self.calls' } },
  '/api/me/voicemail/messages/[id]/restore': { POST: { permission: 'self.calls' } },
  '/api/me/voicemail/messages/[id]/audio': { GET: { permission: 'self.calls' } },
};
