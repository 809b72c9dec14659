/**
 * A room inside a worker: N endpoints on the worker's 20 ms media clock,
 * mixed the way a large conference needs (issue 16), so that a member who
 * is not talking costs a table lookup per packet and a send per tick.
 *
 * Each packet in: its level is read (the RFC 6464 header extension when the
 * member negotiated one, else the energy of the G.711 payload through a
 * lookup table: audio-level.ts) and its payload is copied, still encoded,
 * into the member's jitter buffer (jitter-buffer.ts). Nothing is decoded.
 * Each tick:
 * 1. the talkers are chosen: the loudest few (3 by default), with
 *    hysteresis (talker-selector.ts);
 * 2. only the talkers are decoded, from their jitter buffers, a lost packet
 *    concealed by repeating the last frame at half the level each time
 *    (silence after three); the other members' buffers keep only their
 *    newest packet, so a member who starts talking is heard at once, with
 *    the usual 20–40 ms cushion;
 * 3. each talker gets its own N−1 mix (the other talkers), encoded for it;
 * 4. every other member gets the one shared mix of all the talkers, encoded
 *    once per codec and sent to all the listeners of that codec: each
 *    listener's packet differs only in its RTP header, and its SRTP.
 * Mixing is at 8 kHz. Opus members (browsers, 48 kHz) are resampled on the
 * way in (talkers only) and out (a talker's own mix; the shared mix once,
 * through the room's one shared Opus encoder). An Opus member's level comes
 * from its RFC 6464 header extension only (browsers send it): without one it
 * is never chosen as a talker, since its payload cannot be measured without
 * decoding it.
 * A muted or listen-only endpoint (direction sendonly) drops its packets
 * itself after reading their header, so the room never sees them.
 * A member may be given the members it hears (`setHears`; call monitoring:
 * a monitored call's two parties hear each other and not the monitor who
 * listens). Such a member gets its own mix of the talkers it hears, encoded
 * for it alone, instead of its N−1 mix or the shared one; everyone else is
 * mixed as above (a member heard by nobody is still a talker, for those who
 * hear everyone).
 * The room can record its shared mix (every talker, so every voice heard in
 * it) to a mono WAV: the mix is the one the listeners hear, taken once per
 * tick (`startRecording`; a conference's `*9`).
 * RTCP ends here: every endpoint sends its own reports (see Endpoint.housekeeping).
 */
import { Endpoint } from '../endpoint/endpoint.ts';
import type { EndpointContainer } from '../endpoint/endpoint-container.ts';
import type { LegConfig, LegStats, LegUpdate, MediaEvent, MixerStats, RecordingOptions, RecordingResult, RoomOptions } from '../engine/control-messages.ts';
import { RecordingSlot } from '../recording/recording-slot.ts';
import type { MediaClock } from '../engine/media-clock.ts';
import type { AudioCodec } from '../codecs/audio-codec.ts';
import { OpusCodec, OPUS_FRAME_SAMPLES } from '../codecs/opus-codec.ts';
import { Resampler } from '../codecs/resampler.ts';
import { energyTableOf, g711Level, readAudioLevel, SILENT_LEVEL } from './audio-level.ts';
import { JitterBuffer, MAX_PAYLOAD_BYTES, PREBUFFER_PACKETS } from './jitter-buffer.ts';
import { FrameBuffer, mixMinusOne, MIX_FRAME_SAMPLES, MIX_SAMPLE_RATE } from './mix-minus-one.ts';
import { checkTalkers, DEFAULT_TALKERS, newTalkerCandidate, TalkerSelector, type TalkerCandidate } from './talker-selector.ts';

/** Endpoints in one room (issue 16: a conference of up to 1,000). */
export const MAX_ROOM_ENDPOINTS = 1000;
/** Histogram buckets (1 ms each) for the mix delay and the tick's duration. */
const DELAY_BUCKETS = 256;
/**
 * Ticks a talker's buffer may hold more than its one packet of cushion
 * (after the tick's packet was taken) before the oldest is skipped: a burst
 * or a sender's fast clock must not add latency for good.
 */
