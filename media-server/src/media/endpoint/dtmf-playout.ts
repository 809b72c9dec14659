/**
 * Digits a leg was asked to send, one 20 ms frame at a time: as RFC 4733
 * events when the peer negotiated telephone-event, otherwise as in-band
 * tones in the leg's codec (Q.23 pairs at about −7 dBm0 each, as keypads
 * send them). A pause of 60 ms separates digits; in-band, the pause is sent
 * as silence, or the far end's loss concealment could stretch the tone over it.
 */
import type { AudioCodec } from '../codecs/audio-codec.ts';
import { ToneGenerator } from '../audio/tone-generator.ts';
import { DtmfSender } from '../dtmf/dtmf-sender.ts';
import { dtmfFrequencies, type DtmfDigit } from '../dtmf/dtmf-digits.ts';
import { writeRtpHeader } from '../rtp/rtp-header.ts';

const GAP_FRAMES = 3;
const FRAME_SAMPLES = 160;
const TONE_AMPLITUDE = 7000;

type InbandMode = { kind: 'inband'; codec: AudioCodec; payloadType: number };
export type DtmfPlayoutMode = { kind: 'rfc4733'; payloadType: number } | InbandMode;

export class DtmfPlayout {
  readonly digits: string;
  private readonly mode: DtmfPlayoutMode;
  private readonly durationMs: number;
  private index = 0;
  private sender: DtmfSender | null = null;
  private tone: ToneGenerator | null = null;
  private toneFramesLeft = 0;
  private gapLeft = 0;
  private sequenceNumber = 0;
  private timestamp = 0;
  private readonly pcm = new Int16Array(FRAME_SAMPLES);
  /** True when the packet just written starts a new event, so the stream re-anchors. */
  startsEvent = false;

  constructor(digits: string, durationMs: number, mode: DtmfPlayoutMode) {
    this.digits = digits;
    this.durationMs = Math.max(40, durationMs);
    this.mode = mode;
  }

  /**
   * Writes the packet for this frame into `out` and returns its length, 0
   * for a frame with nothing to send (the pause between digits), or -1 once
   * every digit was sent.
   */
  nextFrame(out: Uint8Array): number {
    this.startsEvent = false;
    if (this.gapLeft > 0) {
      this.gapLeft--;
      if (this.mode.kind === 'rfc4733') return 0;
      this.pcm.fill(0);
      return this.writeAudio(out, this.mode);
    }
    if (!this.sender && !this.tone) {
      if (this.index >= this.digits.length) return -1;
      this.begin(this.digits[this.index++] as DtmfDigit);
    }
    return this.sender ? this.nextEvent(out) : this.nextTone(out);
  }

  private begin(digit: DtmfDigit): void {
    this.startsEvent = true;
    if (this.mode.kind === 'rfc4733') {
      this.sender = new DtmfSender({
        digit,
        durationMs: this.durationMs,
        payloadType: this.mode.payloadType,
        ssrc: 0,
        sequenceNumber: this.sequenceNumber,
        timestamp: this.timestamp,
      });
    } else {
      this.tone = new ToneGenerator(dtmfFrequencies(digit), TONE_AMPLITUDE);
      this.toneFramesLeft = Math.round(this.durationMs / 20);
    }
  }

  private nextEvent(out: Uint8Array): number {
    const n = this.sender!.nextPacket(out);
    this.sequenceNumber = this.sender!.nextSequenceNumber;
    if (this.sender!.done) this.finishDigit();
    return n;
  }

  private nextTone(out: Uint8Array): number {
    this.tone!.fill(this.pcm);
    const n = this.writeAudio(out, this.mode as InbandMode);
    if (--this.toneFramesLeft <= 0) this.finishDigit();
    return n;
  }

  private writeAudio(out: Uint8Array, mode: InbandMode): number {
    const header = writeRtpHeader(out, {
      marker: this.startsEvent,
      payloadType: mode.payloadType,
      sequenceNumber: this.sequenceNumber,
      timestamp: this.timestamp,
      ssrc: 0,
    });
    const n = mode.codec.encode(this.pcm, FRAME_SAMPLES, out, header);
    this.sequenceNumber = (this.sequenceNumber + 1) & 0xffff;
    this.timestamp = (this.timestamp + FRAME_SAMPLES) >>> 0;
    return header + n;
  }

  private finishDigit(): void {
    this.sender = null;
    this.tone = null;
    this.gapLeft = GAP_FRAMES;
    // An RFC 4733 event keeps its start timestamp throughout: the next one starts after it and the pause.
    if (this.mode.kind === 'rfc4733') this.timestamp = (this.timestamp + ((this.durationMs + GAP_FRAMES * 20) * 8000) / 1000) >>> 0;
  }
}
