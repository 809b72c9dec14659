import { json } from '@sveltejs/kit';
import { validateAccountIvr } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** IVR-15's "Validate Menu": the issues of the stored configuration. */
export const POST: RequestHandler = inArea('ivr', async (event) => json({ issues: await validateAccountIvr((await getRuntime()).db, caller(event).account.id) }));
