/**
 * N callers in IVR menus at once, each pressing a key every 2 s (issue 14, benchmarks 1 and 2): DTMF
 * detection accuracy (missed and doubled digits), prompt playout continuity, the time from a key to the
 * next prompt, and the media-server's CPU per caller.
 *
 * The media-server is the real process (`media-server/src/main.ts`, spawned with ENABLE_UNRELEASED=ivr,
 * a media worker per core and its registrar thread, as it runs in production), not the test harness in
 * this process: its CPU is then read from /proc for its pid alone, and neither the load generator nor
 * this script's bookkeeping shares its event loop. Its configuration is made beforehand the way the
 * product makes it, through @carillon/core, on a scratch PostgreSQL database (PGlite served on
 * loopback when no PostgreSQL answers): an account, a phone of extension 101 for the callers, three
 * uploaded prompts (createAudioPrompt: WAV converted by ffmpeg), three menus 300 → 301 → 302 → 300
 * (createIvrMenu, updateIvrMenu) and multi-level mode with 300 as the top menu (saveIvrSettings).
 *
 * Each menu's prompt is 60 s of its own tone (600 to 1400 Hz by 200 Hz: a whole number of periods per
 * 20 ms frame, so one frame tells them apart), and keys 2 and 4–9 of each menu connect to the next menu;
 * 1, 3 and 0 are left out because extension numbers begin with them (a digit that begins an extension
 * waits the inter-digit pause) and 0 is the operator's. So every key acted on changes the prompt to the
 * next menu's tone, a missed key leaves the prompt playing, and a doubled key skips a menu (or shows
 * two prompt starts). Five menus, not two: keys taken in a burst (a starved machine) show as a skip of
 * as many menus, up to four, rather than folding back onto the same tone.
 *
 * Signalling: one SIPp (bench/sipp/uac-ivr-caller.xml) places the N calls to 300 (digest as 101), each
 * call's SDP naming its own RTP/RTCP socket pair of this script (an -inf line per call) and hanging up
 * after -d. Media: this script is the callers' phones. Each RTP socket sends PCMA silence every 20 ms
 * and, during the window, a key every 2 s (callers spread evenly over the 2 s) as RFC 4733 events in the same stream
 * (§2.5.1: one timestamp per event, marker on its first packet, durations growing, the end packet sent 3
 * times, §2.5.1.4), and reads what the media-server sends back:
 *  - a prompt start is a packet with the marker bit (the media worker re-anchors its outbound stream on
 *    every new prompt: RFC 3550 §5.1, RFC 3551 §4.1), or a change of tone without it (counted apart);
 *    its tone says which menu plays;
 *  - keys against prompt starts, in order: each step of the menu ring a start shows is the oldest key
 *    not yet acted on; a step with no key left is a doubled digit, a key whose step never came a missed
 *    one (order, not the 2 s slot, so that a slow answer is not read as a miss then a double; after
 *    a missed key the later keys' latencies are overstated by a key interval, but the counts hold);
 *  - latency: from the key's first end packet sent to the first packet of the prompt showing its step;
 *  - gaps: within a prompt (no marker), a sequence number skipped or a timestamp step other than
 *    160 per packet; and packets that arrive more than 60 ms after the previous one of the same prompt
 *    (three packet times: a stall of the media worker, or of this script's own loop, whose delay is
 *    printed next to it).
 * CPU: the media-server's (all its threads, /proc/<pid>/stat) over the window, in which all N callers
 * press keys, less what it uses idle (read over 5 s before the first call: heartbeat, timers), divided
 * by N; SIPp's and this script's are printed too (the 2 cores are shared).
 *
 *   npx node bench/ivr-callers.ts [callers=200] [window seconds=30]
 * Bounded: 1 to 300 callers, a window of 10 to 120 s; no asserts.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { heartbeatKey, type MediaServerHeartbeat } from '@carillon/contracts/media-server-heartbeat';
import { createAccount, issueDeviceCredentials } from '@carillon/core';
import { ffmpegPath } from '@carillon/core/audio';
import { createAudioPrompt, createIvrMenu, saveIvrSettings, updateIvrMenu } from '@carillon/core/ivr';
import { DEFAULT_IVR_SETTINGS, type MenuKey } from '@carillon/domain';
import { goertzelAmplitude } from '../media-server/src/media/audio/goertzel.ts';
import { pcmaDecodeSample, PCMA_SILENCE } from '../media-server/src/media/codecs/g711.ts';
import { rtpMarker, rtpPayloadOffset, rtpPayloadType, rtpSequenceNumber, rtpTimestamp, writeRtpHeader } from '../media-server/src/media/rtp/rtp-header.ts';
import { toneWav } from '../media-server/test/support/wav.ts';
import { freeMediaPort, freeSipPort } from '../media-server/test/support/sipp.ts';
import { openServedDatabase } from '../scripts/lib/database.ts';
import { createScratchDatabase } from '../tests/support/postgres.ts';
import { killIfRunning, spawnNode } from '../workers/test/support.ts';
import { machineBusySeconds, procCpuSeconds, udpReceiveBufferErrors } from './support/proc-stats.ts';
import { num, startSippBench, waitForQuietMachine } from './support/sipp-run.ts';

const CALLERS = Math.min(300, Math.max(1, Math.floor(Number(process.argv[2] ?? 200)) || 200));
const WINDOW_S = Math.min(120, Math.max(10, Number(process.argv[3] ?? 30) || 30));
const PRESS_EVERY_MS = 2000;
/** Calls placed per second by SIPp. */
const CALL_RATE = 50;
/** How long all N calls may take to be answered and heard before the bench gives up. */
const CONNECT_BUDGET_S = CALLERS / CALL_RATE + 40;
/** After the window, how long the prompt changes of keys not yet answered are waited for, at most. */
const TAIL_MS = 10_000;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PG_URL = process.env.BENCH_PG_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MEDIA_SERVER_MAIN = fileURLToPath(new URL('../media-server/src/main.ts', import.meta.url));

