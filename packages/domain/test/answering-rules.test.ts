import { describe, expect, it } from 'vitest';
import {
  DND_STATUSES,
  decideUserAnswering,
  defaultRuleHandling,
  DEFAULT_CALL_SETTINGS,
  dndTakesCall,
  isWithinSchedule,
  MAX_BLOCKED_NUMBERS,
  SCREENING_MODES,
  screeningApplies,
  userCallSettingsSchema,
  reconcileDevices,
  ringPlanSchema,
  ringTimeline,
  ruleConditionsSchema,
  selectAnsweringRule,
  userAnsweringSchema,
  wallClock,
  weeklyScheduleSchema,
  type AnsweringRuleSet,
  type IncomingCall,
  type RingPlan,
  type UserAnswering,
  type WeeklySchedule,
} from '@carillon/domain';

/** The test clock: every evaluation is given its instant, written here in UTC. */
const utc = (iso: string) => new Date(`${iso}Z`);
const weekdays9to5: WeeklySchedule = weeklyScheduleSchema.parse({
  mode: 'custom',
  days: { mon: [{ from: '09:00', to: '12:00' }, { from: '13:00', to: '17:00' }], tue: [{ from: '09:00', to: '17:00' }], wed: [{ from: '09:00', to: '17:00' }], thu: [{ from: '09:00', to: '17:00' }], fri: [{ from: '09:00', to: '17:00' }] },
});
const call = (at: string, over: Partial<IncomingCall> = {}): IncomingCall => ({ at: utc(at), callerId: '+14155550199', calledNumber: '+14155550142', ...over });

