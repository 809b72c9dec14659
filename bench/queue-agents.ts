/**
 * One call queue, 50 SIPp agents, callers arriving at 10/s (issue 15, benchmarks): distribution
 * fairness, time from a free agent to its next INVITE, callers waiting, hold music, and CPU.
 *
 * The SIP edge runs in this process (media-server/test/support/edge-harness.ts: SipEdge + MediaEngine
 * with one media worker thread, PGlite, the real Redis, unreleased area 'queues'), as bench/park-hold.ts.
 * Queue 600 has AGENTS members 201…, each a registered SIPp process of its own running
 * bench/sipp/uas-queue-agent.xml: it answers at once, talks (SIPp's g711a.pcap) for a uniform 4–8 s
 * and hangs up with BYE, call after call. The queue's settings are the defaults (Rotating unless the
 * second argument names another distribution; 25 callers at most; wrap-up 0, so an agent is free from
 * its BYE on) except that the full-queue and max-wait actions are "disconnect" rather than voicemail.
 * One SIPp UAC (its own process) calls 600 at 10 calls/s for the duration; a caller waits until the
 * BYE (its agent's, relayed, or the queue's when it is full). 50 agents at 6 s per call serve about
 * 8 calls/s, so the queue fills up to its 25 callers and stays full: there is always a caller for an
 * agent that frees, and the callers beyond the 25th get the full-queue action.
 *
 * What is measured, and from where:
 * - Calls per agent: INVITEs each agent's SIPp received (every one is answered), from the agents' own
 *   logs; min / median / max and the coefficient of variation (standard deviation / mean).
 * - Free agent → INVITE: each agent logs the wall clock (SIPp gettimeofday, the clock this process
 *   reads too) when it sends its BYE and when the next INVITE reaches it. The gap counts only when a
 *   caller was waiting (not being offered) in every sample of the queue taken over the gap, so that a
 *   gap is the queue's reaction and not a lull in arrivals; all gaps are reported too. Agent-side
 *   times were chosen over the product's events because they are what a phone sees (the edge's BYE
 *   processing and the INVITE's transmission included) and need no hook in the edge.
 * - Callers waiting: the queue's Redis set (entries 'waiting' or 'offering', and 'waiting' alone)
 *   sampled every 100 ms; its maximum. Entered / answered / abandoned: the queue's day figures in
 *   Redis (what the supervisor view shows); full-queue callers never enter: total − entered.
 *   Failed: the caller SIPp's failed calls.
 * - Hold music: every caller's SDP names one UDP socket of this script (as bench/park-hold.ts), which
 *   gets both the hold music and, once bridged, the agent's voice (payload passed through). A packet
 *   whose payload is one of g711a.pcap's is the agent's; any other is hold music. Compared with 50
 *   packets/s × the caller-seconds sampled as 'waiting' (approximate: 100 ms samples).
 * - CPU: this process (edge main thread, media worker, registrar thread, and the bench's own
 *   sampling and packet counting), from /proc, over the calling window; the SIPp processes apart.
 * - Leaks at the end: live calls and media objects, members left marked in Redis, entries left.
 *
 *   npx node bench/queue-agents.ts [seconds=300] [rotating|sequential|simultaneous] [agents=50]
 * Bounded: 10–600 s, at most 50 agents, 10 calls/s, 100 callers at once; no asserts.
 * Simultaneous rings every free agent; these agents answer at once, so the losers of each race see
 * a CANCEL after their 200: their SIPp counts failed calls (the figures still say who answered what).
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { saveCallQueue } from '@carillon/core/queues';
import { DEFAULT_QUEUE_SETTINGS, QUEUE_DISTRIBUTIONS, type QueueDistribution } from '@carillon/domain';
import { queueDay, queueDayKey, queueEntryKey, queueMemberKey, queueWaitingKey } from '@carillon/contracts/call-queues';
import { liveCounts } from '../media-server/src/health.ts';
import { startEdge, type TestPhone } from '../media-server/test/support/edge-harness.ts';
import { freeMediaPort, freeSipPort, SCENARIOS, startRegisteredSipp, type SippRun } from '../media-server/test/support/sipp.ts';
import { procCpuSeconds } from './support/proc-stats.ts';
import { num, startSippBench } from './support/sipp-run.ts';

// The test harness reads REDIS_URL (outside vitest it has no injected one).
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
const SECONDS = Math.min(600, Math.max(10, Number(process.argv[2] ?? 300)));
const DISTRIBUTION = (QUEUE_DISTRIBUTIONS as readonly string[]).includes(process.argv[3] ?? '') ? (process.argv[3] as QueueDistribution) : 'rotating';
const AGENTS = Math.min(50, Math.max(1, Number(process.argv[4] ?? 50)));
const RATE = 10;
const MAX_CONCURRENT_CALLERS = 100;
/** After the last arrival: the callers still waiting or talking end within a wait and a call; bounded. */
const DRAIN_SECONDS = 60;
const PCAP = '/usr/share/sip-tester/g711a.pcap';

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The RTP payloads of SIPp's g711a.pcap (Ethernet + IPv4 + UDP + RTP 12 bytes), as keys: what an agent says. */
function pcapPayloadKeys(file: string): Set<string> {
  const data = fs.readFileSync(file);
  const keys = new Set<string>();
  for (let at = 24; at + 16 <= data.length; ) {
    const length = data.readUInt32LE(at + 8);
    const frame = data.subarray(at + 16, at + 16 + length);
    at += 16 + length;
    const ipHeader = (frame[14]! & 0x0f) * 4;
    const rtp = frame.subarray(14 + ipHeader + 8);
    if (rtp.length > 12) keys.add(payloadKey(rtp));
  }
  return keys;
}
const payloadKey = (rtp: Buffer) => rtp.subarray(12).toString('latin1');

