import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { saveCallQueue, saveQueueVoicemail } from '@carillon/core/queues';
import { listVoicemail } from '@carillon/core/voicemail';
import { DEFAULT_QUEUE_SETTINGS, type QueueSettings } from '@carillon/domain';
import { queueMemberKey, queueWaitingKey } from '@carillon/contracts/call-queues';
import { liveCounts } from '../../src/health.ts';
import { pcmaDecodeSample } from '../../src/media/codecs/g711.ts';
import { wavHeader } from '../../src/media/media-player/wav-file.ts';
import { analyseSamples } from '../support/wav.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, startSipp, tellToHangUp, type SippRun } from '../support/sipp.ts';

/**
 * Call queues through the queue application (apps/queue/), end to end on the live edge with the
 * unreleased area 'queues' enabled for this edge only: SIPp callers dial the queue's extension (600)
 * and three registered SIPp agents (201, 202, 203) are its members. The call log's callee legs say who
 * was offered which call (one leg per INVITE, with the agent's device) and who answered it.
 */
const DATA_DIR = '/tmp/carillon-tests';
let h: EdgeHarness;
let caller: TestPhone;
let agents: TestPhone[];
let queueId: string;
let overflowId: string;
let messagePrompt: string;
let musicPrompt: string;
const running: SippRun[] = [];
/** The test clock the queues' hours are read at: the real time unless a test sets it. */
let clockAt: Date | null = null;
/** The carrier's address, and a direct number of the account that reaches queue 600 from outside. */
const CARRIER_IP = '127.0.0.2';
const OUTSIDE_CALLER = '+12125550123';
let did = '';

