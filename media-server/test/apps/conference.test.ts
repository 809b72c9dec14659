import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFERENCE_SETTINGS } from '@carillon/domain';
import { conferenceApp } from '../../src/apps/conference/conference.ts';
import { Conference, Conferences, MemberVoice, type ConferenceMember } from '../../src/apps/conference/conferences.ts';
import { RoomFullError, type JoinRoomOptions, type RoomExit, type RoomRef, type RoomRole } from '../../src/apps/call-handle.ts';
import type { ConferenceAccess } from '../../src/apps/conference/conference-access.ts';
import { FakeCallHandle } from './fake-call-handle.ts';

/**
 * The conference application and its conference state at the CallHandle boundary (the media and
 * the keypad end to end are in test/sipp/conference-calls.test.ts): the access code, the room it
 * joins, the full room, and the state the host's commands change (inventory 1 §5.3).
 */
const DEST = { kind: 'conference' as const, accountId: '00000000-0000-4000-8000-0000000000aa', accessNumber: '+14155550188' };
const tried: string[] = [];
const access: ConferenceAccess = {
  tryCode: (_account, caller, code) => {
    tried.push(`${caller}:${code}`);
    if (code === '482915') return Promise.resolve({ kind: 'found', hostExtensionId: 'host-ext', role: 'host', settings: DEFAULT_CONFERENCE_SETTINGS });
    if (code === '739164') return Promise.resolve({ kind: 'found', hostExtensionId: 'host-ext', role: 'participant', settings: DEFAULT_CONFERENCE_SETTINGS });
    return Promise.resolve(code === '666666' ? { kind: 'limited' } : { kind: 'wrong' });
  },
};

/** A handle whose joinRoom is scripted: it records the room and role, then leaves at once or refuses. */
class JoiningHandle extends FakeCallHandle {
  joins: { room: RoomRef; role: RoomRole; muted: boolean }[] = [];
  full = false;
  override joinRoom(room: RoomRef, role: RoomRole, options: JoinRoomOptions = {}): Promise<RoomExit> {
    this.log.push(['joinRoom', { room, role }]);
    if (this.full) return Promise.reject(new RoomFullError(1000));
    this.joins.push({ room, role, muted: options.muted ?? false });
    options.onJoined?.();
    return Promise.resolve({ reason: 'hangup' });
  }
}

const ttsPlayed = (call: FakeCallHandle) => call.log.filter((l): l is [string, { tts: string }] => Array.isArray(l) && l[0] === 'play' && 'tts' in (l[1] as object)).map(([, s]) => s.tts);

describe('the conference application', () => {
  it('takes the host code and joins the host\'s room as moderator; the participant code as a speaker, muted while the host is away', async () => {
    const conferences = new Conferences();
    const app = conferenceApp({ access, conferences, music: '/music.wav' });
    const h = new JoiningHandle();
    h.keys = ['482915'];
    await app(h, DEST);
    expect(h.joins).toEqual([{ room: { accountId: h.accountId, roomId: 'conference:host-ext' }, role: 'moderator', muted: false }]);
    const p = new JoiningHandle();
    p.keys = ['739164'];
    await app(p, DEST);
    expect(p.joins).toEqual([{ room: { accountId: p.accountId, roomId: 'conference:host-ext' }, role: 'speaker', muted: true }]);
  });

  it('ends the call after three wrong codes, with the announcement', async () => {
    const h = new JoiningHandle();
    h.keys = ['111', '000000', ''];
    await conferenceApp({ access, conferences: new Conferences(), music: '/music.wav' })(h, DEST);
    expect(h.joins).toEqual([]);
    expect(ttsPlayed(h).at(-1)).toBe('That access code is not valid. Goodbye.');
    expect(h.log.at(-1)).toBe('hangup');
  });

  it('ends the call at once for a caller past the limit of wrong codes across calls', async () => {
    const h = new JoiningHandle();
    h.keys = ['666666', '482915'];
    await conferenceApp({ access, conferences: new Conferences(), music: '/music.wav' })(h, DEST);
    expect(h.joins).toEqual([]);
    expect(tried.at(-1)).toBe('101:666666');
    expect(h.log.at(-1)).toBe('hangup');
  });

  it('tells the caller past the room\'s capacity that the conference is full', async () => {
    const h = new JoiningHandle();
    h.full = true;
    h.keys = ['739164'];
    await conferenceApp({ access, conferences: new Conferences(), music: '/music.wav' })(h, DEST);
    expect(ttsPlayed(h).at(-1)).toBe('This conference is full. Goodbye.');
    expect(h.log.at(-1)).toBe('hangup');
  });
});

