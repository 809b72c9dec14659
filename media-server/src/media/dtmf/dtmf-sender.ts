/**
 * The RFC 4733 packet sequence of one key press: a first packet with the
 * marker bit, an update every packet time with the duration so far, then the
 * end packet three times (§2.5.1.4), all with the event's start timestamp and
 * consecutive sequence numbers. The caller paces the calls to nextPacket(),
 * one per packet time.
 */
import { writeRtpHeader } from '../rtp/rtp-header.ts';
import { dtmfEventCode } from './dtmf-digits.ts';
import { TELEPHONE_EVENT_LENGTH, writeTelephoneEvent } from './telephone-event.ts';

export interface DtmfSenderOptions {
  digit: string;
  durationMs?: number;
  payloadType: number;
  ssrc: number;
  sequenceNumber: number;
  /** RTP timestamp of the event's start, shared by all of its packets. */
  timestamp: number;
  clockRate?: number;
  packetMs?: number;
  /** Power in −dBm0; 10 is a typical keypad level. */
  volume?: number;
}

const END_REPETITIONS = 3;
export const DTMF_PACKET_LENGTH = 12 + TELEPHONE_EVENT_LENGTH;

export class DtmfSender {
  private readonly event: number;
  private readonly totalDuration: number;
  private readonly step: number;
  private readonly options: DtmfSenderOptions;
  private sequenceNumber: number;
  private duration = 0;
  private endsSent = 0;
  private first = true;

  constructor(options: DtmfSenderOptions) {
    this.event = dtmfEventCode(options.digit);
    if (this.event < 0) throw new RangeError(`not a DTMF digit: ${JSON.stringify(options.digit)}`);
    const clockRate = options.clockRate ?? 8000;
    this.step = ((options.packetMs ?? 20) * clockRate) / 1000;
    // At least one packet time, and no more than the 16-bit duration field holds.
    this.totalDuration = Math.min(0xffff, Math.max(this.step, Math.round(((options.durationMs ?? 100) * clockRate) / 1000)));
    this.sequenceNumber = options.sequenceNumber & 0xffff;
    this.options = options;
  }

  get done(): boolean {
    return this.endsSent >= END_REPETITIONS;
  }

  /** Sequence number the packet after this event should use. */
  get nextSequenceNumber(): number {
    return this.sequenceNumber;
  }

  /** Writes the next packet at `out[offset]` and returns its length, or 0 once all were sent. */
  nextPacket(out: Uint8Array, offset = 0): number {
    if (this.done) return 0;
    const end = this.duration + this.step >= this.totalDuration;
    this.duration = end ? this.totalDuration : this.duration + this.step;
    if (end) this.endsSent++;
    const n = writeRtpHeader(
      out,
      {
        marker: this.first,
        payloadType: this.options.payloadType,
        sequenceNumber: this.sequenceNumber,
        timestamp: this.options.timestamp,
        ssrc: this.options.ssrc,
      },
      offset,
    );
    writeTelephoneEvent(out, { event: this.event, end, volume: this.options.volume ?? 10, duration: this.duration }, offset + n);
    this.first = false;
    this.sequenceNumber = (this.sequenceNumber + 1) & 0xffff;
    return DTMF_PACKET_LENGTH;
  }
}

/** The whole sequence at once, for signalling tests and tools; the relay paces a DtmfSender instead. */
export function buildDtmfPackets(options: DtmfSenderOptions): Buffer[] {
  const sender = new DtmfSender(options);
  const packets: Buffer[] = [];
  for (;;) {
    const buf = Buffer.alloc(DTMF_PACKET_LENGTH);
    if (sender.nextPacket(buf) === 0) return packets;
    packets.push(buf);
  }
}