beforeAll(async () => {
  h = await startEdge({ unreleased: 'queues', now: () => clockAt ?? new Date() });
  caller = await h.addPhone('101');
  agents = [await h.addPhone('201'), await h.addPhone('202'), await h.addPhone('203')];
  const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  const queue = await h.db.insertInto('extensions').values({ account_id: h.accountId, site_id: site.id, number: '600', type: 'call_queue', name: 'Sales', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  queueId = queue.id;
  const overflowQueue = await h.db.insertInto('extensions').values({ account_id: h.accountId, site_id: site.id, number: '601', type: 'call_queue', name: 'Overflow', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  overflowId = overflowQueue.id;
  await h.addCarrierTrunk(CARRIER_IP);
  did = h.mainNumber.slice(0, -4) + '0600';
  await h.db.insertInto('phone_numbers').values({ account_id: h.accountId, e164: did, type: 'direct', extension_id: queueId }).execute();
  // The full-queue message: a library prompt of 1 s of 1 kHz.
  messagePrompt = `queue full ${randomBytes(3).toString('hex')}`;
  const file = path.posix.join('prompts', h.accountId, `${randomBytes(6).toString('hex')}.wav`);
  fs.mkdirSync(path.join(DATA_DIR, path.dirname(file)), { recursive: true });
  fs.writeFileSync(path.join(DATA_DIR, file), toneWav(1000, 1000));
  await h.db.insertInto('ivr_prompts').values({ account_id: h.accountId, name: messagePrompt, kind: 'audio', text: null, language: null, file, duration_ms: 1000, original_name: null, created_by: null }).execute();
  // Hold music that is told apart from speech: 5 s of 440 Hz, looped.
  musicPrompt = `queue music ${randomBytes(3).toString('hex')}`;
  const music = path.posix.join('prompts', h.accountId, `${randomBytes(6).toString('hex')}.wav`);
  fs.writeFileSync(path.join(DATA_DIR, music), toneWav(440, 5000));
  await h.db.insertInto('ivr_prompts').values({ account_id: h.accountId, name: musicPrompt, kind: 'audio', text: null, language: null, file: music, duration_ms: 5000, original_name: null, created_by: null }).execute();
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

afterEach(async () => {
  clockAt = null;
  for (const r of running.splice(0)) r.stop();
  for (const a of agents) await h.edge.bindings.removeAll(a.extensionId);
  await h.redis.del(queueWaitingKey(queueId), queueWaitingKey(overflowId), ...agents.map((a) => queueMemberKey(h.accountId, a.extensionId)));
});

/** The queue's settings and members (all three agents, accepting unless listed), as an admin saves them. */
async function configure(settings: Partial<QueueSettings>, notAccepting: string[] = []): Promise<void> {
  await saveCallQueue(h.db, { userId: null, ip: null }, h.accountId, queueId, {
    settings: { ...DEFAULT_QUEUE_SETTINGS, wrapUpSeconds: 0, ...settings },
    members: agents.map((a) => ({ extension: a.extension, accepting: !notAccepting.includes(a.extension) })),
  });
  h.configChanged('queues');
}

/** Registers agent `i` and starts its SIPp scenario for up to `calls` calls. */
async function agent(i: number, scenario: string, calls = 1): Promise<SippRun> {
  const run = await startRegisteredSipp({ target: h.target, credentials: agents[i]!, scenario, calls, timeoutSeconds: 170 });
  running.push(run);
  return run;
}

const dialQueue = async (o: { calls?: number; limit?: number; scenario?: string; vars?: Record<string, string>; timeoutSeconds?: number } = {}) =>
  startSipp({
    scenario: o.scenario ?? 'uac-wait-bye.xml',
    target: h.target,
    localPort: await freeSipPort(),
    service: '600',
    auth: caller,
    calls: o.calls ?? 1,
    limit: o.limit ?? 1,
    rate: 5,
    timeoutSeconds: o.timeoutSeconds ?? 60,
    ...(o.vars ? { vars: o.vars } : {}),
    extra: ['-mp', String(await freeMediaPort())],
  });

/** Each call to the queue since `since`, with its callee legs: which agent was offered it, and how that ended. */
async function offers(since: Date): Promise<{ callId: string; legs: { agent: string; result: string | null; startedAt: Date }[] }[]> {
  const calls = await h.db.selectFrom('calls').select(['id']).where('account_id', '=', h.accountId).where('to_number', '=', '600').where('started_at', '>=', since).orderBy('started_at').execute();
  const byDevice = new Map(agents.map((a) => [a.deviceId, a.extension]));
  const result = [];
  for (const c of calls) {
    const legs = await h.db.selectFrom('call_legs').select(['device_id', 'result', 'started_at']).where('call_id', '=', c.id).where('role', '=', 'callee').orderBy('started_at').execute();
    result.push({ callId: c.id, legs: legs.map((l) => ({ agent: byDevice.get(l.device_id ?? '') ?? '?', result: l.result, startedAt: l.started_at })) });
  }
  return result;
}

async function expectNothingLive(): Promise<void> {
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 30_000, interval: 100 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
}

const dbNow = async () => (await h.db.selectNoFrom((eb) => eb.fn<Date>('now', []).as('now')).executeTakeFirstOrThrow()).now;

describe('a call queue', () => {
  it('Rotating spreads 30 calls evenly over three free agents (10 ± 1 each), one offer per call', async () => {
    await configure({ distribution: 'rotating' });
    for (let i = 0; i < 3; i++) await agent(i, 'uas-agent.xml', 30);
    const since = await dbNow();
    // Two callers at a time: an agent hangs up half a second after answering; the queue offers each caller to the next free agent.
    const run = await dialQueue({ calls: 30, limit: 2, timeoutSeconds: 170 });
    const uac = await run.done;
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    const calls = await offers(since);
    expect(calls).toHaveLength(30);
    const answered = new Map<string, number>();
    for (const c of calls) {
      // A free agent answers at once: each call is offered to one agent, who takes it.
      expect(c.legs.map((l) => l.result), `call ${c.callId}`).toEqual(['answered']);
      const won = c.legs;
      answered.set(won[0]!.agent, (answered.get(won[0]!.agent) ?? 0) + 1);
    }
    for (const a of ['201', '202', '203']) {
      expect(answered.get(a) ?? 0, `calls answered by ${a}: ${JSON.stringify(Object.fromEntries(answered))}`).toBeGreaterThanOrEqual(9);
      expect(answered.get(a) ?? 0).toBeLessThanOrEqual(11);
    }
    await expectNothingLive();
  }, 200_000);

  it('Sequential offers in the admin order: the first agent rings out, the second answers, the third is never offered', async () => {
    await configure({ distribution: 'sequential', ringSeconds: 5 });
    const first = await agent(0, 'uas-ring-cancelled.xml');
    const second = await agent(1, 'uas-agent.xml');
    await agent(2, 'uas-agent.xml');
    const since = await dbNow();
    const uac = await (await dialQueue()).done;
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await first.done).code, 'the first agent was rung and CANCELled').toBe(0);
    expect((await second.done).code, 'the second agent answered and hung up').toBe(0);
    const [call] = await offers(since);
    expect(call!.legs.map((l) => [l.agent, l.result])).toEqual([
      ['201', 'cancelled'],
      ['202', 'answered'],
    ]);
    await expectNothingLive();
  }, 90_000);

  it('Simultaneous rings every free agent at once; the first to answer takes the call, the others are CANCELled', async () => {
    await configure({ distribution: 'simultaneous', ringSeconds: 10 });
    const ringers = [await agent(0, 'uas-ring-cancelled.xml'), await agent(1, 'uas-ring-cancelled.xml')];
    const answerer = await agent(2, 'uas-agent.xml');
    const since = await dbNow();
    const uac = await (await dialQueue()).done;
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    for (const r of ringers) expect((await r.done).code, 'a ringing agent got the CANCEL').toBe(0);
    expect((await answerer.done).code).toBe(0);
    const [call] = await offers(since);
    expect(call!.legs.map((l) => [l.agent, l.result]).sort()).toEqual([
      ['201', 'cancelled'],
      ['202', 'cancelled'],
      ['203', 'answered'],
    ]);
    // One offer: the three INVITEs went out together, not one after another's ring time.
    const starts = call!.legs.map((l) => l.startedAt.getTime());
    expect(Math.max(...starts) - Math.min(...starts)).toBeLessThan(5000);
    await expectNothingLive();
  }, 90_000);

  it('never offers a call to an agent who does not accept queue calls, nor to one in Do Not Disturb for queue calls', async () => {
    await configure({ distribution: 'rotating' }, ['202']);
    await h.db.updateTable('extensions').set({ dnd_status: 'no_queue_calls' }).where('id', '=', agents[2]!.extensionId).execute();
    h.configChanged('extensions');
    try {
      // Registered and ready to answer, yet never offered a call.
      await agent(1, 'uas-agent.xml', 6);
      await agent(2, 'uas-agent.xml', 6);
      await agent(0, 'uas-agent.xml', 6);
      const since = await dbNow();
      const uac = await (await dialQueue({ calls: 4 })).done;
      expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
      const calls = await offers(since);
      expect(calls).toHaveLength(4);
      for (const c of calls) expect(c.legs.map((l) => [l.agent, l.result])).toEqual([['201', 'answered']]);
    } finally {
      await h.db.updateTable('extensions').set({ dnd_status: 'take_all_calls' }).where('id', '=', agents[2]!.extensionId).execute();
      h.configChanged('extensions');
    }
    await expectNothingLive();
  }, 120_000);

  it('applies its custom rules and blocked calls first (CQ-12): a VIP goes to another extension, a blocked number hears the message and is let go, others queue; the next call follows a change', async () => {
    // 203 takes no queue calls: only the VIP rule reaches it. 101 is the VIP; the outside caller is blocked.
    const vip = { name: 'VIP', enabled: true, conditions: [{ type: 'caller_id' as const, numbers: ['101'], contactIds: [], anonymous: false }], target: { type: 'extension' as const, extension: '203' } };
    await configure({ distribution: 'rotating', customRules: [vip], blocked: { anonymous: false, numbers: [OUTSIDE_CALLER], message: 'unavailable' } }, ['203']);
    const served = await agent(0, 'uas-agent.xml', 2);
    const vipAgent = await agent(2, 'uas-agent.xml', 1);
    const since = await dbNow();

    const blocked = await runSipp({ scenario: 'carrier-uac-until-bye.xml', target: h.target, localIp: CARRIER_IP, localPort: await freeSipPort(CARRIER_IP), service: did, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort(CARRIER_IP))] });
    expect(blocked.code, blocked.errors || blocked.output.slice(-1500)).toBe(0);
    const refused = await h.lastCall();
    expect(refused).toMatchObject({ to_number: did, result: 'rejected', hangup_by: 'blocked' });
    const refusedLegs = await h.db.selectFrom('call_legs').select(['role', 'result', 'rtp_stats']).where('call_id', '=', refused.id).execute();
    // Nobody's phone rang; the caller was sent the message (a second or more of speech).
    expect(refusedLegs.map((l) => [l.role, l.result])).toEqual([['caller', 'rejected']]);
    expect((refusedLegs[0]!.rtp_stats as unknown as { sent: { packets: number } }).sent.packets).toBeGreaterThan(50);

    // The VIP (101) goes to 203; another caller (202) queues and 201 takes it.
    const vipCall = await (await dialQueue()).done;
    expect(vipCall.code, vipCall.errors || vipCall.output.slice(-1500)).toBe(0);
    const other = await (
      await startSipp({ scenario: 'uac-wait-bye.xml', target: h.target, localPort: await freeSipPort(), service: '600', auth: agents[1]!, timeoutSeconds: 60, extra: ['-mp', String(await freeMediaPort())] })
    ).done;
    expect(other.code, other.errors || other.output.slice(-1500)).toBe(0);
    expect((await vipAgent.done).code).toBe(0);

    // The rule is removed: the VIP's next call queues like any other (the change is read at once: no wait).
    await configure({ distribution: 'rotating' }, ['203']);
    const after = await (await dialQueue()).done;
    expect(after.code, after.errors || after.output.slice(-1500)).toBe(0);
    expect((await served.done).code).toBe(0);
    const calls = await offers(since);
    expect(calls.map((c) => c.legs.map((l) => [l.agent, l.result]))).toEqual([[['203', 'answered']], [['201', 'answered']], [['201', 'answered']]]);
    await expectNothingLive();
  }, 120_000);

  it('skips an agent who is on a call of their own: the next in order takes the queue call', async () => {
    await configure({ distribution: 'sequential', ringSeconds: 5 });
    // 201 answers a direct call from 101, which lasts until the queue call is checked (its caller then hangs up, on the test's word).
    const busy = await agent(0, 'uas-answer.xml');
    const directMedia = await listener();
    const direct = startSipp({ scenario: 'uac-talk-until-told.xml', target: h.target, localPort: await freeSipPort(), service: '201', auth: caller, timeoutSeconds: 60, vars: { rtpport: String(directMedia.port) }, extra: ['-mp', String(await freeMediaPort())] });
    running.push(direct);
    await expect.poll(() => h.edge.presence.activity(h.accountId, agents[0]!.extensionId).onCall, { timeout: 20_000, interval: 50 }).toBe(1);
    await agent(1, 'uas-agent.xml');
    const since = await dbNow();
    const uac = await (await dialQueue()).done;
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    const [call] = await offers(since);
    expect(call!.legs.map((l) => [l.agent, l.result])).toEqual([['202', 'answered']]);
    await tellToHangUp(direct);
    expect((await direct.done).code, 'the direct call went on undisturbed').toBe(0);
    directMedia.close();
    expect((await busy.done).code).toBe(0);
    await expectNothingLive();
  }, 90_000);

  it('rests an agent for the wrap-up time after a queue call: the next call goes to the next agent', async () => {
    await configure({ distribution: 'sequential', wrapUpSeconds: 60 });
    await agent(0, 'uas-agent.xml', 2);
    await agent(1, 'uas-agent.xml', 2);
    const since = await dbNow();
    const uac = await (await dialQueue({ calls: 2 })).done;
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    const calls = await offers(since);
    expect(calls.map((c) => c.legs.map((l) => [l.agent, l.result]))).toEqual([[['201', 'answered']], [['202', 'answered']]]);
    // Both rest now, each until its own wrap-up ends.
    for (const a of agents.slice(0, 2)) expect(await h.redis.get(queueMemberKey(h.accountId, a.extensionId))).toMatch(/^wrap-up:/);
    await expectNothingLive();
  }, 90_000);

  it('plays hold music while callers wait; past the maximum of callers the next gets the full-queue action; past the longest wait, the max-wait action', async () => {
    // Nobody accepts queue calls: callers wait. Two callers at most; a third hears the message and is disconnected.
    await configure({ distribution: 'rotating', maxCallers: 2, maxWaitSeconds: 12, onMaxWait: { type: 'disconnect', message: null }, onFull: { type: 'disconnect', message: { mode: 'audio', prompt: messagePrompt } } }, ['201', '202', '203']);
    for (let i = 0; i < 3; i++) await agent(i, 'uas-agent.xml');
    const rtp = dgram.createSocket('udp4');
    const heard: number[] = [];
    rtp.on('message', (packet) => {
      if ((packet[1]! & 0x7f) !== 8) return;
      for (let i = 12; i < packet.length; i++) heard.push(pcmaDecodeSample(packet[i]!));
    });
    const rtpPort = await freeMediaPort();
    await new Promise<void>((resolve) => rtp.bind(rtpPort, '127.0.0.1', resolve));
    try {
      const since = await dbNow();
      // The first caller listens on the test's socket: what the queue plays to it lands here.
      const listener = await dialQueue({ scenario: 'uac-listen-until-bye.xml', vars: { rtpport: String(rtpPort) } });
      await expect.poll(() => h.redis.zcard(queueWaitingKey(queueId)), { timeout: 20_000, interval: 100 }).toBe(1);
      const second = await dialQueue();
      await expect.poll(() => h.redis.zcard(queueWaitingKey(queueId)), { timeout: 20_000, interval: 100 }).toBe(2);
      // Half a second of what the waiting caller hears.
      await expect.poll(() => heard.length, { timeout: 20_000, interval: 100 }).toBeGreaterThan(4000);
      const rms = Math.sqrt(heard.slice(0, 4000).reduce((s, v) => s + v * v, 0) / 4000);
      expect(rms, 'hold music has energy').toBeGreaterThan(300);
      // The third caller: the full-queue message, then our BYE, while the two others still wait.
      const third = await (await dialQueue()).done;
      expect(third.code, third.errors || third.output.slice(-1500)).toBe(0);
      expect(await h.redis.zcard(queueWaitingKey(queueId)), 'the two first callers still wait').toBe(2);
      // Past the longest wait (12 s), both are disconnected.
      for (const run of [listener, second]) {
        const r = await run.done;
        expect(r.code, r.errors || r.output.slice(-1500)).toBe(0);
      }
      const calls = await offers(since);
      expect(calls).toHaveLength(3);
      for (const c of calls) expect(c.legs, 'no agent was offered a call').toEqual([]);
      // The records' ends are written once the calls are released, just after the callers got their BYE.
      const ended = () => h.db.selectFrom('calls').select(['result', 'hangup_by', 'started_at', 'ended_at']).where('id', 'in', calls.map((c) => c.callId)).where('ended_at', 'is not', null).orderBy('started_at').execute();
      await expect.poll(async () => (await ended()).length, { timeout: 10_000, interval: 50 }).toBe(3);
      const records = await ended();
      // The waiting callers waited out the 12 s (the third came and went meanwhile).
      expect(records[0]!.ended_at!.getTime() - records[0]!.started_at.getTime()).toBeGreaterThanOrEqual(11_500);
      expect(records[2]!.ended_at!.getTime()).toBeLessThan(records[0]!.ended_at!.getTime());
      for (const r of records) expect(r).toMatchObject({ result: 'answered', hangup_by: 'callee' });
    } finally {
      rtp.close();
    }
    expect(await h.redis.zcard(queueWaitingKey(queueId)), 'nobody left in the queue').toBe(0);
    await expectNothingLive();
  }, 90_000);
});

describe('overflow (CQ-06)', () => {
  it('moves a caller to the first overflow queue with a free agent when nobody of its queue is free', async () => {
    // 600: none of its agents accepts queue calls; it overflows to 601, whose only member 202 is free.
    await configure({ distribution: 'sequential', overflow: ['601'] }, ['201', '202', '203']);
    await saveCallQueue(h.db, { userId: null, ip: null }, h.accountId, overflowId, {
      settings: { ...DEFAULT_QUEUE_SETTINGS, wrapUpSeconds: 0 },
      members: [{ extension: '202', accepting: true }],
    });
    h.configChanged('queues');
    await agent(0, 'uas-agent.xml');
    const answerer = await agent(1, 'uas-agent.xml');
    const since = await dbNow();
    const uac = await (await dialQueue()).done;
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await answerer.done).code).toBe(0);
    const [call] = await offers(since);
    expect(call!.legs.map((l) => [l.agent, l.result])).toEqual([['202', 'answered']]);
    expect(await h.redis.zcard(queueWaitingKey(queueId))).toBe(0);
    expect(await h.redis.zcard(queueWaitingKey(overflowId))).toBe(0);
    await expectNothingLive();
  }, 90_000);
});

