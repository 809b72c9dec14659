import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { saveCallQueue } from '@carillon/core/queues';
import { DEFAULT_QUEUE_SETTINGS } from '@carillon/domain';
import { queueCallbackKey, queueEntryKey, queueWaitingKey, type QueueCallbackEntry } from '@carillon/contracts/call-queues';
import { liveCounts } from '../../src/health.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { startTonePeer } from '../support/tone-peer.ts';
import { freeMediaPort, freeSipPort, startRegisteredSipp, startSipp, tellToHangUp, type SippRun } from '../support/sipp.ts';

/**
 * Issue 15's acceptance, "callback: the caller presses 1 and hangs up; callers behind it are not served
 * first; when an agent frees, the agent rings first, then the caller is dialled, and both are bridged",
 * end to end on the live edge with the unreleased area 'queues': SIPp phones, media on the test's own
 * sockets with a tone per party (the agent 700 Hz, the caller called back 1,300 Hz), so that who hears
 * whom is measured, not assumed.
 */
let h: EdgeHarness;
let first: TestPhone;
let second: TestPhone;
let agentPhone: TestPhone;
let queueId: string;
const running: SippRun[] = [];
const sockets: { close(): void }[] = [];

const AGENT_HZ = 700;
const CALLER_HZ = 1300;

