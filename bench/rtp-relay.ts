/**
 * Relay throughput: packets per second one media worker relays, and that
 * figure per core of worker time (relayed / event-loop utilization). A sender
 * in its own worker thread offers RTP to 20 bridges on one MediaEngine worker;
 * their other legs all send to one counting socket. Scenarios: plain RTP,
 * PCMU → PCMA transcoding, and SRTP on both legs (unprotect + protect per
 * packet). Each run is bounded in time and packets; no asserts.
 *
 *   npx node bench/rtp-relay.ts [seconds per scenario] [offered packets/s]
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { MediaEngine } from '../media-server/src/media/engine/media-engine.ts';
import type { BridgeHandle } from '../media-server/src/media/bridge/bridge-handle.ts';
import { generateSrtpMasterKey } from '../media-server/src/media/srtp/sdes-crypto.ts';
import type { LoopbackSenderData } from './support/loopback-sender.ts';
import { udpReceiveBufferErrors } from './support/proc-stats.ts';

const SECONDS = Math.min(10, Number(process.argv[2] ?? 3));
const OFFERED_PPS = Math.min(200_000, Number(process.argv[3] ?? 60_000));
const BRIDGES = 20;

interface Scenario {
  name: string;
  codecB: 'PCMU' | 'PCMA';
  srtp: boolean;
}

const scenarios: Scenario[] = [
  { name: 'plain RTP, PCMU → PCMU', codecB: 'PCMU', srtp: false },
  { name: 'plain RTP, PCMU → PCMA', codecB: 'PCMA', srtp: false },
  { name: 'SRTP both legs, PCMU → PCMU', codecB: 'PCMU', srtp: true },
];

const engine = await MediaEngine.start({ workers: 1, portRange: { min: 43000, max: 43999 }, bindAddress: '127.0.0.1', rtcpIntervalMs: 60_000 });
const sink = dgram.createSocket('udp4');
sink.bind(0, '127.0.0.1');
await once(sink, 'listening');
sink.setRecvBufferSize(8 << 20);
let received = 0;
sink.on('message', () => received++);
const sinkAddress = { address: '127.0.0.1', rtpPort: sink.address().port, rtcpPort: sink.address().port };

console.log(`Node ${process.version}, 1 relay worker, ${BRIDGES} bridges, offered ${OFFERED_PPS} packets/s for ${SECONDS} s per scenario`);
console.log('scenario                         offered/s  relayed/s  loss   worker busy  relayed/s per core  µs/packet  kernel drops  relay drops');

for (const scenario of scenarios) {
  const bridges: BridgeHandle[] = [];
  const ports: number[] = [];
  const key = generateSrtpMasterKey();
  for (let i = 0; i < BRIDGES; i++) {
    const bridge = await engine.createBridge();
    bridges.push(bridge);
    const srtp = scenario.srtp ? { profile: 'AES_CM_128_HMAC_SHA1_80' as const, local: generateSrtpMasterKey(), remote: key } : null;
    const a = await bridge.addLeg({ legId: 'a', codec: { name: 'PCMU', payloadType: 0 }, srtp });
    await bridge.addLeg({ legId: 'b', codec: { name: scenario.codecB, payloadType: scenario.codecB === 'PCMA' ? 8 : 0 }, remote: sinkAddress, srtp: srtp && { ...srtp, remote: generateSrtpMasterKey() } });
    ports.push(a.rtpPort);
  }
  received = 0;
  const kernelDropsBefore = udpReceiveBufferErrors();
  const before = engine.eventLoopUtilization();
  const data: LoopbackSenderData = { ports, ratePps: OFFERED_PPS, durationMs: SECONDS * 1000, maxPackets: OFFERED_PPS * SECONDS, srtpKey: scenario.srtp ? key : null };
  const sender = new Worker(new URL('./support/loopback-sender.ts', import.meta.url), { workerData: data });
  const [result] = (await once(sender, 'message')) as [{ sent: number; elapsedMs: number }];
  await once(sender, 'exit');
  // Let the relay drain what is still queued in its socket buffers.
  await new Promise((r) => setTimeout(r, 300));
  const elu = engine.eventLoopUtilization(before)[0]!;
  const kernelDrops = udpReceiveBufferErrors() - kernelDropsBefore;
  let relayDrops = 0;
  for (const b of bridges) for (const leg of await b.stats()) relayDrops += leg.dropped;
  const seconds = result.elapsedMs / 1000;
  const relayedPerSecond = received / seconds;
  const busyShare = elu.utilization * ((result.elapsedMs + 300) / result.elapsedMs);
  const perCore = relayedPerSecond / Math.max(busyShare, 1e-6);
  console.log(
    `${scenario.name.padEnd(32)} ${(result.sent / seconds).toFixed(0).padStart(9)}  ${relayedPerSecond.toFixed(0).padStart(9)}  ${(
      (1 - received / result.sent) *
      100
    )
      .toFixed(1)
      .padStart(4)}%  ${(elu.utilization * 100).toFixed(0).padStart(9)} %  ${perCore.toFixed(0).padStart(18)}  ${(1e6 / perCore).toFixed(1).padStart(9)}  ${String(kernelDrops).padStart(12)}  ${String(relayDrops).padStart(11)}`,
  );
  for (const b of bridges) await b.close();
}

sink.close();
await engine.stop();

