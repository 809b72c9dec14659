import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, type QueueSettings } from '@carillon/domain';
import { QUEUE_CALLBACKS_KEY, queueCallbackKey, queueEntryKey, type QueueCallbackEntry } from '@carillon/contracts/call-queues';
import { queueApp } from '../../src/apps/queue/queue.ts';
import { CALLBACK_ATTEMPTS, QueueCallbacks, type JoinedParty, type OriginatedCall, type QueueOriginator } from '../../src/apps/queue/queue-callback.ts';
import type { MemberPresence, QueueConfig, QueueDirectory } from '../../src/apps/queue/queue-ports.ts';
import type { BridgeOutcome, PlaySource, RoomRef } from '../../src/apps/call-handle.ts';
import type { ExtensionDestination, PstnDestination } from '../../src/routing/destination.ts';
import { RedisQueueState } from '../../src/calls/queue-state-redis.ts';
import { QueueWakeups } from '../../src/apps/queue/queue-wakeups.ts';
import { FakeCallHandle, MemoryMailboxes } from './fake-call-handle.ts';

/**
 * Callback that keeps the caller's place (issue 15): the queue application on a fake CallHandle and the
 * callbacks' service on a fake originated call (the layer boundaries), with the queue's shared state in
 * the real Redis. What the caller hears and leaves behind, the order of the legs (the agent first, then
 * the caller), and what becomes of the callback when someone does not answer. End to end, with SIPp
 * phones: test/sipp/queue-callback.test.ts.
 */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ACCOUNT = '00000000-0000-4000-8000-0000000000aa';

let redis: Redis;
beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await redis.quit();
});

function directory(queueId: string, settings: Partial<QueueSettings>, members: QueueConfig['members'], presence: (id: string) => MemberPresence = () => ({ dnd: 'take_all_calls', online: true, onCall: false })): QueueDirectory {
  const config: QueueConfig = { extensionId: queueId, number: '600', settings: { ...DEFAULT_QUEUE_SETTINGS, ...settings }, members, timeZone: 'UTC' };
  return {
    ofQueue: (_a, id) => Promise.resolve(id === queueId ? config : null),
    queueByNumber: () => Promise.resolve(null),
    memberPresence: (_a, ids) => Promise.resolve(new Map(ids.map((id) => [id, presence(id)]))),
    userExtension: (accountId, number) => Promise.resolve(number === '101' ? { kind: 'extension', accountId, extensionId: 'ext-101', extensionNumber: '101', direction: 'internal' } : null),
    promptFile: () => Promise.resolve(null),
    defaultHoldMusic: '/static/hold-music.wav',
  };
}

const CALLBACK_ON: Partial<QueueSettings> = { callback: { enabled: true, key: '1' }, maxWaitSeconds: 600 };

