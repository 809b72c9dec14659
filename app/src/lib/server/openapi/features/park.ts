import { parkLocationInput, parkLocationUpdate, pickupGroupInput, pickupGroupUpdate } from '@carillon/domain';
import type { Operation } from '../operations.ts';

/** Park locations and directed call pickup groups (issue 15 points 4, 5). Unreleased: these answer 404 unless ENABLE_UNRELEASED names `park`. */
export const parkOperations: readonly Operation[] = [
  { route: '/api/park-locations', method: 'GET', summary: 'Park locations, with their members' },
  {
    route: '/api/park-locations',
    method: 'POST',
    summary: 'Add a park location (a new extension; members park to it by transfer and retrieve by dialling it): name, number, status, members; at most 100 per account',
    body: parkLocationInput,
    status: 201,
  },
  { route: '/api/park-locations/[id]', method: 'GET', summary: 'A park location' },
  { route: '/api/park-locations/[id]', method: 'PATCH', summary: 'Edit a park location: number, name, status, members (a list given replaces the stored one)', body: parkLocationUpdate },
  { route: '/api/park-locations/[id]', method: 'DELETE', summary: 'Delete a park location', status: 204 },
  { route: '/api/pickup-groups', method: 'GET', summary: 'Directed call pickup groups (*58 + extension), with their members' },
  { route: '/api/pickup-groups', method: 'POST', summary: 'Add a directed call pickup group: name, site, members (from any site)', body: pickupGroupInput, status: 201 },
  { route: '/api/pickup-groups/[id]', method: 'GET', summary: 'A pickup group' },
  { route: '/api/pickup-groups/[id]', method: 'PATCH', summary: 'Edit a pickup group: name, site, members (a list given replaces the stored one)', body: pickupGroupUpdate },
  { route: '/api/pickup-groups/[id]', method: 'DELETE', summary: 'Delete a pickup group', status: 204 },
];
