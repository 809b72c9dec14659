/**
 * A container's one recording at a time (a bridge's call, a room's mix): the
 * recorder's start, its end when asked for, when the container closes, or
 * when the recorder gives up (the WAV size limit, a failing disk), and the
 * 'recording-stopped' event that reports each end. What feeds the recorder's
 * channels is the container's business (`attach`, called whenever the
 * recorder comes or goes).
 */
import type { MediaEvent, RecordingOptions, RecordingResult, RecordingStopReason } from '../engine/control-messages.ts';
import type { MediaClock } from '../engine/media-clock.ts';
import { CallRecorder, type RecorderFailure } from './call-recorder.ts';

/** The container: its kind and id name it in errors; its clock paces the recorder; its events carry the end. */
type Owner = { readonly kind: string; readonly bridgeId: string; readonly clock: MediaClock; emit(event: MediaEvent): void };

export class RecordingSlot {
  private readonly owner: Owner;
  private readonly channelCount: 1 | 2;
  private readonly attach: (recorder: CallRecorder | null) => void;
  private current: CallRecorder | null = null;

  constructor(owner: Owner, channels: 1 | 2, attach: (recorder: CallRecorder | null) => void) {
    this.owner = owner;
    this.channelCount = channels;
    this.attach = attach;
  }

  /** The recorder taking frames now, if any. */
  get recorder(): CallRecorder | null {
    return this.current;
  }

  async start(path: string, options: RecordingOptions): Promise<void> {
    if (options.format !== undefined && options.format !== 'wav') throw new RangeError(`unsupported recording format ${JSON.stringify(options.format)}`);
    if (this.current) throw new Error(`${this.owner.kind} ${this.owner.bridgeId} is already recording to ${this.current.path}`);
    const recorder: CallRecorder = new CallRecorder(path, this.owner.clock, (reason, message) => this.failed(recorder, reason, message), this.channelCount);
    // Taken before the file exists, so a second start in the meantime is refused.
    this.current = recorder;
    try {
      await recorder.start();
    } catch (err) {
      if (this.current === recorder) this.current = null;
      throw err;
    }
    if (this.current === recorder) this.attach(recorder);
  }

  stop(): Promise<RecordingResult> {
    if (!this.current) return Promise.reject(new Error(`${this.owner.kind} ${this.owner.bridgeId} is not recording`));
    return this.end('requested');
  }

  /** The container is closing: a recording still running is finalized. */
  async close(): Promise<void> {
    if (this.current) await this.end('bridge-closed').catch(() => undefined);
  }

  private failed(recorder: CallRecorder, reason: RecorderFailure, message: string): void {
    if (this.current === recorder) this.end(reason, message).catch(() => undefined);
  }

  /** Finalizes the file and reports the end, with what the file holds even when finishing it failed. */
  private async end(reason: RecordingStopReason, error?: string): Promise<RecordingResult> {
    const recorder = this.current!;
    this.current = null;
    this.attach(null);
    const bridgeId = this.owner.bridgeId;
    try {
      const result = await recorder.finish();
      this.owner.emit({ type: 'recording-stopped', bridgeId, reason, ...(error === undefined ? {} : { error }), ...result });
      return result;
    } catch (err) {
      if (recorder.opened) {
        this.owner.emit({ type: 'recording-stopped', bridgeId, reason: 'write-error', error: (err as Error).message, ...recorder.result });
      }
      throw err;
    }
  }
}
