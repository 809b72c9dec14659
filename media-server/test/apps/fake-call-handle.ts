import { CallEndedError, DestinationRefusedError, UnsupportedVerbError, type BridgeOptions, type DialOutOptions, type JoinRoomOptions, type RoomExit, type RoomRef, type RoomRole, type BridgeOutcome, type CallHandle, type CollectOptions, type CollectResult, type PlaySource, type PlayOptions, type RecordOptions, type RecordResult } from '../../src/apps/call-handle.ts';
import type { ExtensionDestination } from '../../src/routing/destination.ts';
import type { MailboxSettings, Mailboxes, NewVoicemail } from '../../src/apps/voicemail/mailboxes.ts';

/**
 * A CallHandle at the layer boundary, for applications' unit tests: it keeps
 * what the application asked for, in order, and answers as a caller would
 * (a recording of a given length and ending, a hang-up at a given verb).
 * The real handle (calls/app-call.ts) has its own tests and the end-to-end
 * SIPp tests.
 */
export class FakeCallHandle implements CallHandle {
  readonly id = '00000000-0000-4000-8000-000000000001';
  readonly accountId = '00000000-0000-4000-8000-0000000000aa';
  readonly caller: { number: string | null; name: string; extensionId: string | null };
  readonly dialed: string;
  readonly language: 'en' | 'fr';
  readonly log: (string | [string, unknown])[] = [];
  private readonly lifetime = new AbortController();
  /** What record() returns. */
  recording: Omit<RecordResult, 'path'> = { durationMs: 5000, reason: 'terminator', terminator: '#' };
  /** The caller hangs up when the application reaches this verb (it then rejects with CallEndedError). */
  hangUpAt: 'play' | 'record' | 'bridgeTo' | 'collect' | null = null;
  /** What bridgeTo() returns; null: the verb is unsupported, as on a call that cannot bridge. */
  bridgeOutcome: BridgeOutcome | null = null;
  /**
   * What the caller keys in, one entry per collect() (after the prompt played to its end): digits, or ''
   * for a silence (the collection times out). Once they run out the caller hangs up at the next collect().
   */
  keys: string[] = [];
  /** What the caller presses during each play() that takes a key (bargeIn), in turn; null: nothing during that one. */
  bargeInKeys: (string | null)[] = [];

  constructor(opts: { dialed?: string; language?: 'en' | 'fr'; callerExtensionId?: string; callerNumber?: string | null } = {}) {
    this.caller = { number: opts.callerNumber === undefined ? '101' : opts.callerNumber, name: 'Ann', extensionId: opts.callerExtensionId ?? null };
    this.dialed = opts.dialed ?? '301';
    this.language = opts.language ?? 'en';
  }

  get signal(): AbortSignal {
    return this.lifetime.signal;
  }

  private verb(name: string, arg?: unknown): void {
    if (this.lifetime.signal.aborted) throw new CallEndedError();
    if (this.hangUpAt === name) {
      this.lifetime.abort();
      this.log.push('caller hung up');
      throw new CallEndedError();
    }
    this.log.push(arg === undefined ? name : [name, arg]);
  }

