/**
 * Carillon's media plane alone in a process, for bench/relay-vs-rtpengine.ts:
 * a MediaEngine with N worker threads (as media-server/src/main.ts starts it),
 * driven over the IPC channel, so that the process's CPU time (all threads,
 * from /proc) is the relay's and nothing else's.
 *
 * Arguments: worker threads (1), MEDIA_NATIVE (off | on).
 * Messages in:  { type: 'calls', calls: RelayCallSpec[] }  → { type: 'calls', ports: number[][] }  ([a, b] per call)
 *               { type: 'hangup' }                          → { type: 'hangup' }
 *               { type: 'stop' }
 * Ready:        { type: 'ready', pid }
 */
import { MediaEngine } from '../../media-server/src/media/engine/media-engine.ts';
import type { BridgeHandle } from '../../media-server/src/media/bridge/bridge-handle.ts';
import type { SrtpLegKeys } from '../../media-server/src/media/engine/control-messages.ts';

export interface RelayCallSpec {
  /** Where each leg's peer listens (the load generator's A and B sockets). */
  remoteA: number;
  remoteB: number;
  srtpA: SrtpLegKeys | null;
  srtpB: SrtpLegKeys | null;
}

export type RelayRequest = { type: 'calls'; calls: RelayCallSpec[] } | { type: 'hangup' } | { type: 'stop' };
export type RelayReply = { type: 'ready'; pid: number } | { type: 'calls'; ports: number[][] } | { type: 'hangup' } | { type: 'error'; message: string };

const workers = Number(process.argv[2] ?? 1);
/** MEDIA_NATIVE of the workers: "on" runs the relay on the addon of media-server/native (issue 12). */
const packetIo = process.argv[3] === 'on' ? 'on' : 'off';
const engine = await MediaEngine.start({ workers, portRange: { min: 43000, max: 43999 }, bindAddress: '127.0.0.1', rtcpIntervalMs: 60_000, packetIo });
let bridges: BridgeHandle[] = [];
const reply = (message: RelayReply): boolean => process.send!(message);

process.on('message', (message: RelayRequest) => {
  void handle(message).catch((err: unknown) => reply({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
});
// The benchmark gone (or done): stop the workers, so that the process ends.
process.on('disconnect', () => void engine.stop());
reply({ type: 'ready', pid: process.pid });

async function handle(message: RelayRequest): Promise<void> {
  switch (message.type) {
    case 'calls': {
      const ports: number[][] = [];
      for (const call of message.calls) {
        const bridge = await engine.createBridge();
        bridges.push(bridge);
        const codec = { name: 'PCMU' as const, payloadType: 0 };
        const a = await bridge.addLeg({ legId: 'a', codec, remote: { address: '127.0.0.1', rtpPort: call.remoteA, rtcpPort: call.remoteA }, srtp: call.srtpA });
        const b = await bridge.addLeg({ legId: 'b', codec, remote: { address: '127.0.0.1', rtpPort: call.remoteB, rtcpPort: call.remoteB }, srtp: call.srtpB });
        ports.push([a.rtpPort, b.rtpPort]);
      }
      reply({ type: 'calls', ports });
      return;
    }
    case 'hangup':
      for (const b of bridges) await b.close();
      bridges = [];
      reply({ type: 'hangup' });
      return;
    case 'stop':
      process.disconnect();
      return;
  }
}
