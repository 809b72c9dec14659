import { fail } from '@sveltejs/kit';
import { z } from 'zod';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller } from '#lib/server/api.ts';
import { queueHealth, retryJob } from '#lib/server/queue-health.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => ({ health: await queueHealth(await getRuntime(), caller(event)) });

const retryForm = z.object({ queue: z.string().regex(/^[a-z-]{1,40}$/), id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/) });

export const actions: Actions = {
  retry: async (event) => {
    const parsed = retryForm.safeParse(Object.fromEntries(await event.request.formData()));
    if (!parsed.success) return fail(400, { error: 'queues.retryNotFound' as const });
    const outcome = await retryJob(await getRuntime(), caller(event), actorOf(event), parsed.data.queue, parsed.data.id);
    if (outcome === 'not_found') return fail(404, { error: 'queues.retryNotFound' as const });
    if (outcome === 'not_failed') return fail(409, { error: 'queues.retryNotFailed' as const });
    return { retried: parsed.data.id };
  },
};
