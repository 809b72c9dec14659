import { error } from '@sveltejs/kit';
import { listCallQueues, loadCallQueue, loadQueueManagers, loadQueueVoicemail } from '@carillon/core/queues';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import { userExtensionChoices } from '#lib/server/phone-system/directory.ts';
import type { PageServerLoad } from './$types';

/**
 * One call queue (CQ-03…CQ-12): members and distribution, wait settings, hours and after hours, managers,
 * messages. Read here; each part is saved through its /api/call-queues/[id] route, which checks
 * phone_system.manage and validates.
 */
export const load: PageServerLoad = async (event) => {
  await requireArea('queues');
  if (!isUuid(event.params.id)) error(404, 'Not found');
  const auth = caller(event);
  const db = (await getRuntime()).db;
  const accountId = auth.account.id;
  const [queue, managers, voicemail, users, queues] = await Promise.all([
    loadCallQueue(db, accountId, event.params.id),
    loadQueueManagers(db, accountId, event.params.id),
    loadQueueVoicemail(db, accountId, event.params.id),
    userExtensionChoices(db, accountId),
    listCallQueues(db, accountId),
  ]);
  if (!queue || !managers || !voicemail) error(404, 'Not found');
  return {
    canEdit: auth.permissions.has('phone_system.manage'),
    queue,
    managers,
    voicemail,
    users,
    otherQueues: queues.filter((q) => q.extensionId !== queue.extensionId).map((q) => ({ number: q.number, name: q.name ?? q.number })),
  };
};
