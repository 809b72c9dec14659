import { describe, expect, it } from 'vitest';
import { announcementApp, defaultAnnouncement } from '../../src/apps/announcement/announcement.ts';
import { DEFAULT_RING_FOR_SECONDS } from '@carillon/domain';
import { applicationFor, callApplications, transferApplicationFor } from '../../src/apps/applications.ts';
import { RING_BACK } from '../../src/apps/user-answering/user-answering.ts';
import { CallEndedError } from '../../src/apps/call-handle.ts';
import { messageOnlyApp } from '../../src/apps/message-only/message-only.ts';
import { defaultGreeting, mailboxFull } from '../../src/apps/voicemail/take-message.ts';
import type { Destination } from '../../src/routing/destination.ts';
import { FakeCallHandle, MemoryMailboxes } from './fake-call-handle.ts';

const ACCOUNT = '00000000-0000-4000-8000-0000000000aa';
const MAILBOX = '00000000-0000-4000-8000-0000000000bb';
const announcement: Destination = { kind: 'announcement', accountId: ACCOUNT, extensionId: MAILBOX, extensionNumber: '302', direction: 'internal' };
const messageOnly: Destination = { kind: 'voicemail', accountId: ACCOUNT, extensionId: MAILBOX, extensionNumber: '301', why: 'message_only' };

describe('the announcement-only application', () => {
  it('answers, plays the default announcement naming the extension, and hangs up', async () => {
    const call = new FakeCallHandle({ dialed: '302' });
    await announcementApp(new MemoryMailboxes())(call, announcement);
    expect(call.log).toEqual(['answer', ['play', { tts: defaultAnnouncement('extension 3 0 2', 'en') }], 'hangup']);
    expect(defaultAnnouncement('extension 3 0 2', 'en')).toBe('You have reached extension 3 0 2. No one is available to take your call. Thank you for calling. Goodbye!');
  });

  it('speaks the account language, and the extension by its name when it has one', async () => {
    const call = new FakeCallHandle({ dialed: '302', language: 'fr' });
    await announcementApp(new MemoryMailboxes({ extensionName: 'Accueil' }))(call, announcement);
    expect(call.log[1]).toEqual(['play', { tts: defaultAnnouncement('Accueil', 'fr') }]);
    expect(defaultAnnouncement('Accueil', 'fr')).toContain('Au revoir');
  });

  it('plays the custom greeting file when one is set', async () => {
    const call = new FakeCallHandle({ dialed: '302' });
    await announcementApp(new MemoryMailboxes({ greetingFile: '/data/greetings/closed.wav' }))(call, announcement);
    expect(call.log).toEqual(['answer', ['play', { file: '/data/greetings/closed.wav' }], 'hangup']);
  });
});

