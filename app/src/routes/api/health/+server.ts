import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { checkServiceHealth } from '#lib/server/health.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async () => json(await checkServiceHealth(await getRuntime()));
