import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@carillon/config';
import { StarCodeDetector } from './star-codes.ts';

/**
 * `*9` on-demand recording of a two-party call (seed 000 "Enregistrement des
 * appels à la demande"): either party types `*9` to start or stop it when the
 * account enables it; both hear the start and stop announcements, and each
 * recording is stored and attached to the call's record. The control channel
 * starts and stops it too (`command`).
 *
 * It sees the call only through `RecordedCall` (no SIP, no media objects: the
 * call lends its bridge's recorder and players) and writes through
 * `RecordingRecords`; the call closes it in its close cascade, and a recording
 * still running then is stopped and stored.
 *
 *   Idle --toggle--> Starting --(recorder on, row written)--> Recording
 *    ^                  | (disabled, failed)                      |
 *    '------------------'<--(recorder off, row closed)-- Stopping <'--toggle
 *                                  (disabled: back to Recording)
 *   any --close()--> Closed   (what is recording is stopped and stored)
 *
 * One change at a time: a `*9` while one is under way is ignored. `#transition`
 * is the one writer of the state and refuses every other move.
 */
export type OnDemandRecordingState = 'Idle' | 'Starting' | 'Recording' | 'Stopping' | 'Closed';

const LEGAL_MOVES: Record<OnDemandRecordingState, readonly OnDemandRecordingState[]> = {
  Idle: ['Starting', 'Closed'],
  Starting: ['Recording', 'Idle', 'Closed'],
  Recording: ['Stopping', 'Closed'],
  Stopping: ['Idle', 'Recording', 'Closed'],
  Closed: [],
};

export class IllegalRecordingTransition extends Error {
  constructor(from: OnDemandRecordingState, to: OnDemandRecordingState) {
    super(`an on-demand recording cannot move from ${from} to ${to}`);
    this.name = 'IllegalRecordingTransition';
  }
}

export type RecordingPrompt = 'recording-started' | 'recording-stopped';

/** What the recording needs of its call (calls/b2bua/b2bua-call.ts lends it). */
export interface RecordedCall {
  readonly accountId: string;
  /** The call's row in the call log; null until written (the call is not answered then). */
  recordId(): string | null;
  /** Why the call cannot be recorded now: not answered (or no media yet), or a monitor is on it (its legs are in the monitoring room). */
  unavailable(): 'not-answered' | 'monitored' | null;
  /** The extension of the party on `side`, as the recording's "started by"; null for an outside party. */
  extensionOf(side: 'a' | 'b'): string | null;
  /** The account's switch and language, read at each change (an admin may turn it off during the call). */
  settings(): Promise<{ enabled: boolean; language: 'en' | 'fr' }>;
  /** Both parties into one file (the bridge's stereo recorder). */
  startRecorder(file: string): Promise<void>;
  /** Null when the recorder was already gone (the media closed first). */
  stopRecorder(): Promise<{ durationMs: number } | null>;
  /** Plays `prompt` to both parties (resolved once it plays, not at its end). */
  announce(prompt: RecordingPrompt, language: 'en' | 'fr'): Promise<void>;
  /** Recording now on or off (the call's observers: the control channel's events). */
  changed(recording: boolean): void;
}

/** The call log's recordings (calls/call-records.ts). */
export interface RecordingRecords {
  recordingStarted(r: { accountId: string; callId: string; path: string; startedByExtensionId: string | null }): Promise<string>;
  recordingStopped(id: string, durationSeconds: number): Promise<void>;
}

interface Current {
  id: string;
  path: string;
  startedAt: number;
}

export class OnDemandRecording {
  #state: OnDemandRecordingState = 'Idle';
  readonly #call: RecordedCall;
  readonly #records: RecordingRecords;
  /** DATA_DIR/recordings: one folder per account. */
  readonly #dir: string;
  readonly #log: Logger;
  readonly #starCodes = new StarCodeDetector();
  /** The recording being made (Recording, Stopping; at the end of Starting). */
  #current: Current | null = null;
  /** Recordings made in this call: the next file's number. */
  #count = 0;
  /** The change under way, awaited by close(). */
  #busy: Promise<void> = Promise.resolve();

  constructor(opts: { call: RecordedCall; records: RecordingRecords; recordingsDir: string; log: Logger }) {
    this.#call = opts.call;
    this.#records = opts.records;
    this.#dir = opts.recordingsDir;
    this.#log = opts.log;
  }

  get state(): OnDemandRecordingState {
    return this.#state;
  }

