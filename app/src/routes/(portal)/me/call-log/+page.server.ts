import { caller } from '#lib/server/api.ts';
import { loadCallLog } from '#lib/server/call-log-page.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => loadCallLog(caller(event), event.url, 'mine');
