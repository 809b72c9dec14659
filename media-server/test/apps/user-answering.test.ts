import { describe, expect, it } from 'vitest';
import { ALWAYS, DEFAULT_CALL_SETTINGS, defaultRuleHandling, type AfterRinging, type AudioWhileConnecting, type DndStatus, type RingPlan, type ScreeningMode, type UserAnswering } from '@carillon/domain';
import type { BridgeOutcome } from '../../src/apps/call-handle.ts';
import { BLOCKED_MESSAGE, CONNECTING_MESSAGE, NAME_RECORDING, NOT_AVAILABLE_MESSAGE, RING_BACK, USER_GREETING, SAY_YOUR_NAME, userAnsweringApp } from '../../src/apps/user-answering/user-answering.ts';
import type { AnsweringRulesSource, ForwardingRoutes } from '../../src/apps/user-answering/answering-rules.ts';
import { defaultGreeting, defaultGreetingAround } from '../../src/apps/voicemail/take-message.ts';
import type { Destination, PstnDestination } from '../../src/routing/destination.ts';
import { FakeCallHandle, MemoryMailboxes } from './fake-call-handle.ts';

const ACCOUNT = '00000000-0000-4000-8000-0000000000aa';
const EXTENSION = '00000000-0000-4000-8000-0000000000cc';
const DEVICE = '00000000-0000-4000-8000-0000000000dd';
const destination: Destination = { kind: 'extension', accountId: ACCOUNT, extensionId: EXTENSION, extensionNumber: '102', direction: 'internal' };

function rules(
  opts: {
    ringForSeconds?: number;
    dnd?: DndStatus;
    blockNumbers?: string[];
    blockAnonymous?: boolean;
    ringPlan?: RingPlan;
    confirm?: boolean;
    screening?: ScreeningMode;
    connectingMessage?: boolean;
    audio?: AudioWhileConnecting;
    afterRinging?: AfterRinging;
    afterRingingNumbers?: Record<string, string>;
    userGreeting?: UserAnswering['settings']['userGreeting'];
    connectingAudio?: UserAnswering['settings']['connectingMessage']['audio'];
  } = {},
): AnsweringRulesSource & { asked: string[] } {
  const handling = defaultRuleHandling([DEVICE], 'simultaneous');
  if (opts.ringForSeconds !== undefined) handling.ringPlan.rows[0]!.ringForSeconds = opts.ringForSeconds;
  if (opts.ringPlan) handling.ringPlan = opts.ringPlan;
  if (opts.audio) handling.audioWhileConnecting = opts.audio;
  if (opts.afterRinging) handling.afterRinging = opts.afterRinging;
  const answering: UserAnswering = {
    hours: ALWAYS,
    inHours: handling,
    afterHours: handling,
    custom: [],
    settings: {
      ...DEFAULT_CALL_SETTINGS,
      confirmForwardedCalls: opts.confirm ?? false,
      screening: opts.screening ?? 'off',
      connectingMessage: { enabled: opts.connectingMessage ?? false, audio: opts.connectingAudio ?? { source: 'default' } },
      userGreeting: opts.userGreeting ?? DEFAULT_CALL_SETTINGS.userGreeting,
      blocking: { anonymous: opts.blockAnonymous ?? false, numbers: opts.blockNumbers ?? [] },
    },
  };
  const asked: string[] = [];
  return {
    asked,
    ofExtension: (accountId, extensionId) => {
      asked.push(`${accountId}/${extensionId}`);
      return Promise.resolve({ answering, timeZone: 'Europe/Paris', dnd: opts.dnd ?? 'take_all_calls', afterRingingNumbers: opts.afterRingingNumbers ?? {} });
    },
  };
}

const greeting = ['play', { tts: defaultGreeting('extension 1 0 2', 'en') }];
const record = ['record', { maxSeconds: 180, terminators: '#', beep: true }];

