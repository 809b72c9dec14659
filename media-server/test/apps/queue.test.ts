import { describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, type QueueSettings, type WeeklySchedule } from '@carillon/domain';
import { queueApp } from '../../src/apps/queue/queue.ts';
import type { MemberPresence, QueueConfig, QueueDirectory, QueueState } from '../../src/apps/queue/queue-ports.ts';
import type { Destination } from '../../src/routing/destination.ts';
import { positionAnnouncement } from '../../src/apps/queue/queue-announcements.ts';
import { agentConfirmation, queueAgentApp } from '../../src/apps/queue/queue-agent.ts';
import { FakeCallHandle, MemoryMailboxes } from './fake-call-handle.ts';

/**
 * The queue application on a fake CallHandle, with the queue's directory and shared state in memory:
 * what a caller gets when the queue is full (each exit action), and what an answered offer leaves
 * (the member busy, then in wrap-up; the caller out of the queue). The order of callers, the
 * strategies and hold music are tested end to end (test/sipp/queue-calls.test.ts).
 */
const ACCOUNT = '00000000-0000-4000-8000-0000000000aa';
const QUEUE = '00000000-0000-4000-8000-0000000000q1';
const destination: Destination = { kind: 'queue', accountId: ACCOUNT, extensionId: QUEUE, extensionNumber: '600', direction: 'inbound' };

class MemoryQueueState implements QueueState {
  readonly entries: string[] = [];
  readonly log: string[] = [];
  full = false;
  handleTimeMs: number | null = null;
  isNextAnswer = true;
  position(_q: string, entryId: string): Promise<number | null> {
    const i = this.entries.indexOf(entryId);
    return Promise.resolve(i >= 0 ? i : null);
  }
  handleTime(): Promise<number | null> {
    return Promise.resolve(this.handleTimeMs);
  }
  recordHandleTime(_q: string, ms: number): Promise<void> {
    this.log.push(`handle time ${ms >= 0 ? 'recorded' : ms}`);
    return Promise.resolve();
  }
  join(_q: string, entryId: string): Promise<number | 'full'> {
    if (this.full) return Promise.resolve('full');
    this.entries.push(entryId);
    return Promise.resolve(this.entries.length - 1);
  }
  keepAlive(): Promise<void> {
    return Promise.resolve();
  }
  leave(_q: string, entryId: string): Promise<void> {
    const i = this.entries.indexOf(entryId);
    if (i >= 0) this.entries.splice(i, 1);
    this.log.push('leave');
    return Promise.resolve();
  }
  isNext(): Promise<boolean> {
    return Promise.resolve(this.isNextAnswer);
  }
  waiting(): Promise<number> {
    return Promise.resolve(this.entries.length);
  }
  rotor(): Promise<string | null> {
    return Promise.resolve(null);
  }
  setRotor(_q: string, memberId: string): Promise<void> {
    this.log.push(`rotor ${memberId}`);
    return Promise.resolve();
  }
  takenMembers(): Promise<Set<string>> {
    return Promise.resolve(new Set());
  }
  claim(_a: string, id: string): Promise<boolean> {
    this.log.push(`claim ${id}`);
    return Promise.resolve(true);
  }
  markBusy(_a: string, id: string): Promise<void> {
    this.log.push(`busy ${id}`);
    return Promise.resolve();
  }
  release(_a: string, id: string, _o: string, wrapUpMs: number): Promise<void> {
    this.log.push(`release ${id} ${wrapUpMs}`);
    return Promise.resolve();
  }
  // Callbacks are tested on the Redis state itself (queue-callback.test.ts): these queues do not offer them.
  holdForCallback(): Promise<boolean> {
    return Promise.reject(new Error('callbacks: see queue-callback.test.ts'));
  }
  dueCallbacks(): Promise<{ queueId: string; entryId: string; accountId: string }[]> {
    return Promise.resolve([]);
  }
  takeCallback(): Promise<null> {
    return Promise.resolve(null);
  }
  keepServing(): Promise<void> {
    return Promise.resolve();
  }
  returnCallback(): Promise<boolean> {
    return Promise.resolve(false);
  }
  /** What the supervisor view's figures were told, in order: 'entered <day>' and '<outcome> <day>'. */
  readonly figures: string[] = [];
  entered(_a: string, _q: string, _e: string, _c: unknown, day: string): Promise<void> {
    this.figures.push(`entered ${day}`);
    return Promise.resolve();
  }
  left(_a: string, _q: string, _e: string, outcome: string, waitMs: number, day: string): Promise<void> {
    this.figures.push(`${outcome} ${day}${waitMs >= 0 ? '' : ' negative wait'}`);
    return Promise.resolve();
  }
}

