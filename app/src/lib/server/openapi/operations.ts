import { z } from 'zod';
import { accountSettingsInput, companyInfoInput, newDeviceInput, trunkInput } from '@carillon/core';
import { recordingExportRequest } from '@carillon/workers';
import { apiTokenInput, apiTokenView, createdApiToken } from '../api-tokens/api-tokens.ts';
import { auditQuery } from '../audit-events.ts';
import { callLogQuery } from '../call-log.ts';
import { contactInput } from '../contacts/contacts.ts';
import { faxSettingsUpdate } from '../fax/fax-settings.ts';
import { dndInput, mePatch } from '../me/schemas.ts';
import { siteInput, sitePatch } from '../sites/sites.ts';
import { bulkRequest } from '../users/bulk.ts';
import { usersExportQuery } from '../users/export.ts';
import { usersListQuery } from '../users/list.ts';
import { userSettingsPatch } from '../users/user-settings.ts';
import { assignRequest, unassignedQuery } from '../users/unassigned-extensions.ts';

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface Operation {
  /** The SvelteKit route id, e.g. `/api/users/[id]`; its permission comes from access-policy.ts. */
  route: string;
  method: Method;
  summary: string;
  /** The zod schema the route parses its query with (readQuery). */
  query?: z.ZodType;
  /** The zod schema the route parses its JSON body with (readJson). */
  body?: z.ZodType;
  /** A multipart body, described field by field (files are binary strings). */
  multipart?: z.ZodType;
  /** The success answer: its status, and its schema or media type when it is not plain JSON. */
  status?: number;
  response?: z.ZodType;
  produces?: string[];
}

const binary = z.string().meta({ format: 'binary' });

/**
 * Every operation of the REST API, with the very schemas its route validates
 * with: the OpenAPI document is generated from this list (document.ts), and a
 * test fails when a route file has an operation missing here.
 */
