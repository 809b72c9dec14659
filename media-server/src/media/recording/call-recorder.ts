/**
 * A call recording inside a worker: a 16-bit PCM WAV at 8 kHz, stereo with
 * one channel per side of a bridge, or mono (a room's mix). Every tick of the
 * worker's media clock takes one 20 ms frame from each RecordingChannel
 * (silence when its source sent nothing), so the channels stay aligned with
 * each other and with the wall clock. Frames gather in a half-second buffer that is written to
 * disk asynchronously: a long call never sits in memory, and the disk never
 * stalls the relay. The header is written first with its sizes unknown and
 * patched when the recording ends, so a file cut short by a crash is still
 * readable to where it stops.
 */
import { mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import { dirname } from 'node:path';
import { WAV_HEADER_BYTES, wavHeader } from '../media-player/wav-file.ts';
import type { RecordingResult, RecordingStopReason } from '../engine/control-messages.ts';
import { FRAME_MS, type MediaClock } from '../engine/media-clock.ts';
import { RECORDING_DELAY_FRAMES, RECORDING_FRAME_SAMPLES, RECORDING_SAMPLE_RATE, RecordingChannel } from './recording-channel.ts';

/** Frames gathered per write: 0.5 s, 16 kB in stereo. */
const CHUNK_FRAMES = 25;
/** Writes a slow disk may fall behind by (8 s of audio) before the recording gives up rather than pile the call up in memory. */
const MAX_QUEUED_CHUNKS = 16;
/** Spare buffers kept for reuse once a slow write catches up. */
const MAX_SPARE_CHUNKS = 2;
/** RIFF sizes are 32-bit and count the 36 header bytes after the size field: the most whole frames of `frameBytes` a WAV holds. */
const maxDataBytes = (frameBytes: number) => Math.floor((0xffff_ffff - (WAV_HEADER_BYTES - 8)) / frameBytes) * frameBytes;
/** After the worker stalled, the frames it missed are written at once, up to 5 s; beyond that the timeline skips. */
const MAX_FRAMES_PER_TICK = 250;
const SIZE_UNKNOWN = 0xffff_ffff;
/** Samples are gathered in an Int16Array; WAV is little-endian whatever the machine is. */
const BIG_ENDIAN_HOST = os.endianness() === 'BE';

interface Chunk {
  samples: Int16Array;
  bytes: Buffer;
}

function newChunk(channels: number): Chunk {
  const samples = new Int16Array(CHUNK_FRAMES * RECORDING_FRAME_SAMPLES * channels);
  return { samples, bytes: Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength) };
}

async function writeAll(file: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  for (let done = 0; done < length; ) {
    const { bytesWritten } = await file.write(buf, done, length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`write made no progress at byte ${position + done}`);
    done += bytesWritten;
  }
}

export type RecorderFailure = Extract<RecordingStopReason, 'size-limit' | 'write-error'>;

export class CallRecorder {
  readonly path: string;
  /** Stereo: channel 1 records the bridge's first leg, channel 2 its second; mono: one (a room's mix). */
  readonly channels: readonly RecordingChannel[];
  private readonly frameBytes: number;
  private readonly maxDataBytes: number;
  private readonly clock: MediaClock;
  private readonly onFailure: (reason: RecorderFailure, message: string) => void;
  private file: FileHandle | null = null;
  private opening: Promise<void> | null = null;
  private finishing: Promise<RecordingResult> | null = null;
  private chunk: Chunk;
  private readonly spare: Chunk[] = [];
  /** Samples (both channels) in the current chunk. */
  private filled = 0;
  /** Media clock frames since the start: the file's length once it is finished. */
  private ticks = 0;
  /** Data bytes handed to writes, and those the disk took. */
  private queuedBytes = 0;
  private writtenBytes = 0;
  private queuedChunks = 0;
  private writes: Promise<void> = Promise.resolve();
  private writeError: Error | null = null;
  private failureReported = false;
  private startMs = Number.NaN;

  /** `onFailure` asks the owner to end the recording: the file hit the WAV size limit, or the disk failed. */
  constructor(path: string, clock: MediaClock, onFailure: (reason: RecorderFailure, message: string) => void, channels: 1 | 2 = 2) {
    this.path = path;
    this.channels = Array.from({ length: channels }, () => new RecordingChannel());
    this.frameBytes = RECORDING_FRAME_SAMPLES * channels * 2;
    this.maxDataBytes = maxDataBytes(this.frameBytes);
    this.chunk = newChunk(channels);
    this.clock = clock;
    this.onFailure = onFailure;
  }

  /** Whether the file was created (an ended recording then has a file to show for it). */
  get opened(): boolean {
    return this.file !== null;
  }

