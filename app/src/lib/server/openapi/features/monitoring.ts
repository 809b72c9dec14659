import { monitoringGroupInput } from '@carillon/domain';
import type { Operation } from '../operations.ts';

/** Call monitoring groups' operations (issue 15 point 6, MON-02), with the schema their routes validate with. */
export const monitoringOperations: readonly Operation[] = [
  { route: '/api/monitoring-groups', method: 'GET', summary: 'Call monitoring groups, with their monitors and monitored users' },
  {
    route: '/api/monitoring-groups',
    method: 'POST',
    summary: 'Add a call monitoring group: its name, the users that can monitor and the users that can be monitored (extension ids; a user may be in both)',
    body: monitoringGroupInput,
    status: 201,
  },
  { route: '/api/monitoring-groups/[id]', method: 'GET', summary: 'A call monitoring group' },
  { route: '/api/monitoring-groups/[id]', method: 'PUT', summary: 'Save a call monitoring group: its name and both lists, each replaced whole', body: monitoringGroupInput },
  { route: '/api/monitoring-groups/[id]', method: 'DELETE', summary: 'Delete a call monitoring group', status: 204 },
];