describe('the user-answering application', () => {
  it('answers, plays ring-back and rings the extension for the rule ring time; an answered call ends with it', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    const source = rules({ ringForSeconds: 15 });
    const mailboxes = new MemoryMailboxes();
    await userAnsweringApp({ rules: source, mailboxes })(call, destination);
    expect(source.asked).toEqual([`${ACCOUNT}/${EXTENSION}`]);
    expect(call.log).toEqual(['answer', ['play', RING_BACK], ['bridgeTo', { target: [destination], ringSeconds: 15, deviceIds: [DEVICE], acceptWithDigit: false }]]);
    expect(mailboxes.deposited).toEqual([]);
  });

  it('rings 20 s by default (4 rings of 5 s), then takes a message with reason no_answer', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = { outcome: 'no-answer', status: 480 };
    const mailboxes = new MemoryMailboxes();
    await userAnsweringApp({ rules: rules(), mailboxes })(call, destination);
    expect(call.log).toEqual(['answer', ['play', RING_BACK], ['bridgeTo', { target: [destination], ringSeconds: 20, deviceIds: [DEVICE], acceptWithDigit: false }], 'answer', greeting, record, 'hangup']);
    expect(mailboxes.deposited).toMatchObject([{ accountId: ACCOUNT, mailboxExtensionId: EXTENSION, reason: 'no_answer', toNumber: '102', durationMs: 5000 }]);
  });

  it('after ringing, hands the call to another extension: its own handling takes it, no message here', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = { outcome: 'no-answer', status: 480 };
    call.transferable.add('105');
    const mailboxes = new MemoryMailboxes();
    const other = '00000000-0000-4000-8000-000000000105';
    await userAnsweringApp({ rules: rules({ afterRinging: { type: 'extension', extensionId: other }, afterRingingNumbers: { [other]: '105' } }), mailboxes })(call, destination);
    expect(call.log.slice(3)).toEqual([['transfer', '105']]);
    expect(mailboxes.deposited).toEqual([]);
  });

  it('after ringing, an extension that refuses the call (or is gone) leaves the caller in the mailbox', async () => {
    for (const numbers of [{ '00000000-0000-4000-8000-000000000105': '105' }, {}] as Record<string, string>[]) {
      const call = new FakeCallHandle({ dialed: '102' });
      call.bridgeOutcome = { outcome: 'no-answer', status: 480 };
      const mailboxes = new MemoryMailboxes();
      await userAnsweringApp({ rules: rules({ afterRinging: { type: 'extension', extensionId: '00000000-0000-4000-8000-000000000105' }, afterRingingNumbers: numbers }), mailboxes })(call, destination);
      expect(call.log.slice(3).filter((e) => e !== 'transfer' && !(Array.isArray(e) && e[0] === 'transfer'))).toEqual(['answer', greeting, record, 'hangup']);
      expect(mailboxes.deposited.map((m) => m.reason)).toEqual(['no_answer']);
    }
  });

  it('after ringing, plays the not-available message and hangs up: no greeting, no message (custom audio: the user’s file)', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = { outcome: 'no-answer', status: 480 };
    const mailboxes = new MemoryMailboxes();
    await userAnsweringApp({ rules: rules({ afterRinging: { type: 'message_hang_up', message: { source: 'default' } } }), mailboxes })(call, destination);
    expect(call.log.slice(3)).toEqual(['answer', ['play', { tts: NOT_AVAILABLE_MESSAGE.en }], 'hangup']);
    expect(mailboxes.deposited).toEqual([]);

    const custom = new FakeCallHandle({ dialed: '102', language: 'fr' });
    custom.bridgeOutcome = { outcome: 'no-answer', status: 480 };
    await userAnsweringApp({ rules: rules({ afterRinging: { type: 'message_hang_up', message: { source: 'custom', audioId: '00000000-0000-4000-8000-0000000000a1' } } }), mailboxes: Object.assign(new MemoryMailboxes(), { recordings: { '00000000-0000-4000-8000-0000000000a1': '/data/greetings/a1.wav' } }) })(custom, destination);
    expect(custom.log.slice(3)).toEqual(['answer', ['play', { file: '/data/greetings/a1.wav' }], 'hangup']);
  });

  it('says the user’s own connecting message when it is a recording of theirs, else the default one', async () => {
    const ring = ['bridgeTo', { target: [destination], ringSeconds: 20, deviceIds: [DEVICE], acceptWithDigit: false }];
    const connecting = { source: 'custom', audioId: '00000000-0000-4000-8000-0000000000a3' } as const;
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    const own = new MemoryMailboxes();
    own.recordings[connecting.audioId] = '/data/greetings/hold-on.wav';
    await userAnsweringApp({ rules: rules({ connectingMessage: true, connectingAudio: connecting }), mailboxes: own })(call, destination);
    expect(call.log).toEqual(['answer', ['play', { file: '/data/greetings/hold-on.wav' }], 'answer', ['play', RING_BACK], ring]);
    // Not one of the user's recordings (the port finds no file), even with a voicemail greeting set: the default words.
    const other = new FakeCallHandle({ dialed: '102' });
    other.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    await userAnsweringApp({ rules: rules({ connectingMessage: true, connectingAudio: connecting }), mailboxes: new MemoryMailboxes({ greetingFile: '/data/greetings/voicemail.wav' }) })(other, destination);
    expect(other.log).toEqual(['answer', ['play', { tts: CONNECTING_MESSAGE.en }], 'answer', ['play', RING_BACK], ring]);
  });

  it('with the user greeting on, answers with it before anything rings: default (name or recorded name), or the user’s own recording', async () => {
    const ring = ['bridgeTo', { target: [destination], ringSeconds: 20, deviceIds: [DEVICE], acceptWithDigit: false }];
    const cases: [MemoryMailboxes, UserAnswering['settings']['userGreeting'], unknown[]][] = [
      [new MemoryMailboxes(), { enabled: true, audio: { source: 'default' } }, [['play', { tts: `${USER_GREETING.en} extension 1 0 2.` }]]],
      [new MemoryMailboxes({ extensionName: 'Bob Smith' }), { enabled: true, audio: { source: 'default' } }, [['play', { tts: `${USER_GREETING.en} Bob Smith.` }]]],
      [new MemoryMailboxes({ nameRecordingFile: '/data/names/bob.wav' }), { enabled: true, audio: { source: 'default' } }, [['play', { tts: USER_GREETING.en }], ['play', { file: '/data/names/bob.wav' }]]],
      [Object.assign(new MemoryMailboxes(), { recordings: { '00000000-0000-4000-8000-0000000000a2': '/data/greetings/mine.wav' } }), { enabled: true, audio: { source: 'custom', audioId: '00000000-0000-4000-8000-0000000000a2' } }, [['play', { file: '/data/greetings/mine.wav' }]]],
    ];
    for (const [mailboxes, userGreeting, heard] of cases) {
      const call = new FakeCallHandle({ dialed: '102' });
      call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
      await userAnsweringApp({ rules: rules({ userGreeting }), mailboxes })(call, destination);
      expect(call.log).toEqual(['answer', ...heard, 'answer', ['play', RING_BACK], ring]);
    }
    // Off (the default): nothing before the ring-back.
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    await userAnsweringApp({ rules: rules(), mailboxes: new MemoryMailboxes({ extensionName: 'Bob Smith' }) })(call, destination);
    expect(call.log).toEqual(['answer', ['play', RING_BACK], ring]);
  });

  it('plays the default greeting with the user’s recorded name in place of the spoken extension (issue 13)', async () => {
    for (const language of ['en', 'fr'] as const) {
      const call = new FakeCallHandle({ dialed: '102', language });
      call.bridgeOutcome = { outcome: 'no-answer', status: 480 };
      const mailboxes = new MemoryMailboxes({ extensionName: 'Bob Smith', nameRecordingFile: '/data/names/acct/bob.wav' });
      await userAnsweringApp({ rules: rules(), mailboxes })(call, destination);
      const [before, after] = defaultGreetingAround(language);
      expect(call.log.slice(3)).toEqual(['answer', ['play', { tts: before }], ['play', { file: '/data/names/acct/bob.wav' }], ['play', { tts: after }], record, 'hangup']);
      // The words are the default greeting's, the spoken name taken out.
      expect(`${before} Bob Smith. ${after}`).toBe(defaultGreeting('Bob Smith', language));
      expect(mailboxes.deposited).toMatchObject([{ reason: 'no_answer' }]);
    }
  });

  it('plays a custom greeting alone: the recorded name is only part of the default one', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = { outcome: 'no-answer', status: 480 };
    const mailboxes = new MemoryMailboxes({ greetingFile: '/data/greetings/mine.wav', nameRecordingFile: '/data/names/acct/bob.wav' });
    await userAnsweringApp({ rules: rules(), mailboxes })(call, destination);
    expect(call.log.slice(3)).toEqual(['answer', ['play', { file: '/data/greetings/mine.wav' }], record, 'hangup']);
  });

  it.each<[BridgeOutcome, string]>([
    [{ outcome: 'busy', status: 486 }, 'busy'],
    [{ outcome: 'unavailable', status: 480 }, 'no_answer'],
  ])('takes a message when the extension is %o (reason %s)', async (outcome, reason) => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = outcome;
    const mailboxes = new MemoryMailboxes();
    await userAnsweringApp({ rules: rules(), mailboxes })(call, destination);
    expect(mailboxes.deposited).toMatchObject([{ reason }]);
  });

  it('sends the call to voicemail at once under Do Not Disturb: the extension never rings', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    const mailboxes = new MemoryMailboxes();
    await userAnsweringApp({ rules: rules({ dnd: 'no_calls' }), mailboxes })(call, destination);
    expect(call.log).toEqual(['answer', greeting, record, 'hangup']);
    expect(mailboxes.deposited).toMatchObject([{ reason: 'dnd' }]);
  });

  it('tells a blocked caller so and hangs up as blocked: nothing rings and no message is taken', async () => {
    const call = new FakeCallHandle({ dialed: '102', callerNumber: '+14155550199' });
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    const mailboxes = new MemoryMailboxes();
    await userAnsweringApp({ rules: rules({ blockNumbers: ['+1 415 555 0199'] }), mailboxes })(call, destination);
    expect(call.log).toEqual(['answer', ['play', { tts: BLOCKED_MESSAGE.en }], ['hangup', { blocked: true }]]);
    expect(mailboxes.deposited).toEqual([]);
  });

  it('blocks a caller without caller ID when the user blocks anonymous callers, and lets a caller with one through', async () => {
    const anonymous = new FakeCallHandle({ dialed: '102', callerNumber: null, language: 'fr' });
    await userAnsweringApp({ rules: rules({ blockAnonymous: true }), mailboxes: new MemoryMailboxes() })(anonymous, destination);
    expect(anonymous.log).toEqual(['answer', ['play', { tts: BLOCKED_MESSAGE.fr }], ['hangup', { blocked: true }]]);
    const known = new FakeCallHandle({ dialed: '102' });
    known.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    await userAnsweringApp({ rules: rules({ blockAnonymous: true }), mailboxes: new MemoryMailboxes() })(known, destination);
    expect(known.log.at(-1)).toMatchObject(['bridgeTo', {}]);
  });

  it('stops when the caller hangs up while it rings: no message', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = { outcome: 'no-answer', status: 480 };
    call.hangUpAt = 'bridgeTo';
    const mailboxes = new MemoryMailboxes();
    await expect(userAnsweringApp({ rules: rules(), mailboxes })(call, destination)).rejects.toThrow('the call has ended');
    expect(mailboxes.deposited).toEqual([]);
  });

  it('rings for the default time and takes a message when the extension has no user', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = { outcome: 'no-answer', status: 480 };
    const mailboxes = new MemoryMailboxes();
    await userAnsweringApp({ rules: { ofExtension: () => Promise.resolve(null) }, mailboxes })(call, destination);
    expect(call.log[2]).toEqual(['bridgeTo', { target: destination, ringSeconds: 20 }]);
    expect(mailboxes.deposited).toMatchObject([{ reason: 'no_answer' }]);
  });
});

