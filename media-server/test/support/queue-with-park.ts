import { createParkLocation } from '@carillon/core';
import { saveCallQueue } from '@carillon/core/queues';
import { DEFAULT_QUEUE_SETTINGS } from '@carillon/domain';
import type { EdgeHarness, TestPhone } from './edge-harness.ts';

/**
 * A call queue 600 whose one agent is `agent` (no wrap-up), and the park location 801 with `members`,
 * for the tests of park from a queue call (queue-call-park*.test.ts). Returns the queue's extension id.
 */
export async function queueWithPark(h: EdgeHarness, agent: string, members: readonly TestPhone[]): Promise<string> {
  const actor = { userId: null, ip: null };
  await createParkLocation(h.db, actor, h.accountId, { name: 'Support desk', number: '801', memberExtensionIds: members.map((m) => m.extensionId) });
  const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  const queueId = (await h.db.insertInto('extensions').values({ account_id: h.accountId, site_id: site.id, number: '600', type: 'call_queue', name: 'Support', status: 'activated' }).returning('id').executeTakeFirstOrThrow()).id;
  await saveCallQueue(h.db, actor, h.accountId, queueId, { settings: { ...DEFAULT_QUEUE_SETTINGS, wrapUpSeconds: 0 }, members: [{ extension: agent, accepting: true }] });
  h.configChanged('queues', 'extensions');
  return queueId;
}