const EXCESS_TICKS = 25;
/** Consecutive lost packets concealed before a talker goes silent. */
const MAX_CONCEALED = 3;
/** The mix's own stream in a recording's channel (placed by a timestamp that advances one frame per tick). */
const MIX_SSRC = 0x6d697821;

interface Member extends TalkerCandidate {
  endpoint: Endpoint;
  jitter: JitterBuffer;
  /** Decoded audio of a talker, waiting to be mixed a frame at a time (packets may hold more than 20 ms). */
  input: FrameBuffer;
  /** This tick's frame from the member, when it is a talker and had one. */
  frame: Int16Array;
  /** The last frame decoded, for concealment; allocated when the member first talks. */
  last: Int16Array | null;
  active: boolean;
  /** Playout is running (it waits for the jitter cushion to start again after running dry). */
  playing: boolean;
  concealedRun: number;
  /** Consecutive ticks its buffer held more than the cushion. */
  excessTicks: number;
  decoded: number;
  /** For a wideband (Opus) talker: its audio down to the mixing rate, and its own mix back up. */
  wide: { down: Resampler; up: Resampler } | null;
  /** The ids of the members it hears; null: everyone (the usual N−1 or shared mix). */
  hears: Set<string> | null;
}

/** One codec's encoding of the shared mix in this tick. */
interface SharedEncoding {
  tick: number;
  length: number;
  payload: Uint8Array;
  /** This tick's encoding: `payload` cut to `length`, made once per tick rather than once per listener. */
  view: Uint8Array;
  /** RTP timestamp units of one frame in this codec. */
  duration: number;
  /** Encodes the 8 kHz frame into `payload`; returns its length. */
  encode(pcm: Int16Array): number;
}

/** Samples of one 20 ms frame at the widest rate a member may use (Opus, 48 kHz), with room for 60 ms packets. */
const WIDE_SAMPLES = OPUS_FRAME_SAMPLES * 3;

export class Room implements EndpointContainer {
  readonly kind = 'room' as const;
  readonly bridgeId: string;
  readonly clock: MediaClock;
  readonly dtlsCertificate: { certPem: string; keyPem: string } | null;
  private readonly emitEvent: (event: MediaEvent) => void;
  private readonly rtcpIntervalMs: number;
  private readonly members = new Map<string, Member>();
  private readonly byEndpoint = new Map<Endpoint, Member>();
  private readonly selector: TalkerSelector<Member>;
  private readonly decoded = new Int16Array(WIDE_SAMPLES);
  private readonly wide = new Int16Array(WIDE_SAMPLES);
  private readonly total = new Int32Array(MIX_FRAME_SAMPLES);
  private readonly out = new Int16Array(MIX_FRAME_SAMPLES);
  private readonly shared = new Int16Array(MIX_FRAME_SAMPLES);
  private readonly sharedEncodings = new Map<string, SharedEncoding>();
  private readonly counters = {
    ticks: 0,
    packetsIn: 0,
    levelsFromHeader: 0,
    levelsFromPayload: 0,
    decodedPackets: 0,
    concealedFrames: 0,
    talkerEncodes: 0,
    sharedPackets: 0,
  };
  private readonly sharedEncodes: Record<string, number> = {};
  /** Talker packet in → mixed: 1 ms buckets, the last one for anything longer. */
  private readonly mixDelays = new Uint32Array(DELAY_BUCKETS);
  /** How long each tick's work took (choosing, decoding, mixing, encoding, sending): 1 ms buckets. */
  private readonly tickDurations = new Uint32Array(DELAY_BUCKETS);
  /** When this tick started (monotonic ms), for the mix delays. */
  private tickStartMs = 0;
  /** Late or skipped packets of members who have left, so the total stays whole. */
  private lateOrSkippedOfGone = 0;
  private onClock = false;
  private closed = false;
  /** The mix's recording, while one runs (mono: the shared mix). */
  private readonly recording = new RecordingSlot(this, 1, () => undefined);
  /** Timestamp of the mix in the recording's timeline: one frame per tick. */
  private mixTimestamp = 0;

