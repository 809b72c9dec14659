import { pagingGroupInput, pagingGroupUpdate } from '@carillon/domain';
import type { Operation } from '../operations.ts';

/** Paging-only groups' operations (issue 15 point 2). Unreleased: these answer 404 unless ENABLE_UNRELEASED names `paging`. */
export const pagingOperations: readonly Operation[] = [
  { route: '/api/paging-groups', method: 'GET', summary: 'Paging-only groups, with their receiving devices and the users allowed to page' },
  {
    route: '/api/paging-groups',
    method: 'POST',
    summary: 'Add a paging group (a new extension, paged with *84 + its number): name, number, status, receiving devices (at most 50) and users allowed to page',
    body: pagingGroupInput,
    status: 201,
  },
  { route: '/api/paging-groups/[id]', method: 'GET', summary: 'A paging group' },
  { route: '/api/paging-groups/[id]', method: 'PATCH', summary: 'Edit a paging group: number, name, status, receiving devices, users allowed to page (a list given replaces the stored one)', body: pagingGroupUpdate },
  { route: '/api/paging-groups/[id]', method: 'DELETE', summary: 'Delete a paging group', status: 204 },
];
