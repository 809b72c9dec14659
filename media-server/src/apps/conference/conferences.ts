import { randomUUID } from 'node:crypto';
import type { ConferenceChange, ConferenceCommand, ConferenceMemberView, ConferenceRoster } from '@carillon/contracts/conference-control';
import { nextListeningMode, nextToneState, type ConferenceRole, type ConferenceSettings, type ListeningMode, type ToneState } from '@carillon/domain';
import type { CallHandle, PlaySource } from '../call-handle.ts';
import type { OnDemandRecording } from '../recording/on-demand-recording.ts';

/** The enter and exit tones: a short high beep as someone joins, a lower one as someone leaves. */
export const ENTER_TONE: PlaySource = { tone: 1400, durationMs: 200 };
export const EXIT_TONE: PlaySource = { tone: 600, durationMs: 200 };

/** What a member hears apart from the room: prompts and tones, and the music while it waits for the host. */
export interface MemberAudio {
  say(source: PlaySource): Promise<void>;
  startMusic(): void;
  stopMusic(): Promise<void>;
}

/** A party the host called in from the console hears the room only: no tones, prompts or music (its leg has no player of its own). */
export const ROOM_ONLY: MemberAudio = { say: () => Promise.resolve(), startMusic: () => undefined, stopMusic: () => Promise.resolve() };

/**
 * What one member's call plays, one thing at a time (CallHandle.play plays one thing at a time):
 * prompts and tones in turn, and the music while the member waits for the host, which every
 * prompt interrupts and which comes back after it.
 */
export class MemberVoice implements MemberAudio {
  private readonly call: CallHandle;
  private readonly music: string;
  private queue: Promise<void> = Promise.resolve();
  private wantMusic = false;
  private playing: { stop: AbortController; done: Promise<unknown> } | null = null;

  constructor(call: CallHandle, music: string) {
    this.call = call;
    this.music = music;
  }

  /** Plays to the member after what is queued; resolves once played (never rejects: a member who hung up hears nothing). */
  say(source: PlaySource): Promise<void> {
    const turn = this.queue.then(async () => {
      await this.pauseMusic();
      await Promise.resolve()
        .then(() => this.call.play(source))
        .catch(() => undefined);
      this.resumeMusic();
    });
    this.queue = turn;
    return turn;
  }

  startMusic(): void {
    this.wantMusic = true;
    this.queue = this.queue.then(() => this.resumeMusic());
  }

  stopMusic(): Promise<void> {
    this.wantMusic = false;
    const turn = this.queue.then(() => this.pauseMusic());
    this.queue = turn;
    return turn;
  }

  private resumeMusic(): void {
    if (!this.wantMusic || this.playing || this.call.signal.aborted) return;
    const stop = new AbortController();
    const done = Promise.resolve()
      .then(() => this.call.play({ file: this.music }, { loop: true, stop: stop.signal }))
      .catch(() => undefined);
    this.playing = { stop, done };
  }

  private async pauseMusic(): Promise<void> {
    const playing = this.playing;
    if (!playing) return;
    this.playing = null;
    playing.stop.abort();
    await playing.done;
  }
}

/** One member as its conference sees it; the member's own application applies what is decided here. */
export interface ConferenceMember {
  readonly role: ConferenceRole;
  readonly voice: MemberAudio;
  /** Who it is, for the host's console: the caller's number and name (null when withheld); `dialledOut` for a party called in from the console. */
  readonly who?: { number: string | null; name: string | null; dialledOut?: boolean };
  /** Calls an extension into the room as a participant (the leg belongs to this member's call); only members whose call can place legs have it. */
  readonly dialOut?: (extension: { id: string; number: string }) => Promise<void>;
  /** Muted by its own `*6` (a participant's self-mute, or the host's line). */
  selfMuted: boolean;
  /** What the room should do with the member's voice now: applied by its call. */
  applyMute(muted: boolean): Promise<void>;
  /** The conference is over: the member's call ends. */
  end(): void;
  /** What the others hear as the member leaves when the host announces names: its recorded name, "has left". */
  readonly exitAnnouncement?: readonly PlaySource[];
}

/** The longest the others' exit announcement may keep a leaving member's call (its recorded name is its file until then). */
const EXIT_ANNOUNCEMENT_MS = 15_000;

