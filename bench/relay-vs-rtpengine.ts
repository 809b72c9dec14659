/**
 * Carillon's media relay against Sipwise rtpengine (userspace forwarding),
 * side by side, driven by the same load generator at the same offered loads.
 *
 * - The generator is bench/support/rtp-loadgen.c (sendmmsg/recvmmsg), built
 *   here with the system's C compiler into a temporary directory, and runs
 *   in its own process. It plays two peers: A (callers) and B (called), so
 *   every call carries media both ways, half the offered load each way.
 * - Carillon runs alone in a process (bench/support/media-relay-process.ts:
 *   a MediaEngine with 1 or 2 worker threads); rtpengine runs in the
 *   foreground with `--table=-1` (no kernel module), each call set up by an
 *   ng offer/answer (bench/support/rtpengine-ng.ts). rtpengine is used when
 *   `rtpengine` is on PATH (Debian: rtpengine-daemon, installed by
 *   `scripts/setup.sh test`); otherwise only Carillon is measured.
 * - Paths: RTP↔RTP (PCMU both legs), SRTP↔RTP (leg A AES_CM_128_HMAC_SHA1_80,
 *   leg B plain), SRTP↔SRTP (both legs, each with its own keys, so each
 *   packet is unprotected and protected again).
 * - CPU is the relay process's CPU time from /proc/<pid>/stat (utime +
 *   stime: every thread), over the whole run including the drain; per core
 *   = packets forwarded / CPU seconds. Also printed: the generator's CPU and
 *   what the rest of the machine used meanwhile (it is shared).
 * - Loss = 1 − forwarded / sent, counted by the generator (PCMU RTP only).
 *
 *   npx node bench/relay-vs-rtpengine.ts [seconds per run] [offered loads, pps, comma-separated] [calls]
 *   e.g. npx node bench/relay-vs-rtpengine.ts 4 20000,40000 20
 * Bounded: at most 10 s per run and 200k pps; no asserts.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeRtpHeader } from '../media-server/src/media/rtp/rtp-header.ts';
import { SrtpContext } from '../media-server/src/media/srtp/srtp-context.ts';
import { formatSdesInlineKey, generateSrtpMasterKey, parseSdesInlineKey } from '../media-server/src/media/srtp/sdes-crypto.ts';
import type { SrtpMasterKey, SrtpProfileName } from '../media-server/src/media/srtp/srtp-profile.ts';
import type { RelayCallSpec, RelayReply, RelayRequest } from './support/media-relay-process.ts';
import { machineBusySeconds, procCpuSeconds } from './support/proc-stats.ts';
import { RtpEngine } from './support/rtpengine-ng.ts';
import { startRtpLoadgen } from './support/rtp-loadgen.ts';

const SECONDS = Math.min(10, Number(process.argv[2] ?? 4));
const LOADS = (process.argv[3] ?? '20000,40000').split(',').map((s) => Math.min(200_000, Number(s)));
const CALLS = Math.min(500, Number(process.argv[4] ?? 20));
const ONLY = process.env.BENCH_RELAYS?.split(',');
/** 'both' (default): each call carries media A→B and B→A; 'a-to-b' or 'b-to-a': one way only. */
const DIRECTIONS = process.env.BENCH_DIRECTIONS ?? 'both';
if (!['both', 'a-to-b', 'b-to-a'].includes(DIRECTIONS)) throw new Error(`BENCH_DIRECTIONS must be both, a-to-b or b-to-a, not ${DIRECTIONS}`);
const notes = new Set<string>();
const PAYLOAD = 160;
/** The generator stops counting once nothing has arrived for this long after its last packet. */
const QUIET_MS = 300;