describe('a node that shuts down its calls', () => {
  it('ends the waiting caller and the answered queue call cleanly: records closed, nobody left in the queue, no agent left busy', async () => {
    await configure({ distribution: 'rotating' }, ['202', '203']);
    const busy = await agent(0, 'uas-answer.xml');
    const since = await dbNow();
    const answered = await dialQueue();
    await expect.poll(() => h.redis.get(queueMemberKey(h.accountId, agents[0]!.extensionId)), { timeout: 20_000, interval: 100 }).toMatch(/^busy:/);
    const waiting = await dialQueue();
    await expect.poll(() => h.redis.zcard(queueWaitingKey(queueId)), { timeout: 20_000, interval: 100 }).toBe(1);
    // What the node does on shutdown (CallEngine.stop): every application call closed.
    await Promise.all(h.edge.calls.applicationCalls().map((c) => c.close()));
    for (const run of [answered, waiting, busy]) {
      const r = await run.done;
      expect(r.code, r.errors || r.output.slice(-1500)).toBe(0);
    }
    expect(await h.redis.zcard(queueWaitingKey(queueId))).toBe(0);
    expect(await h.redis.get(queueMemberKey(h.accountId, agents[0]!.extensionId)), 'the agent is free again').toBeNull();
    const records = await h.db.selectFrom('calls').select(['result', 'ended_at']).where('account_id', '=', h.accountId).where('to_number', '=', '600').where('started_at', '>=', since).execute();
    expect(records).toHaveLength(2);
    for (const r of records) expect(r.ended_at, 'the record is closed').not.toBeNull();
    await expectNothingLive();
  }, 90_000);
});

