import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { queueHealth } from '#lib/server/queue-health.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => json(await queueHealth(await getRuntime(), caller(event)));
