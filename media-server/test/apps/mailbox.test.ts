import { describe, expect, it } from 'vitest';
import { applicationFor, callApplications, withoutApplication } from '../../src/apps/applications.ts';
import { CallEndedError } from '../../src/apps/call-handle.ts';
import { mailboxApp, mailboxSignIn } from '../../src/apps/mailbox/mailbox.ts';
import { takeMessage } from '../../src/apps/voicemail/take-message.ts';
import { withOwnerSignIn } from '../../src/apps/voicemail/mailboxes.ts';
import { checkPin, failedRules, type PinRule } from '@carillon/domain';
import type { MailboxAccess, MailboxCallBack, PhoneMessage, PinChange, PinCheck } from '../../src/apps/mailbox/mailbox-access.ts';
import type { MailboxDestination, PstnDestination } from '../../src/routing/destination.ts';
import { FakeCallHandle, MemoryMailboxes } from './fake-call-handle.ts';

const ACCOUNT = '00000000-0000-4000-8000-0000000000aa';
const EXTENSION = '00000000-0000-4000-8000-000000000101';
const destination: MailboxDestination = { kind: 'mailbox', accountId: ACCOUNT, extensionId: EXTENSION };

/** One mailbox in memory: its PIN (checked with the shared PIN rules when changed), a lock after `failuresBeforeLock` wrong PINs, its messages, its greeting, and what was done to them. */
class MemoryMailboxAccess implements MailboxAccess {
  readonly pinsTried: string[] = [];
  readonly trashed: string[] = [];
  readonly saved: string[] = [];
  failures = 0;
  locked = false;
  pin: string;
  readonly messages: PhoneMessage[];
  /** Saved messages, newest first (as the real port lists them). */
  savedList: PhoneMessage[] = [];
  private readonly failuresBeforeLock: number;
  readonly greetingMaxSeconds = 180;
  greeting: string | null = null;
  /** Recordings offered as the greeting, and whether the port accepts them. */
  readonly greetingsOffered: string[] = [];
  acceptGreeting = true;
  constructor(pin: string, messages: PhoneMessage[], failuresBeforeLock = 5) {
    this.pin = pin;
    this.messages = messages;
    this.failuresBeforeLock = failuresBeforeLock;
  }
  /** A mailbox whose user never set a PIN: nobody can sign in to it. */
  noPin = false;
  hasPin(): Promise<boolean> {
    return Promise.resolve(!this.noPin);
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
  savedMessages(): Promise<PhoneMessage[]> {
    return Promise.resolve(this.savedList.filter((m) => !this.trashed.includes(m.id)));
  }
  save(_a: string, _e: string, messageId: string): Promise<void> {
    this.saved.push(messageId);
    return Promise.resolve();
  }
  trash(_a: string, _e: string, messageId: string): Promise<void> {
    this.trashed.push(messageId);
    return Promise.resolve();
  }
  /** As core's setVoicemailPin: the shared rules, then the two entries. */
  changePin(_a: string, _e: string, pin: string, pinConfirm: string): Promise<PinChange> {
    const rules: (PinRule | 'mismatch')[] = failedRules(checkPin(pin));
    if (pin !== pinConfirm) rules.push('mismatch');
    if (rules.length) return Promise.resolve({ ok: false, rules });
    this.pin = pin;
    return Promise.resolve({ ok: true });
  }
  userHoursGreeting(): Promise<string | null> {
    return Promise.resolve(this.greeting);
  }
  setUserHoursGreeting(_a: string, _e: string, recording: string): Promise<boolean> {
    this.greetingsOffered.push(recording);
    if (this.acceptGreeting) this.greeting = `/data/greetings/${this.greetingsOffered.length}.wav`;
    return Promise.resolve(this.acceptGreeting);
  }
  resetUserHoursGreeting(): Promise<void> {
    this.greeting = null;
    return Promise.resolve();
  }
  readonly nameMaxSeconds = 10;
  /** Recordings offered as the user's name (as core's setNameRecording would take them), and whether the port accepts them. */
  readonly namesOffered: string[] = [];
  acceptName = true;
  nameRecording: string | null = null;
  setNameRecording(accountId: string, extensionId: string, recording: string): Promise<boolean> {
    expect([accountId, extensionId]).toEqual([ACCOUNT, EXTENSION]);
    this.namesOffered.push(recording);
    if (this.acceptName) this.nameRecording = `/data/names/${this.namesOffered.length}.wav`;
    return Promise.resolve(this.acceptName);
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
const MAIN = { tts: 'For new messages, press 1. For saved messages, press 2. For your greeting, press 3. To change your PIN, press 4. To end the call, press pound.' };
const OPTIONS = { tts: 'To delete this message, press 7. To save it, press 9. To hear it again, press 4. To call the sender back, press 5. For the next message, press pound. For the main menu, press star.' };
const SAVED_OPTIONS = { tts: 'To delete this message, press 7. To hear it again, press 4. To call the sender back, press 5. For the next message, press pound. For the main menu, press star.' };
const GREETING_MENU = (custom: boolean) => ({
  tts: `Your callers hear ${custom ? 'your own greeting' : 'the default greeting'} during user hours. To record a new greeting, press 1. To use the default greeting, press 2. To hear your greeting, press 3. To record your name, press 4. For the main menu, press star.`,
});
const RECORD = { tts: 'Record your greeting after the tone, then press pound.' };
const REVIEW = { tts: 'To keep this greeting, press 1. To hear it, press 2. To record it again, press 3. To cancel, press star.' };
const NEW_PIN = { tts: 'Please enter your new PIN, followed by the pound key.' };
const NEW_PIN_AGAIN = { tts: 'Please enter your new PIN again, followed by the pound key.' };
const GOODBYE = { tts: 'Goodbye.' };
const played = (call: FakeCallHandle) => call.log.filter((e): e is [string, unknown] => Array.isArray(e) && e[0] === 'play').map(([, source]) => source);
const bridged = (call: FakeCallHandle) => call.log.filter((e): e is [string, unknown] => Array.isArray(e) && e[0] === 'bridgeTo').map(([, target]) => target);

const SENDER: PstnDestination = {
  kind: 'pstn',
  accountId: ACCOUNT,
  e164: '+15550100',
  emergency: false,
  trunk: { id: 't1', host: '127.0.0.1', port: 5060, transport: 'udp', username: null, passwordSealed: null, dialString: '+15550100' },
  callerId: { number: '+15550199', name: 'Ann' },
};

/** The dial plan's answer for a call back, and what it was asked. */
class FixedCallBack implements MailboxCallBack {
  readonly asked: [unknown, string][] = [];
  private readonly destination: PstnDestination | null;
  constructor(destination: PstnDestination | null) {
    this.destination = destination;
  }
  destinationFor(mailbox: { accountId: string; extensionId: string }, number: string): Promise<PstnDestination | null> {
    this.asked.push([mailbox, number]);
    return Promise.resolve(this.destination);
  }
}

describe('mailbox by phone (*86)', () => {
  it('with the right PIN: the counts, the main menu, then with 1 each new message and who left it; 7 deletes, 9 saves, 4 repeats, # leaves it new', async () => {
    const access = new MemoryMailboxAccess('2468', MESSAGES);
    access.savedList = [{ id: 's1', audioFile: '/data/voicemail/a/s1.wav', fromNumber: '103' }];
    const call = new FakeCallHandle({ dialed: '*86' });
    call.keys = ['2468', '1', '7', '4', '9', '#', '#'];
    await mailboxApp(access)(call, destination);

    expect(access.pinsTried).toEqual(['2468']);
    expect(access.trashed).toEqual(['m1']);
    expect(access.saved).toEqual(['m2']);
    expect(played(call)).toEqual([
      PIN,
      { tts: 'You have 3 new messages and 1 saved message.' },
      MAIN,
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
      { tts: 'You have no more new messages.' },
      MAIN,
      GOODBYE,
    ]);
    expect(call.log[0]).toBe('answer');
    expect(call.log.at(-1)).toBe('hangup');
  });

  it('2: the saved messages in the order the port gives (newest first), without the save key; 7 deletes, * goes back to the main menu', async () => {
    const access = new MemoryMailboxAccess('2468', []);
    access.savedList = [
      { id: 's2', audioFile: '/data/voicemail/a/s2.wav', fromNumber: '104' },
      { id: 's1', audioFile: '/data/voicemail/a/s1.wav', fromNumber: '103' },
    ];
    const call = new FakeCallHandle({ dialed: '*86' });
    call.keys = ['2468', '2', '7', '9', '2', '*', '#'];
    await mailboxApp(access)(call, destination);

    expect(access.trashed).toEqual(['s2']);
    // 9 is no key of a saved message: it goes on to the next, saving nothing.
    expect(access.saved).toEqual([]);
    expect(played(call)).toEqual([
      PIN,
      { tts: 'You have 0 new messages and 2 saved messages.' },
      MAIN,
      { file: '/data/voicemail/a/s2.wav' },
      { tts: 'From 1 0 4.' },
      SAVED_OPTIONS,
      { tts: 'Message deleted.' },
      { file: '/data/voicemail/a/s1.wav' },
      { tts: 'From 1 0 3.' },
      SAVED_OPTIONS,
      { tts: 'You have no more saved messages.' },
      MAIN,
      // The folder again, as it is now: the deleted one is gone.
      { file: '/data/voicemail/a/s1.wav' },
      { tts: 'From 1 0 3.' },
      SAVED_OPTIONS,
      MAIN,
      GOODBYE,
    ]);
  });

  it('5 calls the sender back through the dial plan; once answered the call ends with that conversation', async () => {
    const access = new MemoryMailboxAccess('2468', MESSAGES);
    const callBack = new FixedCallBack(SENDER);
    const call = new FakeCallHandle({ dialed: '*86' });
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    call.keys = ['2468', '1', '5'];
    await mailboxApp(access, callBack)(call, destination);

    expect(callBack.asked).toEqual([[{ accountId: ACCOUNT, extensionId: EXTENSION }, '+15550100']]);
    expect(bridged(call)).toEqual([{ target: SENDER }]);
    expect(played(call).at(-1)).toEqual({ tts: 'Calling + 1 5 5 5 0 1 0 0.' });
    // Nothing after the conversation: the application returns and the call ends; the message stays new.
    expect(call.log.at(-1)).toEqual(['bridgeTo', { target: SENDER }]);
    expect(access.trashed).toEqual([]);
    expect(access.saved).toEqual([]);
  });

  it('a call back not answered is said, and the caller is back at the message’s options', async () => {
    const access = new MemoryMailboxAccess('2468', MESSAGES);
    const call = new FakeCallHandle({ dialed: '*86' });
    call.bridgeOutcome = { outcome: 'no-answer', status: 408 };
    call.keys = ['2468', '1', '5', '9', '*', '#'];
    await mailboxApp(access, new FixedCallBack(SENDER))(call, destination);

    expect(played(call).slice(3)).toEqual([
      { file: '/data/voicemail/a/m1.wav' },
      { tts: 'From + 1 5 5 5 0 1 0 0.' },
      OPTIONS,
      { tts: 'Calling + 1 5 5 5 0 1 0 0.' },
      { tts: 'The call did not go through.' },
      OPTIONS,
      { tts: 'Message saved.' },
      { file: '/data/voicemail/a/m2.wav' },
      { tts: 'From an unknown caller.' },
      OPTIONS,
      MAIN,
      GOODBYE,
    ]);
    expect(access.saved).toEqual(['m1']);
  });

  it('a withheld number cannot be called back, nor one the dial plan refuses: said, no call placed', async () => {
    const access = new MemoryMailboxAccess('2468', MESSAGES);
    const callBack = new FixedCallBack(null);
    const call = new FakeCallHandle({ dialed: '*86' });
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    // m1 (a number the dial plan refuses), then m2 (withheld).
    call.keys = ['2468', '1', '5', '#', '5', '*', '#'];
    await mailboxApp(access, callBack)(call, destination);

    expect(bridged(call)).toEqual([]);
    expect(callBack.asked).toEqual([[{ accountId: ACCOUNT, extensionId: EXTENSION }, '+15550100']]);
    const heard = played(call);
    expect(heard).toContainEqual({ tts: 'This number cannot be called from your phone.' });
    expect(heard).toContainEqual({ tts: "The caller's number was withheld: it cannot be called back." });
    expect(heard.at(-1)).toEqual(GOODBYE);

    // Without the port at all (a node without the dial plan's call back): the same refusal.
    const alone = new FakeCallHandle({ dialed: '*86' });
    alone.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    alone.keys = ['2468', '1', '5', '*', '#'];
    await mailboxApp(new MemoryMailboxAccess('2468', MESSAGES))(alone, destination);
    expect(bridged(alone)).toEqual([]);
    expect(played(alone)).toContainEqual({ tts: 'This number cannot be called from your phone.' });
  });

  it('4 changes the PIN: entered twice, a trivial one, a short one or two different ones refused with the rule said; then the new PIN is the one', async () => {
    const access = new MemoryMailboxAccess('2468', []);
    const call = new FakeCallHandle({ dialed: '*86' });
    call.keys = ['2468', '4', '123456', '123456', '4', '48291', '48291', '4', '482915', '482916', '4', '590372', '590372', '#'];
    await mailboxApp(access)(call, destination);

    expect(access.pin).toBe('590372');
    expect(played(call).slice(2)).toEqual([
      MAIN,
      NEW_PIN,
      NEW_PIN_AGAIN,
      { tts: 'A PIN must not have three identical or consecutive digits in a row, such as 1 1 1 or 1 2 3. Your PIN has not changed.' },
      MAIN,
      NEW_PIN,
      NEW_PIN_AGAIN,
      { tts: 'A PIN has 6 to 10 digits. Your PIN has not changed.' },
      MAIN,
      NEW_PIN,
      NEW_PIN_AGAIN,
      { tts: 'The two PINs are not the same. Your PIN has not changed.' },
      MAIN,
      NEW_PIN,
      NEW_PIN_AGAIN,
      { tts: 'Your PIN is changed.' },
      MAIN,
      GOODBYE,
    ]);

    // The next call signs in with the new PIN only.
    const next = new FakeCallHandle({ dialed: '*86' });
    next.keys = ['2468', '590372', '#'];
    await mailboxApp(access)(next, destination);
    expect(played(next).slice(0, 3)).toEqual([PIN, WRONG_PIN, { tts: 'You have 0 new messages and 0 saved messages.' }]);
  });

  it('a PIN change left silent changes nothing', async () => {
    const access = new MemoryMailboxAccess('2468', []);
    const call = new FakeCallHandle({ dialed: '*86' });
    call.keys = ['2468', '4', '', '4', '590372', '', '#'];
    await mailboxApp(access)(call, destination);
    expect(access.pin).toBe('2468');
    expect(played(call).slice(2)).toEqual([MAIN, NEW_PIN, MAIN, NEW_PIN, NEW_PIN_AGAIN, MAIN, GOODBYE]);
  });

  it('3: the greeting: heard, recorded after a beep until #, heard back, recorded again, kept; then heard, and back to the default', async () => {
    const access = new MemoryMailboxAccess('2468', []);
    const call = new FakeCallHandle({ dialed: '*86' });
    call.recording = { durationMs: 4200, reason: 'terminator', terminator: '#' };
    call.keys = ['2468', '3', '3', '1', '2', '3', '1', '3', '2', '*', '#'];
    await mailboxApp(access)(call, destination);

    expect(access.greetingsOffered).toEqual(['/recordings/1.wav']);
    expect(access.greeting).toBeNull();
    const records = call.log.filter((e) => Array.isArray(e) && e[0] === 'record');
    expect(records).toEqual([
      ['record', { maxSeconds: 180, terminators: '#', beep: true }],
      ['record', { maxSeconds: 180, terminators: '#', beep: true }],
    ]);
    expect(played(call).slice(2)).toEqual([
      MAIN,
      GREETING_MENU(false),
      { tts: 'You use the default greeting.' },
      GREETING_MENU(false),
      RECORD,
      REVIEW,
      // 2: the recording played back.
      { file: '/recordings/1.wav' },
      REVIEW,
      // 3: recorded again.
      RECORD,
      REVIEW,
      { tts: 'Your greeting is saved.' },
      GREETING_MENU(true),
      { file: '/data/greetings/1.wav' },
      GREETING_MENU(true),
      { tts: 'Your callers now hear the default greeting.' },
      GREETING_MENU(false),
      MAIN,
      GOODBYE,
    ]);
  });

  it('a greeting too short, refused by the port, or cancelled leaves the greeting as it was', async () => {
    const short = new MemoryMailboxAccess('2468', []);
    const call = new FakeCallHandle({ dialed: '*86' });
    call.recording = { durationMs: 300, reason: 'terminator', terminator: '#' };
    call.keys = ['2468', '3', '1', '*', '#'];
    await mailboxApp(short)(call, destination);
    expect(short.greetingsOffered).toEqual([]);
    // Three tries, each said to be empty, then back to the greeting menu.
    expect(played(call).filter((p) => JSON.stringify(p) === JSON.stringify({ tts: 'Nothing was recorded.' }))).toHaveLength(3);
    expect(call.log.filter((e) => Array.isArray(e) && e[0] === 'record')).toHaveLength(3);

    const refusing = new MemoryMailboxAccess('2468', []);
    refusing.acceptGreeting = false;
    const refused = new FakeCallHandle({ dialed: '*86' });
    refused.keys = ['2468', '3', '1', '1', '*', '#'];
    await mailboxApp(refusing)(refused, destination);
    expect(refusing.greetingsOffered).toEqual(['/recordings/1.wav']);
    expect(played(refused)).toContainEqual({ tts: 'This recording could not be used as a greeting. Your greeting has not changed.' });
    expect(played(refused)).toContainEqual(GREETING_MENU(false));

    const cancelling = new MemoryMailboxAccess('2468', []);
    const cancelled = new FakeCallHandle({ dialed: '*86' });
    cancelled.keys = ['2468', '3', '1', '*', '*', '#'];
    await mailboxApp(cancelling)(cancelled, destination);
    expect(cancelling.greetingsOffered).toEqual([]);
    expect(played(cancelled)).toContainEqual({ tts: 'Your greeting has not changed.' });
  });

  it('3 then 4: the name, recorded after a beep until # (10 s at most), heard back, recorded again, kept through the port', async () => {
    const access = new MemoryMailboxAccess('2468', []);
    const call = new FakeCallHandle({ dialed: '*86' });
    call.recording = { durationMs: 900, reason: 'terminator', terminator: '#' };
    call.keys = ['2468', '3', '4', '2', '3', '1', '*', '#'];
    await mailboxApp(access)(call, destination);

    expect(access.namesOffered).toEqual(['/recordings/1.wav']);
    expect(access.nameRecording).toBe('/data/names/1.wav');
    // The greeting is not touched.
    expect(access.greetingsOffered).toEqual([]);
    expect(call.log.filter((e) => Array.isArray(e) && e[0] === 'record')).toEqual([
      ['record', { maxSeconds: 10, terminators: '#', beep: true }],
      ['record', { maxSeconds: 10, terminators: '#', beep: true }],
    ]);
    const RECORD_NAME = { tts: 'Say your name after the tone, then press pound.' };
    const REVIEW_NAME = { tts: 'To keep this recording of your name, press 1. To hear it, press 2. To record it again, press 3. To cancel, press star.' };
    expect(played(call).slice(2)).toEqual([
      MAIN,
      GREETING_MENU(false),
      RECORD_NAME,
      REVIEW_NAME,
      // 2: the recording played back.
      { file: '/recordings/1.wav' },
      REVIEW_NAME,
      // 3: recorded again.
      RECORD_NAME,
      REVIEW_NAME,
      { tts: 'Your name is saved.' },
      GREETING_MENU(false),
      MAIN,
      GOODBYE,
    ]);
  });

  it('a name refused by the port (silence), too short, or cancelled leaves the recorded name as it was', async () => {
    const refusing = new MemoryMailboxAccess('2468', []);
    refusing.acceptName = false;
    const refused = new FakeCallHandle({ dialed: '*86' });
    refused.recording = { durationMs: 1500, reason: 'terminator', terminator: '#' };
    refused.keys = ['2468', '3', '4', '1', '*', '#'];
    await mailboxApp(refusing)(refused, destination);
    expect(refusing.namesOffered).toEqual(['/recordings/1.wav']);
    expect(refusing.nameRecording).toBeNull();
    expect(played(refused)).toContainEqual({ tts: 'This recording could not be used. Your recorded name has not changed.' });

    const short = new MemoryMailboxAccess('2468', []);
    const slip = new FakeCallHandle({ dialed: '*86' });
    slip.recording = { durationMs: 200, reason: 'terminator', terminator: '#' };
    slip.keys = ['2468', '3', '4', '*', '#'];
    await mailboxApp(short)(slip, destination);
    expect(short.namesOffered).toEqual([]);
    expect(slip.log.filter((e) => Array.isArray(e) && e[0] === 'record')).toHaveLength(3);

    const cancelling = new MemoryMailboxAccess('2468', []);
    const cancelled = new FakeCallHandle({ dialed: '*86' });
    cancelled.keys = ['2468', '3', '4', '*', '*', '#'];
    await mailboxApp(cancelling)(cancelled, destination);
    expect(cancelling.namesOffered).toEqual([]);
    expect(played(cancelled)).toContainEqual({ tts: 'Your recorded name has not changed.' });
  });

  it('the main menu: a key that is no option is said; three silences in a row end the call', async () => {
    const call = new FakeCallHandle({ dialed: '*86' });
    call.keys = ['2468', '8', '', '', ''];
    await mailboxApp(new MemoryMailboxAccess('2468', []))(call, destination);
    expect(played(call).slice(2)).toEqual([MAIN, { tts: 'That is not an option.' }, MAIN, MAIN, MAIN, GOODBYE]);
    expect(call.log.at(-1)).toBe('hangup');
  });

  it('a wrong PIN counts against the mailbox even when the next one is right', async () => {
    const access = new MemoryMailboxAccess('2468', []);
    const call = new FakeCallHandle({ dialed: '*86' });
    call.keys = ['1357', '2468', '#'];
    await mailboxApp(access)(call, destination);
    expect(access.failures).toBe(1);
    expect(played(call).slice(0, 3)).toEqual([PIN, WRONG_PIN, { tts: 'You have 0 new messages and 0 saved messages.' }]);
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

  it('no new messages: says so and goes back to the main menu (in French)', async () => {
    const call = new FakeCallHandle({ dialed: '*86', language: 'fr' });
    call.keys = ['2468', '1', '#'];
    await mailboxApp(new MemoryMailboxAccess('2468', []))(call, destination);
    const menu = {
      tts: "Pour les nouveaux messages, appuyez sur 1. Pour les messages conservés, appuyez sur 2. Pour votre annonce, appuyez sur 3. Pour changer votre code, appuyez sur 4. Pour terminer l'appel, appuyez sur dièse.",
    };
    expect(played(call)).toEqual([
      { tts: 'Veuillez saisir votre code, suivi de la touche dièse.' },
      { tts: 'Vous avez 0 nouveau message et 0 message conservé.' },
      menu,
      { tts: "Vous n'avez aucun nouveau message." },
      menu,
      { tts: 'Au revoir.' },
    ]);
  });

  it('a caller who hangs up after a message stops the application there', async () => {
    const access = new MemoryMailboxAccess('2468', MESSAGES);
    const call = new FakeCallHandle({ dialed: '*86' });
    // No key after 1: the caller hangs up at the message's options.
    call.keys = ['2468', '1'];
    await expect(mailboxApp(access)(call, destination)).rejects.toBeInstanceOf(CallEndedError);
    expect(played(call)).toContainEqual({ file: '/data/voicemail/a/m1.wav' });
    expect(access.trashed).toEqual([]);
    expect(access.saved).toEqual([]);
  });

  it('is the application of the mailbox destination where its port is given; elsewhere the destination gets a 480 naming it', () => {
    expect(applicationFor(callApplications({ mailboxes: new MemoryMailboxes(), mailboxAccess: new MemoryMailboxAccess('2468', []) }), destination)).not.toBeNull();
    expect(applicationFor(callApplications({ mailboxes: new MemoryMailboxes() }), destination)).toBeNull();
    expect(withoutApplication(destination)).toMatchObject({ kind: 'reject', status: 480, reason: 'Mailbox Not Available' });
  });
});

describe("the owner signing in at the mailbox's greeting (from another phone)", () => {
  const MAILBOX = { accountId: ACCOUNT, extensionId: EXTENSION, extensionNumber: '101' };
  const GREETING = { tts: 'Your call has been forwarded to the voicemail for extension 1 0 1. No one is available to take your call. Please leave a message after the tone. When you have finished recording, you may hang up or press the pound key.' };
  const setUp = (access: MemoryMailboxAccess) => {
    const stored = new MemoryMailboxes();
    return { stored, mailboxes: withOwnerSignIn(stored, mailboxSignIn(access)) };
  };

  it('* during the greeting: the PIN, then the mailbox (nothing recorded, no message left)', async () => {
    const access = new MemoryMailboxAccess('4826', MESSAGES);
    const { stored, mailboxes } = setUp(access);
    const call = new FakeCallHandle({ callerNumber: '+15550123' });
    call.bargeInKeys = ['*'];
    call.keys = ['4826#', '#'];
    await takeMessage(call, MAILBOX, 'no_answer', mailboxes);
    expect(played(call).slice(0, 3)).toEqual([GREETING, PIN, { tts: 'You have 3 new messages and 0 saved messages.' }]);
    expect(access.pinsTried).toEqual(['4826']);
    expect(call.log.some((e) => Array.isArray(e) && e[0] === 'record')).toBe(false);
    expect(stored.deposited).toEqual([]);
  });

  it('a wrong PIN at the greeting counts against the mailbox, as at *86', async () => {
    const access = new MemoryMailboxAccess('4826', MESSAGES);
    const { mailboxes } = setUp(access);
    const call = new FakeCallHandle({ callerNumber: '+15550123' });
    call.bargeInKeys = ['*'];
    call.keys = ['1111#', '2222#', '3333#'];
    await takeMessage(call, MAILBOX, 'no_answer', mailboxes);
    expect(access.failures).toBe(3);
    expect(played(call).at(-1)).toEqual({ tts: 'That PIN is not correct. Goodbye.' });
  });

  it('* at a mailbox with no PIN, or another key: the greeting stops and the message is taken after the beep', async () => {
    for (const [key, noPin] of [['*', true], ['5', false]] as const) {
      const access = new MemoryMailboxAccess('4826', MESSAGES);
      access.noPin = noPin;
      const { stored, mailboxes } = setUp(access);
      const call = new FakeCallHandle({ callerNumber: '+15550123' });
      call.bargeInKeys = [key];
      await takeMessage(call, MAILBOX, 'no_answer', mailboxes);
      expect(played(call), `key ${key}`).toEqual([GREETING]);
      expect(access.pinsTried).toEqual([]);
      expect(stored.deposited.map((m) => m.reason)).toEqual(['no_answer']);
    }
  });

  it('without mailboxes by phone the greeting takes no key: it plays to its end', async () => {
    const stored = new MemoryMailboxes();
    const call = new FakeCallHandle({ callerNumber: '+15550123' });
    call.bargeInKeys = ['*'];
    await takeMessage(call, MAILBOX, 'no_answer', stored);
    expect(call.log.some((e) => Array.isArray(e) && e[0] === 'barged in')).toBe(false);
    expect(stored.deposited).toHaveLength(1);
  });
});