describe('what a waiting caller hears', () => {
  it('its place first (speech), then the hold music (440 Hz), interrupted at the interval by its place again', async () => {
    await configure(
      { announcePosition: true, interrupt: { everySeconds: 10, prompt: null }, holdMusic: { mode: 'audio', prompt: musicPrompt }, maxWaitSeconds: 15, onMaxWait: { type: 'disconnect', message: null } },
      ['201', '202', '203'],
    );
    const rtp = dgram.createSocket('udp4');
    const heard: number[] = [];
    rtp.on('message', (packet) => {
      if ((packet[1]! & 0x7f) !== 8) return;
      for (let i = 12; i < packet.length; i++) heard.push(pcmaDecodeSample(packet[i]!));
    });
    const rtpPort = await freeMediaPort();
    await new Promise<void>((resolve) => rtp.bind(rtpPort, '127.0.0.1', resolve));
    try {
      const r = await (await dialQueue({ scenario: 'uac-listen-until-bye.xml', vars: { rtpport: String(rtpPort) } })).done;
      expect(r.code, r.errors || r.output.slice(-1500)).toBe(0);
    } finally {
      rtp.close();
    }
    // What was heard, a quarter of a second at a time: silence, the music's tone, or something else (speech).
    const kinds: string[] = [];
    for (let at = 0; at + 2000 <= heard.length; at += 2000) {
      const w = analyseSamples(heard.slice(at, at + 2000), 440);
      kinds.push(w.rms < 300 ? 'silence' : w.toneShare > 0.8 ? 'music' : 'speech');
    }
    const runs = kinds.filter((k) => k !== 'silence').filter((k, i, all) => i === 0 || all[i - 1] !== k);
    // Speech (the place), music, speech again at the interrupt (10 s, the shortest allowed), music until the longest wait (15 s).
    expect(runs.slice(0, 4), kinds.join(' ')).toEqual(['speech', 'music', 'speech', 'music']);
    expect(kinds.filter((k) => k === 'music').length, 'several seconds of music').toBeGreaterThan(20);
    await expectNothingLive();
  }, 90_000);
});