const MOBILE = '+12125550101';
const HOME = '+12125550102';

/** Forwarding numbers as the dial plan would route them; `refuse` lists numbers it cannot reach (no right, no trunk). */
function forwarding(refuse: string[] = []): ForwardingRoutes & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    forwardTo: (from, e164, caller) => {
      asked.push(`${from.extensionNumber}->${e164} for ${caller.number}`);
      if (refuse.includes(e164)) return Promise.resolve(null);
      const pstn: PstnDestination = {
        kind: 'pstn',
        accountId: from.accountId,
        e164,
        emergency: false,
        trunk: { id: 't', host: '192.0.2.1', port: 5060, transport: 'udp', username: null, passwordSealed: null, dialString: e164 },
        callerId: { number: caller.number, name: null },
        forwardedFrom: '+14155550100',
      };
      return Promise.resolve(pstn);
    },
  };
}

const pstnTo = (e164: string) => expect.objectContaining({ kind: 'pstn', e164 });

describe('the user-answering application: screening, connecting message, audio while connecting', () => {
  const nameRecorded = ['record', NAME_RECORDING];

  it('asks an outside caller their name, says the connecting message, then rings with the name for the callee to accept', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    await userAnsweringApp({ rules: rules({ screening: 'outside', connectingMessage: true }), mailboxes: new MemoryMailboxes() })(call, destination);
    expect(call.log).toEqual([
      'answer',
      ['play', { tts: SAY_YOUR_NAME.en }],
      nameRecorded,
      'answer',
      ['play', { tts: CONNECTING_MESSAGE.en }],
      'answer',
      ['play', RING_BACK],
      ['bridgeTo', { target: [destination], ringSeconds: 20, deviceIds: [DEVICE], acceptWithDigit: false, screening: { nameRecording: '/recordings/1.wav' } }],
    ]);
  });

  it('sends the caller to voicemail at once when the screened callee presses 2: the later steps do not ring', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcomes = [{ outcome: 'rejected', status: 603 }];
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    const mailboxes = new MemoryMailboxes();
    const ringPlan: RingPlan = {
      mode: 'in_order',
      rows: [
        { target: { kind: 'device', deviceId: DEVICE }, order: 1, active: true, ringForSeconds: 10 },
        { target: { kind: 'forwarding', label: 'mobile', number: MOBILE }, order: 2, active: true, ringForSeconds: 20 },
      ],
    };
    await userAnsweringApp({ rules: rules({ screening: 'always', ringPlan }), mailboxes, forwarding: forwarding() })(call, destination);
    expect(call.log.filter((e) => Array.isArray(e) && e[0] === 'bridgeTo')).toHaveLength(1);
    expect(mailboxes.deposited).toMatchObject([{ reason: 'no_answer' }]);
  });

  it('screens by the mode: an extension of the account is not an outside caller; "caller ID missing" only screens a withheld number', async () => {
    const screened = async (mode: ScreeningMode, call: FakeCallHandle) => {
      call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
      await userAnsweringApp({ rules: rules({ screening: mode }), mailboxes: new MemoryMailboxes() })(call, destination);
      return call.log.some((e) => Array.isArray(e) && e[0] === 'record');
    };
    expect(await screened('outside', new FakeCallHandle({ callerExtensionId: EXTENSION }))).toBe(false);
    expect(await screened('anonymous_only', new FakeCallHandle())).toBe(false);
    expect(await screened('anonymous_only', new FakeCallHandle({ callerNumber: null }))).toBe(true);
    expect(await screened('always', new FakeCallHandle({ callerExtensionId: EXTENSION }))).toBe(true);
    expect(await screened('off', new FakeCallHandle({ callerNumber: null }))).toBe(false);
  });

  it('gives the callee no recording when the caller said nothing: the prompt then names the caller ID', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.recording = { durationMs: 0, reason: 'silence', terminator: null };
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    await userAnsweringApp({ rules: rules({ screening: 'always' }), mailboxes: new MemoryMailboxes() })(call, destination);
    expect(call.log.at(-1)).toMatchObject(['bridgeTo', { screening: { nameRecording: null } }]);
  });

  it('plays the rule’s music while connecting instead of ring-back, and ring-back without music at hand', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    const music = (track: string) => `/music/${track}.wav`;
    await userAnsweringApp({ rules: rules({ audio: { kind: 'music', track: 'latin' } }), mailboxes: new MemoryMailboxes(), music })(call, destination);
    expect(call.log).toContainEqual(['play', { file: '/music/latin.wav' }]);
    expect(call.log).not.toContainEqual(['play', RING_BACK]);
    const without = new FakeCallHandle({ dialed: '102' });
    without.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    await userAnsweringApp({ rules: rules({ audio: { kind: 'music', track: 'latin' } }), mailboxes: new MemoryMailboxes() })(without, destination);
    expect(without.log).toContainEqual(['play', RING_BACK]);
  });

  it('plays the user’s own uploaded audio while connecting, and the first stock track when that audio is gone', async () => {
    const audioId = '7d3c1f4e-2b7a-4c1e-9a55-0b6f1e2d3c4a';
    const music = (track: string) => `/music/${track}.wav`;
    const mailboxes = new MemoryMailboxes();
    mailboxes.recordings[audioId] = '/greetings/own-music.wav';
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    await userAnsweringApp({ rules: rules({ audio: { kind: 'custom', audioId } }), mailboxes, music })(call, destination);
    expect(call.log).toContainEqual(['play', { file: '/greetings/own-music.wav' }]);
    const gone = new FakeCallHandle({ dialed: '102' });
    gone.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    await userAnsweringApp({ rules: rules({ audio: { kind: 'custom', audioId } }), mailboxes: new MemoryMailboxes(), music })(gone, destination);
    expect(gone.log).toContainEqual(['play', { file: '/music/acoustic.wav' }]);
  });
});

