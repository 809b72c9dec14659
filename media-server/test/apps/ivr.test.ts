import { describe, expect, it } from 'vitest';
import { ALWAYS, companyGreetingText, type CompanyRule, type SingleLevelSettings, DEFAULT_CALL_SETTINGS, EXTENSION_INTER_DIGIT_MS, type DirectoryEntry, weeklyScheduleSchema, DEFAULT_IVR_SETTINGS, defaultRuleHandling, type IvrConfig, type IvrSettings } from '@carillon/domain';
import { applicationFor, callApplications } from '../../src/apps/applications.ts';
import { CallEndedError, type CallHandle, type CollectOptions, type CollectResult } from '../../src/apps/call-handle.ts';
import { directoryText, EXTERNAL_RING_SECONDS, externalText, ivrApp, NO_INPUT_MS, notAvailable } from '../../src/apps/ivr/ivr.ts';
import type { AccountIvr, IvrMenus, IvrTarget } from '../../src/apps/ivr/ivr-menus.ts';
import type { AnsweringRulesSource } from '../../src/apps/user-answering/answering-rules.ts';
import { BLOCKED_MESSAGE, RING_BACK } from '../../src/apps/user-answering/user-answering.ts';
import { defaultGreeting } from '../../src/apps/voicemail/take-message.ts';
import type { Destination, PstnDestination } from '../../src/routing/destination.ts';
import { FakeCallHandle, MemoryMailboxes } from './fake-call-handle.ts';

const ACCOUNT = '00000000-0000-4000-8000-0000000000aa';
const MAIN_MENU_ID = '00000000-0000-4000-8000-000000000500';
const SALES_MENU_ID = '00000000-0000-4000-8000-000000000501';
const ext = (n: string) => `00000000-0000-4000-8000-000000000${n}`;

const WELCOME = 'Welcome to Carillon. For sales press 1. To leave a message for Bob press 2.';
const SALES_WAV = '/data/prompts/acct/sales.wav';

/** A two-level tree: the main menu (500) leads to sales (501), whose 1 connects to Bob (102); no input reaches the operator (103). */
function config(settings: Partial<IvrSettings> = {}): IvrConfig {
  return {
    settings: { ...DEFAULT_IVR_SETTINGS, mode: 'multi', businessHoursMenu: '500', noInput: { type: 'extension', extension: '103' }, ...settings },
    menus: [
      {
        number: '500',
        name: 'Main',
        language: 'en',
        prompt: { mode: 'tts', text: WELCOME },
        keys: { '1': { type: 'connect', extension: '501' }, '2': { type: 'voicemail', extension: '102' }, '3': { type: 'connect', extension: '700' }, '8': { type: 'directory' }, '9': { type: 'external', number: EXTERNAL }, '4': { type: 'external', number: '+33155550100' } },
        genericKeys: null,
      },
      { number: '501', name: 'Sales', language: 'en', prompt: { mode: 'audio', prompt: 'sales greeting' }, keys: { '1': { type: 'connect', extension: '102' } }, genericKeys: null },
    ],
  };
}

class MemoryIvrMenus implements IvrMenus {
  readonly asked: string[] = [];
  private readonly ivr: AccountIvr | null;
  constructor(ivr: AccountIvr | null) {
    this.ivr = ivr;
  }
  ofAccount(accountId: string): Promise<AccountIvr | null> {
    this.asked.push(accountId);
    return Promise.resolve(this.ivr);
  }
  promptFile(accountId: string, name: string): Promise<string | null> {
    return Promise.resolve(accountId === ACCOUNT && name === 'sales greeting' ? SALES_WAV : null);
  }
  /** The users' recorded names by extension number (none unless a test records some), and what was asked. */
  recordings = new Map<string, string>();
  readonly namesAsked: [string, string[]][] = [];
  nameRecordings(accountId: string, extensions: readonly string[]): Promise<ReadonlyMap<string, string>> {
    this.namesAsked.push([accountId, [...extensions]]);
    return Promise.resolve(new Map([...this.recordings].filter(([n]) => accountId === ACCOUNT && extensions.includes(n))));
  }
  /** External transfers asked for; the account may call EXTERNAL only. */
  readonly external: unknown[] = [];
  externalRoute(from: { accountId: string; menuId: string | null }, number: string, caller: CallHandle['caller']): Promise<PstnDestination | null> {
    this.external.push([from, number, caller.number]);
    return Promise.resolve(from.accountId === ACCOUNT && number === EXTERNAL ? EXTERNAL_ROUTE : null);
  }
}

const EXTERNAL = '+15550100';
const EXTERNAL_ROUTE: PstnDestination = {
  kind: 'pstn',
  accountId: ACCOUNT,
  e164: EXTERNAL,
  emergency: false,
  trunk: { id: 't', host: '192.0.2.1', port: 5060, transport: 'udp', username: null, passwordSealed: null, dialString: EXTERNAL },
  callerId: { number: null, name: null },
};

/** The directory's people: John Smith (102) and Anne Johnson (103), then nine whose first names start with P, Q, R or S (key 7). */
const PEOPLE: DirectoryEntry[] = [
  { extension: '102', firstName: 'John', lastName: 'Smith' },
  { extension: '103', firstName: 'Anne', lastName: 'Johnson' },
  ...['Paul', 'Pierre', 'Quentin', 'Rachel', 'Rémi', 'Sam', 'Sarah', 'Sophie', 'Steve'].map((firstName, i) => ({ extension: String(201 + i), firstName, lastName: 'Doe' })),
];