/** Listens on a socket of the test's own: what the queue plays to a caller whose SDP names it, decoded (PCMA). */
async function listener(): Promise<{ port: number; heard: number[]; close: () => void }> {
  const rtp = dgram.createSocket('udp4');
  const heard: number[] = [];
  rtp.on('message', (packet) => {
    if ((packet[1]! & 0x7f) !== 8) return;
    for (let i = 12; i < packet.length; i++) heard.push(pcmaDecodeSample(packet[i]!));
  });
  const port = await freeMediaPort();
  await new Promise<void>((resolve) => rtp.bind(port, '127.0.0.1', resolve));
  return { port, heard, close: () => rtp.close() };
}

describe('business hours and after hours (CQ-12), on a test clock', () => {
  // Weekdays 09:00–17:00 on the account's wall clock (America/New_York, the account's zone).
  const day = () => [{ from: '09:00', to: '17:00' }];
  const hours: QueueSettings['hours'] = { mode: 'custom', days: { mon: day(), tue: day(), wed: day(), thu: day(), fri: day(), sat: [], sun: [] } };

  it('after hours (Saturday noon in New York), the after-hours message (1 kHz) and goodbye, no agent offered; within hours (Wednesday 10:00) an agent answers', async () => {
    expect((await h.db.selectFrom('accounts').select('time_zone').where('id', '=', h.accountId).executeTakeFirstOrThrow()).time_zone).toBe('America/New_York');
    await configure({ distribution: 'sequential', hours, afterHours: { type: 'disconnect', message: { mode: 'audio', prompt: messagePrompt } } });
    await agent(0, 'uas-agent.xml');
    clockAt = new Date('2026-01-17T17:00:00Z');
    const since = await dbNow();
    const rtp = await listener();
    try {
      const r = await (await dialQueue({ scenario: 'uac-listen-until-bye.xml', vars: { rtpport: String(rtp.port) } })).done;
      expect(r.code, r.errors || r.output.slice(-1500)).toBe(0);
    } finally {
      rtp.close();
    }
    // The message: a second of 1 kHz, then our BYE.
    const tone = analyseSamples(rtp.heard.slice(800, 4800), 1000);
    expect(tone.rms, 'the after-hours message has energy').toBeGreaterThan(300);
    expect(tone.toneShare, 'and is the library prompt (1 kHz)').toBeGreaterThan(0.8);
    const [closed] = await offers(since);
    expect(closed!.legs, 'no agent was offered the call').toEqual([]);
    expect(await h.redis.zcard(queueWaitingKey(queueId)), 'the caller never queued').toBe(0);

    // Wednesday 10:00 in New York (15:00 UTC): open, the first agent takes the call.
    clockAt = new Date('2026-01-14T15:00:00Z');
    const since2 = await dbNow();
    const uac = await (await dialQueue()).done;
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    const [open] = await offers(since2);
    expect(open!.legs.map((l) => [l.agent, l.result])).toEqual([['201', 'answered']]);
    await expectNothingLive();
  }, 90_000);
});