  /** What is in the file so far. */
  get result(): RecordingResult {
    return { path: this.path, durationMs: (this.writtenBytes / this.frameBytes) * FRAME_MS, bytes: WAV_HEADER_BYTES + this.writtenBytes };
  }

  /**
   * Creates the file (never over an existing one: a recording is not
   * silently replaced) and starts taking frames.
   */
  async start(): Promise<void> {
    this.opening ??= this.openFile();
    await this.opening;
    if (!this.finishing) this.clock.add(this.onFrame);
  }

  /** Stops taking frames, writes what is buffered, patches the header and closes the file. Idempotent. */
  finish(): Promise<RecordingResult> {
    this.finishing ??= this.close();
    return this.finishing;
  }

  private async openFile(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const file = await open(this.path, 'wx');
    try {
      await writeAll(file, wavHeader(RECORDING_SAMPLE_RATE, this.channels.length, SIZE_UNKNOWN), WAV_HEADER_BYTES, 0);
    } catch (err) {
      await file.close().catch(() => undefined);
      await unlink(this.path).catch(() => undefined);
      throw err;
    }
    this.file = file;
  }

  private readonly onFrame = (nowMs: number): void => {
    if (Number.isNaN(this.startMs)) this.startMs = nowMs;
    let due = Math.round((nowMs - this.startMs) / FRAME_MS) + 1 - this.ticks;
    if (due > MAX_FRAMES_PER_TICK) {
      this.startMs += (due - MAX_FRAMES_PER_TICK) * FRAME_MS;
      due = MAX_FRAMES_PER_TICK;
    }
    for (; due > 0; due--) {
      // The first frames precede anything the channels can hold (their playout delay): not written.
      if (this.ticks < RECORDING_DELAY_FRAMES) {
        for (const channel of this.channels) channel.skipFrame();
      } else if (!this.takeFrame()) {
        return;
      }
      this.ticks++;
    }
  };

  /** Appends one frame (every channel, interleaved); false once the file is as large as a WAV can be. */
  private takeFrame(): boolean {
    if (this.queuedBytes + this.filled * 2 + this.frameBytes > this.maxDataBytes) {
      this.fail('size-limit', `${this.path} reached the 4 GiB size limit of a WAV file`);
      return false;
    }
    const samples = this.chunk.samples;
    const stride = this.channels.length;
    for (let c = 0; c < stride; c++) this.channels[c]!.readFrame(samples, this.filled + c, stride);
    this.filled += RECORDING_FRAME_SAMPLES * stride;
    if (this.filled === samples.length) this.flush();
    return true;
  }

  /** Hands the current chunk to the write queue and continues in a spare one. */
  private flush(): void {
    if (this.filled === 0 || this.writeError) return;
    const chunk = this.chunk;
    const length = this.filled * 2;
    const position = WAV_HEADER_BYTES + this.queuedBytes;
    this.chunk = this.spare.pop() ?? newChunk(this.channels.length);
    this.filled = 0;
    this.queuedBytes += length;
    if (BIG_ENDIAN_HOST) chunk.bytes.swap16();
    if (++this.queuedChunks > MAX_QUEUED_CHUNKS) {
      this.fail('write-error', `writes to ${this.path} fell more than ${(MAX_QUEUED_CHUNKS * CHUNK_FRAMES * FRAME_MS) / 1000} s behind`);
    }
    this.writes = this.writes.then(async () => {
      try {
        if (this.writeError) return;
        await writeAll(this.file!, chunk.bytes, length, position);
        this.writtenBytes += length;
      } catch (err) {
        this.writeError = new Error(`writing ${this.path}: ${(err as Error).message}`);
        this.fail('write-error', this.writeError.message);
      } finally {
        this.queuedChunks--;
        if (this.spare.length < MAX_SPARE_CHUNKS) this.spare.push(chunk);
      }
    });
  }

  private fail(reason: RecorderFailure, message: string): void {
    this.clock.delete(this.onFrame);
    if (this.failureReported || this.finishing) return;
    this.failureReported = true;
    this.onFailure(reason, message);
  }

  private async close(): Promise<RecordingResult> {
    this.clock.delete(this.onFrame);
    // A recording stopped while its file was being created ends once it exists, empty.
    await (this.opening ?? this.start());
    const file = this.file!;
    try {
      // What arrived in the last moments still sits in the channels' playout delay.
      for (let i = Math.min(this.ticks, RECORDING_DELAY_FRAMES); i > 0; i--) {
        if (!this.takeFrame()) break;
      }
      this.flush();
      await this.writes;
      await writeAll(file, wavHeader(RECORDING_SAMPLE_RATE, this.channels.length, this.writtenBytes), WAV_HEADER_BYTES, 0);
    } finally {
      await file.close();
    }
    // The header matches what reached the disk, but the caller must know the end is missing.
    if (this.writeError) throw this.writeError;
    return this.result;
  }
}
