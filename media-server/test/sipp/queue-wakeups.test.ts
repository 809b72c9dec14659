import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCallQueue } from '@carillon/core/queues';
import { DEFAULT_QUEUE_SETTINGS } from '@carillon/domain';
import { liveCounts } from '../../src/health.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { freeMediaPort, freeSipPort, startRegisteredSipp, startSipp } from '../support/sipp.ts';

/**
 * A waiting queue caller is offered as soon as a member is given back on its node, not at its next
 * look for a free member (apps/queue/queue-wakeups.ts). The edge's callers look only every 10 s here,
 * so a caller that waited for its look would reach the agent 10 s after the agent's BYE; woken, it
 * reaches it at once. bench/queue-agents.ts found it: with 50 agents the queue handed out about one
 * caller per look interval, and agents stayed free for seconds while 25 callers waited.
 */
const POLL_MS = 10_000;
let h: EdgeHarness;
let caller: TestPhone;
let agent: TestPhone;
let queueId: string;

beforeAll(async () => {
  h = await startEdge({ unreleased: 'queues', queuePollMs: POLL_MS });
  caller = await h.addPhone('101');
  agent = await h.addPhone('201');
  const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  queueId = (await h.db.insertInto('extensions').values({ account_id: h.accountId, site_id: site.id, number: '600', type: 'call_queue', name: 'Sales', status: 'activated' }).returning('id').executeTakeFirstOrThrow()).id;
  await saveCallQueue(h.db, { userId: null, ip: null }, h.accountId, queueId, { settings: { ...DEFAULT_QUEUE_SETTINGS, wrapUpSeconds: 0 }, members: [{ extension: '201', accepting: true }] });
  h.configChanged('queues');
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

describe('a waiting queue caller', () => {
  it('is offered to the agent as soon as the agent hangs up its previous queue call, not at its next look', async () => {
    // The agent answers each call, talks half a second and hangs up; two callers come 200 ms apart: the second waits for the agent.
    const agentRun = await startRegisteredSipp({ target: h.target, credentials: agent, scenario: 'uas-agent.xml', calls: 2, timeoutSeconds: 60 });
    const since = (await h.db.selectNoFrom((eb) => eb.fn<Date>('now', []).as('now')).executeTakeFirstOrThrow()).now;
    const callers = startSipp({ scenario: 'uac-wait-bye.xml', target: h.target, localPort: await freeSipPort(), service: '600', auth: caller, calls: 2, limit: 2, rate: 5, timeoutSeconds: 60, extra: ['-mp', String(await freeMediaPort())] });
    const uac = await callers.done;
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await agentRun.done).code).toBe(0);
    // The agent's two queue calls: the first's end (its BYE) and the second's offer (the INVITE to it).
    const legs = await h.db
      .selectFrom('call_legs')
      .innerJoin('calls', 'calls.id', 'call_legs.call_id')
      .select(['call_legs.started_at', 'call_legs.ended_at', 'call_legs.result'])
      .where('calls.account_id', '=', h.accountId)
      .where('calls.to_number', '=', '600')
      .where('calls.started_at', '>=', since)
      .where('call_legs.role', '=', 'callee')
      .where('call_legs.device_id', '=', agent.deviceId)
      .orderBy('call_legs.started_at')
      .execute();
    expect(legs.map((l) => l.result)).toEqual(['answered', 'answered']);
    const freeToOffer = legs[1]!.started_at.getTime() - legs[0]!.ended_at!.getTime();
    // Woken, within a few hundred ms even on a loaded machine; at its next look it would be up to 10 s.
    expect(freeToOffer, `ms from the agent's BYE to the next offer`).toBeLessThan(POLL_MS / 4);
    await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 30_000, interval: 100 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
  }, 90_000);
});