const PCMA_PT = 8;
const EVENT_PT = 101;
const FRAME = 160;
/** The menus, each with the tone of its prompt; key → next menu in a ring. */
const MENUS = [
  { number: '300', hz: 600 },
  { number: '301', hz: 800 },
  { number: '302', hz: 1000 },
  { number: '303', hz: 1200 },
  { number: '304', hz: 1400 },
] as const;
/** Keys that act at once on every menu: none begins an extension number (101, 30x), and 0 is the operator's. */
const KEYS: readonly MenuKey[] = ['2', '4', '5', '6', '7', '8', '9'];
const PROMPT_MS = 60_000;
/** RFC 4733 event codes 0–9 are the digits (§3.2). */
const eventCode = (key: string) => Number(key);
/** An event's packets: 4 while the key is down (80 ms), then the end packet 3 times (§2.5.1.4). */
const EVENT_DOWN_PACKETS = 4;
const EVENT_END_PACKETS = 3;

const benchStart = performance.now();
const load0 = os.loadavg();
console.log(`ivr-callers: ${CALLERS} callers, window ${WINDOW_S} s, a key every ${PRESS_EVERY_MS / 1000} s; ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? '?'}), load average ${load0.map((l) => l.toFixed(2)).join(' ')}, Node ${process.version}`);

// --- one caller's phone -------------------------------------------------------------------

interface PromptStart {
  at: number;
  /** Index in MENUS, or -1: no known tone. */
  tone: number;
}

interface CallerResult {
  presses: number;
  once: number;
  missed: number;
  doubled: number;
  transitions: number;
  replays: number;
  unprompted: number;
  latencies: number[];
}

/** PCMA byte → linear sample, once. */
const PCMA_TABLE = Int16Array.from({ length: 256 }, (_, b) => pcmaDecodeSample(b));