describe('a waiting caller asks to be called back', () => {
  it('presses the key: told its number, hung up; its entry stays as a callback that blocks the callers behind it', async () => {
    const queueId = `q-${randomUUID()}`;
    const state = new RedisQueueState(redis);
    const call = new FakeCallHandle({ dialed: '600', callerExtensionId: 'ext-101' });
    // A silence first (one look for a free member), then the key, then 1: its own number confirmed.
    call.keys = ['', '1', '1'];
    await queueApp({ directory: directory(queueId, CALLBACK_ON, []), state, mailboxes: new MemoryMailboxes(), pollMs: 20 })(call, { kind: 'queue', accountId: ACCOUNT, extensionId: queueId, extensionNumber: '600', direction: 'internal' });

    expect(call.log).toContainEqual(['play', { tts: 'To be called back without losing your place, press 1.' }]);
    expect(call.log.slice(-6)).toEqual([
      ['keyed', '1'],
      ['play', { tts: 'We will call you back at 1 0 1. To confirm, press 1. To give another number, press 2.' }],
      'collect',
      ['keyed', '1'],
      ['play', { tts: 'We will call you back at 1 0 1. You keep your place. Goodbye.' }],
      'hangup',
    ]);
    // The entry outlived the call: a callback, with who to call back.
    expect(await redis.get(queueEntryKey(queueId, call.id))).toBe('callback');
    const entry = JSON.parse((await redis.get(queueCallbackKey(queueId, call.id)))!) as QueueCallbackEntry;
    expect(entry).toMatchObject({ accountId: ACCOUNT, queueId, entryId: call.id, number: '101', extensionId: 'ext-101', attempts: 0 });
    expect(await redis.pttl(queueEntryKey(queueId, call.id))).toBeGreaterThan(590_000);
    expect(await redis.zscore(QUEUE_CALLBACKS_KEY, queueId)).not.toBeNull();

    // A caller arriving after it: counted with it (max callers), and not next while the callback waits.
    expect(await state.join(queueId, 'behind', 2)).toBe(1);
    expect(await state.join(queueId, 'third', 2)).toBe('full');
    expect(await state.isNext(queueId, 'behind')).toBe(false);
    expect(await state.dueCallbacks()).toContainEqual(expect.objectContaining({ queueId, entryId: call.id }));
    // Taken by one node only; while it is served, the caller behind may be.
    expect(await state.takeCallback(queueId, call.id)).toMatchObject({ number: '101' });
    expect(await state.takeCallback(queueId, call.id)).toBeNull();
    expect(await state.isNext(queueId, 'behind')).toBe(true);
    await state.leave(queueId, call.id);
    await state.leave(queueId, 'behind');
    expect(await redis.exists(queueCallbackKey(queueId, call.id))).toBe(0);
    // Served or gone: no longer due.
    expect(await state.dueCallbacks()).not.toContainEqual(expect.objectContaining({ queueId }));
  });

  it('gives another number (2, the digits, #), hears it read back and confirms it: that number is called back, as an outside number or as a user’s extension', async () => {
    for (const [typed, extensionId] of [
      ['0612345678', null],
      ['101', 'ext-101'],
    ] as const) {
      const queueId = `q-${randomUUID()}`;
      const call = new FakeCallHandle({ dialed: '600', callerNumber: '+33155550123' });
      // A typo first (2 digits), then the number.
      call.keys = ['', '1', '2', '06#', '2', `${typed}#`, '1'];
      await queueApp({ directory: directory(queueId, CALLBACK_ON, []), state: new RedisQueueState(redis), mailboxes: new MemoryMailboxes(), pollMs: 20 })(call, { kind: 'queue', accountId: ACCOUNT, extensionId: queueId, extensionNumber: '600', direction: 'internal' });
      expect(call.log).toContainEqual(['play', { tts: 'That number is not valid.' }]);
      expect(call.log).toContainEqual(['play', { tts: `We will call you back at ${typed.split('').join(' ')}. To confirm, press 1. To give another number, press 2.` }]);
      expect(call.log.slice(-2)).toEqual([['play', { tts: `We will call you back at ${typed.split('').join(' ')}. You keep your place. Goodbye.` }], 'hangup']);
      const entry = JSON.parse((await redis.get(queueCallbackKey(queueId, call.id)))!) as QueueCallbackEntry;
      expect(entry).toMatchObject({ number: typed, extensionId });
      await new RedisQueueState(redis).leave(queueId, call.id);
    }
  });

  it('confirms nothing in 3 rounds: no callback, told it keeps its place, and it waits on in the queue', async () => {
    const queueId = `q-${randomUUID()}`;
    const call = new FakeCallHandle({ dialed: '600', callerExtensionId: 'ext-101' });
    // The key, three silences (or other keys) at the question, then a silence waiting: the caller hangs up after.
    call.keys = ['', '1', '', '5', '', ''];
    await queueApp({ directory: directory(queueId, CALLBACK_ON, []), state: new RedisQueueState(redis), mailboxes: new MemoryMailboxes(), pollMs: 20 })(call, { kind: 'queue', accountId: ACCOUNT, extensionId: queueId, extensionNumber: '600', direction: 'internal' }).catch(() => undefined);
    expect(call.log).toContainEqual(['play', { tts: 'You keep your place in the queue.' }]);
    expect(call.log.filter((l) => Array.isArray(l) && l[0] === 'play' && JSON.stringify(l[1]).includes('Goodbye'))).toEqual([]);
    expect(await redis.exists(queueCallbackKey(queueId, call.id))).toBe(0);
    // It waited on after (another look, listening for keys) until it hung up; its place then went with the call.
    const told = call.log.findIndex((l) => Array.isArray(l) && l[0] === 'play' && (l[1] as { tts?: string }).tts === 'You keep your place in the queue.');
    expect(call.log.lastIndexOf('collect')).toBeGreaterThan(told);
    expect(call.log.at(-1)).toBe('caller hung up');
    expect(await redis.get(queueEntryKey(queueId, call.id))).toBeNull();
  });

  it('is not offered a callback when the queue does not offer it', async () => {
    const queueId = `q-${randomUUID()}`;
    const call = new FakeCallHandle({ dialed: '600' });
    call.keys = [];
    call.hangUpAt = 'play';
    await queueApp({ directory: directory(queueId, { maxWaitSeconds: 600 }, []), state: new RedisQueueState(redis), mailboxes: new MemoryMailboxes(), pollMs: 20 })(call, { kind: 'queue', accountId: ACCOUNT, extensionId: queueId, extensionNumber: '600', direction: 'internal' }).catch(() => undefined);
    expect(call.log.some((l) => Array.isArray(l) && l[0] === 'play' && JSON.stringify(l[1]).includes('called back'))).toBe(false);
  });
});

