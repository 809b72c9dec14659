import { callQueueInput, managedQueueInput, memberAcceptingInput, newCallQueueInput, queueManagersInput, queueVoicemailInput } from '@carillon/core/queues';
import type { Operation } from '../operations.ts';

/** Call queues' operations (issue 15), with the schemas their routes validate with. */
export const callQueuesOperations: readonly Operation[] = [
  { route: '/api/call-queues', method: 'GET', summary: 'Call queues, with their settings and members' },
  { route: '/api/call-queues', method: 'POST', summary: 'Add a call queue (a new extension) with the default settings, or those of another queue of the account (copyFrom)', body: newCallQueueInput, status: 201 },
  { route: '/api/call-queues/[id]', method: 'GET', summary: 'A call queue: settings and members in order' },
  {
    route: '/api/call-queues/[id]',
    method: 'PUT',
    summary: 'Save a call queue: distribution, ring time, longest wait, callers at most (25), max-wait and full-queue actions, wrap-up, greeting, hold music, callback that keeps the caller’s place (on/off and its key); members in order with accepting queue calls',
    body: callQueueInput,
  },
  { route: '/api/call-queues/[id]/managers', method: 'GET', summary: 'A call queue’s managers (Full Access or Members Only) and whether their PIN is set' },
  {
    route: '/api/call-queues/[id]/managers',
    method: 'PUT',
    summary: 'Replace a call queue’s managers (at least one with Full Access) and set their PIN (PIN and confirmation; required the first time)',
    body: queueManagersInput,
  },
  { route: '/api/call-queues/[id]/voicemail', method: 'GET', summary: 'A call queue’s message recipient (null: the queue itself) and voicemail-to-text' },
  { route: '/api/call-queues/[id]/voicemail', method: 'PUT', summary: 'Save a call queue’s message recipient and voicemail-to-text', body: queueVoicemailInput },
  { route: '/api/me/managed-call-queues', method: 'GET', summary: 'The call queues the user manages, with their permission on each' },
  { route: '/api/me/managed-call-queues/[id]', method: 'GET', summary: 'A call queue the user manages, with their permission on it' },
  {
    route: '/api/me/managed-call-queues/[id]',
    method: 'PUT',
    summary: 'A manager saves a call queue: members always, settings only with Full Access (403 members_only otherwise)',
    body: managedQueueInput,
  },
  { route: '/api/me/call-queues', method: 'GET', summary: 'The call queues the user is a member of, with whether they accept each one’s calls' },
  { route: '/api/me/call-queues', method: 'PUT', summary: 'Log in or out of one call queue, or of all (queueId null)', body: memberAcceptingInput },
];
