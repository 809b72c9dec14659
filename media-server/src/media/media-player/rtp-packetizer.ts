/**
 * Plays an encoded prompt as 20 ms RTP packets: consecutive sequence numbers,
 * the timestamp advancing by one frame per packet (also across a loop, which
 * is seamless), and the marker bit on the first packet, the start of a
 * talkspurt (RFC 3551 §4.1).
 */
import { writeRtpHeader } from '../rtp/rtp-header.ts';
import type { EncodedPrompt } from './encoded-prompt.ts';

export interface RtpPacketizerOptions {
  payloadType: number;
  ssrc: number;
  sequenceNumber?: number;
  timestamp?: number;
  loop?: boolean;
}

export class RtpPacketizer {
  readonly prompt: EncodedPrompt;
  private readonly options: RtpPacketizerOptions;
  private frame = 0;
  private sequenceNumber: number;
  private timestamp: number;
  private first = true;
  private finished = false;

  constructor(prompt: EncodedPrompt, options: RtpPacketizerOptions) {
    this.prompt = prompt;
    this.options = options;
    this.sequenceNumber = (options.sequenceNumber ?? 0) & 0xffff;
    this.timestamp = (options.timestamp ?? 0) >>> 0;
  }

  get done(): boolean {
    return this.finished;
  }

  /** Bytes a packet needs: header and one frame. */
  get packetLength(): number {
    return 12 + this.prompt.frameBytes;
  }

  /** Writes the next packet at `out[offset]`; returns its length, or 0 once a non-looping prompt has ended. */
  nextPacket(out: Uint8Array, offset = 0): number {
    if (this.finished) return 0;
    const { prompt } = this;
    const header = writeRtpHeader(
      out,
      {
        marker: this.first,
        payloadType: this.options.payloadType,
        sequenceNumber: this.sequenceNumber,
        timestamp: this.timestamp,
        ssrc: this.options.ssrc,
      },
      offset,
    );
    const start = this.frame * prompt.frameBytes;
    const data = prompt.data;
    const at = offset + header;
    // A plain loop: a subarray per packet would be an allocation on the hot path.
    for (let i = 0; i < prompt.frameBytes; i++) out[at + i] = data[start + i]!;
    this.first = false;
    this.sequenceNumber = (this.sequenceNumber + 1) & 0xffff;
    this.timestamp = (this.timestamp + prompt.frameTimestamp) >>> 0;
    this.frame++;
    if (this.frame === prompt.frames) {
      if (this.options.loop) this.frame = 0;
      else this.finished = true;
    }
    return header + prompt.frameBytes;
  }
}