function accountIvr(cfg: IvrConfig = config(), customRules: CompanyRule[] = []): AccountIvr {
  const targets: IvrTarget[] = [
    { extensionId: ext('102'), number: '102', reach: 'user' },
    { extensionId: ext('103'), number: '103', reach: 'user' },
    ...PEOPLE.slice(2).map((p): IvrTarget => ({ extensionId: ext(p.extension), number: p.extension, reach: 'user' })),
    { extensionId: ext('700'), number: '700', reach: 'transfer' },
    // The message-only mailbox is 600: no menu key starts with 6, so the keys the tests press act as before (a key that starts an extension waits for more digits).
    { extensionId: ext('600'), number: '600', reach: 'mailbox' },
    { extensionId: ext('104'), number: '104', reach: 'disabled' },
    { extensionId: MAIN_MENU_ID, number: '500', reach: 'unsupported' },
    { extensionId: SALES_MENU_ID, number: '501', reach: 'unsupported' },
  ];
  return {
    config: cfg,
    timeZone: 'Europe/Paris',
    companyName: 'Acme',
    country: 'FR',
    customRules,
    extensions: new Map(targets.map((t) => [t.number, t])),
    menuNumbers: new Map([
      [MAIN_MENU_ID, '500'],
      [SALES_MENU_ID, '501'],
    ]),
    directory: PEOPLE,
    // As the edge's source says (isDialableFromIvr): people, the queue and the menus, nothing disabled.
    dialable: new Set(targets.filter((t) => t.reach !== 'disabled').map((t) => t.number)),
  };
}

/** Runs the application to its end; a caller who hangs up (the fake's keys ran out) ends it with CallEndedError, as a real call does. */
async function walk(done: Promise<void>): Promise<void> {
  await done.catch((err: unknown) => {
    if (!(err instanceof CallEndedError)) throw err;
  });
}

const toMenu = (menuId: string | null): Destination => ({ kind: 'ivr', accountId: ACCOUNT, menuId, direction: 'inbound' });
const toExtension = (n: string): Destination => ({ kind: 'extension', accountId: ACCOUNT, extensionId: ext(n), extensionNumber: n, direction: 'inbound' });
const welcome = ['play', { tts: WELCOME, language: 'en' }];
const sales = ['play', { file: SALES_WAV }];
const keyed = (d: string) => ['collect', ['keyed', d]];
const silence = ['collect', 'silence'];
/**
 * A key that begins an extension number (1: 102, 103; 2: 201…; 5: the menus; 7: 700) waits for the
 * inter-digit pause before it acts as the key (issue 14): the caller's silence after it, and its log.
 */
const PAUSE = '';
const keyedAlone = (d: string) => [...keyed(d), ...silence];
const ringing = (n: string) => ['answer', ['play', RING_BACK], ['bridgeTo', { target: toExtension(n), ringSeconds: 20 }]];