/** What a conference tells of itself (the host's console, through the control channel): opened, each change, closed. */
export interface ConferenceObserver {
  opened(conference: Conference): void;
  changed(conference: Conference, event: ConferenceChange): void;
  closed(conference: Conference): void;
}

/** Why a command of the host's console is not done. */
export type ConsoleRefusal = { kind: 'not_found' | 'no_member' | 'refused'; reason: string };

/**
 * A conference in progress on this node: the host's (one per host code), its members, and the
 * state the host's keypad commands change (inventory 1 §5.3). Created with its first member,
 * forgotten with its last or when the host ends it (`*3`).
 *
 *   waiting --(host joins)--> live --(host *3)--> ended
 *      \_______________________________________/^
 *   (join before host: created live; the last member leaving forgets it whatever its state)
 *
 * `transition()` is the only writer of the phase. The host's console (issue 16) acts through the
 * same methods as the keypad (`setMute` is `*6`'s, `setLocked` `*7`'s), so both do the same thing;
 * every change is told to the observer.
 */
export type ConferencePhase = 'waiting' | 'live' | 'ended';

const MOVES: Record<ConferencePhase, readonly ConferencePhase[]> = { waiting: ['live', 'ended'], live: ['ended'], ended: [] };

export class Conference {
  readonly accountId: string;
  readonly hostExtensionId: string;
  readonly settings: ConferenceSettings;
  private phaseNow: ConferencePhase;
  readonly members = new Set<ConferenceMember>();
  /** Each member's id for the console, and the mute last told of it (so that only changes are told). */
  private readonly ids = new Map<ConferenceMember, { id: string; toldMuted: boolean }>();
  locked = false;
  mode: ListeningMode = 'open';
  /** The host's `*9` recording of the room, and the member whose call it belongs to (apps/conference/conference.ts). */
  recording: { by: ConferenceMember; control: OnDemandRecording } | null = null;
  tones: ToneState;
  private readonly onEmpty: () => void;
  private readonly observer: ConferenceObserver | null;

  constructor(accountId: string, hostExtensionId: string, settings: ConferenceSettings, onEmpty: () => void, observer: ConferenceObserver | null = null) {
    this.accountId = accountId;
    this.hostExtensionId = hostExtensionId;
    this.settings = settings;
    this.phaseNow = settings.joinBeforeHost ? 'live' : 'waiting';
    this.tones = { enter: settings.enterTone, exit: settings.exitTone };
    this.onEmpty = onEmpty;
    this.observer = observer;
  }

  get phase(): ConferencePhase {
    return this.phaseNow;
  }

  private transition(to: ConferencePhase): void {
    if (!MOVES[this.phaseNow].includes(to)) throw new Error(`a conference cannot move from ${this.phaseNow} to ${to}`);
    this.phaseNow = to;
    if (to === 'ended') this.observer?.changed(this, { type: 'ended' });
  }

  /** Whether a participant must wait for the host (music, not heard, hearing no one). */
  get waitingForHost(): boolean {
    return this.phaseNow === 'waiting';
  }

  /**
   * Whether the member should be heard now: its own mute (which the host's listening modes set for
   * participants), and for a participant also while it waits for the host or in listen-only mode.
   */
  mutedNow(member: ConferenceMember): boolean {
    if (member.role === 'host') return member.selfMuted;
    return member.selfMuted || this.phaseNow === 'waiting' || this.mode === 'listen_only';
  }

  /** Applies the member's mute now to its call, and tells the console when it changed. */
  private applyMuteOf(member: ConferenceMember): boolean {
    const muted = this.mutedNow(member);
    void member.applyMute(muted).catch(() => undefined);
    const seen = this.ids.get(member);
    if (seen && seen.toldMuted !== muted) {
      seen.toldMuted = muted;
      this.observer?.changed(this, { type: 'member-muted', memberId: seen.id, muted });
    }
    return muted;
  }

  /** Why a new member is refused now, if it is (§5.3 *7: the lock blocks callers; the host still gets in). */
  refusal(role: ConferenceRole): 'locked' | null {
    return this.locked && role !== 'host' ? 'locked' : null;
  }

