import { z } from 'zod';
import {
  accountSettingsInput,
  commonAreaPhoneInput,
  companyInfoInput,
  deviceListQuery,
  forwardedNumberInput,
  newDeviceInput,
  numberListQuery,
  numberUpdateInput,
  poolSearchInput,
  purchaseInput,
  reserveInput,
  trunkForwardingInput,
} from '@carillon/core';
import { recordingExportRequest } from '@carillon/contracts/recording-export-filters';
import { callCommandRequest } from '@carillon/contracts/call-control';
import { apiTokenInput, apiTokenView, createdApiToken } from '../api-tokens/api-tokens.ts';
import { auditQuery } from '../audit-events.ts';
import { callLogQuery } from '../call-log.ts';
import { contactInput } from '../contacts/contacts.ts';
import { deviceAssignInput } from '../devices/schemas.ts';
import { faxSettingsUpdate } from '../fax/fax-settings.ts';
import { dndInput, mePatch, passwordChange, voicemailPinInput } from '../me/schemas.ts';
import { roleCreate, rolePatch } from '../roles/roles.ts';
import { siteInput, sitePatch } from '../sites/sites.ts';
import { applyRequest, templateCreate, templateListQuery, templatePatch } from '../templates/templates.ts';
import { groupCreate, groupPatch, membersAdd } from '../user-groups/groups.ts';
import { addUsersRequest } from '../users/add-users.ts';
import { bulkRequest } from '../users/bulk.ts';
import { usersExportQuery } from '../users/export.ts';
import { usersListQuery } from '../users/list.ts';
import { resetAssignRequest } from '../users/reset-assign.ts';
import { userSettingsPatch } from '../users/user-settings.ts';
import { assignRequest, unassignedQuery } from '../users/unassigned-extensions.ts';
import { FEATURE_OPERATIONS } from './features/index.ts';

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
  /** A raw body of these media types: the file itself (a greeting's audio), streamed by the route. */
  accepts?: string[];
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
const CENTRAL_OPERATIONS: readonly Operation[] = [
  { route: '/api/session', method: 'GET', summary: 'When the current session ends if idle' },
  { route: '/api/session', method: 'POST', summary: 'Keep the current session alive (the idle warning’s OK)' },
  { route: '/api/session/logout-all', method: 'POST', summary: 'End every session of the signed-in user' },

  { route: '/api/me', method: 'GET', summary: 'The signed-in user, with their permissions' },
  { route: '/api/me', method: 'PATCH', summary: 'Change the signed-in user’s language, time zone, notification e-mail or caller ID', body: mePatch },
  { route: '/api/me/password', method: 'POST', summary: 'Change the signed-in user’s password (the current one required); ends their other sessions', body: passwordChange },
  { route: '/api/me/voicemail-pin', method: 'PUT', summary: 'Set the signed-in user’s voicemail PIN', body: voicemailPinInput },
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
  { route: '/api/users/batch', method: 'GET', summary: 'Choices for adding users: sites, roles, free extensions and numbers' },
  { route: '/api/users/batch', method: 'POST', summary: 'Add several users at once, answered user by user', body: addUsersRequest },
  {
    route: '/api/users/bulk-edit',
    method: 'POST',
    summary: 'Upload an edited users spreadsheet (CSV or XLSX) and get the changes it would make',
    multipart: z.object({ file: binary }),
    status: 201,
  },
  { route: '/api/users/bulk-edit/[id]', method: 'GET', summary: 'An uploaded bulk edit with its changes and errors' },
  { route: '/api/users/bulk-edit/[id]/confirm', method: 'POST', summary: 'Apply an uploaded bulk edit' },
  { route: '/api/users/[id]', method: 'GET', summary: 'One user' },
  { route: '/api/users/[id]/reset-assign', method: 'POST', summary: 'Reset a user’s extension and give it to someone else', body: resetAssignRequest },
  { route: '/api/users/[id]', method: 'PATCH', summary: 'Change a user: details, regional settings, hours, role, primary number, caller ID, notifications, call handling', body: userSettingsPatch },
  { route: '/api/roles', method: 'GET', summary: 'Roles of the account with their permissions' },
  { route: '/api/roles', method: 'POST', summary: 'Create a role', body: roleCreate, status: 201 },
  { route: '/api/roles/[id]', method: 'GET', summary: 'One role' },
  { route: '/api/roles/[id]', method: 'PATCH', summary: 'Change a role’s name or permissions', body: rolePatch },
  { route: '/api/roles/[id]', method: 'DELETE', summary: 'Delete a role that no user or token has', status: 204 },
  { route: '/api/user-groups', method: 'GET', summary: 'User groups of the account' },
  { route: '/api/user-groups', method: 'POST', summary: 'Create a user group', body: groupCreate, status: 201 },
  { route: '/api/user-groups/[id]', method: 'GET', summary: 'One user group with its members' },
  { route: '/api/user-groups/[id]', method: 'PATCH', summary: 'Change a user group', body: groupPatch },
  { route: '/api/user-groups/[id]', method: 'DELETE', summary: 'Delete a user group', status: 204 },
  { route: '/api/user-groups/[id]/members', method: 'POST', summary: 'Add users to a group', body: membersAdd },
  { route: '/api/user-groups/[id]/members/[userId]', method: 'DELETE', summary: 'Remove a user from a group' },
  { route: '/api/templates', method: 'GET', summary: 'Settings templates of the account, by name', query: templateListQuery },
  { route: '/api/templates', method: 'POST', summary: 'Create a settings template', body: templateCreate, status: 201 },
  { route: '/api/templates/[id]', method: 'GET', summary: 'One settings template' },
  { route: '/api/templates/[id]', method: 'PATCH', summary: 'Change a settings template', body: templatePatch },
  { route: '/api/templates/[id]', method: 'DELETE', summary: 'Delete a settings template', status: 204 },
  { route: '/api/templates/[id]/apply', method: 'POST', summary: 'Start applying a template to users', body: applyRequest, status: 202 },
  { route: '/api/template-applications/[id]', method: 'GET', summary: 'Progress of a template application, user by user' },
  { route: '/api/extensions/unassigned', method: 'GET', summary: 'Unassigned extensions', query: unassignedQuery },
  { route: '/api/extensions/[id]', method: 'GET', summary: 'One unassigned extension' },
  { route: '/api/extensions/[id]', method: 'DELETE', summary: 'Delete an unassigned extension', status: 204 },
  { route: '/api/extensions/[id]/assign', method: 'POST', summary: 'Assign an unassigned extension to a new user', body: assignRequest, status: 201 },

  { route: '/api/devices', method: 'GET', summary: 'Phones of the account: search, filters and pages', query: deviceListQuery },
  { route: '/api/devices', method: 'POST', summary: 'Add a phone; answers its SIP credentials once', body: newDeviceInput, status: 201 },
  { route: '/api/devices/[id]', method: 'GET', summary: 'One phone' },
  { route: '/api/devices/[id]', method: 'DELETE', summary: 'Delete a phone', status: 204 },
  { route: '/api/devices/[id]/assign', method: 'POST', summary: 'Give a phone to an extension', body: deviceAssignInput },
  { route: '/api/devices/common-area', method: 'POST', summary: 'Add a common-area phone with its own extension; answers its SIP credentials once', body: commonAreaPhoneInput, status: 201 },
  { route: '/api/devices/[id]/credentials', method: 'POST', summary: 'Reset a phone’s SIP password; answers it once' },
  { route: '/api/numbers', method: 'GET', summary: 'Phone numbers of the account: search, filters and pages', query: numberListQuery },
  { route: '/api/numbers', method: 'POST', summary: 'Add a number forwarded from another carrier', body: forwardedNumberInput, status: 201 },
  { route: '/api/numbers/[id]', method: 'GET', summary: 'One phone number' },
  { route: '/api/numbers/[id]', method: 'PATCH', summary: 'Change a phone number (name, assignment, caller ID)', body: numberUpdateInput },
  { route: '/api/numbers/pool', method: 'GET', summary: 'Search the numbers available to buy', query: poolSearchInput },
  { route: '/api/numbers/reservations', method: 'GET', summary: 'Numbers reserved by the account, with its number quota' },
  { route: '/api/numbers/reservations', method: 'POST', summary: 'Reserve numbers from the pool before buying them', body: reserveInput, status: 201 },
  { route: '/api/numbers/reservations', method: 'DELETE', summary: 'Release reserved numbers', body: reserveInput },
  { route: '/api/numbers/purchase', method: 'POST', summary: 'Buy reserved numbers', body: purchaseInput, status: 201 },
  { route: '/api/trunk', method: 'GET', summary: 'The account’s SIP trunk' },
  { route: '/api/trunk', method: 'PUT', summary: 'Create or change the SIP trunk', body: trunkForwardingInput },

  { route: '/api/calls', method: 'GET', summary: 'Call log (own calls, or the company’s)', query: callLogQuery },
  { route: '/api/calls/export', method: 'GET', summary: 'Call log as CSV', query: callLogQuery, produces: ['text/csv'] },
  { route: '/api/calls/[id]', method: 'GET', summary: 'One call with its legs' },
  { route: '/api/calls/[id]/recording', method: 'GET', summary: 'A call’s recording', produces: ['audio/wav'] },
  {
    route: '/api/calls/[id]/commands',
    method: 'POST',
    summary: 'Send a command to a live call (hang up, blind transfer, start or stop recording) and wait for its media server’s answer',
    body: callCommandRequest,
    response: z.object({ outcome: z.literal('done') }),
  },
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

export const OPERATIONS: readonly Operation[] = [...CENTRAL_OPERATIONS, ...FEATURE_OPERATIONS];