/** The SRTP profile each side protects with, or null for plain RTP. */
interface MediaPath {
  name: string;
  a: SrtpProfileName | null;
  b: SrtpProfileName | null;
}
const PATHS: MediaPath[] = [
  { name: 'RTP↔RTP', a: null, b: null },
  { name: 'SRTP↔RTP', a: 'AES_CM_128_HMAC_SHA1_80', b: null },
  // rtpengine forwards this one without crypto (SDES pass-through: each side gets the other's own key).
  { name: 'SRTP↔SRTP', a: 'AES_CM_128_HMAC_SHA1_80', b: 'AES_CM_128_HMAC_SHA1_80' },
  // A different suite on B forces rtpengine to decrypt and encrypt again, as Carillon always does.
  { name: 'SRTP↔SRTP32', a: 'AES_CM_128_HMAC_SHA1_80', b: 'AES_CM_128_HMAC_SHA1_32' },
];
const ONLY_PATHS = process.env.BENCH_PATHS?.split(',');

/** What one side protects with. */
interface SideKey {
  master: SrtpMasterKey;
  profile: SrtpProfileName;
}

interface CallSetup {
  /** The relay's port for each leg: A sends to ports[i][0], B to ports[i][1]. */
  ports: number[][];
}

interface Relay {
  name: string;
  pid: number;
  /** Sets up CALLS calls; keyA/keyB are what A and B protect with (null: plain RTP). */
  setUp(keyA: SideKey | null, keyB: SideKey | null): Promise<CallSetup>;
  hangUp(): Promise<void>;
  stop(): Promise<void>;
}

// --- the generator ---------------------------------------------------------
const { child: loadgen, nextLine, work } = startRtpLoadgen('relay');
const [, portA, portB] = (await nextLine()).split(' ').map(Number) as [string, number, number];

interface LoadgenResult {
  sentA: number;
  sentB: number;
  receivedA: number;
  receivedB: number;
  sendMs: number;
}