  constructor(
    roomId: string,
    clock: MediaClock,
    emit: (event: MediaEvent) => void,
    rtcpIntervalMs: number,
    dtlsCertificate: { certPem: string; keyPem: string } | null = null,
    options: RoomOptions = {},
  ) {
    this.bridgeId = roomId;
    this.clock = clock;
    this.emitEvent = emit;
    this.rtcpIntervalMs = rtcpIntervalMs;
    this.dtlsCertificate = dtlsCertificate;
    this.selector = new TalkerSelector(checkTalkers(options.talkers ?? DEFAULT_TALKERS));
  }

  get endpointCount(): number {
    return this.members.size;
  }

  canTake(id: string): string | null {
    if (this.closed) return `room ${this.bridgeId} is closed`;
    if (this.members.has(id)) return `room ${this.bridgeId} already has an endpoint ${id}`;
    if (this.members.size >= MAX_ROOM_ENDPOINTS) return `room ${this.bridgeId} is full (${MAX_ROOM_ENDPOINTS} endpoints)`;
    return null;
  }

  async addEndpoint(config: LegConfig): Promise<void> {
    const refused = this.canTake(config.legId) ?? refuseCodec(config.codec.name);
    if (refused) throw new Error(refused);
    const endpoint = await Endpoint.open(config, this, this.rtcpIntervalMs);
    const late = this.canTake(config.legId);
    if (late) {
      endpoint.close();
      throw new Error(late);
    }
    this.place(endpoint);
  }

  take(endpoint: Endpoint, id: string): void {
    const refused = this.canTake(id) ?? refuseCodec(endpoint.codec.name);
    if (refused) throw new Error(refused);
    endpoint.moveTo(this, id);
    this.place(endpoint);
  }

  private place(endpoint: Endpoint): void {
    const member: Member = {
      ...newTalkerCandidate(),
      endpoint,
      jitter: new JitterBuffer(),
      input: new FrameBuffer(),
      frame: new Int16Array(MIX_FRAME_SAMPLES),
      last: null,
      active: false,
      playing: false,
      concealedRun: 0,
      excessTicks: 0,
      decoded: 0,
      wide: null,
      hears: null,
    };
    this.members.set(endpoint.legId, member);
    this.byEndpoint.set(endpoint, member);
    if (!this.onClock) {
      this.onClock = true;
      this.clock.add(this.mix);
    }
  }

  release(id: string): Endpoint {
    const member = this.members.get(id);
    if (!member) throw new Error(`room ${this.bridgeId} has no endpoint ${id}`);
    this.members.delete(id);
    this.byEndpoint.delete(member.endpoint);
    this.lateOrSkippedOfGone += member.jitter.late + member.jitter.skipped;
    if (this.selector.remove(member)) this.emitTalkers();
    if (this.members.size === 0) this.leaveClock();
    return member.endpoint;
  }

  updateEndpoint(id: string, update: LegUpdate): void {
    if (update.codec) {
      const refused = refuseCodec(update.codec.name);
      if (refused) throw new Error(refused);
    }
    const member = this.members.get(id);
    this.endpoint(id).update(update);
    // A new stream (or none, when muted) starts its buffer over.
    if (member && (update.codec || update.direction || update.remote !== undefined)) {
      member.jitter.reset();
      member.input.clear();
      member.playing = false;
      member.wide = null;
    }
    // Muted (or on hold): out of the talkers at once, not after the hangover, and its level forgotten.
    if (member && (update.direction === 'sendonly' || update.direction === 'inactive')) {
      member.smooth = 0;
      member.lastHeard = 0;
      if (this.selector.remove(member)) {
        this.stopPlayout(member);
        this.emitTalkers();
      }
    }
  }

  removeEndpoint(id: string): void {
    this.release(id).close();
  }

  /**
   * Whom a member hears: the ids of other members (present or to come), or
   * null for everyone. Applies from the next tick; a member that leaves the
   * room takes its rule with it.
   */
  setHears(id: string, hears: readonly string[] | null): void {
    const member = this.members.get(id);
    if (!member) throw new Error(`room ${this.bridgeId} has no endpoint ${id}`);
    member.hears = hears ? new Set(hears) : null;
  }