describe('queue voicemail (CQ-08…CQ-10)', () => {
  it('after hours to voicemail: the message is left in the queue’s mailbox, untranscribed as set, and read by its recipient (202)', async () => {
    const closed: QueueSettings['hours'] = { mode: 'custom', days: { mon: [{ from: '09:00', to: '17:00' }], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } };
    await configure({ hours: closed, afterHours: { type: 'voicemail' } });
    await saveQueueVoicemail(h.db, { userId: null, ip: null }, h.accountId, queueId, { recipient: '202', transcribe: false });
    // A short greeting (the library's 1 s tone) rather than the spoken default, so the caller's talk (from 1.5 s to 10 s) is recorded.
    const greeting = await h.db.selectFrom('ivr_prompts').select('file').where('account_id', '=', h.accountId).where('name', '=', messagePrompt).executeTakeFirstOrThrow();
    await h.db.updateTable('voicemail_settings').set({ greeting_path: greeting.file }).where('extension_id', '=', queueId).execute();
    // Saturday noon in New York: closed.
    clockAt = new Date('2026-01-17T17:00:00Z');
    const since = await dbNow();
    const uac = await (await dialQueue({ scenario: 'uac-leave-message.xml' })).done;
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    const messages = () => h.db.selectFrom('voicemail_messages').selectAll().where('account_id', '=', h.accountId).where('mailbox_extension_id', '=', queueId).where('created_at', '>=', since).execute();
    await expect.poll(async () => (await messages()).length, { timeout: 20_000, interval: 100 }).toBe(1);
    const [message] = await messages();
    expect(message).toMatchObject({ reason: 'rule', to_number: '600', from_number: '101', transcription_id: null });
    const recipient = await h.db.selectFrom('users').select('id').where('extension_id', '=', agents[1]!.extensionId).executeTakeFirstOrThrow();
    const inbox = await listVoicemail(h.db, { accountId: h.accountId, userId: recipient.id });
    expect(inbox.map((m) => [m.id, m.mailboxExtensionId])).toContainEqual([message!.id, queueId]);
    await saveQueueVoicemail(h.db, { userId: null, ip: null }, h.accountId, queueId, { recipient: null, transcribe: true });
    await expectNothingLive();
  }, 90_000);
});