describe('weekly schedules in a time zone', () => {
  it('reads the wall clock of the zone, not of the machine', () => {
    expect(wallClock(utc('2026-03-02T23:30'), 'Europe/Paris')).toEqual({ date: '2026-03-03', day: 'tue', time: '00:30' });
    expect(wallClock(utc('2026-03-03T04:30'), 'America/Los_Angeles')).toEqual({ date: '2026-03-02', day: 'mon', time: '20:30' });
  });

  it('takes several ranges a day, start inclusive and end exclusive', () => {
    // Monday 2 March 2026 in Paris (CET, UTC+1).
    expect(isWithinSchedule(weekdays9to5, 'Europe/Paris', utc('2026-03-02T07:59'))).toBe(false); // 08:59
    expect(isWithinSchedule(weekdays9to5, 'Europe/Paris', utc('2026-03-02T08:00'))).toBe(true); // 09:00
    expect(isWithinSchedule(weekdays9to5, 'Europe/Paris', utc('2026-03-02T11:00'))).toBe(false); // 12:00, lunch
    expect(isWithinSchedule(weekdays9to5, 'Europe/Paris', utc('2026-03-02T12:30'))).toBe(true); // 13:30
    expect(isWithinSchedule(weekdays9to5, 'Europe/Paris', utc('2026-03-02T16:00'))).toBe(false); // 17:00
    expect(isWithinSchedule(weekdays9to5, 'Europe/Paris', utc('2026-03-07T10:00'))).toBe(false); // Saturday
    expect(isWithinSchedule({ mode: '24h' }, 'Europe/Paris', utc('2026-03-07T10:00'))).toBe(true);
  });

  it('follows the zone across a change of daylight saving time', () => {
    // Paris goes from UTC+1 to UTC+2 on Sunday 29 March 2026: 09:30 is 08:30 UTC before, 07:30 UTC after.
    expect(isWithinSchedule(weekdays9to5, 'Europe/Paris', utc('2026-03-27T08:30'))).toBe(true);
    expect(isWithinSchedule(weekdays9to5, 'Europe/Paris', utc('2026-03-30T07:30'))).toBe(true);
    expect(isWithinSchedule(weekdays9to5, 'Europe/Paris', utc('2026-03-30T06:30'))).toBe(false); // 08:30 CEST
    expect(isWithinSchedule(weekdays9to5, 'Europe/Paris', utc('2026-03-30T15:30'))).toBe(false); // 17:30 CEST
  });

  it('has no instant in the hour that clocks skip, and both instants of the hour they repeat', () => {
    const sundayTwoToThree = weeklyScheduleSchema.parse({ mode: 'custom', days: { sun: [{ from: '02:00', to: '03:00' }] } });
    // 29 March 2026, Paris: 00:59 UTC is 01:59 CET, 01:00 UTC is already 03:00 CEST.
    expect(isWithinSchedule(sundayTwoToThree, 'Europe/Paris', utc('2026-03-29T00:59'))).toBe(false);
    expect(isWithinSchedule(sundayTwoToThree, 'Europe/Paris', utc('2026-03-29T01:00'))).toBe(false);
    // 25 October 2026, Paris: 02:30 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET).
    expect(isWithinSchedule(sundayTwoToThree, 'Europe/Paris', utc('2026-10-25T00:30'))).toBe(true);
    expect(isWithinSchedule(sundayTwoToThree, 'Europe/Paris', utc('2026-10-25T01:30'))).toBe(true);
    expect(isWithinSchedule(sundayTwoToThree, 'Europe/Paris', utc('2026-10-25T02:00'))).toBe(false); // 03:00 CET
    // New York moves on 8 March 2026: a Monday 9:00 opening is 14:00 UTC before, 13:00 UTC after.
    expect(isWithinSchedule(weekdays9to5, 'America/New_York', utc('2026-03-02T14:00'))).toBe(true);
    expect(isWithinSchedule(weekdays9to5, 'America/New_York', utc('2026-03-09T13:00'))).toBe(true);
    expect(isWithinSchedule(weekdays9to5, 'America/New_York', utc('2026-03-09T12:59'))).toBe(false);
  });

  it('lets a range run to the end of the day, 24:00', () => {
    const lateFriday = weeklyScheduleSchema.parse({ mode: 'custom', days: { fri: [{ from: '18:00', to: '24:00' }] } });
    expect(isWithinSchedule(lateFriday, 'UTC', utc('2026-03-06T23:59'))).toBe(true);
    expect(isWithinSchedule(lateFriday, 'UTC', utc('2026-03-07T00:00'))).toBe(false);
  });

  it('refuses an empty schedule, overlapping ranges and a range that ends before it starts', () => {
    const issues = (v: unknown) => weeklyScheduleSchema.safeParse(v).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ mode: 'custom', days: {} })).toEqual(['days: at least one day needs hours']);
    expect(issues({ mode: 'custom', days: { mon: [{ from: '09:00', to: '12:00' }, { from: '11:00', to: '13:00' }] } })).toEqual(['days.mon.1.from: ranges must be in order and not overlap']);
    expect(issues({ mode: 'custom', days: { mon: [{ from: '12:00', to: '09:00' }] } })).toEqual(['days.mon.0.to: must end after it starts']);
    expect(issues({ mode: 'custom', days: { mon: [{ from: '24:00', to: '24:00' }] } })?.[0]).toMatch(/^days.mon.0.from: a time as HH:MM/);
    expect(weeklyScheduleSchema.safeParse({ mode: 'custom', days: { mon: Array.from({ length: 5 }, (_, i) => ({ from: `0${i}:00`, to: `0${i}:30` })) } }).success).toBe(false);
  });
});