describe('the message-only application', () => {
  it('plays the greeting, beeps and records up to the mailbox limit, stores the message, and hangs up after #', async () => {
    const call = new FakeCallHandle();
    const mailboxes = new MemoryMailboxes({ extensionName: 'Sales Desk', maxMessageSeconds: 120 });
    await messageOnlyApp(mailboxes)(call, messageOnly);
    expect(call.log).toEqual([
      'answer',
      ['play', { tts: defaultGreeting('Sales Desk', 'en') }],
      ['record', { maxSeconds: 120, terminators: '#', beep: true }],
      'hangup',
    ]);
    expect(defaultGreeting('Sales Desk', 'en')).toMatch(/^Your call has been forwarded to the voicemail for Sales Desk\. .*leave a message after the tone/);
    expect(mailboxes.deposited).toEqual([
      { accountId: ACCOUNT, mailboxExtensionId: MAILBOX, callId: call.id, fromNumber: '101', fromName: 'Ann', toNumber: '301', reason: 'message_only', recordingPath: '/recordings/1.wav', durationMs: 5000 },
    ]);
  });

  it('stores the message when the caller hangs up to end it, and sends no hang-up of its own', async () => {
    const call = new FakeCallHandle();
    call.recording = { durationMs: 8000, reason: 'hangup', terminator: null };
    const mailboxes = new MemoryMailboxes({ greetingFile: '/data/greetings/mine.wav' });
    await messageOnlyApp(mailboxes)(call, messageOnly);
    expect(call.log).toEqual(['answer', ['play', { file: '/data/greetings/mine.wav' }], ['record', { maxSeconds: 180, terminators: '#', beep: true }]]);
    expect(mailboxes.deposited.map((m) => m.durationMs)).toEqual([8000]);
  });

  it('drops a recording shorter than a second', async () => {
    const call = new FakeCallHandle();
    call.recording = { durationMs: 600, reason: 'hangup', terminator: null };
    const mailboxes = new MemoryMailboxes();
    await messageOnlyApp(mailboxes)(call, messageOnly);
    expect(mailboxes.deposited).toEqual([]);
    expect(mailboxes.discarded).toEqual(['/recordings/1.wav']);
  });

  it('says the mailbox is full, records nothing, and hangs up, when it holds max_messages', async () => {
    const call = new FakeCallHandle({ language: 'fr' });
    const mailboxes = new MemoryMailboxes({ maxMessages: 3, messageCount: 3 });
    await messageOnlyApp(mailboxes)(call, messageOnly);
    expect(call.log).toEqual(['answer', ['play', { tts: mailboxFull('fr') }], 'hangup']);
    expect(mailboxes.deposited).toEqual([]);
  });

  it('stops where the caller hangs up during the greeting: no recording, nothing stored', async () => {
    const call = new FakeCallHandle();
    call.hangUpAt = 'play';
    const mailboxes = new MemoryMailboxes();
    await expect(messageOnlyApp(mailboxes)(call, messageOnly)).rejects.toBeInstanceOf(CallEndedError);
    expect(call.log).toEqual(['answer', 'caller hung up']);
    expect(mailboxes.deposited).toEqual([]);
    expect(mailboxes.discarded).toEqual([]);
  });
});

describe('the table of applications', () => {
  const table = callApplications({ mailboxes: new MemoryMailboxes() });

  it('has an application for announcements and mailboxes, and none yet for the other kinds', () => {
    expect(applicationFor(table, announcement)).not.toBeNull();
    expect(applicationFor(table, messageOnly)).not.toBeNull();
    for (const d of [
      { kind: 'ivr', accountId: ACCOUNT, menuId: null, direction: 'inbound' },
      { kind: 'park', accountId: ACCOUNT, slot: null, extensionId: null },
      // Mailboxes by phone only with their port (the unreleased area 'voicemail').
      { kind: 'mailbox', accountId: ACCOUNT, extensionId: MAILBOX },
      { kind: 'extension', accountId: ACCOUNT, extensionId: MAILBOX, extensionNumber: '101', direction: 'internal' },
      { kind: 'reject', status: 404, reason: 'Not Found', result: 'not_found' },
    ] satisfies Destination[]) {
      expect(applicationFor(table, d)).toBeNull();
    }
  });

  it('refuses a mailbox reached for another reason than message-only with 480 until user voicemail exists', async () => {
    const call = new FakeCallHandle();
    await applicationFor(table, { ...messageOnly, why: 'no_answer' })!(call, { ...messageOnly, why: 'no_answer' });
    expect(call.log).toEqual([['reject', { status: 480, reason: 'Voicemail Not Available' }]]);
  });
});

describe('what takes a call handed on by transfer', () => {
  it("is the destination's own application, else a user's phones ringing; nothing for a refusal or a feature not available", async () => {
    const table = callApplications({ mailboxes: new MemoryMailboxes() });
    expect(transferApplicationFor(table, announcement)).toBe(applicationFor(table, announcement));
    const user: Destination = { kind: 'extension', accountId: ACCOUNT, extensionId: MAILBOX, extensionNumber: '102', direction: 'inbound' };
    const ringUser = transferApplicationFor(table, user);
    expect(ringUser).not.toBeNull();
    const call = new FakeCallHandle({ dialed: '500' });
    call.bridgeOutcome = { outcome: 'answered', endedBy: 'caller' };
    await ringUser!(call, user);
    expect(call.log).toEqual(['answer', ['play', RING_BACK], ['bridgeTo', { target: user, ringSeconds: DEFAULT_RING_FOR_SECONDS }]]);
    expect(transferApplicationFor(table, { kind: 'reject', status: 404, reason: 'Not Found', result: 'not_found' })).toBeNull();
    expect(transferApplicationFor(table, { kind: 'queue', accountId: ACCOUNT, extensionId: MAILBOX, extensionNumber: '700', direction: 'inbound' })).toBeNull();
  });
});
