import { smsListQuery, smsSearchQuery, smsSendSchema } from '../../sms/sms.ts';
import { z } from 'zod';
import { smsCampaignActionSchema, smsCampaignFormSchema, smsContentPolicySchema, smsQuietHoursSchema, smsRegistrationReviewSchema, smsRegistrationSchema } from '../../sms/sms-campaigns.ts';
import type { Operation } from '../operations.ts';
import { smsApiSendSchema } from '../../sms/sms-api.ts';

/** Text messages (issue 18). Unreleased: these answer 404 unless ENABLE_UNRELEASED names `sms`. */
export const smsOperations: Operation[] = [
  { route: '/api/me/sms', method: 'GET', summary: 'The signed-in user’s texting numbers, conversations and unread count (unreleased)', query: smsListQuery },
  { route: '/api/me/sms', method: 'POST', summary: 'Send a text from one of the user’s numbers to numbers or the user’s contacts (by name): a group text, or the same text to each recipient (unreleased)', body: smsSendSchema },
  { route: '/api/me/sms/search', method: 'GET', summary: 'Search the user’s texts by words of a text or part of a number, newest first, at most 100 (unreleased)', query: smsSearchQuery },
  { route: '/api/me/sms/conversations/[id]', method: 'GET', summary: 'One of the user’s conversations and its texts (unreleased)' },
  { route: '/api/me/sms/conversations/[id]', method: 'DELETE', summary: 'Delete one of the user’s conversations and its texts (unreleased)' },
  { route: '/api/me/sms/conversations/[id]/read', method: 'POST', summary: 'Mark a conversation’s received texts read (unreleased)' },
  { route: '/api/sms/registrations', method: 'GET', summary: 'The account’s high-volume SMS registrations (unreleased)' },
  { route: '/api/sms/registrations', method: 'POST', summary: 'Ask for one of the account’s numbers to be enabled for high-volume (A2P) texts (unreleased)', body: smsRegistrationSchema, status: 201 },
  { route: '/api/sms/registrations/[id]/review', method: 'POST', summary: 'Approve or reject a pending high-volume registration (unreleased)', body: smsRegistrationReviewSchema },
  { route: '/api/sms/quiet-hours', method: 'GET', summary: 'The account’s campaign quiet hours and time zone (unreleased)' },
  { route: '/api/sms/quiet-hours', method: 'PUT', summary: 'Set or clear the campaign quiet hours (unreleased)', body: smsQuietHoursSchema },
  { route: '/api/sms/content-policy', method: 'GET', summary: 'Whether the account requires clean content: texts with shortened URLs or spam patterns refused, not only warned about (unreleased)' },
  { route: '/api/sms/content-policy', method: 'PUT', summary: 'Require clean content, or only warn (unreleased)', body: smsContentPolicySchema },
  { route: '/api/sms/campaigns', method: 'GET', summary: 'The account’s SMS campaigns (unreleased)' },
  {
    route: '/api/sms/campaigns',
    method: 'POST',
    summary: 'Create a campaign from a CSV list (a phone column and the template’s fields); each bad line is reported, the good ones kept (unreleased)',
    multipart: smsCampaignFormSchema.extend({ file: z.string().meta({ format: 'binary' }) }),
    status: 201,
  },
  { route: '/api/sms/campaigns/[id]', method: 'GET', summary: 'A campaign and its progress (unreleased)' },
  { route: '/api/sms/campaigns/[id]', method: 'PATCH', summary: 'Pause, resume or cancel a campaign (unreleased)', body: smsCampaignActionSchema },
  {
    route: '/api/sms/messages',
    method: 'POST',
    summary:
      'Send one A2P text from a number approved for high volume, with an API token (Authorization: Bearer) whose role manages numbers; 201 with the message, its status and content warnings (200 and the first message for an idempotency key already used); 400 bad body, too long, not approved or unclean content where the account requires clean content; 409 opted out or no A2P carrier (unreleased)',
    body: smsApiSendSchema,
    status: 201,
  },
  { route: '/api/sms/messages/[id]', method: 'GET', summary: 'One of the account’s texts and its status: queued, sending, sent, delivered, failed (with the carrier’s error code) or unknown; 404 for another account’s (unreleased)' },
  { route: '/api/sms/campaigns/[id]/report', method: 'GET', summary: 'A campaign’s report, one CSV line per uploaded line (unreleased)', produces: ['text/csv'] },
];