describe('selecting the rule that takes a call', () => {
  const rules: AnsweringRuleSet<string> = {
    timeZone: 'Europe/Paris',
    hours: weekdays9to5,
    custom: [
      { id: 'vip', name: 'VIP', enabled: true, conditions: [{ type: 'caller_id', numbers: ['+33612345678'], contactIds: [], anonymous: false }], target: 'vip' },
      { id: 'off', name: 'Disabled', enabled: false, conditions: [{ type: 'caller_id', numbers: ['+14155550199'], contactIds: [], anonymous: false }], target: 'never' },
      {
        id: 'holiday',
        name: 'Holiday',
        enabled: true,
        conditions: [{ type: 'date_range', ranges: [{ from: '2026-04-06T00:00', to: '2026-04-07T00:00' }] }],
        target: 'holiday',
      },
      { id: 'vip-late', name: 'VIP again', enabled: true, conditions: [{ type: 'caller_id', numbers: ['+33612345678'], contactIds: [], anonymous: false }], target: 'shadowed' },
    ],
    inHours: 'hours',
    afterHours: 'after',
  };

  it('takes the hours rule in the hours and the after-hours rule outside them', () => {
    expect(selectAnsweringRule(rules, call('2026-03-02T09:00'))).toEqual({ kind: 'hours', target: 'hours' });
    expect(selectAnsweringRule(rules, call('2026-03-02T19:00'))).toEqual({ kind: 'after_hours', target: 'after' });
    expect(selectAnsweringRule(rules, call('2026-03-07T09:00'))).toEqual({ kind: 'after_hours', target: 'after' });
  });

  it('tries custom rules before the hours, in order, and the first match wins', () => {
    // In the hours, and after: the caller-ID rule wins over both; the later rule with the same condition never does.
    expect(selectAnsweringRule(rules, call('2026-03-02T09:00', { callerId: '+33 6 12 34 56 78' }))).toEqual({ kind: 'custom', ruleId: 'vip', target: 'vip' });
    expect(selectAnsweringRule(rules, call('2026-03-02T22:00', { callerId: '+33612345678' }))).toMatchObject({ ruleId: 'vip' });
    // Easter Monday 2026 in Paris, a Monday within the hours: the date rule takes it, read on the Paris clock.
    expect(selectAnsweringRule(rules, call('2026-04-06T08:00'))).toMatchObject({ kind: 'custom', ruleId: 'holiday' });
    expect(selectAnsweringRule(rules, call('2026-04-05T21:59'))).toMatchObject({ kind: 'after_hours' }); // 23:59 on the 5th, Sunday
    expect(selectAnsweringRule(rules, call('2026-04-05T22:00'))).toMatchObject({ ruleId: 'holiday' }); // 00:00 on the 6th
    // The order is the owner's: put the holiday first and the VIP calling on that day takes the holiday rule.
    const reordered = { ...rules, custom: [rules.custom[2]!, ...rules.custom.filter((r) => r.id !== 'holiday')] };
    expect(selectAnsweringRule(reordered, call('2026-04-06T08:00', { callerId: '+33612345678' }))).toMatchObject({ ruleId: 'holiday' });
    expect(selectAnsweringRule(rules, call('2026-04-06T08:00', { callerId: '+33612345678' }))).toMatchObject({ ruleId: 'vip' });
  });

  it('skips a disabled rule', () => {
    expect(selectAnsweringRule(rules, call('2026-03-02T09:00', { callerId: '+14155550199' }))).toMatchObject({ kind: 'hours' });
  });

  it('matches callers by contact, anonymous callers, the number called, and needs every condition of a rule', () => {
    const contactId = '6f1d8c9e-1b2a-4c3d-8e9f-0a1b2c3d4e5f';
    const set: AnsweringRuleSet<string> = {
      timeZone: 'UTC',
      hours: { mode: '24h' },
      custom: [
        { id: 'contact', name: 'A contact', enabled: true, conditions: [{ type: 'caller_id', numbers: [], contactIds: [contactId], anonymous: false }], target: 'contact' },
        { id: 'anon', name: 'Anonymous', enabled: true, conditions: [{ type: 'caller_id', numbers: [], contactIds: [], anonymous: true }], target: 'anon' },
        {
          id: 'sales-evening',
          name: 'Sales line in the evening',
          enabled: true,
          conditions: [
            { type: 'called_number', numbers: ['+14155550150'] },
            { type: 'schedule', schedule: { mode: 'custom', days: { mon: [{ from: '18:00', to: '24:00' }], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } } },
          ],
          target: 'sales-evening',
        },
      ],
      inHours: 'hours',
      afterHours: 'after',
    };
    expect(selectAnsweringRule(set, call('2026-03-02T10:00', { callerContactIds: [contactId] }))).toMatchObject({ ruleId: 'contact' });
    expect(selectAnsweringRule(set, call('2026-03-02T10:00', { callerId: null }))).toMatchObject({ ruleId: 'anon' });
    expect(selectAnsweringRule(set, call('2026-03-02T10:00', { callerId: 'anonymous' }))).toMatchObject({ ruleId: 'anon' });
    expect(selectAnsweringRule(set, call('2026-03-02T19:00', { calledNumber: '+14155550150' }))).toMatchObject({ ruleId: 'sales-evening' });
    // One condition of two is not enough.
    expect(selectAnsweringRule(set, call('2026-03-02T10:00', { calledNumber: '+14155550150' }))).toMatchObject({ kind: 'hours' });
    expect(selectAnsweringRule(set, call('2026-03-02T19:00', { calledNumber: '+14155550142' }))).toMatchObject({ kind: 'hours' });
  });

  it('refuses a custom rule without conditions, with two conditions of a kind, or with an empty condition', () => {
    const issues = (v: unknown) => ruleConditionsSchema.safeParse(v).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues([])).toEqual([': a custom rule needs at least one condition']);
    expect(issues([{ type: 'called_number', numbers: ['+14155550150'] }, { type: 'called_number', numbers: ['+14155550151'] }])).toEqual(['1.type: only one called_number condition per rule']);
    expect(issues([{ type: 'caller_id' }])).toEqual(['0.numbers: give at least one number or contact']);
    expect(issues([{ type: 'schedule', schedule: { mode: 'custom', days: {} } }])).toEqual(['0.schedule.days: at least one day needs hours']);
    expect(issues([{ type: 'caller_id', numbers: ['call me'] }])?.[0]).toMatch(/^0.numbers.0: an E.164 number/);
  });
});