  /**
   * The member is in the room: the others hear the enter tone, then its recorded name when the host
   * announces names (`announcement`); the host's arrival lets the waiting participants in.
   */
  joined(member: ConferenceMember, announcement: PlaySource[] = []): void {
    this.members.add(member);
    const id = randomUUID();
    this.ids.set(member, { id, toldMuted: this.mutedNow(member) });
    this.observer?.changed(this, { type: 'member-joined', member: this.viewOf(member) });
    for (const m of this.members) {
      if (m === member) continue;
      if (this.tones.enter) void m.voice.say(ENTER_TONE);
      for (const part of announcement) void m.voice.say(part);
    }
    if (member.role === 'host' && this.phaseNow === 'waiting') {
      this.transition('live');
      for (const m of this.members) {
        if (m.role === 'host') continue;
        void m.voice.stopMusic();
        this.applyMuteOf(m);
      }
    }
  }

  /**
   * The member left: the others hear the exit tone, then its name when the host announces names.
   * Resolves once they have heard it (at most EXIT_ANNOUNCEMENT_MS): the name is a recording of the
   * leaving member's call, which keeps it only while its application runs.
   */
  async left(member: ConferenceMember): Promise<void> {
    if (!this.members.delete(member)) return;
    const seen = this.ids.get(member);
    this.ids.delete(member);
    if (seen) this.observer?.changed(this, { type: 'member-left', memberId: seen.id });
    const heard: Promise<void>[] = [];
    if (this.phaseNow !== 'ended') {
      for (const m of this.members) {
        if (this.tones.exit) void m.voice.say(EXIT_TONE);
        for (const part of member.exitAnnouncement ?? []) heard.push(m.voice.say(part));
      }
    }
    if (this.members.size === 0) this.onEmpty();
    if (heard.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(heard), new Promise<void>((resolve) => (timer = setTimeout(resolve, EXIT_ANNOUNCEMENT_MS)))]);
    clearTimeout(timer);
  }

  /**
   * §5.3 *5: the next listening mode, applied to every participant (callers); the host keeps its line.
   * 1×: callers muted, each can unmute with *6; 2×: listen only; 3×: the line opens again (every caller unmuted).
   */
  cycleListeningMode(): ListeningMode {
    this.mode = nextListeningMode(this.mode);
    for (const m of this.members) {
      if (m.role === 'host') continue;
      m.selfMuted = this.mode !== 'open';
      this.applyMuteOf(m);
    }
    return this.mode;
  }

  /** §5.3 *6: the member's own mute toggle (for a participant in mode 1, its self-unmute). */
  toggleMute(member: ConferenceMember): boolean | null {
    return this.setMute(member, !member.selfMuted, 'self');
  }

  /**
   * A member's mute, by itself (`*6`) or by the host's console. A participant's own unmute is refused
   * (null) in listen-only mode or while it waits for the host; the host's is not, though the mode still
   * keeps the participant unheard until it opens. Returns whether the member is muted now.
   */
  setMute(member: ConferenceMember, muted: boolean, by: 'self' | 'host'): boolean | null {
    if (by === 'self' && member.role !== 'host' && (this.mode === 'listen_only' || this.phaseNow === 'waiting')) return null;
    member.selfMuted = muted;
    return this.applyMuteOf(member);
  }

  /** The console's "mute all": every member but the host. */
  muteAll(muted: boolean): void {
    for (const m of this.members) if (m.role !== 'host') this.setMute(m, muted, 'host');
  }

  toggleLock(): boolean {
    return this.setLocked(!this.locked);
  }

  /** §5.3 *7, and the console's lock. */
  setLocked(locked: boolean): boolean {
    if (this.locked !== locked) {
      this.locked = locked;
      this.observer?.changed(this, { type: 'locked', locked });
    }
    return this.locked;
  }

  /** Plays to every member (an announcement to the whole conference). */
  sayToAll(source: PlaySource): void {
    for (const m of this.members) void m.voice.say(source);
  }

  cycleTones(): ToneState {
    this.tones = nextToneState(this.tones);
    return this.tones;
  }

  /** The member of this id, for the console. */
  member(id: string): ConferenceMember | null {
    for (const [m, seen] of this.ids) if (seen.id === id) return m;
    return null;
  }

  /** The console's "remove": the member's call ends (BYE), the others hear it leave. */
  remove(id: string): ConsoleRefusal | null {
    const m = this.member(id);
    if (!m) return { kind: 'no_member', reason: 'no such member in the conference' };
    m.end();
    return null;
  }

  /**
   * The console's dial-out: the extension is called into the room as a participant, on the call of
   * the host (or, without the host, of the member who has been in longest). Done once it rings.
   */
  dialOut(extension: { id: string; number: string }): ConsoleRefusal | null {
    if (this.phaseNow === 'ended') return { kind: 'not_found', reason: 'the conference has ended' };
    const members = [...this.members];
    const placer = members.find((m) => m.role === 'host' && m.dialOut) ?? members.find((m) => m.dialOut);
    if (!placer?.dialOut) return { kind: 'refused', reason: 'no member call can place the leg' };
    void placer.dialOut(extension).catch(() => undefined);
    return null;
  }

  /** The console's dial-out to `number` ended without its party joining: the console is told why. */
  dialOutFailed(number: string, outcome: Extract<ConferenceChange, { type: 'dial-out-failed' }>['outcome']): void {
    this.observer?.changed(this, { type: 'dial-out-failed', number, outcome });
  }

  private viewOf(member: ConferenceMember): ConferenceMemberView {
    return {
      id: this.ids.get(member)!.id,
      role: member.role,
      number: member.who?.number ?? null,
      name: member.who?.name ?? null,
      muted: this.mutedNow(member),
      dialledOut: member.who?.dialledOut ?? false,
    };
  }

  roster(): ConferenceRoster {
    return { locked: this.locked, members: [...this.members].map((m) => this.viewOf(m)) };
  }

  /** §5.3 *3 by the host: the conference ends for everyone. */
  end(): void {
    if (this.phaseNow === 'ended') return;
    this.transition('ended');
    for (const m of [...this.members]) m.end();
  }
}