describe('the IVR application', () => {
  it('walks a two-level menu: 1 enters the submenu (its library prompt), 1 there rings the extension, which answers', async () => {
    const call = new FakeCallHandle({ dialed: '500' });
    call.keys = ['1', PAUSE, '1', PAUSE];
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'caller' };
    const menus = new MemoryIvrMenus(accountIvr());
    const mailboxes = new MemoryMailboxes();
    await walk(ivrApp({ menus, mailboxes })(call, toMenu(MAIN_MENU_ID)));
    expect(menus.asked).toEqual([ACCOUNT]);
    expect(call.log).toEqual(['answer', welcome, ...keyedAlone('1'), sales, ...keyedAlone('1'), ...ringing('102')]);
    expect(mailboxes.deposited).toEqual([]);
  });

  it('hands the call on to a queue (700) by transfer; where queues are not available the caller hears so and is back in the menu', async () => {
    const call = new FakeCallHandle({ dialed: '500' });
    call.keys = ['3'];
    call.transferable.add('700');
    await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr()), mailboxes: new MemoryMailboxes() })(call, toMenu(MAIN_MENU_ID)));
    expect(call.log).toEqual(['answer', welcome, ...keyed('3'), ['transfer', '700']]);

    const refused = new FakeCallHandle({ dialed: '500' });
    refused.keys = ['3'];
    await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr()), mailboxes: new MemoryMailboxes() })(refused, toMenu(MAIN_MENU_ID)));
    expect(refused.log.slice(0, 6)).toEqual(['answer', welcome, ...keyed('3'), ['transfer', '700'], ['play', { tts: notAvailable('en') }]]);
    expect(refused.log[6]).toEqual(welcome);
  });

  it('plays the prompt three times with no input, then does the configured no-input action (connect to 103)', async () => {
    const call = new FakeCallHandle({ dialed: '500' });
    call.keys = ['', '', ''];
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr()), mailboxes: new MemoryMailboxes() })(call, toMenu(MAIN_MENU_ID)));
    expect(call.log).toEqual(['answer', welcome, ...silence, welcome, ...silence, welcome, ...silence, ...ringing('103')]);
  });

  it('hangs up after three silences when the no-input action is to disconnect', async () => {
    const call = new FakeCallHandle({ dialed: '500' });
    call.keys = ['', '', ''];
    await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr(config({ noInput: { type: 'disconnect' } }))), mailboxes: new MemoryMailboxes() })(call, toMenu(MAIN_MENU_ID)));
    expect(call.log).toEqual(['answer', welcome, ...silence, welcome, ...silence, welcome, ...silence, 'hangup']);
  });

  it('replays the menu on a key it does not map, and the walk goes on from there', async () => {
    const call = new FakeCallHandle({ dialed: '500' });
    call.keys = ['7', PAUSE, '1', PAUSE];
    await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr()), mailboxes: new MemoryMailboxes() })(call, toMenu(MAIN_MENU_ID)));
    // The caller hangs up in the sales menu (no keys left).
    expect(call.log).toEqual(['answer', welcome, ...keyedAlone('7'), welcome, ...keyedAlone('1'), sales, 'caller hung up']);
  });

  it('goes back to the main menu with * (previous) from the submenu', async () => {
    const call = new FakeCallHandle({ dialed: '500' });
    call.keys = ['1', PAUSE, '*'];
    await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr()), mailboxes: new MemoryMailboxes() })(call, toMenu(MAIN_MENU_ID)));
    expect(call.log).toEqual(['answer', welcome, ...keyedAlone('1'), sales, ...keyed('*'), welcome, 'caller hung up']);
  });

  it("takes a message in the extension's mailbox when it does not answer (reason no_answer) or is busy (busy)", async () => {
    for (const [outcome, reason] of [
      [{ outcome: 'no-answer', status: 480 }, 'no_answer'],
      [{ outcome: 'busy', status: 486 }, 'busy'],
    ] as const) {
      const call = new FakeCallHandle({ dialed: '500' });
      call.keys = ['1', PAUSE, '1', PAUSE];
      call.bridgeOutcome = outcome;
      const mailboxes = new MemoryMailboxes();
      await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr()), mailboxes })(call, toMenu(MAIN_MENU_ID)));
      expect(call.log.slice(-4)).toEqual(['answer', ['play', { tts: defaultGreeting('extension 1 0 2', 'en') }], ['record', { maxSeconds: 180, terminators: '#', beep: true }], 'hangup']);
      expect(mailboxes.deposited).toMatchObject([{ accountId: ACCOUNT, mailboxExtensionId: ext('102'), reason, toNumber: '500' }]);
    }
  });

  it("sends the caller straight to an extension's mailbox on a voicemail key, without ringing", async () => {
    const call = new FakeCallHandle({ dialed: '500' });
    call.keys = ['2', PAUSE];
    const mailboxes = new MemoryMailboxes();
    await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr()), mailboxes })(call, toMenu(MAIN_MENU_ID)));
    expect(call.log).not.toContainEqual(expect.arrayContaining(['bridgeTo']));
    expect(mailboxes.deposited).toMatchObject([{ mailboxExtensionId: ext('102'), reason: 'rule' }]);
  });

  it('bridges the caller to an external number through the route the account may call, with ring-back; an answered transfer ends the IVR', async () => {
    const call = new FakeCallHandle({ dialed: '500' });
    call.keys = ['9'];
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    const menus = new MemoryIvrMenus(accountIvr());
    await walk(ivrApp({ menus, mailboxes: new MemoryMailboxes() })(call, toMenu(MAIN_MENU_ID)));
    expect(menus.external).toEqual([[{ accountId: ACCOUNT, menuId: MAIN_MENU_ID }, EXTERNAL, call.caller.number]]);
    expect(call.log).toEqual(['answer', welcome, ...keyed('9'), ['play', RING_BACK], ['bridgeTo', { target: EXTERNAL_ROUTE, ringSeconds: EXTERNAL_RING_SECONDS }]]);
  });

  it('refuses a number outside the account’s calling permissions without dialling, and one that does not answer; the caller is back at the menu', async () => {
    const call = new FakeCallHandle({ dialed: '500' });
    call.keys = ['4', '9'];
    call.bridgeOutcome = { outcome: 'busy', status: 486 };
    await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr()), mailboxes: new MemoryMailboxes() })(call, toMenu(MAIN_MENU_ID)));
    expect(call.log).toEqual([
      'answer',
      welcome,
      ...keyed('4'),
      ['play', { tts: externalText.refused('en') }],
      welcome,
      ...keyed('9'),
      ['play', RING_BACK],
      ['bridgeTo', { target: EXTERNAL_ROUTE, ringSeconds: EXTERNAL_RING_SECONDS }],
      ['play', { tts: externalText.unanswered('en') }],
      welcome,
      'caller hung up',
    ]);
  });

  /** Answering rules that ring the user's one phone 15 s, and block the numbers given. */
  function answeringRules(blockNumbers: string[] = []): AnsweringRulesSource & { asked: string[] } {
    const asked: string[] = [];
    const handling = defaultRuleHandling([ext('ddd')], 'simultaneous');
    handling.ringPlan.rows[0]!.ringForSeconds = 15;
    const settings = { ...DEFAULT_CALL_SETTINGS, blocking: { anonymous: false, numbers: blockNumbers } };
    return {
      asked,
      ofExtension: (_accountId, extensionId) => {
        asked.push(extensionId);
        return Promise.resolve({ answering: { hours: ALWAYS, inHours: handling, afterHours: handling, custom: [], settings }, timeZone: 'UTC', dnd: 'take_all_calls', afterRingingNumbers: {} });
      },
    };
  }

  it("follows the user's answering rules to ring an extension, where they are enabled", async () => {
    const rules = answeringRules();
    const call = new FakeCallHandle({ dialed: '500' });
    call.keys = ['1', PAUSE, '1', PAUSE];
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'caller' };
    await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr()), mailboxes: new MemoryMailboxes(), answeringRules: rules })(call, toMenu(MAIN_MENU_ID)));
    expect(rules.asked).toEqual([ext('102')]);
    expect(call.log.at(-1)).toEqual(['bridgeTo', { target: [toExtension('102')], ringSeconds: 15, deviceIds: [ext('ddd')], acceptWithDigit: false }]);
  });

  it('tells a caller the user blocks so and hangs up as blocked (the IVR answered the call already)', async () => {
    const call = new FakeCallHandle({ dialed: '500', callerNumber: '+14155550199' });
    call.keys = ['1', PAUSE, '1', PAUSE];
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'caller' };
    await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr()), mailboxes: new MemoryMailboxes(), answeringRules: answeringRules(['+14155550199']) })(call, toMenu(MAIN_MENU_ID)));
    expect(call.log).toEqual(['answer', welcome, ...keyedAlone('1'), sales, ...keyedAlone('1'), 'answer', ['play', { tts: BLOCKED_MESSAGE.en }], ['hangup', { blocked: true }]]);
  });

  it("speaks a menu's TTS prompt in the menu's language, whatever the account's", async () => {
    const cfg = config();
    cfg.menus[0]!.language = 'fr';
    const call = new FakeCallHandle({ dialed: '500', language: 'en' });
    await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr(cfg)), mailboxes: new MemoryMailboxes() })(call, toMenu(MAIN_MENU_ID)));
    expect(call.log).toEqual(['answer', ['play', { tts: WELCOME, language: 'fr' }], 'caller hung up']);
  });

  it('enters a company number at the business-hours menu, and refuses with 480 when there is none', async () => {
    const call = new FakeCallHandle({ dialed: '+15550199' });
    await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr()), mailboxes: new MemoryMailboxes() })(call, toMenu(null)));
    expect(call.log).toEqual(['answer', welcome, 'caller hung up']);

    const none = new FakeCallHandle({ dialed: '+15550199' });
    await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr(config({ businessHoursMenu: null }))), mailboxes: new MemoryMailboxes() })(none, toMenu(null)));
    expect(none.log).toEqual([['reject', { status: 480, reason: 'Auto-Receptionist Not Available' }]]);
  });
});