/** An originated call at the boundary: what was dialled, in order, and each party's answer as the test says. */
class FakeOriginatedCall implements OriginatedCall {
  readonly id = randomUUID();
  readonly language = 'en' as const;
  readonly log: unknown[] = [];
  closedWith: string | null = null;
  private readonly lifetime = new AbortController();
  /** By party ('agent' = an extension other than the caller's 101): answers or not. */
  private readonly answers: { agent: boolean; caller: boolean };
  constructor(answers: { agent: boolean; caller: boolean }) {
    this.answers = answers;
  }
  get signal(): AbortSignal {
    return this.lifetime.signal;
  }
  dialOut(target: ExtensionDestination | PstnDestination, room: RoomRef, options: { ringSeconds: number; announce?: PlaySource; fromName?: string; hangup?: AbortSignal; onJoined?: (party: JoinedParty) => void }): Promise<BridgeOutcome> {
    const who = target.kind === 'extension' ? target.extensionNumber : target.e164;
    this.log.push(['dialOut', who, room.roomId.startsWith('queue-callback-'), options.announce ?? null]);
    const answers = who === '101' || target.kind === 'pstn' ? this.answers.caller : this.answers.agent;
    if (!answers) return Promise.resolve({ outcome: 'no-answer', status: 480 });
    this.log.push(['joined', who]);
    options.onJoined?.({
      play: (source) => {
        this.log.push(['play to', who, source]);
        return Promise.resolve();
      },
    });
    // The caller talks, then hangs up; the agent stays until it is hung up.
    if (who === '101') return new Promise((resolve) => setTimeout(() => resolve({ outcome: 'answered', endedBy: 'callee' }), 10));
    return new Promise((resolve) => {
      let over = false;
      const done = () => {
        if (over) return;
        over = true;
        this.log.push(['hung up', who]);
        resolve({ outcome: 'answered', endedBy: 'caller' });
      };
      if (options.hangup?.aborted || this.lifetime.signal.aborted) return done();
      options.hangup?.addEventListener('abort', done, { once: true });
      this.lifetime.signal.addEventListener('abort', done, { once: true });
    });
  }
  close(result: 'answered' | 'no_answer' | 'failed'): Promise<void> {
    this.closedWith = result;
    this.lifetime.abort();
    return Promise.resolve();
  }
}

async function heldCallback(state: RedisQueueState, queueId: string): Promise<QueueCallbackEntry> {
  const entryId = randomUUID();
  await state.join(queueId, entryId, 25);
  const entry: QueueCallbackEntry = { accountId: ACCOUNT, queueId, entryId, number: '101', extensionId: 'ext-101', requestedAt: new Date().toISOString(), attempts: 0 };
  expect(await state.holdForCallback(entry, 600_000)).toBe(true);
  return (await state.takeCallback(queueId, entryId))!;
}

function originator(calls: FakeOriginatedCall[], answers: { agent: boolean; caller: boolean }): QueueOriginator {
  return {
    originate: () => {
      const call = new FakeOriginatedCall(answers);
      calls.push(call);
      return Promise.resolve(call);
    },
    pstnTarget: () => Promise.resolve(null),
  };
}

