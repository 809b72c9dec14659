import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { listFaxMessages } from '#lib/server/fax/faxes.ts';
import type { RequestHandler } from './$types';

/** Faxes received by the caller's extension (its Messages), newest first. */
export const GET: RequestHandler = async (event) => json(await listFaxMessages((await getRuntime()).db, caller(event)));
