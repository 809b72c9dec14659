/**
 * A bridge inside a worker: up to two legs, and what passes between them.
 * Media from one leg goes to the other through the codec step chosen for
 * that direction; RTCP goes across rewritten. A bridge with one leg is
 * useful too: prompts and ringback play to a caller before the callee
 * answers.
 */
import type { LegConfig, LegStats, LegUpdate, MediaEvent } from './control-messages.ts';
import { Leg, type LegHost } from './leg.ts';
import type { MediaClock } from './media-clock.ts';
import { createPayloadStep, type PayloadStep } from './payload-step.ts';

export class Bridge implements LegHost {
  readonly bridgeId: string;
  readonly clock: MediaClock;
  private readonly emitEvent: (event: MediaEvent) => void;
  private readonly rtcpIntervalMs: number;
  private a: Leg | null = null;
  private b: Leg | null = null;
  /** Codec step for packets from `a` to `b`, and from `b` to `a`. */
  private stepAB: PayloadStep | null = null;
  private stepBA: PayloadStep | null = null;

  constructor(bridgeId: string, clock: MediaClock, emit: (event: MediaEvent) => void, rtcpIntervalMs: number) {
    this.bridgeId = bridgeId;
    this.clock = clock;
    this.emitEvent = emit;
    this.rtcpIntervalMs = rtcpIntervalMs;
  }

  get legCount(): number {
    return (this.a ? 1 : 0) + (this.b ? 1 : 0);
  }

  async addLeg(config: LegConfig): Promise<void> {
    if (this.findLeg(config.legId)) throw new Error(`bridge ${this.bridgeId} already has a leg ${config.legId}`);
    if (this.a && this.b) throw new Error(`bridge ${this.bridgeId} already joins two legs`);
    const leg = await Leg.open(config, this, this.rtcpIntervalMs);
    if (!this.a) this.a = leg;
    else this.b = leg;
    this.chooseSteps();
  }

  updateLeg(legId: string, update: LegUpdate): void {
    this.leg(legId).update(update);
    if (update.codec) this.chooseSteps();
  }

  removeLeg(legId: string): void {
    const leg = this.leg(legId);
    leg.close();
    if (this.a === leg) this.a = null;
    else this.b = null;
    this.chooseSteps();
  }

  leg(legId: string): Leg {
    const leg = this.findLeg(legId);
    if (!leg) throw new Error(`bridge ${this.bridgeId} has no leg ${legId}`);
    return leg;
  }

  private findLeg(legId: string): Leg | null {
    if (this.a?.legId === legId) return this.a;
    if (this.b?.legId === legId) return this.b;
    return null;
  }

  private chooseSteps(): void {
    this.stepAB = this.a && this.b ? createPayloadStep(this.a.codec, this.b.codec) : null;
    this.stepBA = this.a && this.b ? createPayloadStep(this.b.codec, this.a.codec) : null;
  }

  relayRtp(from: Leg, packet: Buffer, payloadOffset: number, payloadLength: number, length: number, isEvent: boolean, nowMs: number): void {
    if (from === this.a) this.b?.sendRelayed(packet, payloadOffset, payloadLength, length, isEvent, this.stepAB, nowMs);
    else this.a?.sendRelayed(packet, payloadOffset, payloadLength, length, isEvent, this.stepBA, nowMs);
  }

  relayRtcp(from: Leg, packet: Buffer, length: number, nowMs: number): void {
    const to = from === this.a ? this.b : this.a;
    to?.sendForwardedRtcp(packet, length, from, nowMs);
  }

  emit(event: MediaEvent): void {
    this.emitEvent(event);
  }

  housekeeping(nowMs: number): void {
    this.a?.housekeeping(nowMs);
    this.b?.housekeeping(nowMs);
  }

  stats(): LegStats[] {
    const out: LegStats[] = [];
    if (this.a) out.push(this.a.snapshot());
    if (this.b) out.push(this.b.snapshot());
    return out;
  }

  close(): void {
    this.a?.close();
    this.b?.close();
    this.a = null;
    this.b = null;
  }
}
