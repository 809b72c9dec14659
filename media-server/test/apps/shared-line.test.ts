import { describe, expect, it } from 'vitest';
import { BLOCKED_MESSAGE_TEXT, DEFAULT_SHARED_LINE_SETTINGS, type SharedLineSettings } from '@carillon/domain';
import { DEFAULT_LINE_GREETING, sharedLineApp } from '../../src/apps/shared-line/shared-line.ts';
import type { SharedLinePlan, SharedLines } from '../../src/apps/shared-line/shared-lines.ts';
import { RING_BACK } from '../../src/apps/user-answering/user-answering.ts';
import { FakeCallHandle, MemoryMailboxes } from './fake-call-handle.ts';

/**
 * The shared-line application at the CallHandle boundary (ringing, CANCEL, media and the stored message
 * end to end are in test/sipp/shared-line-calls.test.ts): blocked callers by number, hours and their
 * after-hours actions, the greeting, one bridge over the devices' extensions limited to the line's
 * devices, and what happens when nobody answers.
 */
const LINE = '00000000-0000-4000-8000-000000000600';
const DEST = { kind: 'shared_line' as const, accountId: '00000000-0000-4000-8000-0000000000aa', extensionId: LINE, extensionNumber: '600', direction: 'inbound' as const };
const MONDAY_NOON = new Date('2026-12-07T12:00:00Z');

function lines(settings: Partial<SharedLineSettings>, devices = [
  { deviceId: 'd1', extensionId: 'e201', extensionNumber: '201' },
  { deviceId: 'd2', extensionId: 'e202', extensionNumber: '202' },
  { deviceId: 'd3', extensionId: 'e202', extensionNumber: '202' },
]): SharedLines {
  const plan: SharedLinePlan = { extensionId: LINE, number: '600', name: 'Front Desk', settings: { ...DEFAULT_SHARED_LINE_SETTINGS, ...settings }, timeZone: 'UTC', devices, mailbox: { extensionId: LINE, extensionNumber: '600' } };
  return { plan: () => Promise.resolve(plan), promptFile: () => Promise.resolve(null), music: () => '/music.wav' };
}

const run = (h: FakeCallHandle, l: SharedLines, mailboxes = new MemoryMailboxes()) => sharedLineApp({ lines: l, mailboxes, now: () => MONDAY_NOON })(h, DEST);

describe('the shared-line application', () => {
  it('rings every device of the line at once, one bridge over their extensions limited to the line’s devices, with ring-back; done when one answers', async () => {
    const h = new FakeCallHandle({ dialed: '600' });
    h.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    await run(h, lines({ ringSeconds: 30 }));
    expect(h.log).toEqual([
      'answer',
      ['play', RING_BACK],
      [
        'bridgeTo',
        {
          target: [
            { kind: 'extension', accountId: h.accountId, extensionId: 'e201', extensionNumber: '201', direction: 'inbound' },
            { kind: 'extension', accountId: h.accountId, extensionId: 'e202', extensionNumber: '202', direction: 'inbound' },
          ],
          ringSeconds: 30,
          deviceIds: ['d1', 'd2', 'd3'],
        },
      ],
    ]);
  });

  it('plays the greeting first when enabled (the default words without a prompt)', async () => {
    const h = new FakeCallHandle({ dialed: '600' });
    h.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    await run(h, lines({ greeting: { enabled: true, prompt: null } }));
    expect(h.log.slice(0, 3)).toEqual(['answer', ['play', { tts: DEFAULT_LINE_GREETING.en }], 'answer']);
  });

  it('blocks a listed number with the chosen message (SL-05), and lets others through', async () => {
    const blocked = { mode: 'numbers' as const, numbers: ['+14155550199'], message: 'goodbye' as const };
    const h = new FakeCallHandle({ dialed: '600', callerNumber: '14155550199' });
    await run(h, lines({ blocked }));
    expect(h.log).toEqual(['answer', ['play', { tts: BLOCKED_MESSAGE_TEXT.goodbye.en }], ['hangup', { blocked: true }]]);
    const other = new FakeCallHandle({ dialed: '600', callerNumber: '+14155550100' });
    other.bridgeOutcome = { outcome: 'answered', endedBy: 'callee' };
    await run(other, lines({ blocked }));
    expect(other.log.some((l) => Array.isArray(l) && l[0] === 'bridgeTo')).toBe(true);
  });

  it('unanswered: a message in the line’s mailbox; the extension chosen instead; nothing when not taking messages', async () => {
    const mailboxes = new MemoryMailboxes();
    const h = new FakeCallHandle({ dialed: '600' });
    h.bridgeOutcome = { outcome: 'no-answer', status: 480 };
    await run(h, lines({}), mailboxes);
    expect(mailboxes.deposited).toMatchObject([{ mailboxExtensionId: LINE, reason: 'no_answer', toNumber: '600' }]);

    const forwarded = new FakeCallHandle({ dialed: '600' });
    forwarded.bridgeOutcome = { outcome: 'busy', status: 486 };
    forwarded.transferable.add('205');
    await run(forwarded, lines({ whenUnanswered: { type: 'extension', extension: '205' } }));
    expect(forwarded.log.at(-1)).toEqual(['transfer', '205']);

    const silent = new FakeCallHandle({ dialed: '600' });
    silent.bridgeOutcome = { outcome: 'no-answer', status: 480 };
    const none = new MemoryMailboxes();
    await run(silent, lines({ takeMessages: false }), none);
    expect(none.deposited).toEqual([]);
    expect(silent.log.at(-1)).toBe('hangup');
  });

  it('a line with no device goes straight to voicemail, without ringing', async () => {
    const mailboxes = new MemoryMailboxes();
    const h = new FakeCallHandle({ dialed: '600' });
    await run(h, lines({}, []), mailboxes);
    expect(h.log.some((l) => Array.isArray(l) && l[0] === 'bridgeTo')).toBe(false);
    expect(mailboxes.deposited).toHaveLength(1);
  });

  it('after hours (SL-07): voicemail, or unconditional forwarding to an extension; nothing rings', async () => {
    const closed = { mode: 'custom' as const, days: { mon: [], tue: [{ from: '09:00', to: '17:00' }], wed: [], thu: [], fri: [], sat: [], sun: [] } };
    const mailboxes = new MemoryMailboxes();
    const h = new FakeCallHandle({ dialed: '600' });
    await run(h, lines({ hours: closed }), mailboxes);
    expect(mailboxes.deposited).toMatchObject([{ mailboxExtensionId: LINE, reason: 'rule' }]);
    expect(h.log.some((l) => Array.isArray(l) && l[0] === 'bridgeTo')).toBe(false);

    const forwarded = new FakeCallHandle({ dialed: '600' });
    forwarded.transferable.add('205');
    await run(forwarded, lines({ hours: closed, afterHours: { type: 'extension', extension: '205' } }));
    expect(forwarded.log).toEqual([['transfer', '205']]);
    // An outside number with no trunk route here: refused rather than left ringing nothing.
    const out = new FakeCallHandle({ dialed: '600' });
    await run(out, lines({ hours: closed, afterHours: { type: 'number', number: '+14155550123' } }));
    expect(out.log).toEqual([['reject', { status: 480, reason: 'Temporarily Unavailable' }]]);
  });
});
