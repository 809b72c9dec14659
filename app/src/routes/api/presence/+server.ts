import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { accountPresence } from '#lib/server/presence.ts';
import type { RequestHandler } from './$types';

/** Colleagues and their presence; live updates come over socket.io as `presence`. */
export const GET: RequestHandler = async (event) => json(await accountPresence(await getRuntime(), caller(event).account.id));
