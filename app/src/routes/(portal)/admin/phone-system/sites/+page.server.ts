import { caller } from '#lib/server/api.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => ({ canEdit: caller(event).permissions.has('phone_system.manage') });
