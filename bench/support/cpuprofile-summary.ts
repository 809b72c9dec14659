/**
 * Where a media worker's time goes, from a V8 CPU profile (`node --cpu-prof`):
 * each sample is charged to the innermost frame of its stack that belongs to
 * a stage of the packet path (receive, SRTP unprotect/protect with AES-CM
 * keystream and HMAC-SHA1 apart, routing in the bridge and endpoints, send,
 * garbage collection), then divided by the packets the worker relayed.
 * V8 samples on wall-clock time: on a machine where the thread waits for a
 * core, a stage's share includes the time it was descheduled in it, so the
 * shares are those of the thread's wall time, not of its CPU time (perf gives
 * that).
 *
 *   node bench/support/cpuprofile-summary.ts <file.cpuprofile> [packets relayed during the profile]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Stages, tried on each frame from the leaf up; the first match takes the sample. */
const STAGES: [string, (f: ProfileNode['callFrame']) => boolean][] = [
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['idle (waiting for packets)', (f) => f.functionName === '(idle)'],
  ['HMAC-SHA1 (hash copies, update, digest)', (f) => f.url.includes('hmac-sha1.ts') || f.url.includes('internal/crypto/hash')],
  ['AES-CM keystream (ECB update, XOR)', (f) => f.url.includes('aes-cm-keystream.ts') || f.url.includes('internal/crypto/cipher')],
  ['SRTP bookkeeping (ROC, replay window, tag check)', (f) => /srtp-context\.ts|replay-window\.ts|srtp-session\.ts/.test(f.url)],
  ['send (dgram send, the syscall)', (f) => (f.url.includes('dgram') && f.functionName !== 'onMessage') || (f.url === '' && /^(send|doSend)$/.test(f.functionName))],
  ['receive (dgram onMessage, socket read)', (f) => f.url.includes('dgram') && f.functionName === 'onMessage'],
  ['RTP header, stats, DTMF taps', (f) => /media\/(rtp|dtmf)\//.test(f.url)],
  ['routing (endpoint, latching, bridge, payload step)', (f) => /media\/(endpoint|bridge|mixer)\//.test(f.url)],
  ['program (native, not attributed by V8)', (f) => f.functionName === '(program)'],
];

const [file, packetsArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/support/cpuprofile-summary.ts <file.cpuprofile> [packets]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Only the packet-flow window: from the first to the last sample under the endpoint's receive
// handler, so that the thread's start-up (module loading) and idle tail are left out.
const inPacketPath = (id: number): boolean => {
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) if (byId.get(at)!.callFrame.functionName === 'onRtpMessage') return true;
  return false;
};
const firstPacket = profile.samples.findIndex(inPacketPath);
const lastPacket = profile.samples.findLastIndex(inPacketPath);

const stageUs = new Map<string, number>();
const selfUs = new Map<string, number>();
let totalUs = 0;
profile.samples.forEach((id, i) => {
  if (i < firstPacket || i > lastPacket) return;
  const dt = profile.timeDeltas[i] ?? 0;
  totalUs += dt;
  const leaf = byId.get(id)!;
  const key = `${leaf.callFrame.functionName || '(anonymous)'} ${leaf.callFrame.url.split('/').slice(-2).join('/')}:${leaf.callFrame.lineNumber + 1}`;
  selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
  let stage = 'other JavaScript';
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const match = STAGES.find(([, test]) => test(byId.get(at!)!.callFrame));
    if (match) {
      stage = match[0];
      break;
    }
  }
  stageUs.set(stage, (stageUs.get(stage) ?? 0) + dt);
});

const packets = Number(packetsArg ?? 0);
const busyUs = totalUs - (stageUs.get('idle (waiting for packets)') ?? 0);
console.log(`${file}: ${(totalUs / 1e6).toFixed(2)} s profiled, ${(busyUs / 1e6).toFixed(2)} s busy${packets ? `, ${packets} packets` : ''}`);
console.log('stage                                                  share of busy' + (packets ? '   µs/packet' : ''));
for (const [stage, us] of [...stageUs].sort((a, b) => b[1] - a[1])) {
  if (stage.startsWith('idle')) continue;
  console.log(`${stage.padEnd(54)} ${((us / busyUs) * 100).toFixed(1).padStart(6)} %` + (packets ? `  ${(us / packets).toFixed(2).padStart(9)}` : ''));
}
console.log('\ntop functions by self time (busy only)');
for (const [name, us] of [...selfUs].filter(([n]) => !n.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, 20)) {
  console.log(`${((us / busyUs) * 100).toFixed(1).padStart(5)} %  ${name}`);
}
