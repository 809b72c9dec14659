/**
 * Entry point of a media worker thread. It owns the bridges and rooms the
 * engine placed on it, with their endpoints' sockets: packets are received,
 * converted, mixed and sent here and never cross to the main thread.
 * Requests arrive on the worker channel and each gets one reply; events
 * (DTMF, latching, end of a prompt or of a recording) go back as notices.
 * Recordings are written from here too.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parentChannel, type ChannelHandlers } from '../../threads/worker-channel.ts';
import { PCMA, PCMU } from '../codecs/g711-codec.ts';
import { encodeOpusPrompt, encodePrompt, type EncodedPrompt } from '../media-player/encoded-prompt.ts';
import { readWav8kMono } from '../media-player/wav-file.ts';
import { Bridge } from '../bridge/bridge.ts';
import type { EndpointContainer } from '../endpoint/endpoint-container.ts';
import { Room } from '../mixer/room.ts';
import type { MediaEvent, MediaMainApi, MediaWorkerApi } from './control-messages.ts';
import { MediaClock } from './media-clock.ts';
import { MediaTimeoutWatch, type MediaTimeouts } from './media-timeout.ts';
import { loadDtls } from '../webrtc/dtls-loader.ts';
import { selectPacketIo, type PacketIoMode } from '../endpoint/udp-socket.ts';

export interface MediaWorkerData {
  rtcpIntervalMs: number;
  mediaTimeouts: MediaTimeouts;
  /** The engine's DTLS certificate, for WebRTC legs. */
  dtlsCertificate: { certPem: string; keyPem: string } | null;
  packetIo: PacketIoMode;
}

if (!parentPort) throw new Error('media-worker.ts runs as a worker thread, started by MediaEngine');
const port = parentPort;
const { rtcpIntervalMs, dtlsCertificate, mediaTimeouts, packetIo } = workerData as MediaWorkerData;
// Before any socket opens; "on" without the addon fails the worker's start, and so the engine's.
const packetIoInUse = selectPacketIo(packetIo);

const clock = new MediaClock();
/** Bridges and rooms placed on this worker, by id. */
const containers = new Map<string, EndpointContainer>();
/** Encoded once per file and codec: a thousand callers on hold share one copy of the music. */
const prompts = new Map<string, Promise<EncodedPrompt>>();
let nextPlaybackId = 1;

const emit = (event: MediaEvent) => channel.notify('media-event', event);

const timeouts = new MediaTimeoutWatch(mediaTimeouts);

const housekeeping = setInterval(() => {
  const now = performance.now();
  for (const [id, c] of containers) {
    c.housekeeping(now);
    const silent = timeouts.check(id, c.allEndpoints(), now);
    if (silent) emit(silent);
  }
}, Math.min(1000, rtcpIntervalMs));

function container(id: string): EndpointContainer {
  const c = containers.get(id);
  if (!c) throw new Error(`no bridge or room ${id} on this worker`);
  return c;
}

function prompt(file: string, codecName: string): Promise<EncodedPrompt> {
  const key = `${codecName}:${file}`;
  let p = prompts.get(key);
  if (!p) {
    p = readWav8kMono(file).then((pcm) => (codecName === 'opus' ? encodeOpusPrompt(pcm) : encodePrompt(pcm, codecName === 'PCMA' ? PCMA : PCMU)));
    // A file that failed to load may be fixed later: do not cache the failure.
    p.catch(() => prompts.delete(key));
    prompts.set(key, p);
  }
  return p;
}

const handlers: ChannelHandlers<MediaWorkerApi> = {
  requests: {
    'create-container'({ containerId, kind, room }) {
      if (containers.has(containerId)) throw new Error(`${kind} ${containerId} exists`);
      containers.set(containerId, kind === 'bridge'
        ? new Bridge(containerId, clock, emit, rtcpIntervalMs, dtlsCertificate)
        : new Room(containerId, clock, emit, rtcpIntervalMs, dtlsCertificate, room));
      return null;
    },
    async 'destroy-container'({ containerId }) {
      const c = containers.get(containerId);
      containers.delete(containerId);
      timeouts.forget(containerId);
      // The reply waits for a recording to be finalized, so the file is complete once close() resolves.
      await c?.close();
      return null;
    },
    async 'add-endpoint'({ containerId, endpoint }) {
      await container(containerId).addEndpoint(endpoint);
      return null;
    },
    'update-endpoint'({ containerId, endpointId, update }) {
      container(containerId).updateEndpoint(endpointId, update);
      return null;
    },
    'remove-endpoint'({ containerId, endpointId }) {
      container(containerId).removeEndpoint(endpointId);
      return null;
    },
    'move-endpoint'({ from, endpointId, to, as }) {
      const source = container(from);
      const target = container(to);
      source.endpoint(endpointId);
      const refused = target.canTake(as);
      if (refused) throw new Error(refused);
      const endpoint = source.release(endpointId);
      try {
        target.take(endpoint, as);
      } catch (err) {
        // Refused by the target (a codec a room cannot mix): back where it was.
        source.take(endpoint, endpointId);
        throw err;
      }
      return null;
    },
    async play({ containerId, endpointId, source, options }) {
      const leg = container(containerId).endpoint(endpointId);
      const encoded = 'file' in source
        ? await prompt(source.file, leg.codec.name)
        : leg.codec.name === 'opus'
          ? encodeOpusPrompt(source.pcm)
          : encodePrompt(source.pcm, leg.codec);
      const playbackId = nextPlaybackId++;
      leg.play(encoded, playbackId, options.loop ?? false);
      return { playbackId };
    },
    'stop-playback'({ containerId, endpointId }) {
      container(containerId).endpoint(endpointId).stopPlayback();
      return null;
    },
    'send-dtmf'({ containerId, endpointId, digits, durationMs }) {
      container(containerId).endpoint(endpointId).sendDtmf(digits, durationMs);
      return null;
    },
    'packet-io'() {
      return packetIoInUse;
    },
    'get-stats'({ containerId }) {
      return container(containerId).stats();
    },
    'mixer-stats'({ containerId }) {
      const c = container(containerId);
      if (!(c instanceof Room)) throw new Error(`${containerId} is a bridge, not a room`);
      return c.mixerStats();
    },
    'set-hears'({ containerId, endpointId, hears }) {
      const c = container(containerId);
      if (!(c instanceof Room)) throw new Error(`${containerId} is a bridge, not a room`);
      c.setHears(endpointId, hears);
      return null;
    },
    async 'start-recording'({ containerId, path, options }) {
      // A bridge records its two legs; a room its mix.
      await container(containerId).startRecording(path, options);
      return null;
    },
    'stop-recording'({ containerId }) {
      return container(containerId).stopRecording();
    },
    async shutdown() {
      const closing = [...containers.values()].map((c) => c.close());
      containers.clear();
      await Promise.all(closing);
      clock.stop();
      clearInterval(housekeeping);
      // Replying first; the port closing afterwards lets the thread exit.
      setImmediate(() => port.close());
      return null;
    },
  },
  notices: {},
};

const channel = parentChannel<MediaWorkerApi, MediaMainApi>(port, handlers);
channel.announceReady();
// Loaded once the worker is up, so the first browser call does not wait for it.
setTimeout(() => void loadDtls(), 0).unref();