/** A fake call that also keeps how long each collect() waited for its first digit. */
class TimedCall extends FakeCallHandle {
  readonly waits: number[] = [];
  override collect(options: CollectOptions): Promise<CollectResult> {
    this.waits.push(options.timeoutMs);
    return super.collect(options);
  }
}

/** Issue 14: an extension number dialled during the main menu's prompt (its keys 1–4, 8, 9; extensions 102, 103, 201…209, 700). */
describe('the IVR application: dialling an extension during a prompt', () => {
  async function dial(keys: string[]): Promise<TimedCall> {
    const call = new TimedCall({ dialed: '500' });
    call.keys = keys;
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr()), mailboxes: new MemoryMailboxes() })(call, toMenu(MAIN_MENU_ID)));
    return call;
  }

  it('rings 102 keyed as 1 0 2, the digits after the first awaited for the inter-digit pause only', async () => {
    const call = await dial(['1', '0', '2']);
    expect(call.log).toEqual(['answer', welcome, ...keyed('1'), ...keyed('0'), ...keyed('2'), ...ringing('102')]);
    expect(call.waits).toEqual([NO_INPUT_MS, EXTENSION_INTER_DIGIT_MS, EXTENSION_INTER_DIGIT_MS]);
  });

  it('plays the menu again for a number that is no extension (109), which then takes keys again', async () => {
    const call = await dial(['1', '0', '9', '9']);
    expect(call.log).toEqual(['answer', welcome, ...keyed('1'), ...keyed('0'), ...keyed('9'), welcome, ...keyed('9'), ['play', RING_BACK], ['bridgeTo', { target: EXTERNAL_ROUTE, ringSeconds: EXTERNAL_RING_SECONDS }]]);
  });

  it('takes a key that begins no extension (9) at once, with no inter-digit wait', async () => {
    const call = await dial(['9']);
    expect(call.log).toEqual(['answer', welcome, ...keyed('9'), ['play', RING_BACK], ['bridgeTo', { target: EXTERNAL_ROUTE, ringSeconds: EXTERNAL_RING_SECONDS }]]);
    expect(call.waits).toEqual([NO_INPUT_MS]);
  });

  it('ends a number with #: 70# is no extension, the menu again; a queue dialled as 700 is handed on', async () => {
    const call = await dial(['7', '0', '#']);
    expect(call.log).toEqual(['answer', welcome, ...keyed('7'), ...keyed('0'), ...keyed('#'), welcome, 'caller hung up']);
    const queue = new TimedCall({ dialed: '500' });
    queue.keys = ['7', '0', '0'];
    queue.transferable.add('700');
    await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr()), mailboxes: new MemoryMailboxes() })(queue, toMenu(MAIN_MENU_ID)));
    expect(queue.log).toEqual(['answer', welcome, ...keyed('7'), ...keyed('0'), ...keyed('0'), ['transfer', '700']]);
  });
});

/**
 * Company hours (AR-03): a company number enters at the after-hours menu (here the sales menu, 501)
 * when the account's hours, read on Europe/Paris wall clocks at the call's arrival, say it is closed.
 */
