/**
 * Worker thread for bench/rtp-relay.ts: sends G.711 RTP (optionally SRTP)
 * from one UDP socket to a list of relay ports, round robin, paced in 1 ms
 * bursts towards a target rate, bounded in time and count. Reports how many
 * packets it sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openUdpSocket } from '../../media-server/src/media/endpoint/udp-socket.ts';
import { writeRtpHeader } from '../../media-server/src/media/rtp/rtp-header.ts';
import { SrtpContext } from '../../media-server/src/media/srtp/srtp-context.ts';
import type { SrtpMasterKey } from '../../media-server/src/media/srtp/srtp-profile.ts';

export interface LoopbackSenderData {
  ports: number[];
  ratePps: number;
  durationMs: number;
  maxPackets: number;
  srtpKey: SrtpMasterKey | null;
}

const data = workerData as LoopbackSenderData;
// The relay's own socket setup: sends leave synchronously, so the packet buffers can be reused.
const socket = await openUdpSocket('127.0.0.1', 0);

const streams = data.ports.map((port, i) => ({ port, ssrc: 0x1000 + i, seq: 0, ts: 0 }));
const srtp = data.srtpKey ? new SrtpContext(data.srtpKey, 'AES_CM_128_HMAC_SHA1_80') : null;
const reusedPacket = Buffer.alloc(12 + 160, 0xff);
const reusedProtected = Buffer.alloc(12 + 160 + 10);
let sent = 0;
let next = 0;
const start = performance.now();

await new Promise<void>((resolve) => {
  const burst = () => {
    const elapsed = performance.now() - start;
    if (elapsed >= data.durationMs || sent >= data.maxPackets) return resolve();
    const due = Math.min(data.maxPackets, Math.floor((elapsed * data.ratePps) / 1000));
    // Never more than 200 at once, so a slow start does not turn into one huge burst.
    for (let n = 0; sent < due && n < 200; n++) {
      // A datagram still queued in the socket holds its buffer: only then take fresh ones.
      const queued = socket.getSendQueueCount() > 0;
      const packet = queued ? Buffer.alloc(12 + 160, 0xff) : reusedPacket;
      const protectedPacket = queued ? Buffer.alloc(12 + 160 + 10) : reusedProtected;
      const s = streams[next]!;
      next = (next + 1) % streams.length;
      writeRtpHeader(packet, { payloadType: 0, sequenceNumber: s.seq, timestamp: s.ts, ssrc: s.ssrc });
      s.seq = (s.seq + 1) & 0xffff;
      s.ts = (s.ts + 160) >>> 0;
      if (srtp) {
        const len = srtp.protect(packet, packet.length, protectedPacket);
        socket.send(protectedPacket, 0, len, s.port, '127.0.0.1');
      } else {
        socket.send(packet, 0, packet.length, s.port, '127.0.0.1');
      }
      sent++;
    }
    setImmediate(burst);
  };
  burst();
});

socket.close();
parentPort!.postMessage({ sent, elapsedMs: performance.now() - start });