async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('serving a callback', () => {
  // A member of its own per test: the marks a test leaves (wrap-up) never hold another's.
  let agentId = '';
  let members: QueueConfig['members'] = [];
  beforeEach(() => {
    agentId = `ext-${randomUUID()}`;
    members = [{ extensionId: agentId, number: '201', position: 0, accepting: true }];
  });

  it('rings the agent first, tells it who, then dials the caller; both answer: connected, the callback gone, the agent in wrap-up', async () => {
    const queueId = `q-${randomUUID()}`;
    const state = new RedisQueueState(redis);
    const entry = await heldCallback(state, queueId);
    const calls: FakeOriginatedCall[] = [];
    const service = new QueueCallbacks({ directory: directory(queueId, { ...CALLBACK_ON, wrapUpSeconds: 30 }, members), state, originator: originator(calls, { agent: true, caller: true }) });
    expect(await service.serve(entry)).toBe('connected');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.log).toEqual([
      ['dialOut', '201', true, { tts: 'Callback for 1 0 1.' }],
      ['joined', '201'],
      ['dialOut', '101', true, null],
      ['joined', '101'],
      ['hung up', '201'],
    ]);
    expect(calls[0]!.closedWith).toBe('answered');
    expect(await redis.exists(queueEntryKey(queueId, entry.entryId), queueCallbackKey(queueId, entry.entryId))).toBe(0);
    expect(await state.takenMembers(ACCOUNT, [agentId])).toEqual(new Set([agentId]));
    await state.release(ACCOUNT, agentId, entry.entryId, 0);
  });

  it('the agent does not answer: the caller is never dialled, the callback is back in its place, the agent free', async () => {
    const queueId = `q-${randomUUID()}`;
    const state = new RedisQueueState(redis);
    const entry = await heldCallback(state, queueId);
    const calls: FakeOriginatedCall[] = [];
    const service = new QueueCallbacks({ directory: directory(queueId, CALLBACK_ON, members), state, originator: originator(calls, { agent: false, caller: true }) });
    expect(await service.serve(entry)).toBe('agent-no-answer');
    expect(calls[0]!.log).toEqual([['dialOut', '201', true, { tts: 'Callback for 1 0 1.' }]]);
    expect(calls[0]!.closedWith).toBe('no_answer');
    expect(await redis.get(queueEntryKey(queueId, entry.entryId))).toBe('callback');
    expect(await state.takenMembers(ACCOUNT, [agentId])).toEqual(new Set());
    await state.leave(queueId, entry.entryId);
  });

  it('nobody free: no call is placed and the callback keeps its place', async () => {
    const queueId = `q-${randomUUID()}`;
    const state = new RedisQueueState(redis);
    const entry = await heldCallback(state, queueId);
    const calls: FakeOriginatedCall[] = [];
    const service = new QueueCallbacks({ directory: directory(queueId, CALLBACK_ON, members, () => ({ dnd: 'take_all_calls', online: true, onCall: true })), state, originator: originator(calls, { agent: true, caller: true }) });
    expect(await service.serve(entry)).toBe('no-agent');
    expect(calls).toHaveLength(0);
    expect(await state.dueCallbacks()).toContainEqual(expect.objectContaining({ queueId, entryId: entry.entryId }));
    await state.leave(queueId, entry.entryId);
  });

  it(`the caller does not answer: recorded no_answer, tried once more later (callers behind served meanwhile), then dropped (${CALLBACK_ATTEMPTS} attempts)`, async () => {
    const queueId = `q-${randomUUID()}`;
    const state = new RedisQueueState(redis);
    const entry = await heldCallback(state, queueId);
    await state.join(queueId, 'behind', 25);
    const calls: FakeOriginatedCall[] = [];
    const service = new QueueCallbacks({ directory: directory(queueId, CALLBACK_ON, members), state, originator: originator(calls, { agent: true, caller: false }), retryAfterMs: 200 });
    expect(await service.serve(entry)).toBe('caller-no-answer');
    expect(calls[0]!.log).toEqual([
      ['dialOut', '201', true, { tts: 'Callback for 1 0 1.' }],
      ['joined', '201'],
      ['dialOut', '101', true, null],
      ['play to', '201', { tts: '1 0 1 did not answer. It will be tried again later.' }],
      ['hung up', '201'],
    ]);
    expect(calls[0]!.closedWith).toBe('no_answer');
    // Waiting for its retry, it does not hold the caller behind it.
    expect(await redis.get(queueEntryKey(queueId, entry.entryId))).toBe('serving');
    expect(await state.isNext(queueId, 'behind')).toBe(true);
    await waitFor(async () => (await redis.get(queueEntryKey(queueId, entry.entryId))) === 'callback');
    const retry = (await state.takeCallback(queueId, entry.entryId))!;
    expect(retry.attempts).toBe(1);
    expect(await service.serve(retry)).toBe('caller-no-answer');
    expect(calls[1]!.log).toContainEqual(['play to', '201', { tts: '1 0 1 did not answer. The callback is dropped.' }]);
    expect(await redis.exists(queueEntryKey(queueId, entry.entryId))).toBe(0);
    expect(await state.position(queueId, entry.entryId)).toBeNull();
    await service.stop();
    await state.leave(queueId, 'behind');
  });

  it('a node leaves alone the callbacks of queues it does not know (another deployment on the same Redis)', async () => {
    const queueId = `q-${randomUUID()}`;
    const state = new RedisQueueState(redis);
    const entryId = randomUUID();
    await state.join(queueId, entryId, 25);
    await state.holdForCallback({ accountId: ACCOUNT, queueId, entryId, number: '101', extensionId: 'ext-101', requestedAt: new Date().toISOString(), attempts: 0 }, 600_000);
    const calls: FakeOriginatedCall[] = [];
    const stranger = new QueueCallbacks({ directory: directory(`q-${randomUUID()}`, CALLBACK_ON, members), state, originator: originator(calls, { agent: true, caller: true }), pollMs: 20 });
    await stranger.look();
    await stranger.look();
    expect(calls).toHaveLength(0);
    expect(await redis.get(queueEntryKey(queueId, entryId)), 'still waiting for its own node').toBe('callback');
    await state.leave(queueId, entryId);
  });

  it('looks at once when the node wakes its queue callers (a member given back), not at its next poll; and wakes them when the callback is done', async () => {
    const queueId = `q-${randomUUID()}`;
    const state = new RedisQueueState(redis);
    const entryId = randomUUID();
    await state.join(queueId, entryId, 25);
    await state.holdForCallback({ accountId: ACCOUNT, queueId, entryId, number: '101', extensionId: 'ext-101', requestedAt: new Date().toISOString(), attempts: 0 }, 600_000);
    const wakeups = new QueueWakeups();
    const woken: string[] = [];
    const unlisten = wakeups.onEveryWake((accountId) => woken.push(accountId));
    const calls: FakeOriginatedCall[] = [];
    // A poll a minute away: a callback served within waitFor's 5 s was served by the wake-up.
    const service = new QueueCallbacks({ directory: directory(queueId, CALLBACK_ON, members), state, originator: originator(calls, { agent: true, caller: true }), pollMs: 60_000, wakeups });
    service.start();
    wakeups.wake(ACCOUNT);
    await waitFor(async () => (await redis.exists(queueEntryKey(queueId, entryId))) === 0);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.closedWith).toBe('answered');
    // The test's wake-up, then the service's own once the callback was served and its member given back.
    await waitFor(() => Promise.resolve(woken.length === 2));
    expect(woken).toEqual([ACCOUNT, ACCOUNT]);
    await service.stop();
    unlisten();
    await state.release(ACCOUNT, agentId, entryId, 0);
  });

  it('each node looks for due callbacks and one takes each; stop closes what it serves', async () => {
    const queueId = `q-${randomUUID()}`;
    const state = new RedisQueueState(redis);
    const entryId = randomUUID();
    await state.join(queueId, entryId, 25);
    await state.holdForCallback({ accountId: ACCOUNT, queueId, entryId, number: '101', extensionId: 'ext-101', requestedAt: new Date().toISOString(), attempts: 0 }, 600_000);
    const calls: FakeOriginatedCall[] = [];
    const a = new QueueCallbacks({ directory: directory(queueId, CALLBACK_ON, members), state, originator: originator(calls, { agent: true, caller: true }), pollMs: 20 });
    const b = new QueueCallbacks({ directory: directory(queueId, CALLBACK_ON, members), state, originator: originator(calls, { agent: true, caller: true }), pollMs: 20 });
    a.start();
    b.start();
    await waitFor(async () => (await redis.exists(queueEntryKey(queueId, entryId))) === 0);
    await a.stop();
    await b.stop();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.closedWith).toBe('answered');
    await state.release(ACCOUNT, agentId, entryId, 0);
  });
});