// --- the relays --------------------------------------------------------------
async function startCarillon(workers: number, packetIo: 'off' | 'on'): Promise<Relay> {
  const child: ChildProcess = fork(path.join(import.meta.dirname, 'support', 'media-relay-process.ts'), [String(workers), packetIo], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: process.env.BENCH_RELAY_NODE_ARGS ? process.env.BENCH_RELAY_NODE_ARGS.split(' ') : [],
  });
  const waitFor = async <T extends RelayReply['type']>(expect: T): Promise<Extract<RelayReply, { type: T }>> => {
    for (;;) {
      const [reply] = (await once(child, 'message')) as [RelayReply];
      if (reply.type === 'error') throw new Error(`carillon relay: ${reply.message}`);
      if (reply.type === expect) return reply as Extract<RelayReply, { type: T }>;
    }
  };
  const ask = <T extends RelayReply['type']>(request: RelayRequest, expect: T): Promise<Extract<RelayReply, { type: T }>> => {
    child.send(request);
    return waitFor(expect);
  };
  const ready = await waitFor('ready');
  return {
    name: `Carillon${packetIo === 'on' ? ' native' : ''}, ${workers} worker${workers > 1 ? 's' : ''}`,
    pid: ready.pid,
    async setUp(keyA, keyB) {
      const calls: RelayCallSpec[] = Array.from({ length: CALLS }, () => ({
        remoteA: portA,
        remoteB: portB,
        srtpA: keyA && { profile: keyA.profile, local: generateSrtpMasterKey(), remote: keyA.master },
        srtpB: keyB && { profile: keyB.profile, local: generateSrtpMasterKey(), remote: keyB.master },
      }));
      const { ports } = await ask({ type: 'calls', calls }, 'calls');
      return { ports };
    },
    async hangUp() {
      await ask({ type: 'hangup' }, 'hangup');
    },
    async stop() {
      child.send({ type: 'stop' } satisfies RelayRequest);
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

/** An SDP body; `cryptoTag` is the a=crypto tag (in an answer: the tag of the offered line accepted). */
function sdp(port: number, key: SideKey | null, cryptoTag = 1): string {
  return [
    'v=0',
    `o=- ${port} 1 IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} ${key ? 'RTP/SAVP' : 'RTP/AVP'} 0`,
    'a=rtpmap:0 PCMU/8000',
    ...(key ? [`a=crypto:${cryptoTag} ${key.profile} ${formatSdesInlineKey(key.master)}`] : []),
    'a=sendrecv',
    '',
  ].join('\r\n');
}

function sdpPort(body: string): number {
  const m = /^m=audio (\d+) /m.exec(body);
  if (!m) throw new Error(`no m=audio line in rtpengine's SDP:\n${body}`);
  return Number(m[1]);
}

async function startRtpEngine(threads: number): Promise<Relay> {
  const engine = await RtpEngine.start({ threads, ngPort: 22221, portMin: 44000, portMax: 44999 });
  let callIds: string[] = [];
  let generation = 0;
  return {
    name: `rtpengine, ${threads} thread${threads > 1 ? 's' : ''}`,
    pid: engine.pid,
    async setUp(keyA, keyB) {
      const ports: number[][] = [];
      generation++;
      for (let i = 0; i < CALLS; i++) {
        const callId = `bench-${generation}-${i}`;
        callIds.push(callId);
        // Leg B's transport differs from A's only on SRTP↔RTP: rtpengine then terminates SRTP on A's side.
        const offer = await engine.request({
          command: 'offer',
          'call-id': callId,
          'from-tag': 'a',
          sdp: sdp(portA, keyA),
          ...(keyA && !keyB ? { 'transport-protocol': 'RTP/AVP' } : {}),
          flags: [],
          replace: ['origin', 'session-connection'],
        });
        const toB = String(offer.sdp);
        // B accepts the line of rtpengine's offer that has its suite (RFC 4568 §5.1.2: same tag in the answer).
        const tag = keyB ? new RegExp(`^a=crypto:(\\d+) ${keyB.profile} `, 'm').exec(toB)?.[1] : '1';
        if (!tag) throw new Error(`rtpengine's offer to B has no ${keyB!.profile} line:\n${toB}`);
        const answer = await engine.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(portB, keyB, Number(tag)) });
        const toA = String(answer.sdp);
        // With the same suite on both sides rtpengine hands each side the other's own SDES key (daemon/call.c
        // copies the offered crypto params "for SRTP passthrough"), and then forwards SRTP without any crypto.
        // Say which keys it chose, so that the figures are read for what they are.
        if (keyA && keyB) {
          const sameAs = (sdpBody: string, profile: SrtpProfileName): string => {
            const line = new RegExp(`^a=crypto:\\d+ ${profile} (\\S+)`, 'm').exec(sdpBody);
            const key = line && parseSdesInlineKey(line[1]!);
            if (!key) return 'no usable key';
            if (Buffer.compare(Buffer.from(key.key), Buffer.from(keyA.master.key)) === 0) return "A's own key";
            if (Buffer.compare(Buffer.from(key.key), Buffer.from(keyB.master.key)) === 0) return "B's own key";
            return 'a key of its own';
          };
          notes.add(`rtpengine ${keyA.profile}↔${keyB.profile}: it sends to B with ${sameAs(toB, keyB.profile)} and to A with ${sameAs(toA, keyA.profile)}`);
        }
        ports.push([sdpPort(toA), sdpPort(toB)]);
      }
      return { ports };
    },
    async hangUp() {
      for (const id of callIds) await engine.request({ command: 'delete', 'call-id': id, 'from-tag': 'a' });
      callIds = [];
    },
    stop: () => engine.stop(),
  };
}

// --- the packets -------------------------------------------------------------
/**
 * Writes the packets file for one run: `count` packets, calls taken in turn,
 * alternately from A to leg A's port and from B to leg B's port, each
 * direction of each call its own SSRC and sequence, protected beforehand
 * with the key its sender announced (every SRTP packet is unique).
 */
