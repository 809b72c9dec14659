import type { Destination, ExtensionDestination } from '../routing/destination.ts';

/**
 * What an application sees of a call, and all it sees: no SIP, no media
 * engine, no database of calls. An application is an async function over a
 * handle (`CallApp`); it returns when it is done with the call, and the call
 * ends (BYE or a final response) if the application did not hand it on.
 *
 * Every verb rejects with `CallEndedError` once the caller has hung up, and
 * `signal` aborts at that moment, so an application never has to poll.
 * (drachtio-fsmrf puts the same verbs on an endpoint; SIP.js and FreeSWITCH
 * give applications a session object in the same spirit.)
 */
export interface CallHandle {
  /** The call's id in the call log (calls.id), once written. */
  readonly id: string;
  readonly accountId: string;
  /** Who called: an extension of the account, or an outside number (null when withheld). */
  readonly caller: { number: string | null; name: string | null; extensionId: string | null };
  /** What the caller dialled, as it reached us. */
  readonly dialed: string;
  /** The language prompts are played in (the account's). */
  readonly language: 'en' | 'fr';
  /** Aborts when the call ends, whoever ends it. */
  readonly signal: AbortSignal;

  /** Answers the caller (200 OK with our media); a no-op once answered. */
  answer(): Promise<void>;
  /** Refuses a call not answered yet with a final status (4xx–6xx). */
  reject(status: number, reason?: string): Promise<void>;
  /**
   * Plays to the caller; resolves when the audio ends (or the first digit, with `bargeIn`, or when
   * `stop` aborts: music on hold until something happens). One thing plays at a time: wait for a
   * play to end (or stop it) before the next.
   */
  play(source: PlaySource, options?: PlayOptions): Promise<PlayResult>;
  /** Collects DTMF digits (RFC 4733, SIP INFO or in-band, whichever the caller sends). */
  collect(options: CollectOptions): Promise<CollectResult>;
  /** Records what the caller says into a new audio file. */
  record(options: RecordOptions): Promise<RecordResult>;
  /**
   * Connects the caller to another party: an extension (forking to its devices) or an outside number
   * (through the account's trunk), or several of them ringing together (a ring plan's step, a queue's
   * Simultaneous offer: the first to answer takes the call, and `onAnswered` says which extension's
   * device it was); resolves when that leg ends or fails. The caller must be answered first. Whatever
   * plays to the caller meanwhile (ring-back, looped) stops when the party answers or the ringing ends.
   */
  bridgeTo(target: Destination | readonly Destination[], options?: BridgeOptions): Promise<BridgeOutcome>;
  /**
   * Puts the caller in a room (a conference; paging and monitoring later) in a role, answering first if
   * needed: the caller hears the loudest few of the other members, and they hear it unless it is muted or
   * a listener. The room opens with its first member and closes with its last. Resolves when the member
   * leaves (`options.leave` aborts: the caller is back with the application, as before it joined) or the
   * caller hangs up ('hangup', not an error: that is how most members leave). While in the room `play`
   * plays to the member instead of what it hears, `collect` takes its digits, and `setRoomMute` mutes it.
   * Rejects with RoomFullError past the room's capacity.
   */
  joinRoom(room: RoomRef, role: RoomRole, options?: JoinRoomOptions): Promise<RoomExit>;
  /**
   * Places an outbound call leg from this call: INVITEs to the extension's registered devices (or only
   * `deviceIds` of them; the first to answer takes the leg, the others are CANCELled), and puts whoever
   * answers in a room in a role (a page's receivers as listeners, a conference's dial-out, a queue's
   * callback). The leg belongs to this call: it ends (BYE, or CANCEL while it rings) when this call ends
   * or when `options.hangup` aborts, whichever is first, so an application's `close()` leaves nothing
   * behind. Does not need this call answered. Resolves when the leg is over: 'answered' (endedBy
   * 'callee': the party hung up; 'caller': this side ended it), or why it never was ('no-answer' with
   * 487 when this side stopped it while it rang). Rejects with RoomFullError past the room's capacity.
   */
  dialOut(target: ExtensionDestination, room: RoomRef, role: RoomRole, options?: DialOutOptions): Promise<BridgeOutcome>;
  /** While in a room: whether what the caller says reaches the others (muted: dropped after its header, never decoded). */
  setRoomMute(muted: boolean): Promise<void>;
  /**
   * While in a room: records the room's mix (every voice heard in it, as its members hear it; not what
   * is played to one member) into a new mono WAV at `file`, 8 kHz 16-bit, bounded as a call's recording
   * is (the WAV size limit). The recording is this member's: it ends with `stopRoomRecording`, as the
   * member leaves the room, or when the room closes. One recording of a room at a time.
   */
  startRoomRecording(file: string): Promise<void>;
  /** Ends this member's recording of the room: its length, or null when none was running (it already ended as the member left). */
  stopRoomRecording(): Promise<{ durationMs: number } | null>;
  /** Parks the call (music on hold) in a slot, until someone picks it up or it times out. */
  park(slot: string | null): Promise<{ slot: string }>;
  /**
   * Hands the call on to an extension of the account by its number (a queue, an announcement, a
   * user…): that destination's application takes the call over, or a user's phones ring; resolves
   * when it is done with the call. Rejects with DestinationRefusedError when the number leads nowhere
   * the call can go (unknown, disabled, its feature not available here), the call untouched.
   */
  transfer(target: string): Promise<void>;
  /**
   * Ends the call (BYE, or 480 when not answered yet). `blocked`: the callee refuses this caller (call
   * blocking): the call log says rejected, hung up by 'blocked', rather than answered.
   */
  hangup(options?: { blocked?: boolean }): Promise<void>;
}

