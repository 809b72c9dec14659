import { describe, expect, it } from 'vitest';
import { createLogger } from '@carillon/config';
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

/** The host's `*9` recordings: none are made in these tests (the keypad's recording is in test/sipp/conference-calls.test.ts). */
const recordings = {
  records: { recordingStarted: () => Promise.reject(new Error('no recording here')), recordingStopped: () => Promise.reject(new Error('no recording here')) },
  dir: '/recordings',
  log: createLogger('conference-test', 'error', () => {}),
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
    const app = conferenceApp({ access, conferences, music: '/music.wav', recordings });
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
    await conferenceApp({ access, conferences: new Conferences(), music: '/music.wav', recordings })(h, DEST);
    expect(h.joins).toEqual([]);
    expect(ttsPlayed(h).at(-1)).toBe('That access code is not valid. Goodbye.');
    expect(h.log.at(-1)).toBe('hangup');
  });

  it('ends the call at once for a caller past the limit of wrong codes across calls', async () => {
    const h = new JoiningHandle();
    h.keys = ['666666', '482915'];
    await conferenceApp({ access, conferences: new Conferences(), music: '/music.wav', recordings })(h, DEST);
    expect(h.joins).toEqual([]);
    expect(tried.at(-1)).toBe('101:666666');
    expect(h.log.at(-1)).toBe('hangup');
  });

  it('tells the caller past the room\'s capacity that the conference is full', async () => {
    const h = new JoiningHandle();
    h.full = true;
    h.keys = ['739164'];
    await conferenceApp({ access, conferences: new Conferences(), music: '/music.wav', recordings })(h, DEST);
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

describe('the host\'s console on a conference (issue 16)', () => {
  const ACCOUNT = '00000000-0000-4000-8000-0000000000aa';
  const HOST = '00000000-0000-4000-8000-0000000000bb';
  const base = { accountId: ACCOUNT, hostExtensionId: HOST, requestedBy: { userId: '00000000-0000-4000-8000-0000000000cc' } };
  const id = () => crypto.randomUUID();
  const member = (role: 'host' | 'participant', mutes: boolean[], extra: Partial<ConferenceMember> = {}): ConferenceMember & { ended: boolean } => {
    const m = {
      role,
      voice: new MemberVoice(new FakeCallHandle(), '/music.wav'),
      selfMuted: false,
      who: { number: role === 'host' ? '101' : '102', name: null },
      applyMute: (muted: boolean) => {
        mutes.push(muted);
        return Promise.resolve();
      },
      ended: false,
      end: () => {
        m.ended = true;
      },
      ...extra,
    };
    return m;
  };

  function setUp() {
    const told: unknown[] = [];
    const conferences = new Conferences({ opened: () => told.push('opened'), changed: (_c, e) => told.push(e), closed: () => told.push('closed') });
    const c = conferences.open(ACCOUNT, HOST, { ...DEFAULT_CONFERENCE_SETTINGS, joinBeforeHost: true });
    return { told, conferences, c };
  }

  it('mutes all but the host and one member back, as *6 does, and tells each change; the roster shows it', () => {
    const { told, conferences, c } = setUp();
    const hm: boolean[] = [];
    const pm: boolean[] = [];
    const host = member('host', hm);
    const p = member('participant', pm);
    c.joined(host);
    c.joined(p);
    const roster = conferences.command({ ...base, commandId: id(), type: 'roster' }).roster!;
    expect(roster.members.map((m) => [m.role, m.number, m.muted])).toEqual([
      ['host', '101', false],
      ['participant', '102', false],
    ]);
    const pid = roster.members[1]!.id;
    expect(conferences.command({ ...base, commandId: id(), type: 'mute-all', muted: true })).toEqual({ outcome: 'done' });
    expect(pm).toEqual([true]);
    expect(hm).toEqual([]);
    expect(told.at(-1)).toEqual({ type: 'member-muted', memberId: pid, muted: true });
    // The participant unmutes itself with *6: the same state the console changed.
    expect(c.toggleMute(p)).toBe(false);
    expect(told.at(-1)).toEqual({ type: 'member-muted', memberId: pid, muted: false });
    expect(conferences.command({ ...base, commandId: id(), type: 'mute', memberId: pid, muted: true })).toEqual({ outcome: 'done' });
    expect(conferences.command({ ...base, commandId: id(), type: 'roster' }).roster!.members[1]!.muted).toBe(true);
  });

  it('locks as *7 does (a joiner is refused), removes a member (its call ends), and answers not found for another conference or member', () => {
    const { told, conferences, c } = setUp();
    const host = member('host', []);
    const p = member('participant', []);
    c.joined(host);
    c.joined(p);
    expect(conferences.command({ ...base, commandId: id(), type: 'lock', locked: true })).toEqual({ outcome: 'done' });
    expect(c.refusal('participant')).toBe('locked');
    expect(told.at(-1)).toEqual({ type: 'locked', locked: true });
    // The host's *7 opens it again: one state.
    expect(c.toggleLock()).toBe(false);
    const pid = c.roster().members.find((m) => m.role === 'participant')!.id;
    expect(conferences.command({ ...base, commandId: id(), type: 'remove', memberId: pid })).toEqual({ outcome: 'done' });
    expect(p.ended).toBe(true);
    expect(host.ended).toBe(false);
    expect(conferences.command({ ...base, commandId: id(), type: 'remove', memberId: id() })).toMatchObject({ outcome: 'no_member' });
    expect(conferences.command({ ...base, hostExtensionId: id(), commandId: id(), type: 'lock', locked: true })).toMatchObject({ outcome: 'not_found' });
    expect(conferences.command({ ...base, accountId: id(), commandId: id(), type: 'roster' })).toMatchObject({ outcome: 'not_found' });
  });

  it('dials out on the host\'s call: the party joins as a participant, is listed, muted with the others, and the console\'s remove hangs its leg up', async () => {
    const { told, conferences, c } = setUp();
    const hostCall = new FakeCallHandle();
    hostCall.dialOutOutcome = { outcome: 'answered', endedBy: 'caller' };
    const dialOuts: Promise<void>[] = [];
    const host = member('host', [], {
      dialOut: (ext) => {
        // As the application does (conference.ts): the leg belongs to the host's call.
        const run = hostCall
          .dialOut({ kind: 'extension', accountId: ACCOUNT, extensionId: ext.id, extensionNumber: ext.number, direction: 'internal' }, { accountId: ACCOUNT, roomId: `conference:${HOST}` }, 'speaker', {
            hangup: leg.signal,
            onJoined: (party) => {
              const m = member('participant', [], { who: { number: ext.number, name: null, dialledOut: true }, applyMute: (muted) => party.setMute(muted), end: () => leg.abort() });
              c.joined(m);
              void leg.signal.addEventListener('abort', () => void c.left(m));
            },
          })
          .then(() => undefined);
        dialOuts.push(run);
        return run;
      },
    });
    const leg = new AbortController();
    c.joined(host);
    expect(conferences.command({ ...base, commandId: id(), type: 'dial-out', extension: { id: id(), number: '104' } })).toEqual({ outcome: 'done' });
    expect(hostCall.log.find((l) => Array.isArray(l) && l[0] === 'dialOut')).toEqual(['dialOut', { extension: '104', room: `conference:${HOST}`, role: 'speaker' }]);
    const party = c.roster().members.find((m) => m.dialledOut)!;
    expect(party).toMatchObject({ role: 'participant', number: '104', muted: false });
    expect(told).toContainEqual({ type: 'member-joined', member: party });
    conferences.command({ ...base, commandId: id(), type: 'mute-all', muted: true });
    expect(hostCall.log).toContainEqual(['dialOutMute', true]);
    conferences.command({ ...base, commandId: id(), type: 'remove', memberId: party.id });
    await Promise.all(dialOuts);
    expect(c.roster().members.map((m) => m.role)).toEqual(['host']);
    expect(told.at(-1)).toEqual({ type: 'member-left', memberId: party.id });
  });

  it('with no member who can place a leg, a dial-out is refused; the last member leaving tells the end and closes it', async () => {
    const { told, conferences, c } = setUp();
    const host = member('host', []);
    c.joined(host);
    expect(conferences.command({ ...base, commandId: id(), type: 'dial-out', extension: { id: id(), number: '104' } })).toMatchObject({ outcome: 'refused' });
    await c.left(host);
    expect(told.slice(-2)).toEqual([{ type: 'ended' }, 'closed']);
    expect(conferences.find(ACCOUNT, HOST)).toBeNull();
  });
});
