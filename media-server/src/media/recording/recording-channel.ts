/**
 * One side of a call recording. Each decoded packet is placed on the
 * recording's timeline by its RTP timestamp, and the recorder takes one
 * 20 ms frame per tick of the media clock, whatever arrived: a lost packet
 * leaves silence where it belonged instead of pulling the rest of that side
 * earlier, and a side that sends nothing (hold, mute, no leg yet) records
 * silence, so the two channels of the file stay aligned in time.
 */
export const RECORDING_SAMPLE_RATE = 8000;
export const RECORDING_FRAME_SAMPLES = RECORDING_SAMPLE_RATE / 50;

/**
 * How far ahead of the frame being taken a stream lands when it starts or
 * restarts: packets may then arrive 80–100 ms later than the first one did
 * (network and scheduling jitter) and still be on time. A recording is not
 * interactive, so the recorder hides the delay: it skips the first frames,
 * silent by construction, and drains as many at the end.
 */
export const RECORDING_DELAY_FRAMES = 5;

const FRAME = RECORDING_FRAME_SAMPLES;
const PLAYOUT_DELAY = RECORDING_DELAY_FRAMES * FRAME;
/**
 * A stream whose packets land further ahead than this runs fast against the
 * media clock (or its first packet was held up): it starts over rather than
 * drift further from the other side.
 */
const MAX_LEAD = 16 * FRAME;
/**
 * A packet at most this far after the stream's newest one continues it. Such packets may pile up
 * beyond MAX_LEAD when the process stalled (the recorder catches up its missed frames at its next tick,
 * which can come after the packets that arrived during the stall): they are kept while the ring holds
 * them, instead of starting over and wiping audio that did arrive.
 */
const CONTINUES = 3 * FRAME;
/** 640 ms: the lead plus packets up to 240 ms long. */
const RING_SAMPLES = 32 * FRAME;

export class RecordingChannel {
  private readonly ring = new Int16Array(RING_SAMPLES);
  /** Timeline position (samples since the recording started) of the next frame the recorder takes. */
  private cursor = 0;
  private ssrc = -1;
  /** RTP timestamp and timeline position of the newest packet of the current stream. */
  private newestTimestamp = 0;
  private newestPosition = 0;

  /** Samples taken (or skipped) so far. */
  get position(): number {
    return this.cursor;
  }

  /** Places `count` decoded samples (8 kHz) of the packet with this SSRC and RTP timestamp. */
  write(ssrc: number, timestamp: number, pcm: Int16Array, count: number): void {
    if (count > RING_SAMPLES - PLAYOUT_DELAY) count = RING_SAMPLES - PLAYOUT_DELAY;
    const ahead = (timestamp - this.newestTimestamp) | 0;
    let position = this.newestPosition + ahead;
    const sameStream = ssrc === this.ssrc;
    // A reordered packet that comes after its frame was written has nowhere to go.
    if (sameStream && ahead <= 0 && position < this.cursor) return;
    const continues = sameStream && ahead > 0 && ahead <= CONTINUES;
    if (!sameStream || position < this.cursor || (!continues && position - this.cursor > MAX_LEAD) || position + count > this.cursor + RING_SAMPLES) {
      // A new source, a sender that fell behind (or paused without advancing
      // its timestamps) or ran ahead, or a jump: the stream starts over here.
      position = this.cursor + PLAYOUT_DELAY;
      this.clearFrom(position);
      this.ssrc = ssrc;
      this.newestTimestamp = timestamp;
      this.newestPosition = position;
    } else if (ahead > 0) {
      this.newestTimestamp = timestamp;
      this.newestPosition = position;
    }
    const ring = this.ring;
    let at = position % RING_SAMPLES;
    for (let i = 0; i < count; i++) {
      ring[at] = pcm[i]!;
      if (++at === RING_SAMPLES) at = 0;
    }
  }

  /**
   * Takes the next 20 ms frame into `out`, every `stride`-th sample from
   * `offset` (stride 2 interleaves it with the other channel), and leaves
   * silence behind for the next turn of the ring.
   */
  readFrame(out: Int16Array, offset: number, stride: number): void {
    const ring = this.ring;
    // The ring is whole frames and the cursor moves by frames: a frame never wraps.
    const at = this.cursor % RING_SAMPLES;
    for (let i = 0; i < FRAME; i++) {
      out[offset + i * stride] = ring[at + i]!;
      ring[at + i] = 0;
    }
    this.cursor += FRAME;
  }

  /** Moves on one frame without taking it. */
  skipFrame(): void {
    this.ring.fill(0, this.cursor % RING_SAMPLES, (this.cursor % RING_SAMPLES) + FRAME);
    this.cursor += FRAME;
  }

  /** Silences what an abandoned timeline had placed from `position` on. */
  private clearFrom(position: number): void {
    const ring = this.ring;
    let at = position % RING_SAMPLES;
    for (let n = this.cursor + RING_SAMPLES - position; n > 0; n--) {
      ring[at] = 0;
      if (++at === RING_SAMPLES) at = 0;
    }
  }
}
