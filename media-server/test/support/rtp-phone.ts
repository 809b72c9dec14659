import dgram from 'node:dgram';
import { blockEnergy, goertzelAmplitude } from '../../src/media/audio/goertzel.ts';
import { generateTone } from '../../src/media/audio/tone-generator.ts';
import { pcmaDecodeSample, pcmaEncode } from '../../src/media/codecs/g711.ts';
import { freeMediaPort } from './sipp.ts';

/** PCMA and RFC 4733 events, as the SIPp scenarios' SDP offers them (uac-listen-until-bye.xml: `m=audio [$rtpport] RTP/AVP 8 101`). */
const PCMA_PT = 8;
const EVENT_PT = 101;
const FRAME = 160;

/**
 * The media side of a SIPp phone whose SDP names this socket (SIPp does the signalling, the test
 * the media): one RTP stream of PCMA every 20 ms, a tone of its own frequency or silence, and
 * keys as RFC 4733 events in the same stream (same SSRC, sequence and clock: an endpoint starts
 * its event detection over when the SSRC changes). It sends where the media comes from (symmetric
 * RTP), once something has come. What it hears is decoded and kept with its arrival time.
 */
export class RtpPhone {
  readonly port: number;
  /** What it sends: a tone in Hz, or silence. */
  tone: number | null;
  private readonly socket: dgram.Socket;
  private readonly heard: { at: number; samples: Int16Array }[] = [];
  private remote: { address: string; port: number } | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly ssrc = Math.floor(Math.random() * 0xffffffff) >>> 0;
  private seq = Math.floor(Math.random() * 0xffff);
  private timestamp = Math.floor(Math.random() * 0xffffffff) >>> 0;
  private phase = 0;
  private readonly keys: string[] = [];
  /** The event being sent: its key, and how many of its packets are out. */
  private event: { code: number; sent: number; timestamp: number } | null = null;

  private constructor(socket: dgram.Socket, port: number, tone: number | null) {
    this.socket = socket;
    this.port = port;
    this.tone = tone;
    socket.on('message', (packet, from) => this.receive(packet, from));
    this.timer = setInterval(() => this.tick(), 20);
  }

  static async open(tone: number | null = null): Promise<RtpPhone> {
    const socket = dgram.createSocket('udp4');
    const port = await freeMediaPort();
    await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
    return new RtpPhone(socket, port, tone);
  }

  /** Presses keys: each an RFC 4733 event of 6 packets (3 growing, 3 ends, §2.5.1.4), then 100 ms of audio before the next. */
  press(keys: string): void {
    this.keys.push(...keys);
  }

