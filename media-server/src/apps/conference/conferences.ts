import { nextListeningMode, nextToneState, type ConferenceRole, type ConferenceSettings, type ListeningMode, type ToneState } from '@carillon/domain';
import type { CallHandle, PlaySource } from '../call-handle.ts';

/** The enter and exit tones: a short high beep as someone joins, a lower one as someone leaves. */
export const ENTER_TONE: PlaySource = { tone: 1400, durationMs: 200 };
export const EXIT_TONE: PlaySource = { tone: 600, durationMs: 200 };

/**
 * What one member's call plays, one thing at a time (CallHandle.play plays one thing at a time):
 * prompts and tones in turn, and the music while the member waits for the host, which every
 * prompt interrupts and which comes back after it.
 */
export class MemberVoice {
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
  readonly voice: MemberVoice;
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

/**
 * A conference in progress on this node: the host's (one per host code), its members, and the
 * state the host's keypad commands change (inventory 1 §5.3). Created with its first member,
 * forgotten with its last or when the host ends it (`*3`).
 *
 *   waiting --(host joins)--> live --(host *3)--> ended
 *      \_______________________________________/^
 *   (join before host: created live; the last member leaving forgets it whatever its state)
 *
 * `transition()` is the only writer of the phase.
 */
export type ConferencePhase = 'waiting' | 'live' | 'ended';

const MOVES: Record<ConferencePhase, readonly ConferencePhase[]> = { waiting: ['live', 'ended'], live: ['ended'], ended: [] };

export class Conference {
  readonly accountId: string;
  readonly hostExtensionId: string;
  readonly settings: ConferenceSettings;
  private phaseNow: ConferencePhase;
  readonly members = new Set<ConferenceMember>();
  locked = false;
  mode: ListeningMode = 'open';
  tones: ToneState;
  private readonly onEmpty: () => void;

  constructor(accountId: string, hostExtensionId: string, settings: ConferenceSettings, onEmpty: () => void) {
    this.accountId = accountId;
    this.hostExtensionId = hostExtensionId;
    this.settings = settings;
    this.phaseNow = settings.joinBeforeHost ? 'live' : 'waiting';
    this.tones = { enter: settings.enterTone, exit: settings.exitTone };
    this.onEmpty = onEmpty;
  }

  get phase(): ConferencePhase {
    return this.phaseNow;
  }

  private transition(to: ConferencePhase): void {
    if (!MOVES[this.phaseNow].includes(to)) throw new Error(`a conference cannot move from ${this.phaseNow} to ${to}`);
    this.phaseNow = to;
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
        void m.applyMute(this.mutedNow(m)).catch(() => undefined);
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
      void m.applyMute(this.mutedNow(m)).catch(() => undefined);
    }
    return this.mode;
  }

  /**
   * §5.3 *6: the member's own mute toggle (for a participant in mode 1, its self-unmute). Refused
   * (null) to a participant in listen-only mode or waiting for the host. Returns the new mute.
   */
  toggleMute(member: ConferenceMember): boolean | null {
    if (member.role !== 'host' && (this.mode === 'listen_only' || this.phaseNow === 'waiting')) return null;
    member.selfMuted = !member.selfMuted;
    const muted = this.mutedNow(member);
    void member.applyMute(muted).catch(() => undefined);
    return muted;
  }

  toggleLock(): boolean {
    this.locked = !this.locked;
    return this.locked;
  }

  cycleTones(): ToneState {
    this.tones = nextToneState(this.tones);
    return this.tones;
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

  /** The host's conference in progress, or a new one with these settings. An ended one is never rejoined. */
  open(accountId: string, hostExtensionId: string, settings: ConferenceSettings): Conference {
    const key = `${accountId}\u0000${hostExtensionId}`;
    const now = this.byHost.get(key);
    if (now && now.phase !== 'ended') return now;
    const conference: Conference = new Conference(accountId, hostExtensionId, settings, () => {
      if (this.byHost.get(key) === conference) this.byHost.delete(key);
    });
    this.byHost.set(key, conference);
    return conference;
  }

  get size(): number {
    return this.byHost.size;
  }
}
