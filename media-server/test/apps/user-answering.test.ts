import { describe, expect, it } from 'vitest';
import { ALWAYS, DEFAULT_CALL_SETTINGS, defaultRuleHandling, type DndStatus, type RingPlan, type UserAnswering } from '@carillon/domain';
import type { BridgeOutcome } from '../../src/apps/call-handle.ts';
import { RING_BACK, userAnsweringApp } from '../../src/apps/user-answering/user-answering.ts';
import type { AnsweringRulesSource, ForwardingRoutes } from '../../src/apps/user-answering/answering-rules.ts';
import { defaultGreeting } from '../../src/apps/voicemail/take-message.ts';
import type { Destination, PstnDestination } from '../../src/routing/destination.ts';
import { FakeCallHandle, MemoryMailboxes } from './fake-call-handle.ts';

const ACCOUNT = '00000000-0000-4000-8000-0000000000aa';
const EXTENSION = '00000000-0000-4000-8000-0000000000cc';
const DEVICE = '00000000-0000-4000-8000-0000000000dd';
const destination: Destination = { kind: 'extension', accountId: ACCOUNT, extensionId: EXTENSION, extensionNumber: '102', direction: 'internal' };

function rules(opts: { ringForSeconds?: number; dnd?: DndStatus; blockNumbers?: string[]; ringPlan?: RingPlan; confirm?: boolean } = {}): AnsweringRulesSource & { asked: string[] } {
  const handling = defaultRuleHandling([DEVICE], 'simultaneous');
  if (opts.ringForSeconds !== undefined) handling.ringPlan.rows[0]!.ringForSeconds = opts.ringForSeconds;
  if (opts.ringPlan) handling.ringPlan = opts.ringPlan;
  const answering: UserAnswering = {
    hours: ALWAYS,
    inHours: handling,
    afterHours: handling,
    custom: [],
    settings: { ...DEFAULT_CALL_SETTINGS, confirmForwardedCalls: opts.confirm ?? false, blocking: { anonymous: false, numbers: opts.blockNumbers ?? [] } },
  };
  const asked: string[] = [];
  return {
    asked,
    ofExtension: (accountId, extensionId) => {
      asked.push(`${accountId}/${extensionId}`);
      return Promise.resolve({ answering, timeZone: 'Europe/Paris', dnd: opts.dnd ?? 'take_all_calls' });
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

  it('refuses a blocked caller with 603 and takes no message', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    const mailboxes = new MemoryMailboxes();
    await userAnsweringApp({ rules: rules({ blockNumbers: ['101'] }), mailboxes })(call, destination);
    expect(call.log).toEqual([['reject', { status: 603, reason: 'Decline' }]]);
    expect(mailboxes.deposited).toEqual([]);
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
