import { PROMPT_LIMITS } from '@carillon/core/ivr';
import { caller } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import type { PageServerLoad } from './$types';

// Hidden until calls run IVR menus (unreleased-features.ts).
export const load: PageServerLoad = async (event) => {
  await requireArea('ivr');
  // A recording in the browser stops by itself at the server's limit.
  // A bulk import is sent in requests under the server's body limit (server.ts), each with as many files as fit.
  const bodyLimit = Number(process.env.BODY_SIZE_LIMIT) || 512 * 1024;
  return {
    canEdit: caller(event).permissions.has('phone_system.manage'),
    maxRecordingMs: PROMPT_LIMITS.maxSeconds * 1000,
    bulk: { maxFiles: PROMPT_LIMITS.maxBulkFiles, maxFileBytes: PROMPT_LIMITS.maxUploadBytes, maxRequestBytes: Math.min(bodyLimit, PROMPT_LIMITS.maxBulkFiles * PROMPT_LIMITS.maxUploadBytes) },
  };
};
