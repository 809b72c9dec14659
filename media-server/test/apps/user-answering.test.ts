import { describe, expect, it } from 'vitest';
import { ALWAYS, DEFAULT_CALL_SETTINGS, defaultRuleHandling, type DndStatus, type UserAnswering } from '@carillon/domain';
import type { BridgeOutcome } from '../../src/apps/call-handle.ts';
import { RING_BACK, userAnsweringApp } from '../../src/apps/user-answering/user-answering.ts';
import type { AnsweringRulesSource } from '../../src/apps/user-answering/answering-rules.ts';
import { defaultGreeting } from '../../src/apps/voicemail/take-message.ts';
import type { Destination } from '../../src/routing/destination.ts';
import { FakeCallHandle, MemoryMailboxes } from './fake-call-handle.ts';

const ACCOUNT = '00000000-0000-4000-8000-0000000000aa';
const EXTENSION = '00000000-0000-4000-8000-0000000000cc';
const DEVICE = '00000000-0000-4000-8000-0000000000dd';
const destination: Destination = { kind: 'extension', accountId: ACCOUNT, extensionId: EXTENSION, extensionNumber: '102', direction: 'internal' };

function rules(opts: { ringForSeconds?: number; dnd?: DndStatus; blockNumbers?: string[] } = {}): AnsweringRulesSource & { asked: string[] } {
  const handling = defaultRuleHandling([DEVICE], 'simultaneous');
  if (opts.ringForSeconds !== undefined) handling.ringPlan.rows[0]!.ringForSeconds = opts.ringForSeconds;
  const answering: UserAnswering = {
    hours: ALWAYS,
    inHours: handling,
    afterHours: handling,
    custom: [],
    settings: { ...DEFAULT_CALL_SETTINGS, blocking: { anonymous: false, numbers: opts.blockNumbers ?? [] } },
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
    expect(call.log).toEqual(['answer', ['play', RING_BACK], ['bridgeTo', { target: destination, ringSeconds: 15 }]]);
    expect(mailboxes.deposited).toEqual([]);
  });

  it('rings 20 s by default (4 rings of 5 s), then takes a message with reason no_answer', async () => {
    const call = new FakeCallHandle({ dialed: '102' });
    call.bridgeOutcome = { outcome: 'no-answer', status: 480 };
    const mailboxes = new MemoryMailboxes();
    await userAnsweringApp({ rules: rules(), mailboxes })(call, destination);
    expect(call.log).toEqual(['answer', ['play', RING_BACK], ['bridgeTo', { target: destination, ringSeconds: 20 }], 'answer', greeting, record, 'hangup']);
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