  endpoint(id: string): Endpoint {
    const member = this.members.get(id);
    if (!member) throw new Error(`room ${this.bridgeId} has no endpoint ${id}`);
    return member.endpoint;
  }

  /** The hot path: a level and a copy per packet, never a decode (see the file's comment). */
  relayRtp(from: Endpoint, packet: Buffer, payloadOffset: number, payloadLength: number, _length: number, isEvent: boolean, nowMs: number): void {
    // Digits were reported by the endpoint; a room does not pass them on to everyone.
    if (isEvent) return;
    const member = this.byEndpoint.get(from);
    if (!member) return;
    this.counters.packetsIn++;
    let level = readAudioLevel(packet, payloadOffset, from.audioLevelExtensionId);
    if (level >= 0) {
      this.counters.levelsFromHeader++;
    } else {
      const table = energyTableOf(from.codec.name);
      if (table) {
        level = g711Level(table, packet, payloadOffset, payloadLength);
        this.counters.levelsFromPayload++;
      } else {
        level = SILENT_LEVEL;
      }
    }
    const loudness = SILENT_LEVEL - level;
    if (loudness > member.heard) member.heard = loudness;
    member.jitter.put((packet[2]! << 8) | packet[3]!, packet, payloadOffset, payloadLength, nowMs);
  }

  relayRtcp(): void {
    // Terminated here: there is no single "other side" to forward a report to.
  }

  emit(event: MediaEvent): void {
    this.emitEvent(event);
  }

  private readonly mix = (nowMs: number): void => {
    this.tickStartMs = performance.now();
    const tick = ++this.counters.ticks;
    const wasTalking = this.selector.talkers.slice();
    if (this.selector.tick(this.members.values())) {
      for (const m of wasTalking) if (!m.selected) this.stopPlayout(m);
      this.emitTalkers();
    }
    const talkers = this.selector.talkers;
    for (const t of talkers) t.active = this.playout(t);
    // Each talker: the other talkers (N−1), encoded in its own codec. `total` is then the sum of all of them.
    const total = this.total;
    mixMinusOne(talkers, total, this.out, (t, out) => {
      // A talker with its own rule gets its own mix below.
      if (t.hears) return;
      const codec = t.endpoint.codec;
      if (codec.sampleRate === MIX_SAMPLE_RATE) {
        t.endpoint.sendMixed(out, MIX_FRAME_SAMPLES, nowMs);
      } else {
        const n = this.wideOf(t, codec).up.process(out, MIX_FRAME_SAMPLES, this.wide);
        t.endpoint.sendMixed(this.wide, n, nowMs);
      }
      this.counters.talkerEncodes++;
    });
    for (let i = 0; i < MIX_FRAME_SAMPLES; i++) this.shared[i] = clip(total[i]!);
    this.recording.recorder?.channels[0]!.write(MIX_SSRC, this.mixTimestamp, this.shared, MIX_FRAME_SAMPLES);
    this.mixTimestamp = (this.mixTimestamp + MIX_FRAME_SAMPLES) >>> 0;
    for (const t of talkers) if (t.hears) this.sendHeard(t, talkers, nowMs);
    // Everyone else: the shared mix, encoded at most once per codec per tick.
    for (const m of this.members.values()) {
      if (m.selected) continue;
      // One packet kept: with the next tick's packet, the cushion a new talker starts with.
      m.jitter.trim(PREBUFFER_PACKETS - 1);
      if (m.hears) {
        this.sendHeard(m, talkers, nowMs);
        continue;
      }
      const codec = m.endpoint.codec;
      let encoding = this.sharedEncodings.get(codec.name);
      if (!encoding) {
        encoding = this.sharedEncodingFor(codec);
        this.sharedEncodings.set(codec.name, encoding);
      }
      if (encoding.tick !== tick) {
        encoding.tick = tick;
        encoding.length = encoding.encode(this.shared);
        encoding.view = encoding.payload.subarray(0, encoding.length);
        this.sharedEncodes[codec.name] = (this.sharedEncodes[codec.name] ?? 0) + 1;
      }
      m.endpoint.sendEncoded(encoding.view, encoding.length, encoding.duration, nowMs);
      this.counters.sharedPackets++;
    }
    this.tickDurations[Math.min(DELAY_BUCKETS - 1, Math.floor(performance.now() - this.tickStartMs))]!++;
  };

