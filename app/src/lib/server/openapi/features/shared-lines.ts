import { newSharedLineInput, sharedLineListQuery, sharedLineUpdate } from '@carillon/domain';
import type { Operation } from '../operations.ts';

/** Shared lines' operations (issue 15 point 3). Unreleased: these answer 404 unless ENABLE_UNRELEASED names `shared_lines`. */
export const sharedLinesOperations: readonly Operation[] = [
  { route: '/api/shared-lines', method: 'GET', summary: 'Shared lines (SL-02 list), of one site with ?siteId=, with their devices in order and settings', query: sharedLineListQuery },
  {
    route: '/api/shared-lines',
    method: 'POST',
    summary: "Add a shared line (a new extension ringing up to 16 devices): name, extension number, site, manager's e-mail, devices in order",
    body: newSharedLineInput,
    status: 201,
  },
  { route: '/api/shared-lines/[id]', method: 'GET', summary: 'A shared line' },
  {
    route: '/api/shared-lines/[id]',
    method: 'PATCH',
    summary: 'Edit a shared line: name, number, site, status, devices in order (replaces the list), settings (hours, call handling, greeting, hold music, blocked callers, outbound caller ID, messages; replaced whole)',
    body: sharedLineUpdate,
  },
  { route: '/api/shared-lines/[id]', method: 'DELETE', summary: 'Delete a shared line', status: 204 },
];