function directory(settings: Partial<QueueSettings>, members: QueueConfig['members'] = []): QueueDirectory {
  const config: QueueConfig = { extensionId: QUEUE, number: '600', settings: { ...DEFAULT_QUEUE_SETTINGS, ...settings }, members, timeZone: 'America/New_York' };
  return {
    ofQueue: (_a, id) => Promise.resolve(id === QUEUE ? config : null),
    queueByNumber: (_a, number) => Promise.resolve(number === '600' ? config : null),
    memberPresence: (_a, ids) => Promise.resolve(new Map<string, MemberPresence>(ids.map((id) => [id, { dnd: 'take_all_calls', online: true, onCall: false }]))),
    userExtension: (accountId, number) => Promise.resolve(number === '205' ? { kind: 'extension', accountId, extensionId: 'ext-205', extensionNumber: '205', direction: 'inbound' } : null),
    promptFile: (_a, name) => Promise.resolve(name === 'full' ? '/prompts/full.wav' : null),
    defaultHoldMusic: '/static/hold-music.wav',
  };
}

describe('the queue application', () => {
  it('refuses a call to an extension that is not a queue with 480', async () => {
    const call = new FakeCallHandle({ dialed: '600' });
    await queueApp({ directory: directory({}), state: new MemoryQueueState(), mailboxes: new MemoryMailboxes() })(call, { ...destination, extensionId: 'other' });
    expect(call.log).toEqual([['reject', { status: 480, reason: 'Call Queue Not Available' }]]);
  });

  it('full queue, voicemail: the caller leaves a message in the queue’s mailbox, reason busy', async () => {
    const call = new FakeCallHandle({ dialed: '600' });
    const state = Object.assign(new MemoryQueueState(), { full: true });
    const mailboxes = new MemoryMailboxes();
    await queueApp({ directory: directory({ onFull: { type: 'voicemail' } }), state, mailboxes })(call, destination);
    expect(mailboxes.deposited).toMatchObject([{ accountId: ACCOUNT, mailboxExtensionId: QUEUE, reason: 'busy' }]);
    expect(state.entries).toEqual([]);
  });

  it('full queue, another extension: the caller is put through to it; no answer there ends the call', async () => {
    const answered = new FakeCallHandle({ dialed: '600' });
    answered.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    const settings = { onFull: { type: 'extension', extension: '205' } as const, ringSeconds: 12 };
    await queueApp({ directory: directory(settings), state: Object.assign(new MemoryQueueState(), { full: true }), mailboxes: new MemoryMailboxes() })(answered, destination);
    expect(answered.log).toEqual(['answer', ['bridgeTo', { target: { kind: 'extension', accountId: ACCOUNT, extensionId: 'ext-205', extensionNumber: '205', direction: 'inbound' }, ringSeconds: 12 }]]);

    const missed = new FakeCallHandle({ dialed: '600' });
    missed.bridgeOutcome = { outcome: 'no-answer', status: 480 };
    await queueApp({ directory: directory(settings), state: Object.assign(new MemoryQueueState(), { full: true }), mailboxes: new MemoryMailboxes() })(missed, destination);
    expect(missed.log.at(-1)).toBe('hangup');
  });

  it('full queue, disconnect: the message from the library, then goodbye', async () => {
    const call = new FakeCallHandle({ dialed: '600' });
    await queueApp({ directory: directory({ onFull: { type: 'disconnect', message: { mode: 'audio', prompt: 'full' } } }), state: Object.assign(new MemoryQueueState(), { full: true }), mailboxes: new MemoryMailboxes() })(call, destination);
    expect(call.log).toEqual(['answer', ['play', { file: '/prompts/full.wav' }], 'hangup']);
  });

  it('an answered offer: greeting, the member taken then busy, the caller out of the queue, then the wrap-up time', async () => {
    const call = new FakeCallHandle({ dialed: '600' });
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    const state = new MemoryQueueState();
    const members = [
      { extensionId: 'm1', number: '201', position: 0, accepting: true },
      { extensionId: 'm2', number: '202', position: 1, accepting: true },
    ];
    await queueApp({ directory: directory({ distribution: 'rotating', wrapUpSeconds: 30, greeting: { mode: 'tts', text: 'Thanks for calling.' } }, members), state, mailboxes: new MemoryMailboxes() })(call, destination);
    expect(call.log.slice(0, 2)).toEqual(['answer', ['play', { tts: 'Thanks for calling.' }]]);
    expect(call.log).toContainEqual(['bridgeTo', { target: [{ kind: 'extension', accountId: ACCOUNT, extensionId: 'm1', extensionNumber: '201', direction: 'inbound' }], ringSeconds: DEFAULT_QUEUE_SETTINGS.ringSeconds }]);
    expect(state.log).toEqual(['claim m1', 'rotor m1', 'leave', 'busy m1', 'handle time recorded', 'release m1 30000']);
    expect(state.entries).toEqual([]);
  });

  it('a member that parks the caller is released (its wrap-up) when it leaves, not when the parked call ends, and only once', async () => {
    const call = new FakeCallHandle({ dialed: '600' });
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    call.answeringPartyLeaves = true;
    const state = new MemoryQueueState();
    const members = [{ extensionId: 'm1', number: '201', position: 0, accepting: true }];
    await queueApp({ directory: directory({ distribution: 'rotating', wrapUpSeconds: 30 }, members), state, mailboxes: new MemoryMailboxes() })(call, destination);
    expect(state.log).toEqual(['claim m1', 'rotor m1', 'leave', 'busy m1', 'release m1 30000', 'handle time recorded']);
  });
});