function writePackets(file: string, setup: CallSetup, count: number, keyA: SideKey | null, keyB: SideKey | null): void {
  const sides = DIRECTIONS === 'a-to-b' ? [0] : DIRECTIONS === 'b-to-a' ? [1] : [0, 1];
  const streams = setup.ports.flatMap((ports, call) =>
    sides.map((side) => {
      const key = side === 0 ? keyA : keyB;
      return { side, port: ports[side]!, ssrc: 0x10000 + call * 2 + side, seq: 0, ts: 0, srtp: key ? new SrtpContext(key.master, key.profile) : null };
    }),
  );
  const payload = Buffer.alloc(PAYLOAD, 0xff);
  const plain = Buffer.alloc(12 + PAYLOAD);
  const out = Buffer.alloc(count * (6 + 12 + PAYLOAD + 10));
  let at = 0;
  for (let i = 0; i < count; i++) {
    const s = streams[i % streams.length]!;
    writeRtpHeader(plain, { payloadType: 0, sequenceNumber: s.seq, timestamp: s.ts, ssrc: s.ssrc });
    payload.copy(plain, 12);
    s.seq = (s.seq + 1) & 0xffff;
    s.ts = (s.ts + 160) >>> 0;
    out[at] = s.side;
    out[at + 1] = 0;
    out.writeUInt16LE(s.port, at + 2);
    const length = s.srtp ? s.srtp.protect(plain, plain.length, out.subarray(at + 6)) : plain.copy(out, at + 6);
    out.writeUInt16LE(length, at + 4);
    at += 6 + length;
  }
  writeFileSync(file, out.subarray(0, at));
}

// --- the runs ----------------------------------------------------------------
interface Row {
  relay: string;
  path: string;
  offered: number;
  sent: number;
  forwarded: number;
  /** Wall time of the run (sending and the drain), over which CPU is taken. */
  seconds: number;
  /** Wall time of the sending alone, over which rates are given. */
  sendSeconds: number;
  relayCpu: number;
  generatorCpu: number;
  otherCpu: number;
}

async function measure(relay: Relay, mediaPath: MediaPath, offered: number): Promise<Row> {
  const keyA = mediaPath.a && { master: generateSrtpMasterKey(), profile: mediaPath.a };
  const keyB = mediaPath.b && { master: generateSrtpMasterKey(), profile: mediaPath.b };
  const setup = await relay.setUp(keyA, keyB);
  const file = path.join(work, 'packets.bin');
  writePackets(file, setup, Math.round(offered * SECONDS), keyA, keyB);
  const relayBefore = procCpuSeconds(relay.pid) ?? NaN;
  const generatorBefore = procCpuSeconds(loadgen.pid!) ?? NaN;
  const machineBefore = machineBusySeconds();
  const started = performance.now();
  loadgen.stdin!.write(`run ${file} ${offered} ${QUIET_MS}\n`);
  const result = JSON.parse(await nextLine()) as LoadgenResult;
  const seconds = (performance.now() - started) / 1000;
  const relayCpu = (procCpuSeconds(relay.pid) ?? NaN) - relayBefore;
  const generatorCpu = (procCpuSeconds(loadgen.pid!) ?? NaN) - generatorBefore;
  const otherCpu = Math.max(0, machineBusySeconds() - machineBefore - relayCpu - generatorCpu);
  await relay.hangUp();
  return {
    relay: relay.name,
    path: mediaPath.name,
    offered,
    sent: result.sentA + result.sentB,
    forwarded: result.receivedA + result.receivedB,
    seconds,
    sendSeconds: result.sendMs / 1000,
    relayCpu,
    generatorCpu,
    otherCpu,
  };
}

const rtpengineOnPath = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v rtpengine'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
type RelayStarter = { id: string; start: () => Promise<Relay> };
const allRelays: RelayStarter[] = [
  { id: 'carillon-1', start: () => startCarillon(1, 'off') },
  { id: 'carillon-2', start: () => startCarillon(2, 'off') },
  // MEDIA_NATIVE=on: the packet I/O of media-server/native (recvmmsg/sendmmsg batches).
  { id: 'carillon-native-1', start: () => startCarillon(1, 'on') },
  { id: 'carillon-native-2', start: () => startCarillon(2, 'on') },
];
if (rtpengineOnPath) allRelays.push({ id: 'rtpengine-1', start: () => startRtpEngine(1) }, { id: 'rtpengine-2', start: () => startRtpEngine(2) });
const relayStarters = allRelays.filter(({ id }) => !ONLY || ONLY.includes(id));