export const OPERATIONS: readonly Operation[] = [
  { route: '/api/session', method: 'GET', summary: 'When the current session ends if idle' },
  { route: '/api/session', method: 'POST', summary: 'Keep the current session alive (the idle warning’s OK)' },
  { route: '/api/session/logout-all', method: 'POST', summary: 'End every session of the signed-in user' },

  { route: '/api/me', method: 'GET', summary: 'The signed-in user, with their permissions' },
  { route: '/api/me', method: 'PATCH', summary: 'Change the signed-in user’s language', body: mePatch },
  { route: '/api/me/softphone', method: 'GET', summary: 'SIP registration of the browser softphone' },
  { route: '/api/me/dnd', method: 'GET', summary: 'The signed-in user’s Do Not Disturb state' },
  { route: '/api/me/dnd', method: 'PUT', summary: 'Set Do Not Disturb', body: dndInput },
  { route: '/api/me/contacts', method: 'GET', summary: 'Personal contacts' },
  { route: '/api/me/contacts', method: 'POST', summary: 'Add a personal contact', body: contactInput, status: 201 },
  { route: '/api/me/contacts/[id]', method: 'DELETE', summary: 'Delete a personal contact', status: 204 },
  { route: '/api/me/fax-settings', method: 'GET', summary: 'Fax-by-e-mail settings' },
  { route: '/api/me/fax-settings', method: 'PUT', summary: 'Change fax-by-e-mail settings', body: faxSettingsUpdate },
  { route: '/api/presence', method: 'GET', summary: 'Presence of every extension of the account' },

  { route: '/api/account', method: 'GET', summary: 'Company information' },
  { route: '/api/account', method: 'PATCH', summary: 'Change company information', body: companyInfoInput },
  { route: '/api/account/settings', method: 'GET', summary: 'Account security settings' },
  { route: '/api/account/settings', method: 'PATCH', summary: 'Change account security settings', body: accountSettingsInput },

  { route: '/api/sites', method: 'GET', summary: 'Sites of the account' },
  { route: '/api/sites', method: 'POST', summary: 'Create a site', body: siteInput, status: 201 },
  { route: '/api/sites/[id]', method: 'GET', summary: 'One site' },
  { route: '/api/sites/[id]', method: 'PATCH', summary: 'Change a site (name, site code, caller ID name)', body: sitePatch },

  { route: '/api/users', method: 'GET', summary: 'Users list: search, filters, sort and pages', query: usersListQuery },
  { route: '/api/users/export', method: 'GET', summary: 'Export the filtered users as CSV or XLSX', query: usersExportQuery, produces: ['text/csv', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'] },
  { route: '/api/users/bulk', method: 'POST', summary: 'Bulk action on users, answered user by user', body: bulkRequest },
  { route: '/api/users/[id]', method: 'GET', summary: 'One user' },
  { route: '/api/users/[id]', method: 'PATCH', summary: 'Change a user: details, regional settings, hours, role, primary number, caller ID, notifications, call handling', body: userSettingsPatch },
  { route: '/api/extensions/unassigned', method: 'GET', summary: 'Unassigned extensions', query: unassignedQuery },
  { route: '/api/extensions/[id]', method: 'GET', summary: 'One unassigned extension' },
  { route: '/api/extensions/[id]', method: 'DELETE', summary: 'Delete an unassigned extension', status: 204 },
  { route: '/api/extensions/[id]/assign', method: 'POST', summary: 'Assign an unassigned extension to a new user', body: assignRequest, status: 201 },

  { route: '/api/devices', method: 'GET', summary: 'Phones of the account' },
  { route: '/api/devices', method: 'POST', summary: 'Add a phone; answers its SIP credentials once', body: newDeviceInput, status: 201 },
  { route: '/api/devices/[id]', method: 'GET', summary: 'One phone' },
  { route: '/api/devices/[id]', method: 'DELETE', summary: 'Delete a phone', status: 204 },
  { route: '/api/devices/[id]/credentials', method: 'POST', summary: 'Reset a phone’s SIP password; answers it once' },
  { route: '/api/trunk', method: 'GET', summary: 'The account’s SIP trunk' },
  { route: '/api/trunk', method: 'PUT', summary: 'Create or change the SIP trunk', body: trunkInput },

  { route: '/api/calls', method: 'GET', summary: 'Call log (own calls, or the company’s)', query: callLogQuery },
  { route: '/api/calls/export', method: 'GET', summary: 'Call log as CSV', query: callLogQuery, produces: ['text/csv'] },
  { route: '/api/calls/[id]', method: 'GET', summary: 'One call with its legs' },
  { route: '/api/calls/[id]/recording', method: 'GET', summary: 'A call’s recording', produces: ['audio/wav'] },
  { route: '/api/calls/recordings-export', method: 'POST', summary: 'Start a ZIP export of the filtered calls’ recordings', body: recordingExportRequest, status: 202 },
  { route: '/api/calls/recordings-export/[id]', method: 'GET', summary: 'Progress of a recordings export' },
  { route: '/api/calls/recordings-export/[id]/download', method: 'GET', summary: 'Download a finished recordings export', produces: ['application/zip'] },

  { route: '/api/transcriptions', method: 'GET', summary: 'The caller’s transcriptions' },
  {
    route: '/api/transcriptions',
    method: 'POST',
    summary: 'Transcribe an audio file (WAV, MP3 or OGG/Opus)',
    multipart: z.object({ file: binary, notify: z.enum(['true', 'false']).optional() }),
    status: 202,
  },
  { route: '/api/transcriptions/[id]', method: 'GET', summary: 'A transcription’s status and result' },

  { route: '/api/faxes', method: 'GET', summary: 'Sent faxes with each recipient’s status' },
  {
    route: '/api/faxes',
    method: 'POST',
    summary: 'Send a fax',
    multipart: z.object({
      recipients: z.string().describe('Repeated, or separated by commas or new lines; at most 50'),
      coverPage: z.enum(['true', 'false']).optional(),
      to: z.string().optional(),
      subject: z.string().optional(),
      message: z.string().optional(),
      resolution: z.enum(['fine', 'standard']).optional(),
      sendAt: z.iso.datetime({ offset: true }).optional(),
      attachments: z.array(binary),
    }),
    status: 202,
  },
  { route: '/api/faxes/[id]', method: 'GET', summary: 'One sent fax' },
  { route: '/api/faxes/[id]/preview/[page]', method: 'GET', summary: 'A page of a sent fax as an image', produces: ['image/png'] },
  { route: '/api/fax-messages', method: 'GET', summary: 'Faxes received by the caller’s extension' },
  { route: '/api/fax-messages/[id]/pdf', method: 'GET', summary: 'A received fax as PDF', produces: ['application/pdf'] },

  { route: '/api/audit-events', method: 'GET', summary: 'Search the audit trail (up to 180 days)', query: auditQuery },
  { route: '/api/audit-events/export', method: 'GET', summary: 'The searched audit trail as CSV', query: auditQuery, produces: ['text/csv'] },
  { route: '/api/health', method: 'GET', summary: 'Health of the services' },
  { route: '/api/queues', method: 'GET', summary: 'Job queues and failed jobs' },
  { route: '/api/queues/[queue]/jobs/[id]/retry', method: 'POST', summary: 'Retry a failed job', response: z.object({ ok: z.literal(true), queue: z.string(), id: z.string() }) },

  { route: '/api/api-tokens', method: 'GET', summary: 'API tokens of the account (never their secrets)', response: z.array(apiTokenView) },
  { route: '/api/api-tokens', method: 'POST', summary: 'Create an API token; the secret is in this answer only', body: apiTokenInput, status: 201, response: createdApiToken },
  { route: '/api/api-tokens/[id]', method: 'GET', summary: 'One API token', response: apiTokenView },
  { route: '/api/api-tokens/[id]', method: 'DELETE', summary: 'Revoke an API token', response: apiTokenView },
  { route: '/api/openapi.json', method: 'GET', summary: 'This OpenAPI document' },
];
