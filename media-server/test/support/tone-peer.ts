import dgram from 'node:dgram';
import { pcmaDecodeSample, pcmaEncodeSample } from '../../src/media/codecs/g711.ts';
import { freeMediaPort } from './sipp.ts';

/**
 * A phone's media in the test process: an RTP socket a SIPp scenario names in
 * its SDP (`[$rtpport]`), which keeps what it hears (PCMA, decoded) and, once
 * it has heard from media-server (symmetric RTP: it answers to the source) or
 * has been told media-server's port (`speakTo`), speaks a pure tone of its own frequency every 20 ms. Distinct tones per
 * party let a test tell who hears whom (Goertzel), not only that packets flow.
 */
export interface TonePeer {
  port: number;
  /** Decoded samples heard so far, in arrival order, with the time each packet came. */
  heard: { at: number; samples: Int16Array }[];
  /** 20 ms frames heard since `since` (ms epoch) that are mostly `hz`. */
  toneFrames(hz: number, since?: number): number;
  /** RMS of what was heard since `since`. */
  rms(since?: number): number;
  /** Speaks to media-server's port for this phone (from its SDP), before having heard anything from it. */
  speakTo(port: number, address?: string): void;
  /** Waits until `check` holds (polling), or throws after `ms`. */
  until(check: () => boolean, ms?: number, what?: string): Promise<void>;
  close(): void;
}

export async function startTonePeer(hz: number): Promise<TonePeer> {
  const socket = dgram.createSocket('udp4');
  const port = await freeMediaPort();
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  const heard: TonePeer['heard'] = [];
  let remote: { address: string; port: number } | null = null;
  socket.on('message', (packet, rinfo) => {
    remote = { address: rinfo.address, port: rinfo.port };
    // RTP with no CSRC or extension (our endpoint's), PCMA only; telephone-events are skipped.
    if ((packet[1]! & 0x7f) !== 8 || packet.length <= 12) return;
    const samples = new Int16Array(packet.length - 12);
    for (let i = 12; i < packet.length; i++) samples[i - 12] = pcmaDecodeSample(packet[i]!);
    heard.push({ at: Date.now(), samples });
  });
  let seq = 0;
  let phase = 0;
  const ssrc = (Math.random() * 0xffffffff) >>> 0;
  const timer = setInterval(() => {
    if (!remote || closed) return;
    const packet = Buffer.alloc(12 + 160);
    packet[0] = 0x80;
    packet[1] = 8;
    packet.writeUInt16BE(seq++ & 0xffff, 2);
    packet.writeUInt32BE((seq * 160) >>> 0, 4);
    packet.writeUInt32BE(ssrc, 8);
    for (let i = 0; i < 160; i++) packet[12 + i] = pcmaEncodeSample(Math.round(8000 * Math.sin(phase++ * ((2 * Math.PI * hz) / 8000))));
    socket.send(packet, remote.port, remote.address);
  }, 20);
  let closed = false;
  const since = (t: number) => heard.filter((h) => h.at >= t);
  return {
    port,
    heard,
    toneFrames(f, t = 0) {
      let frames = 0;
      for (const h of since(t)) if (isTone(h.samples, f)) frames++;
      return frames;
    },
    rms(t = 0) {
      let sum = 0;
      let n = 0;
      for (const h of since(t)) {
        for (const s of h.samples) sum += s * s;
        n += h.samples.length;
      }
      return n ? Math.sqrt(sum / n) : 0;
    },
    async until(check, ms = 20_000, what = 'condition') {
      const deadline = Date.now() + ms;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    speakTo(p, address = '127.0.0.1') {
      remote ??= { address, port: p };
    },
    close() {
      clearInterval(timer);
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}

/** A frame (160 samples, 20 ms) whose energy is at least 80 % at `hz` (Goertzel). */
function isTone(samples: Int16Array, hz: number): boolean {
  const n = samples.length;
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / 8000);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (let i = 0; i < n; i++) {
    const s0 = samples[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
    energy += samples[i]! * samples[i]!;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  // A pure tone of amplitude A over n samples: Goertzel power (n A / 2)^2, energy n A^2 / 2, so power = energy * n / 2.
  return energy > 0 && power / ((energy * n) / 2) > 0.8;
}