/** Which menu's tone a 20 ms PCMA frame is (-1: none of them, or too quiet). */
function toneOf(packet: Buffer, offset: number, pcm: Int16Array): number {
  const n = Math.min(FRAME, packet.length - offset);
  if (n < FRAME) return -1;
  for (let i = 0; i < n; i++) pcm[i] = PCMA_TABLE[packet[offset + i]!]!;
  let best = -1;
  let bestAmplitude = 2000;
  MENUS.forEach((m, i) => {
    const a = goertzelAmplitude(pcm, m.hz, 8000, 0, FRAME);
    if (a > bestAmplitude) {
      best = i;
      bestAmplitude = a;
    }
  });
  return best;
}

class Caller {
  readonly index: number;
  readonly port: number;
  private readonly socket: dgram.Socket;
  private remotePort = 0;
  // What it sends: one SSRC, sequence and clock for audio and events alike.
  private readonly ssrc = (Math.random() * 0xffffffff) >>> 0;
  private seq = Math.floor(Math.random() * 0xffff);
  private timestamp = (Math.random() * 0xffffffff) >>> 0;
  private nextFrameAt = 0;
  private readonly audio = Buffer.alloc(12 + FRAME, PCMA_SILENCE);
  private readonly event = Buffer.alloc(16);
  private pressing: { nextAt: number; until: number; keyIndex: number } | null = null;
  /** The key being sent: its code, timestamp and packets out so far. */
  private current: { code: number; timestamp: number; sent: number } | null = null;
  /** When the first end packet of each key went out. */
  readonly presses: number[] = [];
  /** Packets sent over the whole call, to compare with what the media-server says it received. */
  sent = 0;

  // What it hears.
  listening = true;
  /** Tone of the prompt now playing (index in MENUS), null before the first packet. */
  tone: number | null = null;
  readonly starts: PromptStart[] = [];
  private lastSeq = -1;
  private lastTs = 0;
  private lastArrival = 0;
  private readonly pcm = new Int16Array(FRAME);
  private lastFrame = Buffer.alloc(0);
  packets = 0;
  seqGaps = 0;
  tsGaps = 0;
  latePackets = 0;
  maxInterArrival = 0;
  markerlessChanges = 0;
  unknownTone = 0;
  otherPayload = 0;
  /** Counting starts from the window on (before it, only the tone playing is followed). */
  private counting = false;
  private toneAtWindow: number | null = null;

  constructor(index: number, socket: dgram.Socket) {
    this.index = index;
    this.socket = socket;
    this.port = (socket.address() as { port: number }).port;
    // Spread over the 20 ms frame, as real phones are: no burst of N packets at once.
    this.nextFrameAt = performance.now() + (index % 4) * 5;
  }

  startPressing(firstAt: number, until: number): void {
    this.pressing = { nextAt: firstAt, until, keyIndex: this.index % KEYS.length };
    this.counting = true;
    // What plays at the window's start is the reference for the first key.
    this.toneAtWindow = this.tone;
    this.starts.length = 0;
    this.packets = this.seqGaps = this.tsGaps = this.latePackets = this.maxInterArrival = this.markerlessChanges = this.unknownTone = this.otherPayload = 0;
  }

  /** Sends the frames due (audio, or the key's event packets in their place), once it knows where to (symmetric RTP). */
  tick(now: number): void {
    if (this.remotePort === 0) return;
    while (this.nextFrameAt <= now) {
      this.nextFrameAt += 20;
      if (!this.current && this.pressing && now >= this.pressing.nextAt && this.pressing.nextAt < this.pressing.until) {
        const key = KEYS[this.pressing.keyIndex]!;
        this.pressing.keyIndex = (this.pressing.keyIndex + 1) % KEYS.length;
        this.pressing.nextAt += PRESS_EVERY_MS;
        this.current = { code: eventCode(key), timestamp: this.timestamp, sent: 0 };
      }
      const e = this.current;
      if (e) {
        const end = e.sent >= EVENT_DOWN_PACKETS;
        const p = this.event;
        this.header(p, EVENT_PT, e.sent === 0, e.timestamp);
        p[12] = e.code;
        p[13] = (end ? 0x80 : 0) | 10;
        p.writeUInt16BE(FRAME * Math.min(e.sent + 1, EVENT_DOWN_PACKETS + 1), 14);
        if (e.sent === EVENT_DOWN_PACKETS) this.presses.push(performance.now());
        this.socket.send(p, this.remotePort, '127.0.0.1');
        this.sent++;
        if (++e.sent >= EVENT_DOWN_PACKETS + EVENT_END_PACKETS) this.current = null;
      } else {
        this.header(this.audio, PCMA_PT, false, this.timestamp);
        this.socket.send(this.audio, this.remotePort, '127.0.0.1');
        this.sent++;
      }
      // The stream's clock goes on under an event (its packets keep the event's start, §2.5.1.5).
      this.timestamp = (this.timestamp + FRAME) >>> 0;
    }
  }