  /** A member with its own rule: the talkers it hears (never itself), encoded for it alone. */
  private sendHeard(m: Member, talkers: readonly Member[], nowMs: number): void {
    const hears = m.hears!;
    const out = this.out;
    out.fill(0);
    for (const t of talkers) {
      if (t === m || !t.active || !hears.has(t.endpoint.legId)) continue;
      for (let i = 0; i < MIX_FRAME_SAMPLES; i++) out[i] = clip(out[i]! + t.frame[i]!);
    }
    const codec = m.endpoint.codec;
    if (codec.sampleRate === MIX_SAMPLE_RATE) {
      m.endpoint.sendMixed(out, MIX_FRAME_SAMPLES, nowMs);
    } else {
      const n = this.wideOf(m, codec).up.process(out, MIX_FRAME_SAMPLES, this.wide);
      m.endpoint.sendMixed(this.wide, n, nowMs);
    }
    this.counters.talkerEncodes++;
  }

  /**
   * How the shared mix is encoded for one codec: G.711 is stateless and
   * encodes straight from the 8 kHz frame; Opus gets the room's own encoder
   * (one stream for all its Opus listeners) behind an 8 → 48 kHz resampler.
   */
  private sharedEncodingFor(codec: AudioCodec): SharedEncoding {
    const payload = new Uint8Array(MAX_PAYLOAD_BYTES);
    if (codec.sampleRate === MIX_SAMPLE_RATE) {
      return { tick: 0, length: 0, payload, view: payload, duration: MIX_FRAME_SAMPLES, encode: (pcm) => codec.encode(pcm, MIX_FRAME_SAMPLES, payload, 0) };
    }
    const encoder = new OpusCodec();
    const up = new Resampler(MIX_SAMPLE_RATE, encoder.sampleRate);
    const wide = new Int16Array(WIDE_SAMPLES);
    return {
      tick: 0,
      length: 0,
      payload,
      view: payload,
      duration: encoder.clockRate / 50,
      encode: (pcm) => encoder.encode(wide, up.process(pcm, MIX_FRAME_SAMPLES, wide), payload, 0),
    };
  }

  private wideOf(m: Member, codec: AudioCodec): { down: Resampler; up: Resampler } {
    m.wide ??= { down: new Resampler(codec.sampleRate, MIX_SAMPLE_RATE), up: new Resampler(MIX_SAMPLE_RATE, codec.sampleRate) };
    return m.wide;
  }

  /** The talker's next 20 ms frame into `t.frame`: decoded, or concealed; false when it has none. */
  private playout(t: Member): boolean {
    if (!t.playing) {
      if (!t.jitter.primed) return false;
      t.playing = true;
    }
    while (t.input.frames < 1) {
      const result = t.jitter.pop();
      if (result === 'packet') {
        const payload = t.jitter.payload;
        const codec = t.endpoint.codec;
        let n: number;
        if (codec.sampleRate === MIX_SAMPLE_RATE) {
          n = codec.decode(payload, 0, payload.length, this.decoded);
        } else {
          const wide = codec.decode(payload, 0, payload.length, this.wide);
          n = this.wideOf(t, codec).down.process(this.wide, wide, this.decoded);
        }
        t.decoded++;
        this.counters.decodedPackets++;
        this.mixDelays[Math.min(DELAY_BUCKETS - 1, Math.max(0, Math.floor(this.tickStartMs - t.jitter.arrivedMs)))]!++;
        t.input.write(this.decoded, n);
        t.last ??= new Int16Array(MIX_FRAME_SAMPLES);
        t.last.set(this.decoded.subarray(Math.max(0, n - MIX_FRAME_SAMPLES), n));
        t.concealedRun = 0;
      } else if (result === 'lost') {
        this.conceal(t);
      } else {
        // Ran dry: wait for a cushion again rather than flicker in and out.
        t.playing = false;
        return false;
      }
    }
    if (t.jitter.waiting >= PREBUFFER_PACKETS) {
      if (++t.excessTicks >= EXCESS_TICKS) {
        t.jitter.skipOldest();
        t.excessTicks = 0;
      }
    } else {
      t.excessTicks = 0;
    }
    return t.input.read(t.frame);
  }

