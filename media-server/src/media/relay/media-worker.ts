/**
 * Entry point of a media worker thread. It owns the bridges the engine
 * placed on it, with their sockets: packets are received, converted and sent
 * here and never cross to the main thread. Requests arrive on the parent
 * port and each gets one reply; events (DTMF, latching, end of a prompt or
 * of a recording) go back unprompted. Recordings are written from here too.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { PCMA, PCMU } from '../codecs/g711-codec.ts';
import { encodeOpusPrompt, encodePrompt, type EncodedPrompt } from '../media-player/encoded-prompt.ts';
import { readWav8kMono } from '../media-player/wav-file.ts';
import { Bridge } from './bridge.ts';
import type { MediaEvent, WorkerMessage, WorkerRequest, WorkerRequestMessage } from './control-messages.ts';
import { MediaClock } from './media-clock.ts';
import { loadDtls } from '../webrtc/dtls-loader.ts';

export interface MediaWorkerData {
  rtcpIntervalMs: number;
  /** The engine's DTLS certificate, for WebRTC legs. */
  dtlsCertificate: { certPem: string; keyPem: string } | null;
}

if (!parentPort) throw new Error('media-worker.ts runs as a worker thread, started by MediaEngine');
const port: MessagePort = parentPort;
const { rtcpIntervalMs, dtlsCertificate } = workerData as MediaWorkerData;

const clock = new MediaClock();
const bridges = new Map<string, Bridge>();
/** Encoded once per file and codec: a thousand callers on hold share one copy of the music. */
const prompts = new Map<string, Promise<EncodedPrompt>>();
let nextPlaybackId = 1;

const post = (message: WorkerMessage) => port.postMessage(message);
const emit = (event: MediaEvent) => post({ kind: 'event', event });

const housekeeping = setInterval(() => {
  const now = performance.now();
  for (const bridge of bridges.values()) bridge.housekeeping(now);
}, Math.min(1000, rtcpIntervalMs));

function bridge(id: string): Bridge {
  const b = bridges.get(id);
  if (!b) throw new Error(`no bridge ${id} on this worker`);
  return b;
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

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case 'create-bridge':
      if (bridges.has(req.bridgeId)) throw new Error(`bridge ${req.bridgeId} exists`);
      bridges.set(req.bridgeId, new Bridge(req.bridgeId, clock, emit, rtcpIntervalMs, dtlsCertificate));
      return null;
    case 'destroy-bridge': {
      const b = bridges.get(req.bridgeId);
      bridges.delete(req.bridgeId);
      // The reply waits for a recording to be finalized, so the file is complete once close() resolves.
      await b?.close();
      return null;
    }
    case 'add-leg':
      await bridge(req.bridgeId).addLeg(req.leg);
      return null;
    case 'update-leg':
      bridge(req.bridgeId).updateLeg(req.legId, req.update);
      return null;
    case 'remove-leg':
      bridge(req.bridgeId).removeLeg(req.legId);
      return null;
    case 'play': {
      const leg = bridge(req.bridgeId).leg(req.legId);
      const encoded = 'file' in req.source
          ? await prompt(req.source.file, leg.codec.name)
          : leg.codec.name === 'opus'
            ? encodeOpusPrompt(req.source.pcm)
            : encodePrompt(req.source.pcm, leg.codec);
      const playbackId = nextPlaybackId++;
      leg.play(encoded, playbackId, req.options.loop ?? false);
      return { playbackId };
    }
    case 'stop-playback':
      bridge(req.bridgeId).leg(req.legId).stopPlayback();
      return null;
    case 'send-dtmf':
      bridge(req.bridgeId).leg(req.legId).sendDtmf(req.digits, req.durationMs);
      return null;
    case 'get-stats':
      return bridge(req.bridgeId).stats();
    case 'start-recording':
      await bridge(req.bridgeId).startRecording(req.path, req.options);
      return null;
    case 'stop-recording':
      return bridge(req.bridgeId).stopRecording();
    case 'shutdown': {
      const closing = [...bridges.values()].map((b) => b.close());
      bridges.clear();
      await Promise.all(closing);
      clock.stop();
      clearInterval(housekeeping);
      // Replying first; the port closing afterwards lets the thread exit.
      setImmediate(() => port.close());
      return null;
    }
  }
}

port.on('message', (message: WorkerRequestMessage) => {
  handle(message).then(
    (result) => post({ kind: 'reply', id: message.id, ok: true, result: result ?? null }),
    (err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      post({ kind: 'reply', id: message.id, ok: false, error: error.message, code: (error as NodeJS.ErrnoException).code });
    },
  );
});

post({ kind: 'ready' });
// Loaded once the worker is up, so the first browser call does not wait for it.
setTimeout(() => void loadDtls(), 0).unref();