const h = await startEdge({ unreleased: 'queues', rtpPorts: 1200 });
const agentRuns: SippRun[] = [];
try {
  const caller = await h.addPhone('101');
  const agents: TestPhone[] = [];
  for (let i = 1; i <= AGENTS; i++) agents.push(await h.addPhone(String(200 + i)));
  const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  const queue = await h.db.insertInto('extensions').values({ account_id: h.accountId, site_id: site.id, number: '600', type: 'call_queue', name: 'Bench', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  const settings = { ...DEFAULT_QUEUE_SETTINGS, distribution: DISTRIBUTION, wrapUpSeconds: 0, maxWaitSeconds: 120, onFull: { type: 'disconnect' as const, message: null }, onMaxWait: { type: 'disconnect' as const, message: null } };
  await saveCallQueue(h.db, { userId: null, ip: null }, h.accountId, queue.id, { settings, members: agents.map((a) => ({ extension: a.extension, accepting: true })) });
  h.configChanged('extensions', 'queues');

  // The agents: each registered, then its scenario on the same port, for as many calls as come.
  for (const a of agents) {
    agentRuns.push(await startRegisteredSipp({ target: h.target, credentials: a, scenario: path.resolve(import.meta.dirname, 'sipp/uas-queue-agent.xml'), calls: 100_000, timeoutSeconds: SECONDS + DRAIN_SECONDS + 120 }));
  }

  // The callers' media socket: hold music and, once bridged, the agents' voice.
  const agentVoice = pcapPayloadKeys(PCAP);
  const media = { music: 0, voice: 0 };
  const socket = dgram.createSocket('udp4');
  socket.on('error', () => undefined);
  socket.on('message', (packet) => {
    if (packet.length <= 12 || (packet[1]! & 0x7f) !== 8) return;
    if (agentVoice.has(payloadKey(packet))) media.voice++;
    else media.music++;
  });
  const rtpPort = await freeMediaPort();
  await new Promise<void>((resolve) => socket.bind(rtpPort, '127.0.0.1', resolve));

  // The queue, sampled: callers in its set, and those of them waiting for an offer.
  const samples: { at: number; inQueue: number; waiting: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const ids = await h.redis.zrange(queueWaitingKey(queue.id), 0, -1);
      const states = ids.length ? await h.redis.mget(ids.map((id) => queueEntryKey(queue.id, id))) : [];
      samples.push({ at: Date.now(), inQueue: ids.length, waiting: states.filter((s) => s === 'waiting').length });
      await sleep(100);
    }
  })();

  const load0 = os.loadavg();
  const cpu0 = procCpuSeconds(process.pid)!;
  const t0 = performance.now();
  const calls = RATE * SECONDS;
  const callers = startSippBench({
    scenario: path.join(SCENARIOS, 'uac-socket-until-bye.xml'),
    target: h.target,
    localPort: await freeSipPort(),
    mediaPort: await freeMediaPort(),
    service: '600',
    rate: RATE,
    calls,
    limit: MAX_CONCURRENT_CALLERS,
    timeoutSeconds: SECONDS + DRAIN_SECONDS,
    extra: ['-au', caller.username, '-ap', caller.password, '-set', 'rtpport', String(rtpPort)],
  });
  const callerResult = await callers.done;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = procCpuSeconds(process.pid)! - cpu0;
  const load1 = os.loadavg();
  sampling = false;
  await sampler;

  // The agents finish their calls and exit (SIGUSR1: SIPp's soft exit), then their logs are read.
  let agentCpu = 0;
  for (const run of agentRuns) agentCpu += (run.child.pid ? procCpuSeconds(run.child.pid) : null) ?? 0;
  for (const run of agentRuns) run.child.kill('SIGUSR1');
  const agentLogs = await Promise.all(agentRuns.map(async (run) => (await Promise.race([run.done, sleep(30_000).then(() => null)]))?.logs ?? run.logsSoFar()));

  // Calls per agent, and each agent's BYE → next INVITE gaps.
  const perAgent: number[] = [];
  const gapsAll: number[] = [];
  const gapsBusy: number[] = [];
  const waitingThrough = (from: number, to: number) => {
    const within = samples.filter((s) => s.at >= from - 100 && s.at <= to);
    return within.length > 0 && within.every((s) => s.waiting >= 1);
  };
  for (const log of agentLogs) {
    const events = [...log.matchAll(/^(invite|bye) (\d+)(?:\.\d+)? (\d+)(?:\.\d+)?$/gm)].map((m) => ({ kind: m[1]!, at: Number(m[2]) * 1000 + Number(m[3]) / 1000 }));
    perAgent.push(events.filter((e) => e.kind === 'invite').length);
    for (let i = 1; i < events.length; i++) {
      if (events[i - 1]!.kind !== 'bye' || events[i]!.kind !== 'invite') continue;
      const gap = events[i]!.at - events[i - 1]!.at;
      gapsAll.push(gap);
      if (waitingThrough(events[i - 1]!.at, events[i]!.at)) gapsBusy.push(gap);
    }
  }
  perAgent.sort((a, b) => a - b);
  gapsAll.sort((a, b) => a - b);
  gapsBusy.sort((a, b) => a - b);
  const mean = perAgent.reduce((a, b) => a + b, 0) / perAgent.length;
  const cv = Math.sqrt(perAgent.reduce((s, n) => s + (n - mean) ** 2, 0) / perAgent.length) / mean;

  // The queue's own figures, and what is left once every call is over.
  const day = await h.redis.hgetall(queueDayKey(queue.id, queueDay(new Date(), 'America/New_York')));
  const waitingCallerSeconds = samples.reduce((s, x, i) => s + (i ? x.waiting * ((x.at - samples[i - 1]!.at) / 1000) : 0), 0);
  const drainDeadline = Date.now() + 30_000;
  while (h.edge.calls.activeCalls > 0 && Date.now() < drainDeadline) await sleep(100);
  const live = liveCounts(h.edge.calls, h.media);
  const marked = (await h.redis.mget(agents.map((a) => queueMemberKey(h.accountId, a.extensionId)))).filter((m) => m !== null);
  const leftInQueue = await h.redis.zcard(queueWaitingKey(queue.id));
  const last = callerResult.last;
  const entered = Number(day.entered ?? 0);

  const pct = (n: number) => `${((n / seconds) * 100).toFixed(1)} % of a core`;
  console.log(`queue-agents: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load ${load0.map((l) => l.toFixed(2)).join(' ')} before, ${load1.map((l) => l.toFixed(2)).join(' ')} after`);
  console.log(`queue 600, ${DISTRIBUTION}, ${AGENTS} agents (talk 4–8 s), callers at ${RATE}/s for ${SECONDS} s (window with drain ${seconds.toFixed(0)} s), at most 25 waiting, wrap-up 0`);
  console.log(`callers: ${num(last, 'TotalCallCreated')} created, ${num(last, 'SuccessfulCall(C)')} successful, ${num(last, 'FailedCall(C)')} failed (SIPp); queue: ${entered} entered, ${day.answered ?? 0} answered, ${day.abandoned ?? 0} abandoned, ${num(last, 'TotalCallCreated') - entered} got the full-queue action`);
  console.log(`calls answered per agent: min ${perAgent[0]}, median ${percentile(perAgent, 50)}, max ${perAgent.at(-1)}, mean ${mean.toFixed(1)}, CV ${(cv * 100).toFixed(1)} % (${perAgent.reduce((a, b) => a + b, 0)} in all)`);
  console.log(`agent free (BYE sent) → next INVITE, a caller waiting throughout: p50 ${percentile(gapsBusy, 50).toFixed(0)} ms, p99 ${percentile(gapsBusy, 99).toFixed(0)} ms, max ${(gapsBusy.at(-1) ?? NaN).toFixed(0)} ms (${gapsBusy.length} gaps)`);
  console.log(`  all gaps: p50 ${percentile(gapsAll, 50).toFixed(0)} ms, p99 ${percentile(gapsAll, 99).toFixed(0)} ms (${gapsAll.length})`);
  console.log(`callers in the queue (max seen): ${Math.max(0, ...samples.map((s) => s.inQueue))}, of them waiting for an offer: ${Math.max(0, ...samples.map((s) => s.waiting))} (${samples.length} samples)`);
  console.log(`hold music packets: ${media.music} (about ${Math.round(waitingCallerSeconds * 50)} expected from ${waitingCallerSeconds.toFixed(0)} caller-seconds waiting), agents' voice packets: ${media.voice}`);
  console.log(`CPU: this process (edge) ${pct(cpu)}; ${AGENTS} agent SIPps ${pct(agentCpu)} (all their CPU since they started, over the window); caller SIPp ${pct(callerResult.cpuSeconds)}`);
  console.log(`left over: ${JSON.stringify(live)}, members marked in Redis ${marked.length} ${JSON.stringify(marked.slice(0, 3))}, entries in the queue ${leftInQueue}`);
  if (callerResult.errors) console.log(`caller SIPp errors (first 600 characters): ${callerResult.errors.slice(0, 600)}`);
  socket.close();
} finally {
  for (const run of agentRuns) run.stop();
  await h.stop();
}
process.exit(0);
