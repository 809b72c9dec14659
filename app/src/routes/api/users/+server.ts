import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { listUsers } from '#lib/server/users.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => json(await listUsers((await getRuntime()).db, caller(event).account.id));