beforeAll(async () => {
  h = await startEdge({ unreleased: 'queues' });
  first = await h.addPhone('101');
  second = await h.addPhone('102');
  agentPhone = await h.addPhone('201');
  const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  const queue = await h.db.insertInto('extensions').values({ account_id: h.accountId, site_id: site.id, number: '600', type: 'call_queue', name: 'Support', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  queueId = queue.id;
  await saveCallQueue(h.db, { userId: null, ip: null }, h.accountId, queueId, {
    settings: { ...DEFAULT_QUEUE_SETTINGS, distribution: 'rotating', ringSeconds: 15, wrapUpSeconds: 0, maxWaitSeconds: 300, callback: { enabled: true, key: '1' } },
    members: [{ extension: '201', accepting: true }],
  });
  h.configChanged('queues');
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

afterEach(async () => {
  for (const r of running.splice(0)) r.stop();
  for (const s of sockets.splice(0)) s.close();
  for (const p of [first, second, agentPhone]) await h.edge.bindings.removeAll(p.extensionId);
  await h.redis.del(queueWaitingKey(queueId));
});

/** The caller presses the callback key, hears its number read back (the hold music stopped at the key), and confirms it with 1. */
async function askCallback(phone: RtpPhone): Promise<void> {
  phone.press('1');
  await waitFor('the callback key sent', () => phone.keysSent);
  const asked = Date.now();
  await waitFor('its number read back', () => phone.soundFramesSince(asked, 300, 0) >= 50);
  phone.press('1');
}

async function waitFor<T>(what: string, probe: () => T | null | undefined | false | Promise<T | null | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function dialQueue(from: TestPhone, phone: RtpPhone): Promise<SippRun> {
  const run = startSipp({ scenario: 'uac-listen-until-bye.xml', target: h.target, localPort: await freeSipPort(), service: '600', auth: from, timeoutSeconds: 120, vars: { rtpport: String(phone.port) }, extra: ['-mp', String(await freeMediaPort())] });
  running.push(run);
  await run.ready;
  return run;
}

const dbNow = async () => (await h.db.selectNoFrom((eb) => eb.fn<Date>('now', []).as('now')).executeTakeFirstOrThrow()).now;

describe('queue callback that keeps the caller’s place', () => {
  it('101 presses 1 and hangs up; 102 behind it is not served first; the agent rings first, then 101 is dialled, and they talk both ways', async () => {
    const since = await dbNow();
    // The number called back is a phone too: registered, it answers the callback and talks, then hangs up (on the test's word).
    const callbackPeer = await startTonePeer(CALLER_HZ);
    sockets.push(callbackPeer);
    const calledBack = await startRegisteredSipp({ target: h.target, credentials: first, scenario: 'uas-answer-talk-until-told.xml', vars: { rtpport: String(callbackPeer.port) }, timeoutSeconds: 120 });
    running.push(calledBack);

    // Two callers wait (nobody of the queue is online); the first presses 1 once it hears the queue.
    const firstPhone = await RtpPhone.open(null);
    const secondPhone = await RtpPhone.open(null);
    sockets.push(firstPhone, secondPhone);
    const firstCall = await dialQueue(first, firstPhone);
    await waitFor('the first caller in the queue', async () => (await h.redis.zcard(queueWaitingKey(queueId))) === 1);
    const secondCall = await dialQueue(second, secondPhone);
    await waitFor('the second caller in the queue', async () => (await h.redis.zcard(queueWaitingKey(queueId))) === 2);
    await waitFor('the queue speaking to the first caller', () => firstPhone.connected);
    await askCallback(firstPhone);
    // Told, then hung up by the queue: its scenario ends on our BYE.
    const hungUp = await firstCall.done;
    expect(hungUp.code, hungUp.errors || hungUp.output.slice(-1500)).toBe(0);
    const [entryId] = await h.redis.zrange(queueWaitingKey(queueId), 0, 0);
    // A callback: the callback service's looks take it ('serving') for as long as it takes to find no free agent,
    // then give it back; on a loaded machine a look can be under way just now.
    await expect.poll(() => h.redis.get(queueEntryKey(queueId, entryId!)), { timeout: 10_000, interval: 50 }).toBe('callback');
    expect(await h.redis.zcard(queueWaitingKey(queueId)), 'both places kept: the callback and the second caller').toBe(2);

    // An agent frees (comes online): it is rung first, for the callback, and talks on its own socket.
    const agentPeer = await startTonePeer(AGENT_HZ);
    sockets.push(agentPeer);
    const agentRun = await startRegisteredSipp({ target: h.target, credentials: agentPhone, scenario: 'uas-socket-until-bye.xml', vars: { rtpport: String(agentPeer.port) }, timeoutSeconds: 120 });
    running.push(agentRun);
    const mediaPort = await waitFor('the agent answered', () => /media port (\d+)/.exec(agentRun.logsSoFar())?.[1]);
    agentPeer.speakTo(Number(mediaPort));

    // Both hear the other's tone through the callback's room: the agent 1,300 Hz, the caller called back 700 Hz.
    await callbackPeer.until(() => callbackPeer.toneFrames(AGENT_HZ) > 25, 30_000, 'the caller called back hears the agent');
    await agentPeer.until(() => agentPeer.toneFrames(CALLER_HZ) > 25, 30_000, 'the agent hears the caller called back');
    // While the agent has the callback, nobody else of the queue is free: the second caller still waits, never offered.
    expect(await h.redis.get(queueEntryKey(queueId, entryId!))).toBe('serving');
    // Offline before the callback ends, so the second caller is not offered to it meanwhile.
    await h.edge.bindings.removeAll(agentPhone.extensionId);

    // The caller called back hangs up after its talk: the agent gets our BYE; the callback leaves the queue.
    await tellToHangUp(calledBack);
    const calledBackDone = await calledBack.done;
    expect(calledBackDone.code, calledBackDone.errors || calledBackDone.output.slice(-1500)).toBe(0);
    const agentDone = await agentRun.done;
    expect(agentDone.code, agentDone.errors || agentDone.output.slice(-1500)).toBe(0);
    await waitFor('the callback out of the queue', async () => (await h.redis.zcard(queueWaitingKey(queueId))) === 1);

    // The record of the callback: from the queue to 101, the agent's leg first, then 101's, both answered.
    const record = await waitFor('the callback’s record ended', async () =>
      h.db.selectFrom('calls').select(['id', 'result', 'from_number', 'to_number', 'answered_at', 'ended_at']).where('account_id', '=', h.accountId).where('from_number', '=', '600').where('to_number', '=', '101').where('started_at', '>=', since).where('ended_at', 'is not', null).executeTakeFirst(),
    );
    expect(record.result).toBe('answered');
    const legs = await h.db.selectFrom('call_legs').select(['device_id', 'role', 'result', 'started_at', 'answered_at']).where('call_id', '=', record.id).orderBy('started_at').execute();
    expect(legs.map((l) => [l.device_id, l.role, l.answered_at !== null])).toEqual([
      [agentPhone.deviceId, 'callee', true],
      [first.deviceId, 'callee', true],
    ]);
    expect(legs[1]!.started_at.getTime(), 'the caller is dialled once the agent answered').toBeGreaterThanOrEqual(legs[0]!.answered_at!.getTime());

    // The second caller was never offered to anyone: its call has no callee leg.
    const secondRecord = await h.db.selectFrom('calls').select('id').where('account_id', '=', h.accountId).where('caller_extension_id', '=', second.extensionId).where('to_number', '=', '600').where('started_at', '>=', since).executeTakeFirstOrThrow();
    expect(await h.db.selectFrom('call_legs').select('id').where('call_id', '=', secondRecord.id).where('role', '=', 'callee').execute()).toEqual([]);

    // The second caller hangs up (by command, as an administrator would): nothing is left.
    const waiting = h.edge.calls.applicationCalls().find((c) => c.callRecordId === secondRecord.id);
    expect(waiting?.hangUpByCommand()).toBe(true);
    const secondDone = await secondCall.done;
    expect(secondDone.code, secondDone.errors || secondDone.output.slice(-1500)).toBe(0);
    await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 30_000, interval: 100 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
    await expect.poll(() => h.edge.calls.openCallRecords, { timeout: 30_000, interval: 100 }).toBe(0);
    expect(await h.redis.zcard(queueWaitingKey(queueId))).toBe(0);
  }, 150_000);

  it('the number called back is busy: the agent is told so and hung up, the record says no_answer, the callback waits for its one retry', async () => {
    const since = await dbNow();
    const busy = await startRegisteredSipp({ target: h.target, credentials: first, scenario: 'uas-busy.xml', timeoutSeconds: 120 });
    running.push(busy);
    const firstPhone = await RtpPhone.open(null);
    sockets.push(firstPhone);
    const firstCall = await dialQueue(first, firstPhone);
    await waitFor('the queue speaking to the caller', () => firstPhone.connected);
    await askCallback(firstPhone);
    const hungUp = await firstCall.done;
    expect(hungUp.code, hungUp.errors || hungUp.output.slice(-1500)).toBe(0);
    const [entryId] = await h.redis.zrange(queueWaitingKey(queueId), 0, 0);

    const agentPeer = await startTonePeer(AGENT_HZ);
    sockets.push(agentPeer);
    const agentRun = await startRegisteredSipp({ target: h.target, credentials: agentPhone, scenario: 'uas-socket-until-bye.xml', vars: { rtpport: String(agentPeer.port) }, timeoutSeconds: 120 });
    running.push(agentRun);
    const mediaPort = await waitFor('the agent answered', () => /media port (\d+)/.exec(agentRun.logsSoFar())?.[1]);
    agentPeer.speakTo(Number(mediaPort));
    // The caller's phone refuses (486); from then on the agent hears the message, then our BYE ends its call.
    const refused = await busy.done;
    expect(refused.code, refused.errors || refused.output.slice(-1500)).toBe(0);
    const refusedAt = Date.now();
    const agentDone = await agentRun.done;
    expect(agentDone.code, agentDone.errors || agentDone.output.slice(-1500)).toBe(0);
    expect(agentPeer.rms(refusedAt), 'the agent is told the caller did not answer').toBeGreaterThan(300);

    const record = await waitFor('the callback’s record ended', async () =>
      h.db.selectFrom('calls').select(['id', 'result']).where('account_id', '=', h.accountId).where('from_number', '=', '600').where('to_number', '=', '101').where('started_at', '>=', since).where('ended_at', 'is not', null).executeTakeFirst(),
    );
    expect(record.result).toBe('no_answer');
    const legs = await h.db.selectFrom('call_legs').select(['device_id', 'result', 'answered_at']).where('call_id', '=', record.id).orderBy('started_at').execute();
    expect(legs.map((l) => [l.device_id, l.answered_at !== null])).toEqual([
      [agentPhone.deviceId, true],
      [first.deviceId, false],
    ]);
    // Kept, not blocking the callers behind it, for its one retry (a minute later).
    expect(await h.redis.get(queueEntryKey(queueId, entryId!))).toBe('serving');
    expect((JSON.parse((await h.redis.get(queueCallbackKey(queueId, entryId!)))!) as QueueCallbackEntry).attempts).toBe(0);
    await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 30_000, interval: 100 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
    await expect.poll(() => h.edge.calls.openCallRecords, { timeout: 30_000, interval: 100 }).toBe(0);
    await h.redis.del(queueEntryKey(queueId, entryId!), queueCallbackKey(queueId, entryId!));
  }, 150_000);
});
