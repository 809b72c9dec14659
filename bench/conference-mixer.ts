/**
 * The conference mixer under load (issue 16): one room of 100, 300 and
 * 1,000 PCMU members, 3 of them talking (tones of 400, 800 and 1,200 Hz at
 * −17 dBov), the others sending digital silence every 20 ms as a phone does.
 *
 * - The room runs alone in its own process (bench/support/conference-room-process.ts:
 *   a MediaEngine with one worker thread, since a room lives on one worker).
 * - The load generator is bench/support/rtp-loadgen.c (sendmmsg/recvmmsg),
 *   built here with gcc, in its own process: it plays every member from one
 *   socket, paced at 50 packets/s per member, and counts the mixes that come
 *   back for a fixed tail after its last packet (`runfor`).
 * - CPU is the room process's CPU time from /proc/<pid>/stat (utime + stime:
 *   every thread) over the run and until the room has read every packet
 *   still queued in its sockets, not event-loop time; per member it is given
 *   in µs of CPU per member-second. The generator's CPU and the rest of the
 *   machine's are printed too: the machine is shared.
 * - Mix delay: from a talker's packet arriving to the tick that mixes it (the
 *   jitter buffer's wait), p50/p99 in 1 ms buckets from 2 s into the run; tick: how long a tick's
 *   work took (the last member's mix left then). RSS: the room process's.
 * - Loss in: 1 − packets the room's endpoints received / packets sent.
 *   Loss out: 1 − mixes received by the generator / mixes the room sent.
 *   Ticks/s: the room's 20 ms mixing ticks per second of the run (50 when it
 *   keeps up with its clock; each tick sends one mix to every member).
 *   Kernel drops are the machine-wide UDP RcvbufErrors over the run.
 *
 *   npx node bench/conference-mixer.ts [seconds per room] [sizes, comma-separated]
 *   BENCH_MUTED=1 mutes every member but the talkers (they still send; the room drops it after the header).
 * Bounded: at most 20 s per room and 1,000 members; no asserts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PCMU } from '../media-server/src/media/codecs/g711-codec.ts';
import { ToneGenerator } from '../media-server/src/media/audio/tone-generator.ts';
import { writeRtpHeader } from '../media-server/src/media/rtp/rtp-header.ts';
import { percentiles } from '../media-server/src/media/mixer/room.ts';
import { machineBusySeconds, procCpuSeconds, udpReceiveBufferErrors } from './support/proc-stats.ts';
import { startRtpLoadgen } from './support/rtp-loadgen.ts';
import type { RoomReply, RoomRequest } from './support/conference-room-process.ts';

const SECONDS = Math.min(20, Number(process.argv[2] ?? 10));
const SIZES = (process.argv[3] ?? '100,300,1000').split(',').map((n) => Math.min(1000, Number(n)));
const TALKERS = 3;
/** BENCH_MUTED=1: every member but the talkers is muted (its packets dropped after the header), to price a muted member. */
const MUTED = process.env.BENCH_MUTED === '1';
const TONES = [400, 800, 1200];
const TAIL_MS = 300;
/** Delays are taken after this much of the run: not while a thousand members latch. */
const WARM_UP_MS = 2000;

// --- the generator ---------------------------------------------------------
const { child: loadgen, nextLine, work } = startRtpLoadgen('conference');
await nextLine(); // "ports A B": members latch to A, where the packets come from

interface LoadgenResult {
  sentA: number;
  receivedA: number;
  sendMs: number;
}

// --- the room process ----------------------------------------------------------
const child: ChildProcess = fork(path.join(import.meta.dirname, 'support', 'conference-room-process.ts'), [], {
  serialization: 'advanced',
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  execArgv: process.env.BENCH_RELAY_NODE_ARGS ? process.env.BENCH_RELAY_NODE_ARGS.split(' ') : [],
});
const waitFor = async <T extends RoomReply['type']>(expect: T): Promise<Extract<RoomReply, { type: T }>> => {
  for (;;) {
    const [reply] = (await once(child, 'message')) as [RoomReply];
    if (reply.type === 'error') throw new Error(`room process: ${reply.message}`);
    if (reply.type === expect) return reply as Extract<RoomReply, { type: T }>;
  }
};
const ask = <T extends RoomReply['type']>(request: RoomRequest, expect: T): Promise<Extract<RoomReply, { type: T }>> => {
  child.send(request);
  return waitFor(expect);
};
const { pid } = await waitFor('ready');

/** Every member's packets in time order: 50 per second each; talkers carry a tone, the others silence. */
function writePackets(file: string, ports: number[], ticks: number): number {
  const record = 6 + 12 + 160;
  const out = Buffer.alloc(ticks * ports.length * record);
  const tones = TONES.map((hz) => new ToneGenerator([hz], 5000));
  const pcm = new Int16Array(160);
  const silence = Buffer.alloc(160, 0xff);
  let at = 0;
  for (let t = 0; t < ticks; t++) {
    for (let m = 0; m < ports.length; m++) {
      out[at] = 0;
      out[at + 1] = 0;
      out.writeUInt16LE(ports[m]!, at + 2);
      out.writeUInt16LE(12 + 160, at + 4);
      writeRtpHeader(out, { payloadType: 0, sequenceNumber: t & 0xffff, timestamp: (t * 160) >>> 0, ssrc: 0x10000 + m }, at + 6);
      if (m < TALKERS) {
        tones[m]!.fill(pcm);
        PCMU.encode(pcm, 160, out, at + 18);
      } else {
        silence.copy(out, at + 18);
      }
      at += record;
    }
  }
  writeFileSync(file, out);
  return ticks * ports.length;
}