describe('ring plans', () => {
  const d = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
  const device = (n: number, order: number, ringForSeconds: number, active = true) => ({ target: { kind: 'device' as const, deviceId: d(n) }, order, active, ringForSeconds });
  const mobile = (order: number, ringForSeconds: number) => ({ target: { kind: 'forwarding' as const, label: 'mobile' as const, number: '+33612345678' }, order, active: true, ringForSeconds });

  it('rings groups in order, each as long as its longest row, rows with the same order together', () => {
    const plan: RingPlan = { mode: 'in_order', rows: [mobile(2, 20), device(1, 1, 10), device(2, 1, 15), device(3, 3, 0), device(4, 3, 30, false)] };
    expect(ringTimeline(plan)).toEqual({
      steps: [
        { startSeconds: 0, ringSeconds: 15, targets: [{ kind: 'device', deviceId: d(1) }, { kind: 'device', deviceId: d(2) }] },
        { startSeconds: 15, ringSeconds: 20, targets: [{ kind: 'forwarding', label: 'mobile', number: '+33612345678' }] },
      ],
      totalSeconds: 35,
    });
  });

  it('rings every active row at once when simultaneous', () => {
    const plan: RingPlan = { mode: 'simultaneous', rows: [device(1, 1, 10), mobile(2, 25), device(2, 5, 5, false)] };
    expect(ringTimeline(plan)).toEqual({ steps: [{ startSeconds: 0, ringSeconds: 25, targets: [{ kind: 'device', deviceId: d(1) }, { kind: 'forwarding', label: 'mobile', number: '+33612345678' }] }], totalSeconds: 25 });
    expect(ringTimeline({ mode: 'simultaneous', rows: [] })).toEqual({ steps: [], totalSeconds: 0 });
  });

  it('refuses more than 10 forwarding numbers, Ring For outside 0–60 s or not in whole rings, and a target listed twice', () => {
    const numbers = Array.from({ length: 11 }, (_, i) => ({ target: { kind: 'forwarding', label: 'other', number: `+3361234567${i.toString().padStart(2, '0')}` }, order: 1, active: true, ringForSeconds: 5 }));
    expect(ringPlanSchema.safeParse({ mode: 'in_order', rows: numbers.slice(0, 10) }).success).toBe(true);
    expect(ringPlanSchema.safeParse({ mode: 'in_order', rows: numbers }).error?.issues[0]?.message).toBe('at most 10 forwarding numbers');
    expect(ringPlanSchema.safeParse({ mode: 'in_order', rows: [device(1, 1, 65)] }).success).toBe(false);
    expect(ringPlanSchema.safeParse({ mode: 'in_order', rows: [device(1, 1, 12)] }).error?.issues[0]?.message).toBe('in whole rings of 5 seconds');
    expect(ringPlanSchema.safeParse({ mode: 'in_order', rows: [device(1, 1, 10), device(1, 2, 10)] }).error?.issues[0]).toMatchObject({ path: ['rows', 1, 'target'] });
  });

  it('keeps a stored plan in step with the devices the user has', () => {
    const plan: RingPlan = { mode: 'in_order', rows: [device(1, 2, 10), device(2, 3, 15), mobile(4, 20)] };
    const now = reconcileDevices(plan, [d(2), d(3)]);
    expect(now.rows).toEqual([device(3, 3, 20), device(2, 3, 15), mobile(4, 20)]);
  });
});

