/**
 * The main thread's handle on a bridge living in a worker: what the SIP side
 * calls. Every method is one request to the worker; events for this bridge
 * are re-emitted here.
 */
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { isDtmfDigit } from '../dtmf/dtmf-digits.ts';
import type {
  LegSpec,
  LegStats,
  LegUpdate,
  LocalMediaAddress,
  MediaDirection,
  MediaEvent,
  PlaybackOptions,
  PlaybackSource,
  RecordingOptions,
  RecordingResult,
  WorkerResults,
} from './control-messages.ts';

export type BridgeEvents = {
  [K in MediaEvent['type']]: [Extract<MediaEvent, { type: K }>];
} & { closed: [] };

/** What the handle needs from the engine: kept narrow so the two stay decoupled. */
export interface BridgeHost {
  addLeg(bridge: BridgeHandle, spec: LegSpec): Promise<LocalMediaAddress>;
  removeLeg(bridge: BridgeHandle, legId: string): Promise<void>;
  request(bridge: BridgeHandle, op: BridgeOp): Promise<unknown>;
  closeBridge(bridge: BridgeHandle): Promise<void>;
}

export type BridgeOp =
  | { op: 'update-leg'; legId: string; update: LegUpdate }
  | { op: 'play'; legId: string; source: PlaybackSource; options: PlaybackOptions }
  | { op: 'stop-playback'; legId: string }
  | { op: 'send-dtmf'; legId: string; digits: string; durationMs: number }
  | { op: 'get-stats' }
  | { op: 'start-recording'; path: string; options: RecordingOptions }
  | { op: 'stop-recording' };

export class BridgeHandle extends EventEmitter<BridgeEvents> {
  readonly id: string;
  readonly workerIndex: number;
  private readonly host: BridgeHost;
  closed = false;

  constructor(id: string, workerIndex: number, host: BridgeHost) {
    super();
    this.id = id;
    this.workerIndex = workerIndex;
    this.host = host;
  }

  /** Opens the leg's sockets on ports from the engine's range; answer the SDP with the result. */
  addLeg(spec: LegSpec): Promise<LocalMediaAddress> {
    return this.host.addLeg(this, spec);
  }

  /** After a re-INVITE or the answer to our offer: new remote, codec, keys or direction. */
  async updateLeg(legId: string, update: LegUpdate): Promise<void> {
    await this.host.request(this, { op: 'update-leg', legId, update });
  }

  /** Mute (sendonly) or hold (recvonly/inactive) one leg, in SDP terms of our side. */
  setDirection(legId: string, direction: MediaDirection): Promise<void> {
    return this.updateLeg(legId, { direction });
  }

  removeLeg(legId: string): Promise<void> {
    return this.host.removeLeg(this, legId);
  }

  /** Plays a prompt to the leg instead of the other side's audio; resolves with the playback id. */
  async play(legId: string, source: PlaybackSource, options: PlaybackOptions = {}): Promise<number> {
    const result = (await this.host.request(this, { op: 'play', legId, source, options })) as { playbackId: number };
    return result.playbackId;
  }

  async stopPlayback(legId: string): Promise<void> {
    await this.host.request(this, { op: 'stop-playback', legId });
  }

  /** Sends digits to the leg (RFC 4733 if negotiated, in-band tones otherwise); 'dtmf-sent' follows. */
  async sendDtmf(legId: string, digits: string, options: { durationMs?: number } = {}): Promise<void> {
    const upper = digits.toUpperCase();
    if (upper.length === 0 || ![...upper].every(isDtmfDigit)) throw new RangeError(`not DTMF digits: ${JSON.stringify(digits)}`);
    await this.host.request(this, { op: 'send-dtmf', legId, digits: upper, durationMs: options.durationMs ?? 100 });
  }

  async stats(): Promise<LegStats[]> {
    return (await this.host.request(this, { op: 'get-stats' })) as LegStats[];
  }

  /**
   * Records the call to a new file at `path` (relative to the working
   * directory; missing directories are created, an existing file is refused
   * with EEXIST): 16-bit PCM WAV, 8 kHz, stereo, channel 1 what the first leg
   * sends into the bridge, channel 2 what the second sends, in step on the
   * 20 ms media clock. Prompts played to the legs are not recorded. Resolves
   * once the file exists and frames are being taken.
   */
  async startRecording(path: string, options: RecordingOptions = {}): Promise<void> {
    if (options.format !== undefined && options.format !== 'wav') {
      throw new RangeError(`unsupported recording format ${JSON.stringify(options.format)} (supported: wav)`);
    }
    await this.host.request(this, { op: 'start-recording', path: resolve(path), options });
  }

  /**
   * Ends the recording and finalizes the file; rejects when none is running.
   * Closing the bridge ends it too. Either way 'recording-stopped' follows.
   */
  async stopRecording(): Promise<RecordingResult> {
    return (await this.host.request(this, { op: 'stop-recording' })) as WorkerResults['stop-recording'];
  }

  /** Closes every leg and releases their ports, after finalizing a recording still running. */
  close(): Promise<void> {
    return this.host.closeBridge(this);
  }
}
