import { describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, QUEUE_MAX_CALLERS, QUEUE_MAX_RULES, queueEntry, estimatedWaitSeconds, memberAvailability, membersToOffer, nextHandleTimeMs, queueHasRoom, queueIsOpen, queueSettings, readQueueSettings, spokenWaitMinutes, type QueueMemberState } from '../src/index.ts';

const member = (extensionId: string, position: number, over: Partial<QueueMemberState> = {}): QueueMemberState => ({ extensionId, position, accepting: true, dnd: 'take_all_calls', online: true, busy: false, ...over });
const abc = [member('a', 0), member('b', 1), member('c', 2)];

describe('queue settings (CQ-01, CQ-04, CQ-05)', () => {
  it('defaults to Rotating with 25 callers at most, and validates', () => {
    expect(DEFAULT_QUEUE_SETTINGS).toMatchObject({ distribution: 'rotating', maxCallers: 25 });
    expect(queueSettings.safeParse(DEFAULT_QUEUE_SETTINGS).success).toBe(true);
  });

  it('refuses more than 25 callers, an unknown distribution, and a wrong exit action', () => {
    expect(queueSettings.safeParse({ ...DEFAULT_QUEUE_SETTINGS, maxCallers: 26 }).success).toBe(false);
    expect(queueSettings.safeParse({ ...DEFAULT_QUEUE_SETTINGS, distribution: 'random' }).success).toBe(false);
    expect(queueSettings.safeParse({ ...DEFAULT_QUEUE_SETTINGS, onFull: { type: 'extension', extension: 'abc' } }).success).toBe(false);
    expect(queueSettings.safeParse({ ...DEFAULT_QUEUE_SETTINGS, onFull: { type: 'disconnect', message: { mode: 'tts', text: 'Sorry, call later.' } } }).success).toBe(true);
  });

  it('overflows to at most 3 queues, each once, and never from a Simultaneous queue (CQ-06)', () => {
    expect(queueSettings.safeParse({ ...DEFAULT_QUEUE_SETTINGS, overflow: ['601', '602', '603'] }).success).toBe(true);
    expect(queueSettings.safeParse({ ...DEFAULT_QUEUE_SETTINGS, overflow: ['601', '602', '603', '604'] }).success).toBe(false);
    expect(queueSettings.safeParse({ ...DEFAULT_QUEUE_SETTINGS, overflow: ['601', '601'] }).success).toBe(false);
    expect(queueSettings.safeParse({ ...DEFAULT_QUEUE_SETTINGS, distribution: 'simultaneous', overflow: ['601'] }).success).toBe(false);
    expect(queueSettings.safeParse({ ...DEFAULT_QUEUE_SETTINGS, distribution: 'sequential', overflow: ['601'] }).success).toBe(true);
  });

  it('reads a stored row that no longer validates as the defaults', () => {
    expect(readQueueSettings({ distribution: 'random' })).toEqual(DEFAULT_QUEUE_SETTINGS);
    expect(readQueueSettings({ ...DEFAULT_QUEUE_SETTINGS, ringSeconds: 30 }).ringSeconds).toBe(30);
    // A row written before a field existed keeps what it has and takes the default for the rest.
    const { wrapUpSeconds: _dropped, ...older } = { ...DEFAULT_QUEUE_SETTINGS, distribution: 'sequential' as const, wrapUpSeconds: 5 };
    expect(readQueueSettings(older)).toEqual({ ...DEFAULT_QUEUE_SETTINGS, distribution: 'sequential' });
    expect(readQueueSettings(null)).toEqual(DEFAULT_QUEUE_SETTINGS);
  });

  it('has its own hours (CQ-12): 24 h by default, a row saved before hours existed reads as 24 h; a weekly schedule on the account’s wall clock', () => {
    const { hours: _h, afterHours: _a, ...older } = DEFAULT_QUEUE_SETTINGS;
    expect(readQueueSettings(older)).toMatchObject({ hours: { mode: '24h' }, afterHours: { type: 'voicemail' } });
    expect(queueIsOpen(DEFAULT_QUEUE_SETTINGS, 'Europe/Paris', new Date('2026-01-18T03:00:00Z'))).toBe(true);
    const hours = queueSettings.shape.hours.parse({ mode: 'custom', days: { mon: [{ from: '09:00', to: '17:00' }] } });
    // Monday 08:59 and 09:00 in Paris (UTC+1 in January), and 17:00, the end (exclusive).
    expect(queueIsOpen({ hours }, 'Europe/Paris', new Date('2026-01-19T07:59:00Z'))).toBe(false);
    expect(queueIsOpen({ hours }, 'Europe/Paris', new Date('2026-01-19T08:00:00Z'))).toBe(true);
    expect(queueIsOpen({ hours }, 'Europe/Paris', new Date('2026-01-19T16:00:00Z'))).toBe(false);
    // The same instant is Monday 09:00 in Paris but Monday 03:00 in New York.
    expect(queueIsOpen({ hours }, 'America/New_York', new Date('2026-01-19T08:00:00Z'))).toBe(false);
    // No hours at all, or an after-hours action to nowhere, are refused.
    expect(queueSettings.safeParse({ ...DEFAULT_QUEUE_SETTINGS, hours: { mode: 'custom', days: {} } }).success).toBe(false);
    expect(queueSettings.safeParse({ ...DEFAULT_QUEUE_SETTINGS, afterHours: { type: 'extension' } }).success).toBe(false);
  });

  it('offers callback only when set (off by default, key 1); a row saved before it existed reads it as off; the key is one of the keypad', () => {
    expect(DEFAULT_QUEUE_SETTINGS.callback).toEqual({ enabled: false, key: '1' });
    const { callback: _c, ...older } = DEFAULT_QUEUE_SETTINGS;
    expect(readQueueSettings(older).callback).toEqual({ enabled: false, key: '1' });
    // An API client that does not know the field yet saves without it: the default.
    expect(queueSettings.parse(older).callback).toEqual({ enabled: false, key: '1' });
    expect(queueSettings.safeParse({ ...DEFAULT_QUEUE_SETTINGS, callback: { enabled: true, key: '#' } }).success).toBe(true);
    for (const key of ['x', '12', '', 1]) expect(queueSettings.safeParse({ ...DEFAULT_QUEUE_SETTINGS, callback: { enabled: true, key } }).success, String(key)).toBe(false);
    expect(queueSettings.safeParse({ ...DEFAULT_QUEUE_SETTINGS, callback: { enabled: true } }).success).toBe(false);
  });

  it('decides a call’s entry (CQ-12): blocked callers first, then the first enabled custom rule that matches, then the hours', () => {
    const hours = queueSettings.shape.hours.parse({ mode: 'custom', days: { mon: [{ from: '09:00', to: '17:00' }] } });
    const settings = queueSettings.parse({
      ...DEFAULT_QUEUE_SETTINGS,
      hours,
      afterHours: { type: 'disconnect', message: null },
      blocked: { anonymous: true, numbers: ['+33612345678'], message: 'goodbye' },
      customRules: [
        { name: 'Off', enabled: false, conditions: [{ type: 'caller_id', numbers: ['+14155550100'] }], target: { type: 'voicemail' } },
        { name: 'VIP', enabled: true, conditions: [{ type: 'caller_id', numbers: ['+14155550100'] }], target: { type: 'extension', extension: '201' } },
        { name: 'VIP after hours', enabled: true, conditions: [{ type: 'caller_id', numbers: ['+14155550199'] }], target: { type: 'queue' } },
        { name: 'Holiday', enabled: true, conditions: [{ type: 'date_range', ranges: [{ from: '2026-12-25T00:00', to: '2026-12-26T00:00' }] }], target: { type: 'voicemail' } },
      ],
    });
    const monday = new Date('2026-01-19T10:00:00Z'); // 11:00 in Paris: open
    const sunday = new Date('2026-01-18T10:00:00Z'); // closed
    const entry = (callerId: string | null, at = monday) => queueEntry(settings, 'Europe/Paris', { at, callerId, calledNumber: '600' });
    expect(entry('+33612345678')).toEqual({ kind: 'blocked' });
    expect(entry('33 6 12 34 56 78')).toEqual({ kind: 'blocked' });
    expect(entry(null)).toEqual({ kind: 'blocked' });
    expect(entry('+1 415 555 0100')).toMatchObject({ kind: 'custom', target: { type: 'extension', extension: '201' } });
    expect(entry('+14155550199', sunday)).toMatchObject({ kind: 'custom', target: { type: 'queue' } });
    expect(entry('+4930123456')).toEqual({ kind: 'hours', target: { type: 'queue' } });
    expect(entry('+4930123456', sunday)).toEqual({ kind: 'after_hours', target: { type: 'disconnect', message: null } });
    expect(entry('+4930123456', new Date('2026-12-25T10:00:00Z'))).toMatchObject({ kind: 'custom', target: { type: 'voicemail' } });
    // A queue saved before rules and blocking existed reads none.
    const { customRules: _r, blocked: _b, ...older } = DEFAULT_QUEUE_SETTINGS;
    expect(readQueueSettings(older)).toMatchObject({ customRules: [], blocked: { anonymous: false, numbers: [] } });
    expect(queueEntry(readQueueSettings(older), 'UTC', { at: monday, callerId: null, calledNumber: null })).toEqual({ kind: 'hours', target: { type: 'queue' } });
    // Bad rules are refused: no condition, a target to nowhere, too many rules, a number blocked twice.
    const rule = settings.customRules[1]!;
    for (const bad of [
      { customRules: [{ ...rule, conditions: [] }] },
      { customRules: [{ ...rule, target: { type: 'extension' } }] },
      { customRules: Array.from({ length: QUEUE_MAX_RULES + 1 }, () => rule) },
      { blocked: { anonymous: false, numbers: ['+33612345678', '+33 6 12 34 56 78'], message: 'goodbye' } },
    ]) expect(queueSettings.safeParse({ ...settings, ...bad }).success, JSON.stringify(bad).slice(0, 80)).toBe(false);
  });

  it('lets the 25th caller in and keeps the 26th out, whatever the setting says', () => {
    expect(QUEUE_MAX_CALLERS).toBe(25);
    expect(queueHasRoom(24, 25)).toBe(true);
    expect(queueHasRoom(25, 25)).toBe(false);
    expect(queueHasRoom(25, 40)).toBe(false);
    expect(queueHasRoom(1, 2)).toBe(true);
    expect(queueHasRoom(2, 2)).toBe(false);
  });
});