  /** Packet loss concealment: the last frame again at half the level each time, then silence. */
  private conceal(t: Member): void {
    const frame = this.decoded;
    t.concealedRun++;
    const gain = t.last !== null && t.concealedRun <= MAX_CONCEALED ? 0.5 ** t.concealedRun : 0;
    for (let i = 0; i < MIX_FRAME_SAMPLES; i++) frame[i] = gain === 0 ? 0 : Math.round(t.last![i]! * gain);
    t.input.write(frame, MIX_FRAME_SAMPLES);
    this.counters.concealedFrames++;
  }

  private stopPlayout(m: Member): void {
    m.playing = false;
    m.active = false;
    m.input.clear();
  }

  private emitTalkers(): void {
    this.emitEvent({ type: 'talkers', bridgeId: this.bridgeId, legIds: this.selector.talkers.map((t) => t.endpoint.legId), tick: this.counters.ticks });
  }

  private leaveClock(): void {
    if (this.onClock) {
      this.onClock = false;
      this.clock.delete(this.mix);
    }
  }

  *allEndpoints(): Iterable<Endpoint> {
    for (const m of this.members.values()) yield m.endpoint;
  }

  housekeeping(nowMs: number): void {
    for (const m of this.members.values()) m.endpoint.housekeeping(nowMs);
  }

  stats(): LegStats[] {
    return [...this.members.values()].map((m) => m.endpoint.snapshot());
  }

  mixerStats(): MixerStats {
    const decodedByEndpoint: Record<string, number> = {};
    let lateOrSkipped = this.lateOrSkippedOfGone;
    for (const [id, m] of this.members) {
      decodedByEndpoint[id] = m.decoded;
      lateOrSkipped += m.jitter.late + m.jitter.skipped;
    }
    return {
      ...this.counters,
      talkers: this.selector.talkers.map((t) => t.endpoint.legId),
      decodedByEndpoint,
      lateOrSkippedPackets: lateOrSkipped,
      sharedEncodes: { ...this.sharedEncodes },
      mixDelayMs: percentiles(this.mixDelays),
      tickDurationMs: percentiles(this.tickDurations),
      mixDelayHistogram: [...this.mixDelays],
      tickDurationHistogram: [...this.tickDurations],
    };
  }

  /**
   * Records the shared mix (every talker, as the listeners hear it) into a new mono WAV at `path`,
   * 16-bit at 8 kHz (the mixing rate), until stopped or the room closes; prompts played to one
   * member are not in it. Bounded as a call's recording is (the WAV size limit).
   */
  async startRecording(path: string, options: RecordingOptions): Promise<void> {
    if (this.closed) throw new Error(`room ${this.bridgeId} is closed`);
    await this.recording.start(path, options);
  }

  stopRecording(): Promise<RecordingResult> {
    return this.recording.stop();
  }

  /** Closes every endpoint in the room, then finalizes a recording still running. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.leaveClock();
    for (const m of this.members.values()) m.endpoint.close();
    this.members.clear();
    this.byEndpoint.clear();
    await this.recording.close();
  }
}

/** p50 and p99 of a histogram of 1 ms buckets, as the bucket's upper edge. */
export function percentiles(histogram: ArrayLike<number>): { p50: number; p99: number; count: number } {
  let count = 0;
  for (let i = 0; i < histogram.length; i++) count += histogram[i]!;
  const at = (q: number): number => {
    let seen = 0;
    for (let i = 0; i < histogram.length; i++) {
      seen += histogram[i]!;
      if (seen >= q * count) return i + 1;
    }
    return histogram.length;
  };
  return count === 0 ? { p50: 0, p99: 0, count } : { p50: at(0.5), p99: at(0.99), count };
}

function clip(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

function refuseCodec(name: string): string | null {
  const upper = name.toUpperCase();
  return upper === 'PCMU' || upper === 'PCMA' || upper === 'OPUS' ? null : `a room mixes G.711 and Opus endpoints (not ${name})`;
}