  private header(p: Buffer, payloadType: number, marker: boolean, timestamp: number): void {
    this.seq = (this.seq + 1) & 0xffff;
    writeRtpHeader(p, { marker, payloadType, sequenceNumber: this.seq, timestamp, ssrc: this.ssrc });
  }

  receive(packet: Buffer, fromPort: number, now: number): void {
    const offset = rtpPayloadOffset(packet);
    if (offset < 0) return;
    if (this.remotePort === 0) {
      this.remotePort = fromPort;
      this.nextFrameAt = Math.max(this.nextFrameAt, now);
    }
    if (!this.listening) return;
    const marker = rtpMarker(packet);
    if (rtpPayloadType(packet) !== PCMA_PT) {
      if (this.counting) this.otherPayload++;
      return;
    }
    const seq = rtpSequenceNumber(packet);
    const ts = rtpTimestamp(packet);
    // A prompt's frames are all alike (a whole number of periods each): only a frame that differs from the last is classified again.
    const same = !marker && this.lastFrame.length === packet.length - offset && packet.compare(this.lastFrame, 0, this.lastFrame.length, offset) === 0;
    const tone = same && this.tone !== null ? this.tone : toneOf(packet, offset, this.pcm);
    if (!same) this.lastFrame = Buffer.from(packet.subarray(offset));
    if (this.counting) {
      this.packets++;
      if (this.lastSeq >= 0) {
        const dSeq = (seq - this.lastSeq) & 0xffff;
        // Forward jumps are lost packets; a late or repeated packet is not a hole in what was sent.
        if (dSeq > 1 && dSeq < 0x8000) this.seqGaps += dSeq - 1;
        if (!marker && dSeq >= 1 && dSeq < 0x8000 && ((ts - this.lastTs) >>> 0) !== FRAME * dSeq) this.tsGaps++;
        if (!marker) {
          const gap = now - this.lastArrival;
          if (gap > 60) this.latePackets++;
          this.maxInterArrival = Math.max(this.maxInterArrival, gap);
        }
      }
    }
    this.lastSeq = seq;
    this.lastTs = ts;
    this.lastArrival = now;
    if (marker || tone !== this.tone) {
      if (!marker && this.tone !== null && this.counting) this.markerlessChanges++;
      if (tone < 0 && this.counting) this.unknownTone++;
      this.tone = tone;
      if (this.counting) this.starts.push({ at: now, tone });
    }
  }

  /**
   * The keys against the prompt starts, in order (the IVR takes a call's digits one after the other):
   * each step of the menu ring that a start shows is the oldest key sent before it and not yet acted
   * on; a step with no such key is a doubled digit; a key whose step never came (up to TAIL_MS after
   * the window) is a missed one. Matching by order, not by the 2 s slot, keeps a slow answer (over
   * 2 s on a loaded machine) from reading as a miss and a double. Latency: from the key's first end
   * packet to the start of the prompt that showed its step.
   */
  analyse(): CallerResult {
    const r: CallerResult = { presses: this.presses.length, once: 0, missed: 0, doubled: 0, transitions: 0, replays: 0, unprompted: 0, latencies: [] };
    let playing = this.toneAtWindow;
    let matched = 0;
    for (const start of this.starts) {
      const step = start.tone < 0 || playing === null || playing < 0 ? 1 : (start.tone - playing + MENUS.length) % MENUS.length;
      playing = start.tone;
      if (step === 0) {
        // The same menu again: a no-input replay before any key, else a key that was taken as invalid.
        if (matched === 0 && (this.presses[0] ?? Infinity) > start.at) r.unprompted++;
        else r.replays++;
        continue;
      }
      r.transitions += step;
      for (let i = 0; i < step; i++) {
        const key = this.presses[matched];
        if (key !== undefined && key <= start.at) {
          r.latencies.push(start.at - key);
          matched++;
        } else r.doubled++;
      }
    }
    r.once = matched;
    r.missed = this.presses.length - matched;
    return r;
  }
}

