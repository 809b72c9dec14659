import { userAnsweringSchema } from '@carillon/domain';
import type { Operation } from '../operations.ts';

/** Answering rules (issue 13). Unreleased: these answer 404 unless ENABLE_UNRELEASED names `answering_rules`. */
export const answeringRulesOperations: Operation[] = [
  { route: '/api/me/answering-rules', method: 'GET', summary: 'The signed-in user’s hours, answering rules and call settings (unreleased)' },
  { route: '/api/me/answering-rules', method: 'PUT', summary: 'Replace the signed-in user’s hours, answering rules and call settings (unreleased)', body: userAnsweringSchema },
  { route: '/api/users/[id]/answering-rules', method: 'GET', summary: 'A user’s hours, answering rules and call settings (unreleased)' },
  { route: '/api/users/[id]/answering-rules', method: 'PUT', summary: 'Replace a user’s hours, answering rules and call settings (unreleased)', body: userAnsweringSchema },
];