  /**
   * Presses `keys` once it has heard `samples` samples (a prompt reached it), within `timeoutMs`:
   * resolves with when it pressed them (Date.now()), or null when it never heard that much.
   */
  async pressOnceHeard(samples: number, keys: string, timeoutMs = 60_000): Promise<number | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.heardSince(0).length < samples) {
      if (Date.now() > deadline) return null;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    this.press(keys);
    return Date.now();
  }

  /** Whether every key pressed so far has been sent. */
  get keysSent(): boolean {
    return this.keys.length === 0 && this.event === null;
  }

  /** Whether media has arrived (so it knows where to send). */
  get connected(): boolean {
    return this.remote !== null;
  }

  /** What it heard since `since` (ms, Date.now()) and before `before`, decoded, in arrival order. */
  heardSince(since: number, before = Infinity): Int16Array {
    const chunks = this.heard.filter((h) => h.at >= since && h.at < before);
    const out = new Int16Array(chunks.reduce((n, c) => n + c.samples.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c.samples, at);
      at += c.samples.length;
    }
    return out;
  }

  /** The amplitude of `hz` in what it heard since `since` (Goertzel over the whole block). */
  levelSince(since: number, hz: number): number {
    const pcm = this.heardSince(since);
    return pcm.length ? goertzelAmplitude(pcm, hz, 8000) : 0;
  }

  /** The loudest 20 ms frame of `hz` in what it heard since `since`: a short tone among other sound. */
  peakFrameLevelSince(since: number, hz: number, before = Infinity): number {
    const pcm = this.heardSince(since, before);
    let peak = 0;
    for (let at = 0; at + FRAME <= pcm.length; at += FRAME) peak = Math.max(peak, goertzelAmplitude(pcm, hz, 8000, at, FRAME));
    return peak;
  }

  /**
   * How many 20 ms frames heard since `since` (and before `before`) are a tone of `hz` alone: loud, and
   * nearly all of the frame's energy at that frequency (speech has energy there too, but spread).
   */
  pureToneFramesSince(since: number, hz: number, before = Infinity): number {
    const pcm = this.heardSince(since, before);
    let frames = 0;
    for (let at = 0; at + FRAME <= pcm.length; at += FRAME) {
      const amplitude = goertzelAmplitude(pcm, hz, 8000, at, FRAME);
      const rms = Math.sqrt(blockEnergy(pcm.subarray(at, at + FRAME)) / FRAME);
      // A pure tone's amplitude is its RMS times √2.
      if (amplitude > 3000 && amplitude > 0.8 * Math.SQRT2 * rms) frames++;
    }
    return frames;
  }

  /**
   * How many 20 ms frames heard since `since` are sound (RMS above `minRms`) that is not a pure tone of
   * `notHz`: speech among a menu's tone prompts, whatever the prompts do meanwhile.
   */
  soundFramesSince(since: number, minRms: number, notHz: number): number {
    const pcm = this.heardSince(since);
    let frames = 0;
    for (let at = 0; at + FRAME <= pcm.length; at += FRAME) {
      const rms = Math.sqrt(blockEnergy(pcm.subarray(at, at + FRAME)) / FRAME);
      if (rms > minRms && goertzelAmplitude(pcm, notHz, 8000, at, FRAME) <= 0.8 * Math.SQRT2 * rms) frames++;
    }
    return frames;
  }

  /** RMS of what it heard since `since`. */
  rmsSince(since: number): number {
    const pcm = this.heardSince(since);
    return pcm.length ? Math.sqrt(blockEnergy(pcm) / pcm.length) : 0;
  }

  /**
   * A new dialog on the same socket (a SIPp scenario's second call, e.g. a park recall): the phone sends
   * where that dialog's media comes from, as a real one sends where the new SDP says.
   */
  newDialog(): void {
    this.remote = null;
  }

  close(): void {
    clearInterval(this.timer);
    this.socket.close();
  }

  private receive(packet: Buffer, from: dgram.RemoteInfo): void {
    if (packet.length < 12 || (packet[0]! & 0xc0) !== 0x80) return;
    this.remote ??= { address: from.address, port: from.port };
    if ((packet[1]! & 0x7f) !== PCMA_PT) return;
    const cc = packet[0]! & 0x0f;
    let offset = 12 + cc * 4;
    if (packet[0]! & 0x10) offset += 4 + packet.readUInt16BE(offset + 2) * 4;
    const samples = new Int16Array(Math.max(0, packet.length - offset));
    for (let i = 0; i < samples.length; i++) samples[i] = pcmaDecodeSample(packet[offset + i]!);
    this.heard.push({ at: Date.now(), samples });
  }

  private tick(): void {
    if (!this.remote) return;
    if (!this.event && this.keys.length) {
      this.event = { code: '0123456789*#'.indexOf(this.keys.shift()!), sent: 0, timestamp: this.timestamp };
    }
    if (this.event) {
      const e = this.event;
      if (e.sent < 6) {
        const end = e.sent >= 3;
        const packet = Buffer.alloc(16);
        this.header(packet, EVENT_PT, e.sent === 0, e.timestamp);
        packet[12] = e.code;
        packet[13] = (end ? 0x80 : 0) | 10;
        packet.writeUInt16BE(end ? FRAME * 4 : FRAME * (e.sent + 1), 14);
        this.socket.send(packet, this.remote.port, this.remote.address);
        // The stream's clock goes on under the event (its packets keep the event's start).
        this.timestamp = (this.timestamp + FRAME) >>> 0;
      } else {
        // 100 ms of audio before the next key: two presses must not read as one.
        this.audio();
      }
      if (++e.sent >= 11) this.event = null;
      return;
    }
    this.audio();
  }

  private audio(): void {
    const packet = Buffer.alloc(12 + FRAME);
    this.header(packet, PCMA_PT, false, this.timestamp);
    if (this.tone === null) packet.fill(0xd5, 12);
    else {
      const pcm = generateTone([this.tone], 6000, FRAME + this.phase).subarray(this.phase);
      // The tone continues from packet to packet (its phase kept by sample count).
      pcmaEncode(pcm, packet, FRAME, 12);
      this.phase = (this.phase + FRAME) % 8000;
    }
    this.socket.send(packet, this.remote!.port, this.remote!.address);
    this.timestamp = (this.timestamp + FRAME) >>> 0;
  }

  private header(packet: Buffer, payloadType: number, marker: boolean, timestamp: number): void {
    packet[0] = 0x80;
    packet[1] = (marker ? 0x80 : 0) | payloadType;
    this.seq = (this.seq + 1) & 0xffff;
    packet.writeUInt16BE(this.seq, 2);
    packet.writeUInt32BE(timestamp, 4);
    packet.writeUInt32BE(this.ssrc, 8);
  }
}
