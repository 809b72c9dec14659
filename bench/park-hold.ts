/**
 * 100 parked calls with hold music at once (issue 15, benchmarks): CPU and loss.
 *
 * The SIP edge runs in this process (media-server/test/support/edge-harness.ts:
 * SipEdge + MediaEngine with one media worker thread, PGlite, the real Redis,
 * unreleased area 'park'), with 100 park locations 711…71100 whose member is
 * extension 102. A SIPp UAS registered as 102 answers each of N calls from
 * 101 and parks it on 71<call number> by REFER (bench/sipp/uas-park.xml);
 * the callers' SDP names one UDP socket of this script, which counts the hold
 * music packets each parked caller gets (by SSRC) over a window once all N
 * are parked. Loss: 1 − packets received / (N × 50 × window seconds). CPU:
 * this process's CPU time (main thread + media worker + registrar thread)
 * over the window, as a share of one core. The receiving socket shares the
 * main thread with the edge; the music is played by the media worker.
 *
 *   npx node bench/park-hold.ts [calls=100] [window seconds=20]
 * Bounded: at most 100 calls (100 locations per account) and 60 s; no asserts.
 */
import dgram from 'node:dgram';
import os from 'node:os';
import path from 'node:path';
import { createParkLocation } from '@carillon/core';
import { startEdge } from '../media-server/test/support/edge-harness.ts';
import { freeMediaPort, freeSipPort, runSipp, startSipp, SCENARIOS } from '../media-server/test/support/sipp.ts';

// The test harness reads REDIS_URL (outside vitest it has no injected one).
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
const CALLS = Math.min(100, Math.max(1, Number(process.argv[2] ?? 100)));
const WINDOW_S = Math.min(60, Math.max(5, Number(process.argv[3] ?? 20)));

const h = await startEdge({ unreleased: 'park', noAnswerSeconds: 60, parkRecallSeconds: 3600, rtpPorts: 4 * CALLS + 100 });
try {
  const caller = await h.addPhone('101');
  const parker = await h.addPhone('102');
  for (let n = 1; n <= CALLS; n++) await createParkLocation(h.db, { userId: null, ip: null }, h.accountId, { name: `Bench ${n}`, number: `71${n}`, memberExtensionIds: [parker.extensionId] });
  h.configChanged('extensions');

  const socket = dgram.createSocket('udp4');
  socket.on('error', () => undefined);
  const rtpPort = await freeMediaPort();
  await new Promise<void>((resolve) => socket.bind(rtpPort, '127.0.0.1', resolve));
  let counting = false;
  const perSsrc = new Map<number, number>();
  socket.on('message', (packet) => {
    if (!counting || packet.length < 12) return;
    const ssrc = packet.readUInt32BE(8);
    perSsrc.set(ssrc, (perSsrc.get(ssrc) ?? 0) + 1);
  });

  // The parker: registered, then the park scenario for CALLS calls at once on the same port.
  const uasPort = await freeSipPort();
  const reg = await runSipp({ scenario: 'register.xml', target: h.target, localPort: uasPort, service: parker.username, auth: parker });
  if (reg.code !== 0) throw new Error(`parker not registered: ${reg.errors}`);
  const uas = startSipp({ scenario: path.resolve(import.meta.dirname, 'sipp/uas-park.xml'), target: h.target, localPort: uasPort, service: parker.username, calls: CALLS, limit: CALLS, timeoutSeconds: 120, extra: ['-mp', String(await freeMediaPort())] });
  await uas.ready;
  const uac = startSipp({ scenario: path.join(SCENARIOS, 'uac-socket-until-bye.xml'), target: h.target, localPort: await freeSipPort(), service: '102', auth: caller, calls: CALLS, limit: CALLS, rate: 20, timeoutSeconds: 120, vars: { rtpport: String(rtpPort) }, extra: ['-mp', String(await freeMediaPort())] });

  const parked = () => h.edge.calls.calls().filter((c) => c.parkedOn !== null).length;
  const deadline = Date.now() + 60_000;
  while (parked() < CALLS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const parkedCount = parked();
  // Hold music starts with the park; measure once every parked call's stream has been heard, not after a guess.
  counting = true;
  const settle = Date.now() + 30_000;
  while (perSsrc.size < parkedCount && Date.now() < settle) await new Promise((r) => setTimeout(r, 50));
  counting = false;
  perSsrc.clear();

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  counting = true;
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
  counting = false;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const received = [...perSsrc.values()].reduce((a, b) => a + b, 0);
  const expected = parkedCount * 50 * seconds;
  const perCall = [...perSsrc.values()].sort((a, b) => a - b);
  const redisKeys = (await h.redis.keys(`carillon:park:${h.accountId}:*`)).length;

  console.log(`park-hold: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load ${os.loadavg()[0]!.toFixed(2)}`);
  console.log(`parked at once: ${parkedCount}/${CALLS} (Redis keys ${redisKeys}); window ${seconds.toFixed(1)} s`);
  console.log(`hold music packets received: ${received} of ${Math.round(expected)} expected (${perSsrc.size} streams), loss ${Math.max(0, (1 - received / expected) * 100).toFixed(3)} % (the window is timed by this process: ±1 packet per stream)`);
  console.log(`per parked call: min ${perCall[0] ?? 0}, median ${perCall[Math.floor(perCall.length / 2)] ?? 0}, max ${perCall.at(-1) ?? 0} packets (${Math.round(50 * seconds)} expected)`);
  console.log(`CPU of the edge process: ${(((cpu.user + cpu.system) / 1e6 / seconds) * 100).toFixed(1)} % of a core (${((((cpu.user + cpu.system) / 1e6 / seconds) * 100) / Math.max(1, parkedCount)).toFixed(3)} % per parked call)`);
  socket.close();
  uac.stop();
  uas.stop();
} finally {
  await h.stop();
}
process.exit(0);