describe('member availability', () => {
  it('skips members not accepting queue calls, in DND for queue calls, offline, or busy', () => {
    expect(memberAvailability(member('a', 0))).toBe('available');
    expect(memberAvailability(member('a', 0, { accepting: false }))).toBe('not_accepting');
    expect(memberAvailability(member('a', 0, { dnd: 'no_queue_calls' }))).toBe('dnd');
    expect(memberAvailability(member('a', 0, { dnd: 'no_calls' }))).toBe('dnd');
    expect(memberAvailability(member('a', 0, { online: false }))).toBe('offline');
    expect(memberAvailability(member('a', 0, { busy: true }))).toBe('busy');
  });
});

describe('members to offer (CQ-04)', () => {
  const none = new Set<string>();

  it('Sequential: always the first free member in the admin order', () => {
    expect(membersToOffer({ distribution: 'sequential', members: abc, rotor: 'a', tried: none })).toEqual(['a']);
    expect(membersToOffer({ distribution: 'sequential', members: [member('a', 0, { busy: true }), abc[1]!, abc[2]!], rotor: null, tried: none })).toEqual(['b']);
    // The order is the positions', not the list's.
    expect(membersToOffer({ distribution: 'sequential', members: [member('a', 5), member('b', 1), member('c', 3)], rotor: null, tried: none })).toEqual(['b']);
  });

  it('Sequential: a member tried without an answer comes after the others, and the round starts again', () => {
    expect(membersToOffer({ distribution: 'sequential', members: abc, rotor: null, tried: new Set(['a']) })).toEqual(['b']);
    expect(membersToOffer({ distribution: 'sequential', members: abc, rotor: null, tried: new Set(['a', 'b', 'c']) })).toEqual(['a']);
  });

  it('Rotating: the first free member after the pointer, wrapping around', () => {
    expect(membersToOffer({ distribution: 'rotating', members: abc, rotor: null, tried: none })).toEqual(['a']);
    expect(membersToOffer({ distribution: 'rotating', members: abc, rotor: 'a', tried: none })).toEqual(['b']);
    expect(membersToOffer({ distribution: 'rotating', members: abc, rotor: 'c', tried: none })).toEqual(['a']);
    expect(membersToOffer({ distribution: 'rotating', members: [abc[0]!, member('b', 1, { busy: true }), abc[2]!], rotor: 'a', tried: none })).toEqual(['c']);
    // A pointer on a member who left the queue starts from the top.
    expect(membersToOffer({ distribution: 'rotating', members: abc, rotor: 'gone', tried: none })).toEqual(['a']);
  });

  it('Rotating: 30 calls one after another spread 10 each over three free members', () => {
    let rotor: string | null = null;
    const count = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const [next] = membersToOffer({ distribution: 'rotating', members: abc, rotor, tried: none });
      count.set(next!, (count.get(next!) ?? 0) + 1);
      rotor = next!;
    }
    expect(Object.fromEntries(count)).toEqual({ a: 10, b: 10, c: 10 });
  });

  it('Simultaneous: every available member, none of the others', () => {
    expect(membersToOffer({ distribution: 'simultaneous', members: abc, rotor: null, tried: none })).toEqual(['a', 'b', 'c']);
    expect(membersToOffer({ distribution: 'simultaneous', members: [abc[0]!, member('b', 1, { accepting: false }), member('c', 2, { online: false })], rotor: null, tried: none })).toEqual(['a']);
  });

  it('offers nobody when no member is available', () => {
    for (const distribution of ['rotating', 'sequential', 'simultaneous'] as const) {
      expect(membersToOffer({ distribution, members: abc.map((m) => ({ ...m, busy: true })), rotor: null, tried: none })).toEqual([]);
      expect(membersToOffer({ distribution, members: [], rotor: null, tried: none })).toEqual([]);
    }
  });
});

describe('expected wait', () => {
  it('keeps a running handle time, recent calls weighing more', () => {
    expect(nextHandleTimeMs(null, 120_000)).toBe(120_000);
    expect(nextHandleTimeMs(120_000, 60_000)).toBe(108_000);
    expect(nextHandleTimeMs(100_000, -5)).toBe(80_000);
  });

  it('serves the callers ahead agents at a time; no estimate without a handle time or anyone taking calls', () => {
    expect(estimatedWaitSeconds({ position: 1, handleTimeMs: 90_000, agents: 2 })).toBe(90);
    expect(estimatedWaitSeconds({ position: 3, handleTimeMs: 90_000, agents: 2 })).toBe(180);
    expect(estimatedWaitSeconds({ position: 4, handleTimeMs: 90_000, agents: 2 })).toBe(180);
    expect(estimatedWaitSeconds({ position: 3, handleTimeMs: null, agents: 2 })).toBeNull();
    expect(estimatedWaitSeconds({ position: 3, handleTimeMs: 90_000, agents: 0 })).toBeNull();
  });

  it('speaks whole minutes, at least one', () => {
    expect(spokenWaitMinutes(10)).toBe(1);
    expect(spokenWaitMinutes(150)).toBe(3);
  });
});