describe("agents' keypad codes", () => {
  const accepting = async (extensionId: string) =>
    (await h.db.selectFrom('call_queue_members').select('accepting').where('queue_extension_id', '=', queueId).where('member_extension_id', '=', extensionId).executeTakeFirstOrThrow()).accepting;

  /** Agent `i` dials a code from its own phone and listens to the confirmation until our BYE; what it heard. */
  async function dialCode(i: number, code: string): Promise<number[]> {
    const rtp = await listener();
    try {
      const r = await startSipp({
        scenario: 'uac-listen-until-bye.xml',
        target: h.target,
        localPort: await freeSipPort(),
        service: code,
        auth: agents[i]!,
        timeoutSeconds: 60,
        vars: { rtpport: String(rtp.port) },
        extra: ['-mp', String(await freeMediaPort())],
      }).done;
      expect(r.code, r.errors || r.output.slice(-1500)).toBe(0);
    } finally {
      rtp.close();
    }
    return rtp.heard;
  }

  /** Seconds of sound (not silence) in what was heard, by quarter seconds. */
  const spokenSeconds = (heard: number[]) => {
    let quarters = 0;
    for (let at = 0; at + 2000 <= heard.length; at += 2000) if (analyseSamples(heard.slice(at, at + 2000), 440).rms >= 300) quarters++;
    return quarters / 4;
  };

  it('*46 logs the agent out (spoken confirmation, audited as the agent): the next call goes to another agent; *45 + the queue logs it back in', async () => {
    await configure({ distribution: 'sequential' });
    const out = await dialCode(0, '*46');
    expect(spokenSeconds(out), 'the confirmation is spoken').toBeGreaterThan(1);
    expect(await accepting(agents[0]!.extensionId)).toBe(false);
    const agentUser = await h.db.selectFrom('users').select('id').where('extension_id', '=', agents[0]!.extensionId).executeTakeFirstOrThrow();
    const audit = await h.db.selectFrom('audit_events').select(['action', 'actor_user_id']).where('account_id', '=', h.accountId).where('target_id', '=', agents[0]!.extensionId).orderBy('occurred_at', 'desc').executeTakeFirstOrThrow();
    expect(audit).toEqual({ action: 'call_queue.member_not_accepting', actor_user_id: agentUser.id });

    // 201 is first in order, registered and free, yet logged out: 202 takes the call.
    await agent(0, 'uas-agent.xml');
    await agent(1, 'uas-agent.xml');
    const since = await dbNow();
    const uac = await (await dialQueue()).done;
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    const [call] = await offers(since);
    expect(call!.legs.map((l) => [l.agent, l.result])).toEqual([['202', 'answered']]);

    // Back in, to this queue by its number: the next call is 201's again.
    await dialCode(0, '*45600');
    expect(await accepting(agents[0]!.extensionId)).toBe(true);
    const since2 = await dbNow();
    const uac2 = await (await dialQueue()).done;
    expect(uac2.code, uac2.errors || uac2.output.slice(-1500)).toBe(0);
    const [call2] = await offers(since2);
    expect(call2!.legs.map((l) => [l.agent, l.result])).toEqual([['201', 'answered']]);
    await expectNothingLive();
  }, 120_000);

  it('a code naming a queue the agent is not a member of changes nothing', async () => {
    await configure({ distribution: 'sequential' });
    // 601 (the overflow queue) has no members here.
    await saveCallQueue(h.db, { userId: null, ip: null }, h.accountId, overflowId, { settings: { ...DEFAULT_QUEUE_SETTINGS }, members: [] });
    h.configChanged('queues');
    const heard = await dialCode(2, '*46601');
    expect(spokenSeconds(heard)).toBeGreaterThan(1);
    expect(await accepting(agents[2]!.extensionId)).toBe(true);
    await expectNothingLive();
  }, 60_000);
});

/** A WAV in the media format (8 kHz mono 16-bit) of a tone. */
function toneWav(hz: number, ms: number): Buffer {
  const n = Math.round((ms * 8000) / 1000);
  const out = Buffer.alloc(44 + n * 2);
  wavHeader(8000, 1, n * 2, out);
  for (let i = 0; i < n; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000)), 44 + i * 2);
  return out;
}