describe('the IVR application at business hours and after hours', () => {
  /** Weekdays 09:00–12:00 and 14:00–18:00; Sundays 08:00–10:00 and 15:00–17:00 (two ranges a day). */
  const splitHours = weeklyScheduleSchema.parse({
    mode: 'custom',
    days: {
      ...Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [{ from: '09:00', to: '12:00' }, { from: '14:00', to: '18:00' }]])),
      sun: [
        { from: '08:00', to: '10:00' },
        { from: '15:00', to: '17:00' },
      ],
    },
  });

  /** What a call to the company number plays first when it arrives at `at` (UTC). */
  async function entryAt(at: string, settings: Partial<IvrSettings>): Promise<unknown> {
    const call = new FakeCallHandle({ dialed: '+15550199' });
    const menus = new MemoryIvrMenus(accountIvr(config({ afterHoursMenu: '501', ...settings })));
    await walk(ivrApp({ menus, mailboxes: new MemoryMailboxes(), now: () => new Date(at) })(call, toMenu(null)));
    expect(call.log[0]).toBe('answer');
    expect(call.log[2]).toBe('caller hung up');
    return call.log[1];
  }

  it('enters at the business-hours menu inside the hours, and at the after-hours menu outside them', async () => {
    // Wednesday 2026-01-14, Paris is UTC+1: 10:30 is in the morning range, 19:30 after closing, 12:30 the lunch break.
    expect(await entryAt('2026-01-14T09:30:00Z', { hours: splitHours })).toEqual(welcome);
    expect(await entryAt('2026-01-14T18:30:00Z', { hours: splitHours })).toEqual(sales);
    expect(await entryAt('2026-01-14T11:30:00Z', { hours: splitHours })).toEqual(sales);
    expect(await entryAt('2026-01-14T13:30:00Z', { hours: splitHours })).toEqual(welcome);
    // Saturday has no ranges: closed all day.
    expect(await entryAt('2026-01-17T10:00:00Z', { hours: splitHours })).toEqual(sales);
  });

  it('reads both ranges of the day on the wall clock on the day clocks go forward (Europe/Paris, last Sunday of March)', async () => {
    // Sunday 2026-03-29: at 01:00 UTC Paris goes from UTC+1 to UTC+2. Each instant below gives the
    // opposite answer if the offset of the day before (UTC+1) were used.
    expect(await entryAt('2026-03-29T06:30:00Z', { hours: splitHours })).toEqual(welcome); // 08:30 CEST, first range
    expect(await entryAt('2026-03-29T08:30:00Z', { hours: splitHours })).toEqual(sales); // 10:30 CEST, after it
    expect(await entryAt('2026-03-29T12:30:00Z', { hours: splitHours })).toEqual(sales); // 14:30 CEST, between the ranges
    expect(await entryAt('2026-03-29T13:30:00Z', { hours: splitHours })).toEqual(welcome); // 15:30 CEST, second range
    // The Friday before is still on UTC+1: 08:30 UTC is 09:30 there, open; 07:30 UTC is 08:30, closed.
    expect(await entryAt('2026-03-27T08:30:00Z', { hours: splitHours })).toEqual(welcome);
    expect(await entryAt('2026-03-27T07:30:00Z', { hours: splitHours })).toEqual(sales);
  });

  it('always enters at the business-hours menu when the company is open 24 hours', async () => {
    for (const at of ['2026-01-17T03:00:00Z', '2026-03-29T01:30:00Z', '2026-07-14T23:59:00Z', '2026-10-25T00:30:00Z']) {
      expect(await entryAt(at, { hours: ALWAYS })).toEqual(welcome);
    }
  });

  it('keeps the business-hours menu outside the hours when no after-hours menu is set, and a menu dialled by its own number whatever the time', async () => {
    expect(await entryAt('2026-01-14T18:30:00Z', { hours: splitHours, afterHoursMenu: null })).toEqual(welcome);
    const call = new FakeCallHandle({ dialed: '500' });
    const menus = new MemoryIvrMenus(accountIvr(config({ afterHoursMenu: '501', hours: splitHours })));
    await walk(ivrApp({ menus, mailboxes: new MemoryMailboxes(), now: () => new Date('2026-01-14T18:30:00Z') })(call, toMenu(MAIN_MENU_ID)));
    expect(call.log).toEqual(['answer', welcome, 'caller hung up']);
  });
});

/**
 * The company's custom answering rules (RULE-01…RULE-06): before the hours, the first enabled rule whose
 * conditions all hold takes a call to the company number, to its menu or straight to its extension.
 */