/** The conferences in progress on this node, by account and host. */
export class Conferences {
  private readonly byHost = new Map<string, Conference>();
  private readonly observer: ConferenceObserver | null;

  constructor(observer: ConferenceObserver | null = null) {
    this.observer = observer;
  }

  /** The host's conference in progress, or a new one with these settings. An ended one is never rejoined. */
  open(accountId: string, hostExtensionId: string, settings: ConferenceSettings): Conference {
    const key = `${accountId}\u0000${hostExtensionId}`;
    const now = this.byHost.get(key);
    if (now && now.phase !== 'ended') return now;
    const conference: Conference = new Conference(
      accountId,
      hostExtensionId,
      settings,
      () => {
        if (this.byHost.get(key) !== conference) return;
        this.byHost.delete(key);
        if (conference.phase !== 'ended') this.observer?.changed(conference, { type: 'ended' });
        this.observer?.closed(conference);
      },
      this.observer,
    );
    // An ended conference still emptying gives way to the new one: its close is not told (the owner key is the new one's).
    this.byHost.set(key, conference);
    this.observer?.opened(conference);
    return conference;
  }

  /** The host's conference in progress on this node (for the console), or null. */
  find(accountId: string, hostExtensionId: string): Conference | null {
    const c = this.byHost.get(`${accountId}\u0000${hostExtensionId}`);
    return c && c.phase !== 'ended' ? c : null;
  }

  /**
   * A command of the host's console (contracts/conference-control.ts) on the conference it names:
   * `not_found` when that conference is not in progress here (or has no such member).
   */
  command(command: ConferenceCommand): { outcome: 'done' | 'not_found' | 'no_member' | 'refused'; reason?: string; roster?: ConferenceRoster } {
    const conference = this.find(command.accountId, command.hostExtensionId);
    if (!conference) return { outcome: 'not_found', reason: 'the conference is not in progress' };
    const refusal = (r: ConsoleRefusal | null) => (r ? { outcome: r.kind, reason: r.reason } : { outcome: 'done' as const });
    switch (command.type) {
      case 'roster':
        return { outcome: 'done', roster: conference.roster() };
      case 'mute': {
        const member = conference.member(command.memberId);
        if (!member) return { outcome: 'no_member', reason: 'no such member in the conference' };
        conference.setMute(member, command.muted, 'host');
        return { outcome: 'done' };
      }
      case 'mute-all':
        conference.muteAll(command.muted);
        return { outcome: 'done' };
      case 'lock':
        conference.setLocked(command.locked);
        return { outcome: 'done' };
      case 'remove':
        return refusal(conference.remove(command.memberId));
      case 'dial-out':
        return refusal(conference.dialOut(command.extension));
    }
  }

  get size(): number {
    return this.byHost.size;
  }
}