describe('what a waiting caller is told', () => {
  it('its place on entry, and the expected wait once the queue has a handle time', async () => {
    const call = new FakeCallHandle({ dialed: '600' });
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    const state = new MemoryQueueState();
    state.entries.push('ahead-1', 'ahead-2');
    state.handleTimeMs = 90_000;
    // Two callers ahead, 90 s a call, one member taking calls: caller 3, about 4.5 minutes (spoken 5).
    const members = [{ extensionId: 'm1', number: '201', position: 0, accepting: true }];
    state.isNextAnswer = false;
    setTimeout(() => (state.isNextAnswer = true), 50);
    await queueApp({ directory: directory({ announcePosition: true }, members), state, mailboxes: new MemoryMailboxes(), pollMs: 10 })(call, destination);
    expect(call.log[1]).toEqual(['play', { tts: 'You are caller number 3. Your expected wait is 5 minutes.' }]);
  });

  it('in French, only its place while nobody has been answered yet', () => {
    expect(positionAnnouncement(1, null, 'fr')).toBe('Vous êtes le prochain appelant.');
    expect(positionAnnouncement(2, 1, 'en')).toBe('You are caller number 2. Your expected wait is one minute.');
  });

  describe('business hours (CQ-12)', () => {
    // Weekdays 09:00–17:00 on the account's wall clock (America/New_York).
    const day = () => [{ from: '09:00', to: '17:00' }];
    const hours: WeeklySchedule = { mode: 'custom', days: { mon: day(), tue: day(), wed: day(), thu: day(), fri: day(), sat: [], sun: [] } };
    const closedMessage = { type: 'disconnect', message: { mode: 'tts', text: 'We are closed.' } } as const;

    it('after hours (Saturday noon in New York, 16:00 UTC): the after-hours action, and the caller never queues', async () => {
      const call = new FakeCallHandle({ dialed: '600' });
      const state = new MemoryQueueState();
      await queueApp({ directory: directory({ hours, afterHours: closedMessage }), state, mailboxes: new MemoryMailboxes(), now: () => new Date('2026-01-17T17:00:00Z') })(call, destination);
      expect(call.log).toEqual(['answer', ['play', { tts: 'We are closed.' }], 'hangup']);
      expect(state.log).toEqual([]);
    });

    it('after hours to voicemail: the queue’s mailbox, reason rule', async () => {
      const call = new FakeCallHandle({ dialed: '600' });
      const mailboxes = new MemoryMailboxes();
      // Wednesday 08:59 in New York (13:59 UTC): one minute before opening.
      await queueApp({ directory: directory({ hours, afterHours: { type: 'voicemail' } }), state: new MemoryQueueState(), mailboxes, now: () => new Date('2026-01-14T13:59:00Z') })(call, destination);
      expect(mailboxes.deposited).toMatchObject([{ mailboxExtensionId: QUEUE, reason: 'rule' }]);
    });

    it('overflow goes only to a queue within its own hours', async () => {
      const base = directory({ distribution: 'sequential', overflow: ['601'] }, [{ extensionId: 'm1', number: '201', position: 0, accepting: false }]);
      const target: QueueConfig = { extensionId: 'q601', number: '601', settings: { ...DEFAULT_QUEUE_SETTINGS, hours }, members: [{ extensionId: 'm9', number: '209', position: 0, accepting: true }], timeZone: 'America/New_York' };
      const withTarget: QueueDirectory = { ...base, queueByNumber: (_a, number) => Promise.resolve(number === '601' ? target : null), ofQueue: (a, id) => (id === 'q601' ? Promise.resolve(target) : base.ofQueue(a, id)) };
      const tryAt = async (at: string) => {
        const call = new FakeCallHandle({ dialed: '600' });
        call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
        const state = new MemoryQueueState();
        // The caller gives up soon: long enough for several looks for a free member.
        const giveUp = setTimeout(() => void call.hangup().catch(() => undefined), 300);
        await queueApp({ directory: withTarget, state, mailboxes: new MemoryMailboxes(), pollMs: 10, now: () => new Date(at) })(call, destination).catch(() => undefined);
        clearTimeout(giveUp);
        return state.log;
      };
      // Saturday noon in New York: 601 is closed, nobody of it is offered the call.
      expect(await tryAt('2026-01-17T17:00:00Z')).not.toContain('claim m9');
      // Wednesday 10:00: 601 takes the caller and offers it to its member.
      expect(await tryAt('2026-01-14T15:00:00Z')).toContain('claim m9');
    });

    it('within hours (Wednesday 09:00 in New York): the caller queues as usual', async () => {
      const call = new FakeCallHandle({ dialed: '600' });
      call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
      const state = new MemoryQueueState();
      const members = [{ extensionId: 'm1', number: '201', position: 0, accepting: true }];
      await queueApp({ directory: directory({ hours, afterHours: closedMessage }, members), state, mailboxes: new MemoryMailboxes(), now: () => new Date('2026-01-14T14:00:00Z') })(call, destination);
      expect(state.log[0]).toBe('claim m1');
      expect(call.log).not.toContainEqual(['play', { tts: 'We are closed.' }]);
    });

    it('counts the caller in the figures of the account’s day: entered and answered, or entered and abandoned', async () => {
      const members = [{ extensionId: 'm1', number: '201', position: 0, accepting: true }];
      const answered = new FakeCallHandle({ dialed: '600' });
      answered.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
      const state = new MemoryQueueState();
      await queueApp({ directory: directory({}, members), state, mailboxes: new MemoryMailboxes(), now: () => new Date('2026-01-14T14:00:00Z') })(answered, destination);
      expect(state.figures).toEqual(['entered 2026-01-14', 'answered 2026-01-14']);
      // 03:00 UTC on the 15th is still the 14th in New York; nobody accepts, the caller hangs up.
      const gaveUp = new FakeCallHandle({ dialed: '600' });
      const waiting = new MemoryQueueState();
      const hangUp = setTimeout(() => void gaveUp.hangup().catch(() => undefined), 100);
      await queueApp({ directory: directory({}, [{ ...members[0]!, accepting: false }]), state: waiting, mailboxes: new MemoryMailboxes(), pollMs: 10, now: () => new Date('2026-01-15T03:00:00Z') })(gaveUp, destination).catch(() => undefined);
      clearTimeout(hangUp);
      expect(waiting.figures).toEqual(['entered 2026-01-14', 'abandoned 2026-01-14']);
    });
  });

  describe('agent keypad codes', () => {
    const login = (queueNumber: string | null, accepting: boolean): Destination => ({ kind: 'queue_login', accountId: ACCOUNT, extensionId: 'm1', queueNumber, accepting });

    it('logs the agent out of one queue, says so, and hangs up', async () => {
      const calls: unknown[] = [];
      const call = new FakeCallHandle({ dialed: '*46600' });
      await queueAgentApp({ setAccepting: (...args) => (calls.push(args), Promise.resolve({ changed: 1, queues: 1 })) })(call, login('600', false));
      expect(calls).toEqual([[ACCOUNT, 'm1', '600', false]]);
      expect(call.log).toEqual(['answer', ['play', { tts: 'You are logged out of queue 6 0 0. Goodbye.' }], 'hangup']);
    });

    it('logs in to all queues; a queue the agent is not a member of, and no queue at all, are said', async () => {
      const call = new FakeCallHandle({ dialed: '*45' });
      await queueAgentApp({ setAccepting: () => Promise.resolve({ changed: 2, queues: 3 }) })(call, login(null, true));
      expect(call.log).toContainEqual(['play', { tts: 'You are logged in to all your queues. Goodbye.' }]);
      expect(agentConfirmation('not_a_member', '601', true, 'en')).toBe('You are not a member of queue 6 0 1. Goodbye.');
      expect(agentConfirmation({ changed: 0, queues: 0 }, null, false, 'fr')).toBe("Vous n'êtes membre d'aucune file d'attente. Au revoir.");
    });
  });
});
