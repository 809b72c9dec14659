import { describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, type QueueSettings } from '@carillon/domain';
import { queueApp } from '../../src/apps/queue/queue.ts';
import type { MemberPresence, QueueConfig, QueueDirectory, QueueState } from '../../src/apps/queue/queue-ports.ts';
import type { Destination } from '../../src/routing/destination.ts';
import { positionAnnouncement } from '../../src/apps/queue/queue-announcements.ts';
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
}

function directory(settings: Partial<QueueSettings>, members: QueueConfig['members'] = []): QueueDirectory {
  const config: QueueConfig = { extensionId: QUEUE, number: '600', settings: { ...DEFAULT_QUEUE_SETTINGS, ...settings }, members };
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
});