describe('a conference\'s state (§5.3)', () => {
  const member = (role: 'host' | 'participant', mutes: boolean[]): ConferenceMember => ({
    role,
    voice: new MemberVoice(new FakeCallHandle(), '/music.wav'),
    selfMuted: false,
    applyMute: (m) => {
      mutes.push(m);
      return Promise.resolve();
    },
    end: () => undefined,
  });

  it('lets waiting participants in when the host joins, cycles the listening modes, and refuses a participant\'s unmute in listen-only', () => {
    const c = new Conference('a', 'h', DEFAULT_CONFERENCE_SETTINGS, () => undefined);
    const pm: boolean[] = [];
    const p = member('participant', pm);
    c.joined(p);
    expect(c.mutedNow(p)).toBe(true);
    c.joined(member('host', []));
    expect(c.phase).toBe('live');
    expect(pm).toEqual([false]);
    expect(c.cycleListeningMode()).toBe('muted');
    expect(pm.at(-1)).toBe(true);
    // Mode 1: the participant unmutes itself with *6.
    expect(c.toggleMute(p)).toBe(false);
    expect(c.cycleListeningMode()).toBe('listen_only');
    expect(pm.at(-1)).toBe(true);
    expect(c.toggleMute(p)).toBeNull();
    expect(c.cycleListeningMode()).toBe('open');
    expect(pm.at(-1)).toBe(false);
    expect(c.toggleLock()).toBe(true);
    expect(c.refusal('participant')).toBe('locked');
    expect(c.refusal('host')).toBeNull();
    expect(c.cycleTones()).toEqual({ enter: false, exit: false });
  });

  it('announces a member who leaves by name (exit tone, recorded name, "has left") to those still in, once they have heard it', async () => {
    const c = new Conference('a', 'h', { ...DEFAULT_CONFERENCE_SETTINGS, announceNames: true }, () => undefined);
    const stayingCall = new FakeCallHandle();
    const staying: ConferenceMember = { ...member('host', []), voice: new MemberVoice(stayingCall, '/music.wav') };
    const leaving: ConferenceMember = { ...member('participant', []), exitAnnouncement: [{ file: '/names/ann.wav' }, { tts: 'has left the conference.' }] };
    c.joined(staying);
    c.joined(leaving);
    const before = stayingCall.log.length;
    await c.left(leaving);
    const played = stayingCall.log.slice(before);
    expect(played.slice(-2)).toEqual([
      ['play', { file: '/names/ann.wav' }],
      ['play', { tts: 'has left the conference.' }],
    ]);
    // Once the host has ended the conference, members leaving are not announced.
    c.joined(leaving);
    c.end();
    const atEnd = stayingCall.log.length;
    await c.left(leaving);
    expect(stayingCall.log.length).toBe(atEnd);
  });

  it('is forgotten with its last member, and an ended conference is never rejoined', async () => {
    const conferences = new Conferences();
    const c = conferences.open('a', 'h', DEFAULT_CONFERENCE_SETTINGS);
    const m = member('host', []);
    c.joined(m);
    expect(conferences.open('a', 'h', DEFAULT_CONFERENCE_SETTINGS)).toBe(c);
    c.end();
    expect(conferences.open('a', 'h', DEFAULT_CONFERENCE_SETTINGS)).not.toBe(c);
    await c.left(m);
    expect(conferences.size).toBe(1);
  });
});