/**
 * A phone's RTP socket on an even port and its RTCP socket on the next (RFC 3550 §11), as the SDP
 * implies with no a=rtcp: the media-server's RTCP for this call lands on the pair, never on another
 * caller's RTP socket (whose first packet would then teach it a wrong address to send to).
 */
async function bindRtpPair(): Promise<[dgram.Socket, dgram.Socket]> {
  const bind = (port: number) =>
    new Promise<dgram.Socket | null>((resolve) => {
      const socket = dgram.createSocket('udp4');
      socket.once('error', () => {
        socket.close();
        resolve(null);
      });
      socket.bind(port, '127.0.0.1', () => resolve(socket));
    });
  for (;;) {
    // Below the kernel's ephemeral range and the RTP ranges of the servers (20000 and up).
    const port = 12_000 + 2 * Math.floor(Math.random() * 3_500);
    const rtp = await bind(port);
    if (!rtp) continue;
    const rtcp = await bind(port + 1);
    if (rtcp) {
      rtcp.on('message', () => undefined);
      return [rtp, rtcp];
    }
    rtp.close();
  }
}

async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== null) return got;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

// --- the configuration, as the product makes it -------------------------------------
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-bench-ivr-'));
const scratch = await createScratchDatabase(PG_URL, 'benchivr').catch(() => undefined);
const database = await openServedDatabase(scratch?.url, dataDir);
const db = database.db;
const actor = { userId: null, ip: null };
let mediaServer: ReturnType<typeof spawnNode> | undefined;
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
const sockets: dgram.Socket[] = [];
const nodeId = `bench-ivr-${process.pid}`;