describe('the IVR application with custom answering rules', () => {
  /** Weekdays 09:00–18:00 in Paris; outside them the after-hours menu (sales, 501). */
  const officeHours = weeklyScheduleSchema.parse({ mode: 'custom', days: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [{ from: '09:00', to: '18:00' }]])) });
  const WEDNESDAY_10 = '2026-01-14T09:00:00Z';
  const rule = (id: string, conditions: CompanyRule['conditions'], target: CompanyRule['target'], enabled = true): CompanyRule => ({ id, name: id, enabled, conditions, target });
  const vip = (numbers: string[]) => ({ type: 'caller_id' as const, numbers, contactIds: [], anonymous: false });

  async function callCompany(rules: CompanyRule[], o: { at?: string; callerNumber?: string | null; callerExtensionId?: string; dialed?: string; transferable?: string[] } = {}): Promise<FakeCallHandle> {
    const call = new FakeCallHandle({ dialed: o.dialed ?? '+33155550100', callerNumber: o.callerNumber === undefined ? '+33612345678' : o.callerNumber, ...(o.callerExtensionId ? { callerExtensionId: o.callerExtensionId } : {}) });
    for (const n of o.transferable ?? []) call.transferable.add(n);
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'caller' };
    const menus = new MemoryIvrMenus(accountIvr(config({ afterHoursMenu: '501', hours: officeHours }), rules));
    await walk(ivrApp({ menus, mailboxes: new MemoryMailboxes(), now: () => new Date(o.at ?? WEDNESDAY_10) })(call, toMenu(null)));
    return call;
  }

  it('sends a VIP caller ID straight to its extension (102 rings), while another caller gets the business-hours menu', async () => {
    const rules = [rule('vip', [vip(['+33612345678'])], { type: 'extension', extension: '102' })];
    expect((await callCompany(rules)).log).toEqual(ringing('102'));
    // A national form of the same number (as a trunk may send it) is the same caller.
    expect((await callCompany(rules, { callerNumber: '0612345678' })).log).toEqual(ringing('102'));
    expect((await callCompany(rules, { callerNumber: '+33699999999' })).log).toEqual(['answer', welcome, 'caller hung up']);
    expect((await callCompany(rules, { callerNumber: null })).log).toEqual(['answer', welcome, 'caller hung up']);
  });

  it('enters at a rule’s menu (sales, 501) whatever the hours say; the first enabled matching rule wins, a disabled one is passed over', async () => {
    const holiday = { type: 'date_range' as const, ranges: [{ from: '2026-01-14T00:00', to: '2026-01-15T00:00' }] };
    const toSales = rule('holiday', [holiday], { type: 'menu', menu: '501' });
    expect((await callCompany([toSales])).log).toEqual(['answer', sales, 'caller hung up']);
    // The day after, the hours decide again.
    expect((await callCompany([toSales], { at: '2026-01-15T09:00:00Z' })).log).toEqual(['answer', welcome, 'caller hung up']);
    const toBob = rule('vip', [vip(['+33612345678'])], { type: 'extension', extension: '102' });
    expect((await callCompany([toBob, toSales])).log).toEqual(ringing('102'));
    expect((await callCompany([toSales, toBob])).log).toEqual(['answer', sales, 'caller hung up']);
    expect((await callCompany([{ ...toSales, enabled: false }, toBob])).log).toEqual(ringing('102'));
  });

  it('matches the number called and a weekly schedule (a lunch break) together, on the account’s wall clock', async () => {
    const lunch = weeklyScheduleSchema.parse({ mode: 'custom', days: { wed: [{ from: '12:00', to: '14:00' }] } });
    const rules = [rule('lunch', [{ type: 'called_number', numbers: ['+33155550100'] }, { type: 'schedule', schedule: lunch }], { type: 'extension', extension: '600' })];
    // 12:30 in Paris on a Wednesday, to that number: the message-only mailbox (600) takes it.
    const atLunch = await callCompany(rules, { at: '2026-01-14T11:30:00Z' });
    expect(atLunch.log.slice(0, 2)).toEqual(['answer', ['play', { tts: defaultGreeting('extension 6 0 0', 'en') }]]);
    // The number in national form is the same number; another of the company's numbers is not.
    expect((await callCompany(rules, { at: '2026-01-14T11:30:00Z', dialed: '0155550100' })).log[1]).toEqual(['play', { tts: defaultGreeting('extension 6 0 0', 'en') }]);
    expect((await callCompany(rules, { at: '2026-01-14T11:30:00Z', dialed: '+33155550101' })).log).toEqual(['answer', welcome, 'caller hung up']);
    // 14:30: over.
    expect((await callCompany(rules, { at: '2026-01-14T13:30:00Z' })).log).toEqual(['answer', welcome, 'caller hung up']);
  });

  it('hands the call to a queue’s own application (700) by transfer; where it cannot go, the hours decide as without the rule', async () => {
    const rules = [rule('queue', [vip(['+33612345678'])], { type: 'extension', extension: '700' })];
    expect((await callCompany(rules, { transferable: ['700'] })).log).toEqual([['transfer', '700']]);
    expect((await callCompany(rules)).log).toEqual([['transfer', '700'], 'answer', welcome, 'caller hung up']);
  });

  it('passes over a rule whose target is gone, disabled or no menu any more: the next rule, else the hours', async () => {
    for (const target of [{ type: 'extension', extension: '999' }, { type: 'extension', extension: '104' }, { type: 'menu', menu: '102' }, { type: 'extension', extension: '501' }] as const) {
      expect((await callCompany([rule('gone', [vip(['+33612345678'])], target)])).log, JSON.stringify(target)).toEqual(['answer', welcome, 'caller hung up']);
      expect((await callCompany([rule('gone', [vip(['+33612345678'])], target), rule('next', [vip(['+33612345678'])], { type: 'extension', extension: '103' })])).log).toEqual(ringing('103'));
    }
  });

  it('matches an extension calling the company number by its extension number, and leaves menus dialled by their own number to their menu', async () => {
    const rules = [rule('internal', [vip(['101'])], { type: 'extension', extension: '102' })];
    expect((await callCompany(rules, { callerNumber: '101', callerExtensionId: ext('101') })).log).toEqual(ringing('102'));
    const call = new FakeCallHandle({ dialed: '500', callerNumber: '101', callerExtensionId: ext('101') });
    await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr(config(), rules)), mailboxes: new MemoryMailboxes() })(call, toMenu(MAIN_MENU_ID)));
    expect(call.log).toEqual(['answer', welcome, 'caller hung up']);
  });
});

/**
 * Single-level mode (AR-01): a company number goes, by the hours, to the company greeting (a built-in
 * menu of the same interpreter: 9 the directory, 0 the operator, any extension dialled during it, and
 * "if the caller enters no action" once it has played) or straight to an extension. The operator is 103.
 */
