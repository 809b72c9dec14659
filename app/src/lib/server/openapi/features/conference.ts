import { regenerateCodesSchema } from '@carillon/domain';
import type { Operation } from '../operations.ts';

/** The conference bridge (issue 16). Unreleased: these answer 404 unless ENABLE_UNRELEASED names `conference`. */
export const conferenceOperations: Operation[] = [
  { route: '/api/me/conference', method: 'GET', summary: 'The signed-in user’s conference: the bridge’s dial-in numbers, their host and participant access codes, their settings (unreleased)' },
  { route: '/api/me/conference/codes', method: 'POST', summary: 'Regenerate the signed-in user’s host code, participant code or both; the old ones stop working (unreleased)', body: regenerateCodesSchema },
];