describe('Do Not Disturb (inventory 1 §4)', () => {
  it('takes direct calls unless "take no calls", queue calls only when taking all calls', () => {
    expect(DND_STATUSES.map((s) => [s, dndTakesCall(s, 'direct'), dndTakesCall(s, 'queue')])).toEqual([
      ['take_all_calls', true, true],
      ['no_queue_calls', true, false],
      ['no_calls', false, false],
    ]);
  });
});

describe('a user’s answering document', () => {
  const phone = '00000000-0000-4000-8000-000000000001';
  const doc = (over: Partial<UserAnswering> = {}): UserAnswering =>
    userAnsweringSchema.parse({
      hours: weekdays9to5,
      inHours: defaultRuleHandling([phone]),
      afterHours: { ...defaultRuleHandling([phone]), ringPlan: { mode: 'in_order', rows: [] } },
      custom: [{ ...defaultRuleHandling([phone], 'simultaneous'), name: 'Boss', enabled: true, conditions: [{ type: 'caller_id', numbers: ['+33612345678'] }] }],
      settings: DEFAULT_CALL_SETTINGS,
      ...over,
    });
  const paris = { timeZone: 'Europe/Paris', dnd: 'take_all_calls' as const };

  it('rings the matching rule’s plan, then does its after-ringing action', () => {
    const inHours = decideUserAnswering(doc(), paris, call('2026-03-02T09:00'));
    expect(inHours).toMatchObject({ action: 'ring', rule: { kind: 'hours' }, timeline: { totalSeconds: 20 } });
    const after = decideUserAnswering(doc(), paris, call('2026-03-02T20:00'));
    // After hours nothing rings: straight to the after-ringing action (voicemail).
    expect(after).toMatchObject({ action: 'ring', rule: { kind: 'after_hours', target: { afterRinging: { type: 'voicemail' } } }, timeline: { steps: [], totalSeconds: 0 } });
    expect(decideUserAnswering(doc(), paris, call('2026-03-02T20:00', { callerId: '+33612345678' }))).toMatchObject({ rule: { kind: 'custom', target: { name: 'Boss' } } });
  });

  it('sends every direct call to voicemail in "take no calls", and none in the other states', () => {
    expect(decideUserAnswering(doc(), { ...paris, dnd: 'no_calls' }, call('2026-03-02T09:00'))).toEqual({ action: 'voicemail', reason: 'do_not_disturb' });
    expect(decideUserAnswering(doc(), { ...paris, dnd: 'no_queue_calls' }, call('2026-03-02T09:00'))).toMatchObject({ action: 'ring' });
  });

  it('keeps blocked numbers E.164, each once, at most MAX_BLOCKED_NUMBERS', () => {
    const blocking = (numbers: string[]) => userCallSettingsSchema.safeParse({ ...DEFAULT_CALL_SETTINGS, blocking: { anonymous: false, numbers } });
    expect(blocking(['+14155550199']).success).toBe(true);
    expect(blocking(['4155550199']).error?.issues[0]).toMatchObject({ path: ['blocking', 'numbers', 0], message: 'an E.164 number such as +14155550100' });
    expect(blocking(['+14155550199', '+14155550199']).error?.issues[0]).toMatchObject({ path: ['blocking', 'numbers', 1], message: 'this number is already blocked' });
    expect(blocking(Array.from({ length: MAX_BLOCKED_NUMBERS + 1 }, (_, i) => `+1415555${String(i).padStart(4, '0')}`)).error?.issues[0]?.message).toBe(`at most ${MAX_BLOCKED_NUMBERS} blocked numbers`);
  });

  it('screens by the mode: outside callers are those of no extension of the account; "caller ID missing" only the withheld', () => {
    const outside = { number: '+14155550199', extensionId: null };
    const colleague = { number: '205', extensionId: '00000000-0000-4000-8000-000000000001' };
    const withheld = { number: null, extensionId: null };
    expect(SCREENING_MODES.map((m) => [outside, colleague, withheld].map((c) => screeningApplies(m, c)))).toEqual([
      [false, false, false],
      [true, false, true],
      [false, false, true],
      [true, true, true],
    ]);
  });

  it('refuses blocked numbers and, when chosen, anonymous callers, before anything else', () => {
    const blocking = doc({ settings: { ...DEFAULT_CALL_SETTINGS, blocking: { anonymous: true, numbers: ['+14155550199'] } } });
    expect(decideUserAnswering(blocking, { ...paris, dnd: 'no_calls' }, call('2026-03-02T09:00'))).toEqual({ action: 'blocked' });
    expect(decideUserAnswering(blocking, paris, call('2026-03-02T09:00', { callerId: null }))).toEqual({ action: 'blocked' });
    expect(decideUserAnswering(blocking, paris, call('2026-03-02T09:00', { callerId: '+14155550100' }))).toMatchObject({ action: 'ring' });
    expect(decideUserAnswering(doc(), paris, call('2026-03-02T09:00', { callerId: null }))).toMatchObject({ action: 'ring' });
  });

  it('reads "press 1 to accept forwarded calls" as off in settings saved before it existed, and keeps it when set', () => {
    const { confirmForwardedCalls: _, ...older } = DEFAULT_CALL_SETTINGS;
    expect(userAnsweringSchema.parse({ ...doc(), settings: older }).settings.confirmForwardedCalls).toBe(false);
    expect(doc({ settings: { ...DEFAULT_CALL_SETTINGS, confirmForwardedCalls: true } }).settings.confirmForwardedCalls).toBe(true);
    expect(userAnsweringSchema.safeParse({ ...doc(), settings: { ...DEFAULT_CALL_SETTINGS, confirmForwardedCalls: 'yes' } }).success).toBe(false);
  });

  it('rings a plan of devices and forwarding numbers in order (rows of one order together, for the longest Ring For) or all at once', () => {
    const rows = [
      { target: { kind: 'device' as const, deviceId: phone }, order: 1, active: true, ringForSeconds: 10 },
      { target: { kind: 'forwarding' as const, label: 'mobile' as const, number: '+33612345678' }, order: 2, active: true, ringForSeconds: 15 },
      { target: { kind: 'forwarding' as const, label: 'home' as const, number: '+33142685300' }, order: 2, active: true, ringForSeconds: 25 },
    ];
    expect(ringTimeline({ mode: 'in_order', rows })).toEqual({
      steps: [
        { startSeconds: 0, ringSeconds: 10, targets: [rows[0]!.target] },
        { startSeconds: 10, ringSeconds: 25, targets: [rows[1]!.target, rows[2]!.target] },
      ],
      totalSeconds: 35,
    });
    expect(ringTimeline({ mode: 'simultaneous', rows })).toEqual({ steps: [{ startSeconds: 0, ringSeconds: 25, targets: rows.map((r) => r.target) }], totalSeconds: 25 });
  });

  it('refuses more than 10 different forwarding numbers over all the rules', () => {
    const forward = (i: number) => ({ target: { kind: 'forwarding', label: 'other', number: `+336123456${i.toString().padStart(2, '0')}` }, order: 1, active: true, ringForSeconds: 5 });
    const plan = (from: number) => ({ mode: 'in_order', rows: Array.from({ length: 6 }, (_, i) => forward(from + i)) });
    const base = { hours: { mode: '24h' }, custom: [], settings: DEFAULT_CALL_SETTINGS };
    const handling = defaultRuleHandling([]);
    // 6 + 6 numbers, 2 shared: 10 distinct.
    expect(userAnsweringSchema.safeParse({ ...base, inHours: { ...handling, ringPlan: plan(0) }, afterHours: { ...handling, ringPlan: plan(4) } }).success).toBe(true);
    expect(userAnsweringSchema.safeParse({ ...base, inHours: { ...handling, ringPlan: plan(0) }, afterHours: { ...handling, ringPlan: plan(5) } }).error?.issues[0]?.message).toBe(
      'at most 10 different forwarding numbers over all rules',
    );
  });
});