  answer(): Promise<void> {
    this.verb('answer');
    return Promise.resolve();
  }
  reject(status: number, reason?: string): Promise<void> {
    this.verb('reject', { status, reason });
    this.lifetime.abort();
    return Promise.resolve();
  }
  play(source: PlaySource, options: PlayOptions = {}): Promise<{ digit: string | null }> {
    this.verb('play', source);
    // A key pressed during a prompt that takes one (bargeIn) cuts it short; otherwise it is not heard here.
    const digit = options.bargeIn ? (this.bargeInKeys.shift() ?? null) : null;
    if (digit !== null) this.log.push(['barged in', digit]);
    return Promise.resolve({ digit });
  }
  collect(options: CollectOptions): Promise<CollectResult> {
    try {
      // The collection's own prompt plays first (its digits go to the collection: the caller keys after it here).
      if (options.prompt) this.verb('play', options.prompt);
      if (!this.keys.length) this.hangUpAt = 'collect';
      this.verb('collect');
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const keyed = this.keys.shift()!;
    this.log.push(keyed ? ['keyed', keyed] : 'silence');
    // A terminator ends the collection and is not part of the digits, as on a real call.
    const end = [...keyed].findIndex((d) => options.terminators?.includes(d));
    if (end >= 0 && end < options.maxDigits) return Promise.resolve({ digits: keyed.slice(0, end), reason: 'terminator', terminator: keyed[end]! });
    const digits = keyed.slice(0, options.maxDigits);
    return Promise.resolve({ digits, reason: digits.length === options.maxDigits ? 'max-digits' : 'timeout', terminator: null });
  }
  record(options: RecordOptions): Promise<RecordResult> {
    this.verb('record', options);
    return Promise.resolve({ path: '/recordings/1.wav', ...this.recording });
  }
  /** The party that answers a bridgeTo leaves while the call goes on (it parked the caller): `onLeft` is called. */
  answeringPartyLeaves = false;
  /** What successive bridgeTo() calls return, before bridgeOutcome (a ring plan's steps). */
  bridgeOutcomes: BridgeOutcome[] = [];
  bridgeTo(target: unknown, options?: BridgeOptions): Promise<BridgeOutcome> {
    const outcome = this.bridgeOutcomes.shift() ?? this.bridgeOutcome;
    if (!outcome) return Promise.reject(new UnsupportedVerbError('bridgeTo', 'fake'));
    const { onAnswered, onLeft, ...logged } = options ?? {};
    try {
      this.verb('bridgeTo', { target, ...logged });
    } catch (err) {
      return Promise.reject(err as Error);
    }
    // The first extension rung answers (several ring at once for a queue's Simultaneous offer).
    const first = (Array.isArray(target) ? target[0] : target) as { extensionId?: string } | undefined;
    if (outcome.outcome === 'answered' && first?.extensionId) onAnswered?.(first.extensionId);
    if (outcome.outcome === 'answered' && first?.extensionId && this.answeringPartyLeaves) onLeft?.(first.extensionId);
    return Promise.resolve(outcome);
  }
  joinRoom(_room: RoomRef, _role: RoomRole, _options?: JoinRoomOptions): Promise<RoomExit> {
    return Promise.reject(new UnsupportedVerbError('joinRoom', 'fake'));
  }
  /**
   * What each dialOut() returns, by the device it rings (options.deviceIds[0]), else `dialOutOutcome`;
   * null: the verb is unsupported. A leg that answers is "in the room" until the call ends: it then
   * resolves 'answered', ended by this side, as the real leg does.
   */
  dialOutOutcome: BridgeOutcome | null = null;
  dialOutByDevice = new Map<string, BridgeOutcome>();
  dialOut(target: ExtensionDestination, room: RoomRef, role: RoomRole, options: DialOutOptions = {}): Promise<BridgeOutcome> {
    const outcome = this.dialOutByDevice.get(options.deviceIds?.[0] ?? '') ?? this.dialOutOutcome;
    if (!outcome) return Promise.reject(new UnsupportedVerbError('dialOut', 'fake'));
    const { hangup, onJoined, ...logged } = options;
    try {
      this.verb('dialOut', { extension: target.extensionNumber, room: room.roomId, role, ...logged });
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (outcome.outcome !== 'answered') return Promise.resolve(outcome);
    onJoined?.({
      setMute: (muted) => {
        this.log.push(['dialOutMute', muted]);
        return Promise.resolve();
      },
    });
    return new Promise((resolve) => {
      const done = () => resolve({ outcome: 'answered', endedBy: 'caller' });
      if (this.lifetime.signal.aborted || hangup?.aborted) return done();
      this.lifetime.signal.addEventListener('abort', done, { once: true });
      hangup?.addEventListener('abort', done, { once: true });
    });
  }
  setRoomMute(): Promise<never> {
    return Promise.reject(new UnsupportedVerbError('setRoomMute', 'fake'));
  }

  startRoomRecording(): Promise<never> {
    return Promise.reject(new UnsupportedVerbError('startRoomRecording', 'fake'));
  }

  stopRoomRecording(): Promise<never> {
    return Promise.reject(new UnsupportedVerbError('stopRoomRecording', 'fake'));
  }
  park(): Promise<never> {
    return Promise.reject(new UnsupportedVerbError('park', 'fake'));
  }
  /** Extension numbers a transfer() reaches (their application then has the call until it ends); any other is refused with 480. */
  transferable = new Set<string>();
  transfer(target: string): Promise<void> {
    try {
      this.verb('transfer', target);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (!this.transferable.has(target)) return Promise.reject(new DestinationRefusedError(480, 'Temporarily Unavailable'));
    this.lifetime.abort();
    return Promise.resolve();
  }
  hangup(options?: { blocked?: boolean }): Promise<void> {
    this.verb('hangup', options?.blocked ? { blocked: true } : undefined);
    this.lifetime.abort();
    return Promise.resolve();
  }
}

/** Mailboxes in memory: one mailbox's settings, what was deposited and discarded. */
export class MemoryMailboxes implements Mailboxes {
  readonly deposited: NewVoicemail[] = [];
  readonly discarded: string[] = [];
  settingsOf: MailboxSettings;

  constructor(settings: Partial<MailboxSettings> = {}) {
    this.settingsOf = { extensionName: null, greetingFile: null, nameRecordingFile: null, maxMessageSeconds: 180, maxMessages: 100, messageCount: 0, ...settings };
  }

  settings(): Promise<MailboxSettings> {
    return Promise.resolve(this.settingsOf);
  }
  deposit(message: NewVoicemail): Promise<{ messageId: string }> {
    this.deposited.push(message);
    return Promise.resolve({ messageId: `m${this.deposited.length}` });
  }
  discard(recordingPath: string): Promise<void> {
    this.discarded.push(recordingPath);
    return Promise.resolve();
  }
  /** The user's own recordings by id (greetings, connecting messages): their files. */
  recordings: Record<string, string> = {};
  userRecording(_accountId: string, _extensionId: string, audioId: string): Promise<string | null> {
    return Promise.resolve(this.recordings[audioId] ?? null);
  }
}