export type CallApp = (call: CallHandle, destination: Destination) => Promise<void>;

/** A shipped prompt by name, an audio file, or text spoken by TTS. */
export type PlaySource =
  | { prompt: string }
  | { file: string }
  /** Spoken in `language`, else the call's (an IVR menu has a language of its own). */
  | { tts: string; language?: 'en' | 'fr' }
  /** A tone in Hz for a duration (a beep before recording), then `silenceMs` of silence (a cadence, looped: ring-back). */
  | { tone: number; durationMs: number; silenceMs?: number };

export interface PlayOptions {
  loop?: boolean;
  bargeIn?: boolean;
  /** Stops the audio when it aborts (the play then resolves). */
  stop?: AbortSignal;
}

export interface PlayResult {
  /** The digit that cut the prompt short (`bargeIn`), if any. */
  digit: string | null;
}

export interface CollectOptions {
  /** Played first; a digit during it counts as the first digit (barge-in). */
  prompt?: PlaySource;
  /** Stop after this many digits. */
  maxDigits: number;
  /** Wait for the first digit. */
  timeoutMs: number;
  /** Wait between digits; defaults to timeoutMs. */
  interDigitTimeoutMs?: number;
  /** Digits that end the collection and are not part of it (e.g. '#'). */
  terminators?: string;
}

export interface CollectResult {
  digits: string;
  /** Why the collection stopped. */
  reason: 'max-digits' | 'terminator' | 'timeout';
  terminator: string | null;
}

export interface RecordOptions {
  /** Longest recording. */
  maxSeconds: number;
  /** Stop after this much silence (none if absent). */
  silenceSeconds?: number;
  /** Digits that end the recording (e.g. '#'). */
  terminators?: string;
  /** Play a beep before recording starts. */
  beep?: boolean;
}

export interface RecordResult {
  /** Absolute path of the WAV file (8 kHz 16-bit mono). */
  path: string;
  durationMs: number;
  reason: 'max-length' | 'silence' | 'terminator' | 'hangup';
  terminator: string | null;
}