  /** A recording is being made (or being stopped). */
  get active(): boolean {
    return this.#state === 'Recording' || this.#state === 'Stopping';
  }

  /** A digit from one side (RFC 4733 or SIP INFO): `*9` toggles the recording. */
  digit(side: 'a' | 'b', digit: string): void {
    if (this.#starCodes.feed(side, digit) !== 'record') return;
    this.#log.debug('call star code', { side, code: 'record' });
    void this.toggle(side).catch((err: unknown) => this.#log.error('on-demand recording failed', { error: err }));
  }

  /** Starts the recording, or stops it, as `*9` typed on `side`; resolves when the change is done (or refused). */
  toggle(side: 'a' | 'b'): Promise<void> {
    if (this.#state !== 'Idle' && this.#state !== 'Recording') {
      this.#log.debug('on-demand recording ignored: a change is under way', { state: this.#state });
      return Promise.resolve();
    }
    const change = this.#toggle(side);
    this.#busy = change.catch(() => undefined);
    return change;
  }

  /** Starts or stops it on a command from the app; the reason when it cannot. */
  async command(on: boolean): Promise<string | null> {
    const unavailable = this.#call.unavailable();
    if (unavailable === 'not-answered' || this.#is('Closed')) return 'the call is not answered';
    if (unavailable === 'monitored' && on) return 'the call is being monitored';
    if (this.active === on) return on ? 'the call is already being recorded' : 'the call is not being recorded';
    await this.toggle('a');
    if (this.active !== on) return 'on-demand recording is disabled for this account';
    return null;
  }

  /**
   * The call is ending: no change starts any more, the one under way ends,
   * and a recording still running is stopped and stored with its duration.
   */
  async close(): Promise<void> {
    if (this.#is('Closed')) return;
    this.#transition('Closed');
    await this.#busy;
    const current = this.#current;
    if (current) await this.#store(current);
  }

  async #toggle(side: 'a' | 'b'): Promise<void> {
    const unavailable = this.#call.unavailable();
    if (unavailable) {
      this.#log.debug(unavailable === 'monitored' ? 'on-demand recording ignored: the call is being monitored' : 'on-demand recording ignored: call not answered');
      return;
    }
    const stopping = this.#state === 'Recording';
    this.#transition(stopping ? 'Stopping' : 'Starting');
    const settings = await this.#call.settings();
    if (this.#is('Closed')) return;
    if (!settings.enabled) {
      this.#log.debug('on-demand recording ignored: disabled for the account');
      this.#transition(stopping ? 'Recording' : 'Idle');
      return;
    }
    if (stopping) {
      const current = this.#current!;
      await this.#store(current);
      if (this.#is('Closed')) return;
      this.#transition('Idle');
      await this.#call.announce('recording-stopped', settings.language);
      return;
    }
    try {
      await this.#start(side, settings.language);
    } catch (err) {
      if (this.#is('Starting')) this.#transition('Idle');
      throw err;
    }
  }

  async #start(side: 'a' | 'b', language: 'en' | 'fr'): Promise<void> {
    await this.#call.announce('recording-started', language);
    const callId = this.#call.recordId();
    if (this.#is('Closed') || !callId) {
      if (this.#is('Starting')) this.#transition('Idle');
      return;
    }
    const dir = path.join(this.#dir, this.#call.accountId);
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, `${callId}-${++this.#count}.wav`);
    await this.#call.startRecorder(file);
    const id = await this.#records.recordingStarted({ accountId: this.#call.accountId, callId, path: file, startedByExtensionId: this.#call.extensionOf(side) });
    // Closed meanwhile, the recorder running: close() stores it once this change is over.
    this.#current = { id, path: file, startedAt: Date.now() };
    if (this.#is('Closed')) return;
    this.#transition('Recording');
    this.#call.changed(true);
  }

  /** The recorder off and the row given its duration (the recorder's, else the wall clock's). */
  async #store(current: Current): Promise<void> {
    if (this.#current !== current) return;
    this.#current = null;
    const done = await this.#call.stopRecorder().catch(() => null);
    await this.#records.recordingStopped(current.id, Math.round((done?.durationMs ?? Date.now() - current.startedAt) / 1000));
    this.#call.changed(false);
  }

  /** The state now (a method: the compiler does not carry a narrowing across an await). */
  #is(state: OnDemandRecordingState): boolean {
    return this.#state === state;
  }

  #transition(to: OnDemandRecordingState): void {
    if (!LEGAL_MOVES[this.#state].includes(to)) throw new IllegalRecordingTransition(this.#state, to);
    this.#state = to;
  }
}
