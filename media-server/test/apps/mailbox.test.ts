import { describe, expect, it } from 'vitest';
import { applicationFor, callApplications, withoutApplication } from '../../src/apps/applications.ts';
import { CallEndedError } from '../../src/apps/call-handle.ts';
import { mailboxApp } from '../../src/apps/mailbox/mailbox.ts';
import type { MailboxAccess, PhoneMessage, PinCheck } from '../../src/apps/mailbox/mailbox-access.ts';
import type { MailboxDestination } from '../../src/routing/destination.ts';
import { FakeCallHandle, MemoryMailboxes } from './fake-call-handle.ts';

const ACCOUNT = '00000000-0000-4000-8000-0000000000aa';
const EXTENSION = '00000000-0000-4000-8000-000000000101';
const destination: MailboxDestination = { kind: 'mailbox', accountId: ACCOUNT, extensionId: EXTENSION };

/** One mailbox in memory: its PIN, a lock after `failuresBeforeLock` wrong PINs, its messages and what was done to them. */
class MemoryMailboxAccess implements MailboxAccess {
  readonly pinsTried: string[] = [];
  readonly trashed: string[] = [];
  readonly saved: string[] = [];
  failures = 0;
  locked = false;
  private readonly pin: string;
  readonly messages: PhoneMessage[];
  private readonly failuresBeforeLock: number;
  constructor(pin: string, messages: PhoneMessage[], failuresBeforeLock = 5) {
    this.pin = pin;
    this.messages = messages;
    this.failuresBeforeLock = failuresBeforeLock;
  }
  isLocked(): Promise<boolean> {
    return Promise.resolve(this.locked);
  }
  checkPin(accountId: string, extensionId: string, pin: string): Promise<PinCheck> {
    expect([accountId, extensionId]).toEqual([ACCOUNT, EXTENSION]);
    this.pinsTried.push(pin);
    if (this.locked) return Promise.resolve('locked');
    if (pin === this.pin) return Promise.resolve('ok');
    this.locked = ++this.failures >= this.failuresBeforeLock;
    return Promise.resolve(this.locked ? 'locked' : 'wrong');
  }
  newMessages(): Promise<PhoneMessage[]> {
    return Promise.resolve(this.messages.filter((m) => !this.trashed.includes(m.id) && !this.saved.includes(m.id)));
  }
  save(_a: string, _e: string, messageId: string): Promise<void> {
    this.saved.push(messageId);
    return Promise.resolve();
  }
  trash(_a: string, _e: string, messageId: string): Promise<void> {
    this.trashed.push(messageId);
    return Promise.resolve();
  }
}

const MESSAGES: PhoneMessage[] = [
  { id: 'm1', audioFile: '/data/voicemail/a/m1.wav', fromNumber: '+15550100' },
  { id: 'm2', audioFile: '/data/voicemail/a/m2.wav', fromNumber: null },
  { id: 'm3', audioFile: '/data/voicemail/a/m3.wav', fromNumber: '102' },
];

/** What the caller hears, the collections' own prompts included (the fake plays them before their digits). */
const PIN = { tts: 'Please enter your PIN, followed by the pound key.' };
const WRONG_PIN = { tts: 'That PIN is not correct. Please enter your PIN, followed by the pound key.' };
const OPTIONS = { tts: 'To delete this message, press 7. To save it, press 9. To hear it again, press 4. For the next message, press pound.' };
const played = (call: FakeCallHandle) => call.log.filter((e): e is [string, unknown] => Array.isArray(e) && e[0] === 'play').map(([, source]) => source);

