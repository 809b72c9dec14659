import { getRuntime } from '#lib/server/runtime.ts';
import { checkServiceHealth } from '#lib/server/health.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async () => ({ health: await checkServiceHealth(await getRuntime()) });
