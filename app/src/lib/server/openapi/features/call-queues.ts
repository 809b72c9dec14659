import { callQueueInput, memberAcceptingInput, newCallQueueInput } from '@carillon/core/queues';
import type { Operation } from '../operations.ts';

/** Call queues' operations (issue 15), with the schemas their routes validate with. */
export const callQueuesOperations: readonly Operation[] = [
  { route: '/api/call-queues', method: 'GET', summary: 'Call queues, with their settings and members' },
  { route: '/api/call-queues', method: 'POST', summary: 'Add a call queue (a new extension) with the default settings', body: newCallQueueInput, status: 201 },
  { route: '/api/call-queues/[id]', method: 'GET', summary: 'A call queue: settings and members in order' },
  {
    route: '/api/call-queues/[id]',
    method: 'PUT',
    summary: 'Save a call queue: distribution, ring time, longest wait, callers at most (25), max-wait and full-queue actions, wrap-up, greeting, hold music; members in order with accepting queue calls',
    body: callQueueInput,
  },
  { route: '/api/me/call-queues', method: 'GET', summary: 'The call queues the user is a member of, with whether they accept each one’s calls' },
  { route: '/api/me/call-queues', method: 'PUT', summary: 'Log in or out of one call queue, or of all (queueId null)', body: memberAcceptingInput },
];