export interface BridgeOptions {
  /** How long the parties ring before the outcome is 'no-answer'. */
  ringSeconds?: number;
  /** For an extension: ring only these of its devices (a rule's ring plan); every registered device when absent. */
  deviceIds?: readonly string[];
  /**
   * For an outside number: whoever answers hears a prompt and must press 1 before the caller is
   * connected, so that a mobile's own voicemail cannot take the call (issue 13). One that does not
   * press 1 in time is hung up on and counts as not answering.
   */
  acceptWithDigit?: boolean;
  /**
   * Call screening: every party that answers (devices too) hears who is calling — "Call from", the
   * caller's recorded name (`nameRecording`, a file from `record`; the caller's number or name is
   * spoken when it is null), "press 1 to accept, 2 to send to voicemail" — and is connected only on
   * its 1. Its 2 ends the attempt at once with the outcome 'rejected' (603: the callee declined), the
   * other parties CANCELled; anything else counts as not answering, as for `acceptWithDigit`.
   */
  screening?: { nameRecording: string | null };
  /** Called at the answer, with the extension whose device answered (before the leg ends and the outcome settles). */
  onAnswered?: (extensionId: string) => void;
  /**
   * Called when the extension that answered leaves while the call goes on without it (its phone parked
   * the caller, PK-01): the outcome settles later (a member retrieves the call, the recall, the caller's
   * hang-up), but that user is free now.
   */
  onLeft?: (extensionId: string) => void;
}

export interface DialOutOptions {
  /** How long the devices ring before the outcome is 'no-answer'. */
  ringSeconds?: number;
  /** Ring only these devices of the extension; every registered device when absent. */
  deviceIds?: readonly string[];
  /**
   * Ask the device to answer by itself (intercom, paging): `Call-Info: <sip:domain>;answer-after=0`
   * (Yealink, Grandstream, Snom, baresip) and `Alert-Info: Auto Answer` (Polycom's default auto-answer
   * match). A device that ignores both rings as for any call.
   */
  autoAnswer?: boolean;
  /** Who the devices see calling (the From display name); this call's caller when absent. */
  fromName?: string;
  /** Aborting it hangs the leg up (BYE, or CANCEL while it rings). */
  hangup?: AbortSignal;
  /** Called once the party is in the room, with its mute there (a speaker's voice dropped after the header, as `setRoomMute`). */
  onJoined?: (party: { setMute(muted: boolean): Promise<void> }) => void;
}

/** 'rejected' (603): a party declined the call (its phone's Decline, or 2 when screening). */
export type BridgeOutcome =
  | { outcome: 'answered'; endedBy: 'caller' | 'callee' }
  | { outcome: 'busy' | 'no-answer' | 'unavailable' | 'rejected' | 'failed'; status: number };

export interface RoomRef {
  accountId: string;
  roomId: string;
}

/** A speaker and a moderator are heard (unless muted); a listener never is. A whisper role is not supported yet. */
export type RoomRole = 'speaker' | 'listener' | 'moderator' | 'whisper';

export interface JoinRoomOptions {
  /** Aborting it takes the member out of the room (the call goes on with the application). */
  leave?: AbortSignal;
  /** Joins muted (a speaker or moderator can be unmuted later by `setRoomMute(false)`). */
  muted?: boolean;
  /** Called once the caller is in the room (and can be played to there). */
  onJoined?: () => void;
}

export interface RoomExit {
  /** 'left': `leave` aborted; 'hangup': the call ended. */
  reason: 'left' | 'hangup';
}

/** The room already holds as many members as it can (a conference: 1,000). */
export class RoomFullError extends Error {
  readonly capacity: number;
  constructor(capacity: number) {
    super(`the room is full (${capacity} members)`);
    this.capacity = capacity;
    this.name = 'RoomFullError';
  }
}

/** `transfer` found no way to put the call through, with the SIP status and reason a caller would have got. */
export class DestinationRefusedError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string) {
    super(`destination refused: ${status} ${reason}`);
    this.status = status;
    this.reason = reason;
    this.name = 'DestinationRefusedError';
  }
}

/** Thrown by a verb of a call that has ended: the application stops there. */
export class CallEndedError extends Error {
  constructor() {
    super('the call has ended');
    this.name = 'CallEndedError';
  }
}

/** Thrown by a verb this kind of call cannot do (yet), with why. */
export class UnsupportedVerbError extends Error {
  constructor(verb: string, why: string) {
    super(`${verb}: ${why}`);
    this.name = 'UnsupportedVerbError';
  }
}