try {
  const account = await createAccount(db, { company: 'IVR Bench Co', email: `ivr-bench-${process.pid}@x.test` }, { activationTtlHours: 1 });
  const ext101 = await db.selectFrom('extensions').select('id').where('account_id', '=', account.accountId).where('number', '=', '101').executeTakeFirstOrThrow();
  let phone = await issueDeviceCredentials(db, actor, { accountId: account.accountId, extensionId: ext101.id, type: 'desk_phone', name: 'IVR bench caller', realm: 'carillon.test' });
  // SIPp reads a password beginning with 0x as hex (an AKA key): such a password would fail its digest.
  while (/^0x/i.test(phone.password)) phone = await issueDeviceCredentials(db, actor, { accountId: account.accountId, extensionId: ext101.id, type: 'desk_phone', name: 'IVR bench caller', realm: 'carillon.test' });
  const menuIds: string[] = [];
  for (const m of MENUS) {
    const upload = path.join(dataDir, `upload-${m.hz}.wav`);
    fs.writeFileSync(upload, toneWav(m.hz, PROMPT_MS));
    await createAudioPrompt(db, { ffmpeg: ffmpegPath(process.env.FFMPEG_PATH), dataDir }, actor, account.accountId, { name: `tone ${m.hz} Hz`, originalName: `tone-${m.hz}.wav`, upload });
    menuIds.push((await createIvrMenu(db, actor, account.accountId, { number: m.number, name: `Menu ${m.number}`, language: 'en' })).id);
  }
  for (const [i, m] of MENUS.entries()) {
    const next = MENUS[(i + 1) % MENUS.length]!.number;
    await updateIvrMenu(db, actor, account.accountId, menuIds[i]!, {
      prompt: { mode: 'audio', prompt: `tone ${m.hz} Hz` },
      keys: Object.fromEntries(KEYS.map((k) => [k, { type: 'connect', extension: next }])),
    });
  }
  await saveIvrSettings(db, actor, account.accountId, { ...DEFAULT_IVR_SETTINGS, mode: 'multi', businessHoursMenu: MENUS[0].number, operatorExtension: '101' });

  // --- the media-server ---------------------------------------------------------------
  mediaServer = spawnNode(MEDIA_SERVER_MAIN, {
    DATABASE_URL: database.url,
    REDIS_URL,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    MEDIA_SERVER_NODE_ID: nodeId,
    ENABLE_UNRELEASED: 'ivr',
    SIP_HOST: '127.0.0.1',
    SIP_DOMAIN: 'carillon.test',
    SIP_UDP_PORT: '0',
    SIP_TCP_PORT: '0',
    SIP_WS_PORT: '0',
    RTP_PORT_MIN: '24000',
    RTP_PORT_MAX: '25999',
    // Every call comes from SIPp's one address: the per-source guards must not count them as one attacker.
    SIP_AUTH_FAILURES_PER_MINUTE: '100000',
    SIP_CHALLENGES_PER_SOURCE_PER_SECOND: '100000',
  });
  const heartbeat = await waitFor('the media-server heartbeat', 60_000, async () => {
    if (mediaServer!.child.exitCode !== null) throw new Error(`media-server exited: ${mediaServer!.stderr().slice(-2000)}`);
    const raw = await redis.get(heartbeatKey(nodeId));
    return raw ? (JSON.parse(raw) as MediaServerHeartbeat) : null;
  });
  const sipPort = heartbeat.sipPorts?.UDP;
  if (!sipPort) throw new Error('the media-server announced no UDP port');
  const serverPid = mediaServer.child.pid!;
  console.log(`waiting for a quiet machine (at most 60 s): ${(await waitForQuietMachine()).toFixed(0)} % busy`);
  // What the media-server uses with no call, so that per caller is what callers cost.
  const idle0 = procCpuSeconds(serverPid) ?? 0;
  const idleT0 = performance.now();
  await sleep(5000);
  const idlePct = (((procCpuSeconds(serverPid) ?? 0) - idle0) / ((performance.now() - idleT0) / 1000)) * 100;

  // --- the callers' phones --------------------------------------------------------------
  const callers: Caller[] = [];
  for (let i = 0; i < CALLERS; i++) {
    const [socket, rtcp] = await bindRtpPair();
    sockets.push(socket, rtcp);
    const caller = new Caller(i, socket);
    socket.on('message', (packet, from) => caller.receive(packet, from.port, performance.now()));
    callers.push(caller);
  }
  const inf = path.join(dataDir, 'callers.csv');
  fs.writeFileSync(inf, ['SEQUENTIAL', ...callers.map((c) => String(c.port))].join('\n') + '\n');
  const sender = setInterval(() => {
    const now = performance.now();
    for (const c of callers) c.tick(now);
  }, 5);
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });

  // Each call lasts past the window: answered within the connect budget, then the window and the tail.
  const holdMs = Math.round((CONNECT_BUDGET_S + 1 + WINDOW_S) * 1000 + TAIL_MS + 2000);
  const sipp = startSippBench({
    scenario: 'uac-ivr-caller.xml',
    target: `127.0.0.1:${sipPort}`,
    localPort: await freeSipPort(),
    mediaPort: await freeMediaPort(),
    service: MENUS[0].number,
    rate: CALL_RATE,
    calls: CALLERS,
    limit: CALLERS,
    timeoutSeconds: Math.ceil(holdMs / 1000 + CONNECT_BUDGET_S + 30),
    inf,
    extra: ['-d', String(holdMs), '-au', phone.username, '-ap', phone.password],
  });
  const connectStart = performance.now();
  await waitFor(`all ${CALLERS} callers hearing their first prompt`, CONNECT_BUDGET_S * 1000, async () => {
    if (sipp.child.exitCode !== null) throw new Error(`SIPp exited early: ${(await sipp.done).errors.slice(0, 2000) || (await sipp.done).output.slice(-2000)}`);
    return callers.every((c) => c.tone !== null) ? true : null;
  });
  const connectS = (performance.now() - connectStart) / 1000;

  // --- the window: every caller keys every 2 s --------------------------------------------
  // It opens as soon as every caller hears its first prompt (the wait above): no fixed settle time.
  const t0 = performance.now();
  const windowEnd = t0 + WINDOW_S * 1000;
  for (const c of callers) c.startPressing(t0 + 200 + (c.index / CALLERS) * PRESS_EVERY_MS, windowEnd);
  loopDelay.enable();
  const drops0 = udpReceiveBufferErrors();
  const cpu0 = { server: procCpuSeconds(serverPid) ?? 0, sipp: procCpuSeconds(sipp.child.pid!) ?? 0, self: process.cpuUsage(), machine: machineBusySeconds() };
  await sleep(windowEnd - performance.now());
  const t1 = performance.now();
  const cpu1 = { server: procCpuSeconds(serverPid) ?? 0, sipp: procCpuSeconds(sipp.child.pid!) ?? 0, self: process.cpuUsage(cpu0.self), machine: machineBusySeconds() };
  const load1 = os.loadavg();
  // Until every key's prompt change came (the observable condition), at most TAIL_MS.
  const tailEnd = performance.now() + TAIL_MS;
  while (performance.now() < tailEnd && callers.some((c) => c.analyse().missed > 0)) await sleep(100);
  loopDelay.disable();
  const kernelDrops = udpReceiveBufferErrors() - drops0;
  for (const c of callers) c.listening = false;

  // --- what the media said ------------------------------------------------------------------
  const seconds = (t1 - t0) / 1000;
  const totals = { presses: 0, once: 0, missed: 0, doubled: 0, transitions: 0, replays: 0, unprompted: 0, unknownTone: 0, markerless: 0, seqGaps: 0, tsGaps: 0, late: 0, packets: 0, otherPayload: 0, callersWithGaps: 0 };
  const latencies: number[] = [];
  const missedBy = new Map<number, number>();
  let maxInterArrival = 0;
  for (const c of callers) {
    const r = c.analyse();
    totals.presses += r.presses;
    totals.once += r.once;
    totals.missed += r.missed;
    if (r.missed) missedBy.set(c.port, r.missed);
    totals.doubled += r.doubled;
    totals.transitions += r.transitions;
    totals.replays += r.replays;
    totals.unprompted += r.unprompted;
    latencies.push(...r.latencies);
    totals.unknownTone += c.unknownTone;
    totals.markerless += c.markerlessChanges;
    totals.seqGaps += c.seqGaps;
    totals.tsGaps += c.tsGaps;
    totals.late += c.latePackets;
    totals.packets += c.packets;
    totals.otherPayload += c.otherPayload;
    if (c.seqGaps + c.tsGaps > 0) totals.callersWithGaps++;
    maxInterArrival = Math.max(maxInterArrival, c.maxInterArrival);
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  const serverPct = ((cpu1.server - cpu0.server) / seconds) * 100;
  const sippPct = ((cpu1.sipp - cpu0.sipp) / seconds) * 100;
  const selfPct = ((cpu1.self.user + cpu1.self.system) / 1e6 / seconds) * 100;
  const machinePct = ((cpu1.machine - cpu0.machine) / seconds) * 100;

  console.log(`media-server pid ${serverPid} (SIP UDP ${sipPort}), ${scratch ? 'PostgreSQL scratch database' : 'PGlite served on loopback'}; all ${CALLERS} callers heard their first prompt ${connectS.toFixed(1)} s after the first INVITE`);
  console.log(`window ${seconds.toFixed(1)} s; load average ${load1.map((l) => l.toFixed(2)).join(' ')} at its end`);
  console.log(`keys sent: ${totals.presses} (RFC 4733); acted on: ${totals.once} (${((totals.once / Math.max(1, totals.presses)) * 100).toFixed(2)} %), missed: ${totals.missed}, doubled: ${totals.doubled}; menu transitions seen: ${totals.transitions}`);
  console.log(`prompt starts before any key: ${totals.unprompted}, the same menu again after a key (invalid key): ${totals.replays}, prompts of no known tone: ${totals.unknownTone}, tone changes without a marker: ${totals.markerless}`);
  console.log(`key → next prompt's first packet: p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms, max ${(latencies.at(-1) ?? NaN).toFixed(1)} ms (${latencies.length} keys)`);
  console.log(`prompt playout: ${totals.packets} packets; sequence numbers skipped: ${totals.seqGaps}, timestamp steps ≠ 160 within a prompt: ${totals.tsGaps} (${totals.callersWithGaps} callers); packets > 60 ms after the previous of their prompt: ${totals.late} (max ${maxInterArrival.toFixed(0)} ms); other payload types: ${totals.otherPayload}`);
  console.log(`UDP datagrams the kernel dropped for a full receive buffer (whole machine) from the window's start to the tail's end: ${kernelDrops}`);
  console.log(`this script's event-loop delay over the window: p50 ${(loopDelay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms`);
  console.log(`CPU over the window (% of one core): media-server ${serverPct.toFixed(1)} % (idle ${idlePct.toFixed(1)} %: ${((serverPct - idlePct) / CALLERS).toFixed(3)} % per caller), SIPp ${sippPct.toFixed(1)} %, this script (callers' RTP) ${selfPct.toFixed(1)} %, whole machine ${machinePct.toFixed(0)} % of ${os.availableParallelism() * 100} %`);

  const run = await sipp.done;
  clearInterval(sender);
  // The media-server's own receive figures of each caller's leg (RFC 3550 loss from sequence numbers), once the calls are written.
  const legs = await waitFor('the callers\' legs written', 30_000, async () => {
    const rows = await db.selectFrom('call_legs').select(['rtp_stats', 'sip_call_id']).where('account_id', '=', account.accountId).where('rtp_stats', 'is not', null).execute();
    return rows.length >= CALLERS ? rows : null;
  }).catch(() => []);
  let received = 0;
  let lost = 0;
  let sentToLegs = 0;
  let missesOnLossyLegs = 0;
  let lossyLegs = 0;
  for (const l of legs) {
    const stats = l.rtp_stats as { received?: { packets?: number; lost?: number } };
    // SIPp's Call-ID is "<call number>-<pid>@<address>", and call n took line n of the -inf file (SEQUENTIAL).
    const caller = callers[Number(/^(\d+)-/.exec(l.sip_call_id)?.[1] ?? 0) - 1];
    const legLost = Math.max(0, stats.received?.lost ?? 0);
    received += stats.received?.packets ?? 0;
    lost += legLost;
    sentToLegs += caller?.sent ?? 0;
    if (legLost > 0) {
      lossyLegs++;
      missesOnLossyLegs += missedBy.get(caller?.port ?? -1) ?? 0;
    }
  }
  console.log(`media-server's receive figures of ${legs.length} caller legs: ${received} packets received of ${sentToLegs} sent by this script (which sends until the last call ends, past each call's BYE), ${lost} lost (RFC 3550); ${lossyLegs} legs lost packets and carry ${missesOnLossyLegs} of the ${totals.missed} missed keys`);
  console.log(`SIPp: ${num(run.last, 'SuccessfulCall(C)')} calls completed, ${num(run.last, 'FailedCall(C)')} failed (exit ${run.code}); bench ${((performance.now() - benchStart) / 1000).toFixed(0)} s`);
  if (run.code !== 0 && run.errors) console.log(run.errors.slice(0, 1500));
} finally {
  for (const s of sockets) s.close();
  if (mediaServer && mediaServer.child.exitCode === null) {
    mediaServer.child.kill('SIGTERM');
    const stopped = await Promise.race([mediaServer.exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!stopped) killIfRunning(mediaServer);
  }
  await redis.del(heartbeatKey(nodeId)).catch(() => undefined);
  redis.disconnect();
  await database.close();
  await scratch?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