describe('the user-answering application with forwarding numbers', () => {
  const plan = (mode: RingPlan['mode']): RingPlan => ({
    mode,
    rows: [
      { target: { kind: 'device', deviceId: DEVICE }, order: 1, active: true, ringForSeconds: 10 },
      { target: { kind: 'forwarding', label: 'mobile', number: MOBILE }, order: 2, active: true, ringForSeconds: 20 },
      { target: { kind: 'forwarding', label: 'home', number: HOME }, order: 2, active: true, ringForSeconds: 15 },
      { target: { kind: 'forwarding', label: 'work', number: '+12125550103' }, order: 3, active: false, ringForSeconds: 60 },
    ],
  });

  it('rings in order: the devices of order 1, then the numbers of order 2 together for their longest Ring For; an inactive row never rings; then voicemail', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = { outcome: 'no-answer', status: 480 };
    const mailboxes = new MemoryMailboxes();
    const routes = forwarding();
    await userAnsweringApp({ rules: rules({ ringPlan: plan('in_order') }), mailboxes, forwarding: routes })(call, destination);
    const bridged = call.log.filter((e) => Array.isArray(e) && e[0] === 'bridgeTo');
    expect(bridged).toEqual([
      ['bridgeTo', { target: [destination], ringSeconds: 10, deviceIds: [DEVICE], acceptWithDigit: false }],
      ['bridgeTo', { target: [pstnTo(MOBILE), pstnTo(HOME)], ringSeconds: 20, deviceIds: [], acceptWithDigit: false }],
    ]);
    // Ring-back again for each step (bridgeTo stops it when a step ends).
    expect(call.log.filter((e) => Array.isArray(e) && e[0] === 'play' && e[1] === RING_BACK)).toHaveLength(2);
    expect(routes.asked).toEqual([`102->${MOBILE} for 101`, `102->${HOME} for 101`]);
    expect(mailboxes.deposited).toMatchObject([{ reason: 'no_answer' }]);
  });

  it('stops at the step that is answered: the numbers after it never ring and no message is taken', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcomes = [{ outcome: 'no-answer', status: 480 }, { outcome: 'answered', endedBy: 'caller' }];
    const mailboxes = new MemoryMailboxes();
    await userAnsweringApp({ rules: rules({ ringPlan: plan('in_order') }), mailboxes, forwarding: forwarding() })(call, destination);
    expect(call.log.filter((e) => Array.isArray(e) && e[0] === 'bridgeTo')).toHaveLength(2);
    expect(mailboxes.deposited).toEqual([]);
  });

  it('rings every active row at once when simultaneous, for the longest Ring For, and asks forwarded parties to press 1 when the user wants it', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = { outcome: 'busy', status: 486 };
    const mailboxes = new MemoryMailboxes();
    await userAnsweringApp({ rules: rules({ ringPlan: plan('simultaneous'), confirm: true }), mailboxes, forwarding: forwarding() })(call, destination);
    expect(call.log.filter((e) => Array.isArray(e) && e[0] === 'bridgeTo')).toEqual([
      ['bridgeTo', { target: [destination, pstnTo(MOBILE), pstnTo(HOME)], ringSeconds: 20, deviceIds: [DEVICE], acceptWithDigit: true }],
    ]);
    expect(mailboxes.deposited).toMatchObject([{ reason: 'busy' }]);
  });

  it('skips a step with nothing that can ring (a number it cannot route): the next step rings at once', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = { outcome: 'no-answer', status: 480 };
    const mailboxes = new MemoryMailboxes();
    const ringPlan: RingPlan = {
      mode: 'in_order',
      rows: [
        { target: { kind: 'forwarding', label: 'mobile', number: MOBILE }, order: 1, active: true, ringForSeconds: 20 },
        { target: { kind: 'device', deviceId: DEVICE }, order: 2, active: true, ringForSeconds: 5 },
      ],
    };
    await userAnsweringApp({ rules: rules({ ringPlan }), mailboxes, forwarding: forwarding([MOBILE]) })(call, destination);
    expect(call.log.filter((e) => Array.isArray(e) && e[0] === 'bridgeTo')).toEqual([['bridgeTo', { target: [destination], ringSeconds: 5, deviceIds: [DEVICE], acceptWithDigit: false }]]);
    expect(mailboxes.deposited).toMatchObject([{ reason: 'no_answer' }]);
  });
});