console.log(
  `Node ${process.version}, ${os.cpus().length} CPUs, room on 1 worker thread, ${TALKERS} talkers, PCMU, the others ${MUTED ? 'muted' : 'silent'}, ${SECONDS} s per room; ` +
    `load average at start ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
);
console.log(
  'members  sent in  loss in  kernel drops  ticks/s  mixes sent  loss out  room CPU (cores)  µs CPU per member-s  decoded/tick  shared encodes/tick  mix delay p50/p99  tick p50/p99  RSS MB  generator CPU  rest of machine  load avg (1 min)',
);

for (const members of SIZES) {
  const { ports } = await ask({ type: 'room', members, talkers: TALKERS, mutedListeners: MUTED }, 'room');
  const file = path.join(work, 'packets.bin');
  const ticks = SECONDS * 50;
  const offered = members * 50;
  writePackets(file, ports, ticks);
  const statsBefore = await ask({ type: 'stats' }, 'stats');
  const cpuBefore = procCpuSeconds(pid) ?? NaN;
  const generatorBefore = procCpuSeconds(loadgen.pid!) ?? NaN;
  const machineBefore = machineBusySeconds();
  const dropsBefore = udpReceiveBufferErrors();
  const started = performance.now();
  loadgen.stdin!.write(`runfor ${file} ${offered} ${TAIL_MS}\n`);
  const warm = new Promise((r) => setTimeout(r, WARM_UP_MS)).then(() => ask({ type: 'stats' }, 'stats'));
  const result = JSON.parse(await nextLine()) as LoadgenResult;
  const statsWarm = await warm;
  // A room that fell behind still has packets queued in its sockets: they are counted once read, and so is their CPU.
  let stats = await ask({ type: 'stats' }, 'stats');
  const loadSeconds = (performance.now() - started) / 1000;
  // Loss out and the tick rate are counted while the generator sent and listened.
  const mixesSent = stats.sentPackets - statsBefore.sentPackets;
  const ticksPerSecond = (stats.mixer.ticks - statsBefore.mixer.ticks) / loadSeconds;
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const again = await ask({ type: 'stats' }, 'stats');
    const drained = again.receivedPackets === stats.receivedPackets;
    stats = again;
    if (drained) break;
  }
  const seconds = (performance.now() - started) / 1000;
  const roomCpu = (procCpuSeconds(pid) ?? NaN) - cpuBefore;
  const generatorCpu = (procCpuSeconds(loadgen.pid!) ?? NaN) - generatorBefore;
  const otherCpu = Math.max(0, machineBusySeconds() - machineBefore - roomCpu - generatorCpu);
  const kernelDrops = udpReceiveBufferErrors() - dropsBefore;
  const load = os.loadavg()[0]!;
  await ask({ type: 'close' }, 'close');

  const received = stats.receivedPackets - statsBefore.receivedPackets;
  const mixTicks = stats.mixer.ticks - statsBefore.mixer.ticks;
  const decoded = stats.mixer.decodedPackets - statsBefore.mixer.decodedPackets;
  const sharedEncodes = (stats.mixer.sharedEncodes.PCMU ?? 0) - (statsBefore.mixer.sharedEncodes.PCMU ?? 0);
  const cores = roomCpu / seconds;
  // From WARM_UP_MS into the run to its end: not the room's start while its members latched.
  const window = (after: number[], before: number[]) => percentiles(after.map((n, i) => n - before[i]!));
  const delay = window(stats.mixer.mixDelayHistogram, statsWarm.mixer.mixDelayHistogram);
  const tick = window(stats.mixer.tickDurationHistogram, statsWarm.mixer.tickDurationHistogram);
  console.log(
    [
      String(members).padStart(7),
      String(result.sentA).padStart(7),
      `${(Math.max(0, 1 - received / result.sentA) * 100).toFixed(2)}%`.padStart(7),
      String(kernelDrops).padStart(12),
      ticksPerSecond.toFixed(1).padStart(7),
      String(mixesSent).padStart(10),
      `${(Math.max(0, 1 - result.receivedA / mixesSent) * 100).toFixed(2)}%`.padStart(8),
      cores.toFixed(3).padStart(16),
      ((roomCpu * 1e6) / (members * seconds)).toFixed(1).padStart(19),
      (decoded / Math.max(1, mixTicks)).toFixed(2).padStart(12),
      (sharedEncodes / Math.max(1, mixTicks)).toFixed(2).padStart(19),
      `${delay.p50}/${delay.p99} ms`.padStart(17),
      `${tick.p50}/${tick.p99} ms`.padStart(12),
      (stats.rssBytes / 2 ** 20).toFixed(0).padStart(6),
      (generatorCpu / seconds).toFixed(3).padStart(13),
      (otherCpu / seconds).toFixed(3).padStart(16),
      load.toFixed(1).padStart(16),
    ].join('  '),
  );
}

child.send({ type: 'stop' } satisfies RoomRequest);
if (child.exitCode === null) await once(child, 'exit');
loadgen.stdin!.write('quit\n');
await once(loadgen, 'exit');