describe('the IVR application in single-level mode', () => {
  const officeHours = weeklyScheduleSchema.parse({ mode: 'custom', days: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [{ from: '09:00', to: '18:00' }]])) });
  /** Wednesday 10:00 and 20:00 in Paris. */
  const OPEN = '2026-01-14T09:00:00Z';
  const CLOSED = '2026-01-14T19:00:00Z';
  const greeting = (language: 'en' | 'fr' = 'en') => ['play', { tts: companyGreetingText(language, 'Acme'), language }];

  async function callCompany(keys: string[], single: Partial<SingleLevelSettings> = {}, o: { at?: string; language?: 'en' | 'fr'; rules?: CompanyRule[]; settings?: Partial<IvrSettings>; transferable?: string[] } = {}): Promise<TimedCall> {
    const call = new TimedCall({ dialed: '+33155550100', callerNumber: '+33612345678', ...(o.language ? { language: o.language } : {}) });
    call.keys = keys;
    for (const n of o.transferable ?? []) call.transferable.add(n);
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'caller' };
    const cfg = config({
      mode: 'single',
      businessHoursMenu: null,
      noInput: { type: 'disconnect' },
      operatorExtension: '103',
      hours: officeHours,
      singleLevel: { businessHours: { type: 'company_greeting' }, afterHours: { type: 'company_greeting' }, greeting: { mode: 'default' }, noAction: 'operator', ...single },
      ...o.settings,
    });
    await walk(ivrApp({ menus: new MemoryIvrMenus(accountIvr(cfg, o.rules ?? [])), mailboxes: new MemoryMailboxes(), now: () => new Date(o.at ?? OPEN) })(call, toMenu(null)));
    return call;
  }

  it('answers with the default company greeting (the company name in it); 1 0 2 dialled during it rings 102', async () => {
    const call = await callCompany(['1', '0', '2']);
    expect(call.log).toEqual(['answer', greeting(), ...keyed('1'), ...keyed('0'), ...keyed('2'), ...ringing('102')]);
    expect(call.waits).toEqual([NO_INPUT_MS, EXTENSION_INTER_DIGIT_MS, EXTENSION_INTER_DIGIT_MS]);
    expect(companyGreetingText('en', 'Acme')).toContain('Thank you for calling Acme.');
  });

  it('speaks the default greeting in the account’s language (French)', async () => {
    const call = await callCompany([''], {}, { language: 'fr' });
    expect(call.log.slice(0, 2)).toEqual(['answer', greeting('fr')]);
    expect(companyGreetingText('fr', 'Acme')).toContain("Merci d'avoir appelé Acme.");
  });

  it('plays the library prompt chosen as the greeting; one deleted since falls back to the default text', async () => {
    expect((await callCompany([''], { greeting: { mode: 'audio', prompt: 'sales greeting' } }, { settings: { operatorExtension: null } })).log).toEqual(['answer', sales, ...silence, 'hangup']);
    expect((await callCompany([''], { greeting: { mode: 'audio', prompt: 'gone' } }, { settings: { operatorExtension: null } })).log).toEqual(['answer', greeting(), ...silence, 'hangup']);
  });

  it('0 rings the operator at once; a silence after one play rings the operator too ("Connect to operator")', async () => {
    expect((await callCompany(['0'])).log).toEqual(['answer', greeting(), ...keyed('0'), ...ringing('103')]);
    expect((await callCompany([''])).log).toEqual(['answer', greeting(), ...silence, ...ringing('103')]);
  });

  it('hangs up after one play with no action when the admin chose "Disconnect", and when there is no operator', async () => {
    expect((await callCompany([''], { noAction: 'disconnect' })).log).toEqual(['answer', greeting(), ...silence, 'hangup']);
    expect((await callCompany([''], {}, { settings: { operatorExtension: null } })).log).toEqual(['answer', greeting(), ...silence, 'hangup']);
  });

  it('opens the dial-by-name directory with 9, in the greeting’s language', async () => {
    const call = await callCompany(['9', '5646#'], {}, { settings: { directory: { searchBy: 'first_name', extensions: null } } });
    expect(call.log.slice(0, 5)).toEqual(['answer', greeting(), ...keyed('9'), ['play', { tts: directoryText.spell('en', 'first_name'), language: 'en' }]]);
    expect(call.log.slice(-3)).toEqual(ringing('102'));
  });

  it('sends the call by the hours: after hours straight to the schedule’s extension (102 rings, no greeting); a queue by transfer', async () => {
    const single = { afterHours: { type: 'extension' as const, extension: '102' } };
    expect((await callCompany([], single, { at: CLOSED })).log).toEqual(ringing('102'));
    expect((await callCompany([''], single, { at: OPEN })).log.slice(0, 2)).toEqual(['answer', greeting()]);
    expect((await callCompany([], { businessHours: { type: 'extension', extension: '700' } }, { transferable: ['700'] })).log).toEqual([['transfer', '700']]);
  });

  it('answers with the greeting when the schedule’s extension cannot take the call (deleted, disabled, its feature not here)', async () => {
    for (const extension of ['999', '104', '700']) {
      expect((await callCompany(['0'], { businessHours: { type: 'extension', extension } })).log.slice(-6), extension).toEqual([greeting(), ...keyed('0'), ...ringing('103')]);
    }
  });

  it('tries the custom rules first: a VIP goes to 102 during the greeting’s hours', async () => {
    const vip: CompanyRule = { id: 'vip', name: 'vip', enabled: true, conditions: [{ type: 'caller_id', numbers: ['+33612345678'], contactIds: [], anonymous: false }], target: { type: 'extension', extension: '102' } };
    expect((await callCompany([], {}, { rules: [vip] })).log).toEqual(ringing('102'));
  });
});

describe('dispatch of IVR destinations', () => {
  it("goes to the IVR application only when the node has the IVR menus (area 'ivr' enabled)", async () => {
    expect(applicationFor(callApplications({ mailboxes: new MemoryMailboxes() }), toMenu(null))).toBeNull();
    const app = applicationFor(callApplications({ mailboxes: new MemoryMailboxes(), ivrMenus: new MemoryIvrMenus(accountIvr()) }), toMenu(MAIN_MENU_ID));
    expect(app).not.toBeNull();
    const call = new FakeCallHandle({ dialed: '500' });
    await walk(app!(call, toMenu(MAIN_MENU_ID)));
    expect(call.log.slice(0, 2)).toEqual(['answer', welcome]);
  });
});