console.log(
  `Node ${process.version}, ${CALLS} calls, media ${DIRECTIONS === 'both' ? 'both ways (half the offered load each way)' : DIRECTIONS}, ${SECONDS} s per run, loads ${LOADS.join(', ')} pps; ` +
    (rtpengineOnPath ? `${execFileSync('rtpengine', ['--version']).toString().trim().split('\n').pop()}` : 'rtpengine not on PATH: Carillon only'),
);
const rows: Row[] = [];
const header = 'relay                  path        offered/s   sent/s forwarded/s  loss   relay CPU  pps per core  µs/packet  generator CPU  other CPU  packets forwarded';
console.log(header);
for (const { start } of relayStarters) {
  const relay = await start();
  // For a profiler to attach (perf record -p): stderr, so that the table stays clean.
  console.error(`${relay.name}: pid ${relay.pid}`);
  try {
    for (const mediaPath of PATHS.filter((p) => !ONLY_PATHS || ONLY_PATHS.includes(p.name))) {
      for (const offered of LOADS) {
        const row = await measure(relay, mediaPath, offered);
        rows.push(row);
        const perCore = row.forwarded / Math.max(row.relayCpu, 1e-9);
        console.log(
          `${row.relay.padEnd(22)} ${row.path.padEnd(11)} ${String(row.offered).padStart(10)} ${(row.sent / row.sendSeconds).toFixed(0).padStart(8)} ${(
            row.forwarded / row.sendSeconds
          )
            .toFixed(0)
            .padStart(11)} ${((1 - row.forwarded / row.sent) * 100).toFixed(1).padStart(5)}% ${((row.relayCpu / row.seconds) * 100).toFixed(0).padStart(9)} % ${perCore
            .toFixed(0)
            .padStart(13)} ${(1e6 / perCore).toFixed(1).padStart(10)} ${((row.generatorCpu / row.seconds) * 100).toFixed(0).padStart(12)} % ${((row.otherCpu / row.seconds) * 100)
            .toFixed(0)
            .padStart(8)} %  ${String(row.forwarded).padStart(17)}`,
        );
      }
    }
  } finally {
    await relay.stop();
  }
}

// Ratios: Carillon's pps per core over rtpengine's, same path, load and number of threads.
const ratios: string[] = [];
for (const threads of [1, 2]) {
  for (const { name: pathName } of PATHS) {
    for (const offered of LOADS) {
      const find = (prefix: string) => rows.find((r) => r.relay.startsWith(prefix) && r.relay.includes(` ${threads} `) && r.path === pathName && r.offered === offered);
      const theirs = find('rtpengine');
      for (const [prefix, io] of [['Carillon,', 'dgram '], ['Carillon native,', 'native']] as const) {
        const ours = find(prefix);
        if (!ours || !theirs) continue;
        const ratio = ours.forwarded / ours.relayCpu / (theirs.forwarded / theirs.relayCpu);
        ratios.push(`${io} ${String(threads)} thread${threads > 1 ? 's' : ' '}  ${pathName.padEnd(11)} ${String(offered).padStart(7)} pps: ${ratio.toFixed(2)}×`);
      }
    }
  }
}
if (ratios.length > 0) {
  console.log('\nCarillon per core / rtpengine per core:');
  for (const r of ratios) console.log(`  ${r}`);
}

for (const note of notes) console.log(`\nNote: ${note}`);

loadgen.stdin!.write('quit\n');
await once(loadgen, 'exit');
rmSync(work, { recursive: true, force: true });