describe('mailbox by phone (*86)', () => {
  it('with the right PIN: the count, then each message and who left it; 7 deletes, 9 saves, 4 repeats, # leaves it new', async () => {
    const access = new MemoryMailboxAccess('2468', MESSAGES);
    const call = new FakeCallHandle({ dialed: '*86' });
    call.keys = ['2468', '7', '4', '9', '#'];
    await mailboxApp(access)(call, destination);

    expect(access.pinsTried).toEqual(['2468']);
    expect(access.trashed).toEqual(['m1']);
    expect(access.saved).toEqual(['m2']);
    expect(played(call)).toEqual([
      PIN,
      { tts: 'You have 3 new messages.' },
      { file: '/data/voicemail/a/m1.wav' },
      { tts: 'From + 1 5 5 5 0 1 0 0.' },
      OPTIONS,
      { tts: 'Message deleted.' },
      { file: '/data/voicemail/a/m2.wav' },
      { tts: 'From an unknown caller.' },
      OPTIONS,
      // 4: the same message again.
      { file: '/data/voicemail/a/m2.wav' },
      { tts: 'From an unknown caller.' },
      OPTIONS,
      { tts: 'Message saved.' },
      { file: '/data/voicemail/a/m3.wav' },
      { tts: 'From 1 0 2.' },
      OPTIONS,
      { tts: 'You have no more new messages. Goodbye.' },
    ]);
    expect(call.log[0]).toBe('answer');
    expect(call.log.at(-1)).toBe('hangup');
  });

  it('three wrong PINs: told so and hung up, nothing heard', async () => {
    const access = new MemoryMailboxAccess('2468', MESSAGES);
    const call = new FakeCallHandle({ dialed: '*86' });
    call.keys = ['1111', '2222', '3333', '2468'];
    await mailboxApp(access)(call, destination);

    expect(access.pinsTried).toEqual(['1111', '2222', '3333']);
    expect(played(call)).toEqual([PIN, WRONG_PIN, WRONG_PIN, { tts: 'That PIN is not correct. Goodbye.' }]);
    expect(call.log.filter((e) => e === 'collect')).toHaveLength(3);
    expect(call.log.at(-1)).toBe('hangup');
  });

  it('a locked mailbox says so and hangs up without asking for the PIN', async () => {
    const access = new MemoryMailboxAccess('2468', MESSAGES);
    access.locked = true;
    const call = new FakeCallHandle({ dialed: '*86' });
    call.keys = ['2468'];
    await mailboxApp(access)(call, destination);

    expect(access.pinsTried).toEqual([]);
    expect(call.log).toEqual(['answer', ['play', { tts: 'This mailbox is locked after too many wrong PINs. Please try again later. Goodbye.' }], 'hangup']);
  });

  it('the failure that locks the mailbox ends the call with the lock message', async () => {
    const access = new MemoryMailboxAccess('2468', MESSAGES, 2);
    const call = new FakeCallHandle({ dialed: '*86' });
    call.keys = ['1111', '2222', '2468'];
    await mailboxApp(access)(call, destination);

    expect(access.pinsTried).toEqual(['1111', '2222']);
    expect(played(call)).toEqual([PIN, WRONG_PIN, { tts: 'This mailbox is locked after too many wrong PINs. Please try again later. Goodbye.' }]);
    expect(call.log.at(-1)).toBe('hangup');
  });

  it('no new messages: says so and hangs up', async () => {
    const call = new FakeCallHandle({ dialed: '*86', language: 'fr' });
    call.keys = ['2468'];
    await mailboxApp(new MemoryMailboxAccess('2468', []))(call, destination);
    expect(played(call)).toEqual([{ tts: 'Veuillez saisir votre code, suivi de la touche dièse.' }, { tts: 'Vous avez 0 nouveau message.' }, { tts: "Vous n'avez plus de nouveaux messages. Au revoir." }]);
  });

  it('a caller who hangs up during a message stops the application there', async () => {
    const access = new MemoryMailboxAccess('2468', MESSAGES);
    const call = new FakeCallHandle({ dialed: '*86' });
    call.keys = ['2468'];
    await expect(mailboxApp(access)(call, destination)).rejects.toBeInstanceOf(CallEndedError);
    expect(access.trashed).toEqual([]);
    expect(access.saved).toEqual([]);
  });

  it('is the application of the mailbox destination where its port is given; elsewhere the destination gets a 480 naming it', () => {
    expect(applicationFor(callApplications({ mailboxes: new MemoryMailboxes(), mailboxAccess: new MemoryMailboxAccess('2468', []) }), destination)).not.toBeNull();
    expect(applicationFor(callApplications({ mailboxes: new MemoryMailboxes() }), destination)).toBeNull();
    expect(withoutApplication(destination)).toMatchObject({ kind: 'reject', status: 480, reason: 'Mailbox Not Available' });
  });
});