/** The dial-by-name directory behind the main menu's key 8 (issue 14, deliverable 2). */
describe('the IVR dial-by-name directory', () => {
  const byFirstName = () => config({ directory: { searchBy: 'first_name', extensions: null } });
  const say = (text: string, language: 'en' | 'fr' = 'en') => ['play', { tts: text, language }];
  const spell = (by: 'first_name' | 'last_name' = 'first_name') => say(directoryText.spell('en', by));

  async function dial(keys: string[], cfg: IvrConfig = byFirstName(), bridged = true, recordings = new Map<string, string>()): Promise<FakeCallHandle> {
    const call = new FakeCallHandle({ dialed: '500' });
    call.keys = keys;
    if (bridged) call.bridgeOutcome = { outcome: 'answered', endedBy: 'caller' };
    const menus = new MemoryIvrMenus(accountIvr(cfg));
    menus.recordings = recordings;
    await walk(ivrApp({ menus, mailboxes: new MemoryMailboxes() })(call, toMenu(MAIN_MENU_ID)));
    return call;
  }

  it('plays a recorded name where the user has one, and TTS for the others, in "press 1 for …"', async () => {
    // 7-2: Paul (201), Rachel (204), Sam (206), Sarah (207); Rachel and Sam recorded their names.
    const recordings = new Map([
      ['204', '/data/names/rachel.wav'],
      ['206', '/data/names/sam.wav'],
    ]);
    const call = await dial(['8', '72#', '2'], byFirstName(), true, recordings);
    expect(call.log).toEqual([
      'answer', welcome, ...keyed('8'), spell(), ...keyed('72#'),
      say('For Paul Doe, press 1. For'),
      ['play', { file: '/data/names/rachel.wav' }],
      say('press 2. For'),
      ['play', { file: '/data/names/sam.wav' }],
      // The last words are the collection's prompt.
      say('press 3. For Sarah Doe, press 4.'),
      ...keyed('2'), ...ringing('204'),
    ]);
  });

  it('plays the recorded name of the one match as it connects', async () => {
    const call = await dial(['8', '5646#'], byFirstName(), true, new Map([['102', '/data/names/john.wav']]));
    expect(call.log).toEqual(['answer', welcome, ...keyed('8'), spell(), ...keyed('5646#'), say('Connecting you to'), ['play', { file: '/data/names/john.wav' }], ...ringing('102')]);
  });

  it('connects J-O-H-N (5646) to the one match, John Smith, the way a menu key rings a user', async () => {
    const call = await dial(['8', '5646#']);
    expect(call.log).toEqual(['answer', welcome, ...keyed('8'), spell(), ...keyed('5646#'), say('Connecting you to John Smith.'), ...ringing('102')]);
  });

  it("searches the last name when the admin chose it: 5646 is Anne Johnson's start, not John's", async () => {
    const call = await dial(['8', '5646'], config());
    expect(call.log).toEqual(['answer', welcome, ...keyed('8'), spell('last_name'), ...keyed('5646'), say('Connecting you to Anne Johnson.'), ...ringing('103')]);
  });

  it('offers several matches as "press 1 for …" and connects the one picked', async () => {
    // 7-2 (P-A / R-A / S-A…): Paul, Rachel, Sam, Sarah.
    const call = await dial(['8', '72#', '3']);
    const choices = directoryText.choices('en', [PEOPLE[2]!, PEOPLE[5]!, PEOPLE[7]!, PEOPLE[8]!]);
    expect(choices).toBe('For Paul Doe, press 1. For Rachel Doe, press 2. For Sam Doe, press 3. For Sarah Doe, press 4.');
    expect(call.log).toEqual(['answer', welcome, ...keyed('8'), spell(), ...keyed('72#'), say(choices), ...keyed('3'), ...ringing('206')]);
  });

  it('asks for more letters when one key matches more than 8 people (7: nine people)', async () => {
    const call = await dial(['8', '7#', '78#', '2']);
    const choices = directoryText.choices('en', [PEOPLE[4]!, PEOPLE[10]!]);
    expect(call.log).toEqual([
      'answer', welcome, ...keyed('8'),
      spell(), ...keyed('7#'), say(directoryText.tooMany('en')),
      // 7-8 (Q-U / S-T): Quentin, Steve.
      spell(), ...keyed('78#'), say(choices), ...keyed('2'), ...ringing('209'),
    ]);
  });

  it('says there is no match, up to 3 times, then plays the menu again', async () => {
    const call = await dial(['8', '9999#', '9999#', '9999#']);
    const none = [spell(), ...keyed('9999#'), say(directoryText.noMatch('en'))];
    expect(call.log).toEqual(['answer', welcome, ...keyed('8'), ...none, ...none, ...none, welcome, 'caller hung up']);
  });

  it('goes back to the menu with * while spelling and while choosing', async () => {
    const spelling = await dial(['8', '56*']);
    expect(spelling.log).toEqual(['answer', welcome, ...keyed('8'), spell(), ...keyed('56*'), welcome, 'caller hung up']);
    const choosing = await dial(['8', '72', '*']);
    expect(choosing.log.slice(-4)).toEqual([...keyed('*'), welcome, 'caller hung up']);
  });

  it('folds accents: 7-3 (R-E) finds Rémi', async () => {
    const call = await dial(['8', '73#']);
    expect(call.log).toContainEqual(say('Connecting you to Rémi Doe.'));
    expect(call.log.at(-1)).toEqual(['bridgeTo', { target: toExtension('205'), ringSeconds: 20 }]);
  });

  it('says the option is not available and plays the menu again when the admin switched the directory off (AR-04)', async () => {
    const call = await dial(['8'], config({ directory: { enabled: false, searchBy: 'first_name', extensions: null } }));
    expect(call.log).toEqual(['answer', welcome, ...keyed('8'), say(notAvailable('en')), welcome, 'caller hung up']);
  });

  it('lists only the included extensions', async () => {
    const call = await dial(['8', '72#'], config({ directory: { searchBy: 'first_name', extensions: ['201', '208'] } }));
    expect(call.log).toContainEqual(say('Connecting you to Paul Doe.'));
  });

  it("speaks in the menu's language", async () => {
    const cfg = byFirstName();
    cfg.menus[0]!.language = 'fr';
    const call = await dial(['8', '9999#'], cfg);
    expect(call.log.slice(4, 8)).toEqual([say(directoryText.spell('fr', 'first_name'), 'fr'), ...keyed('9999#'), say('Aucun nom ne correspond.', 'fr')]);
  });
});
