/**
 * A bridge inside a worker: the two-party fast path. Up to two endpoints
 * ("legs"), and what passes between them: media from one goes to the other
 * as it arrives, through the codec step chosen for that direction (nothing
 * is decoded when both use the same codec); RTCP goes across rewritten. A
 * bridge with one endpoint is useful too: prompts and ringback play to a
 * caller before the callee answers. The bridge can also record the call, one
 * channel per leg.
 */
import { RecordingSlot } from '../recording/recording-slot.ts';
import type { LegConfig, LegStats, LegUpdate, MediaEvent, RecordingOptions, RecordingResult } from '../engine/control-messages.ts';
import { Endpoint } from '../endpoint/endpoint.ts';
import type { EndpointContainer } from '../endpoint/endpoint-container.ts';
import type { MediaClock } from '../engine/media-clock.ts';
import { createPayloadStep, type PayloadStep } from './payload-step.ts';

export class Bridge implements EndpointContainer {
  readonly kind = 'bridge' as const;
  readonly bridgeId: string;
  readonly clock: MediaClock;
  private readonly emitEvent: (event: MediaEvent) => void;
  private readonly rtcpIntervalMs: number;
  readonly dtlsCertificate: { certPem: string; keyPem: string } | null;
  private a: Endpoint | null = null;
  private b: Endpoint | null = null;
  /** Codec step for packets from `a` to `b`, and from `b` to `a`. */
  private stepAB: PayloadStep | null = null;
  private stepBA: PayloadStep | null = null;
  private readonly recording = new RecordingSlot(this, 2, () => this.attachRecording());
  private closed = false;

  constructor(
    bridgeId: string,
    clock: MediaClock,
    emit: (event: MediaEvent) => void,
    rtcpIntervalMs: number,
    dtlsCertificate: { certPem: string; keyPem: string } | null = null,
  ) {
    this.bridgeId = bridgeId;
    this.dtlsCertificate = dtlsCertificate;
    this.clock = clock;
    this.emitEvent = emit;
    this.rtcpIntervalMs = rtcpIntervalMs;
  }

  get endpointCount(): number {
    return (this.a ? 1 : 0) + (this.b ? 1 : 0);
  }

  canTake(id: string): string | null {
    if (this.closed) return `bridge ${this.bridgeId} is closed`;
    if (this.findLeg(id)) return `bridge ${this.bridgeId} already has a leg ${id}`;
    if (this.a && this.b) return `bridge ${this.bridgeId} already joins two legs`;
    return null;
  }

  async addEndpoint(config: LegConfig): Promise<void> {
    const refused = this.canTake(config.legId);
    if (refused) throw new Error(refused);
    const leg = await Endpoint.open(config, this, this.rtcpIntervalMs);
    // Closed, or filled by a move, while the sockets opened.
    const late = this.canTake(config.legId);
    if (late) {
      leg.close();
      throw new Error(late);
    }
    this.place(leg);
  }

  take(endpoint: Endpoint, id: string): void {
    const refused = this.canTake(id);
    if (refused) throw new Error(refused);
    endpoint.moveTo(this, id);
    this.place(endpoint);
  }

  private place(leg: Endpoint): void {
    if (!this.a) this.a = leg;
    else this.b = leg;
    this.chooseSteps();
    this.attachRecording();
  }

  release(id: string): Endpoint {
    const leg = this.endpoint(id);
    leg.record(null);
    if (this.a === leg) this.a = null;
    else this.b = null;
    this.chooseSteps();
    return leg;
  }

  updateEndpoint(legId: string, update: LegUpdate): void {
    this.endpoint(legId).update(update);
    if (update.codec) this.chooseSteps();
  }

  removeEndpoint(legId: string): void {
    this.release(legId).close();
  }

  endpoint(legId: string): Endpoint {
    const leg = this.findLeg(legId);
    if (!leg) throw new Error(`bridge ${this.bridgeId} has no leg ${legId}`);
    return leg;
  }

  private findLeg(legId: string): Endpoint | null {
    if (this.a?.legId === legId) return this.a;
    if (this.b?.legId === legId) return this.b;
    return null;
  }

  private chooseSteps(): void {
    this.stepAB = this.a && this.b ? createPayloadStep(this.a.codec, this.b.codec) : null;
    this.stepBA = this.a && this.b ? createPayloadStep(this.b.codec, this.a.codec) : null;
  }

  relayRtp(from: Endpoint, packet: Buffer, payloadOffset: number, payloadLength: number, length: number, isEvent: boolean, nowMs: number): void {
    if (from === this.a) this.b?.sendRelayed(packet, payloadOffset, payloadLength, length, isEvent, this.stepAB, nowMs);
    else this.a?.sendRelayed(packet, payloadOffset, payloadLength, length, isEvent, this.stepBA, nowMs);
  }

  relayRtcp(from: Endpoint, packet: Buffer, length: number, nowMs: number): void {
    const to = from === this.a ? this.b : this.a;
    to?.sendForwardedRtcp(packet, length, from, nowMs);
  }

  emit(event: MediaEvent): void {
    this.emitEvent(event);
  }

  /**
   * Starts recording what each leg sends into the bridge: the first leg on
   * channel 1, the second on channel 2. A leg that joins later records from
   * then on; a leg that is missing, muted or on hold records silence.
   */
  async startRecording(path: string, options: RecordingOptions): Promise<void> {
    if (this.closed) throw new Error(`bridge ${this.bridgeId} is closed`);
    await this.recording.start(path, options);
  }

  stopRecording(): Promise<RecordingResult> {
    return this.recording.stop();
  }

  private attachRecording(): void {
    const channels = this.recording.recorder?.channels;
    this.a?.record(channels?.[0] ?? null);
    this.b?.record(channels?.[1] ?? null);
  }

  *allEndpoints(): Iterable<Endpoint> {
    if (this.a) yield this.a;
    if (this.b) yield this.b;
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

  /** Closes the legs, then finalizes a recording still running. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.a?.close();
    this.b?.close();
    this.a = null;
    this.b = null;
    await this.recording.close();
  }
}
