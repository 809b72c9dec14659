/**
 * Entry point of an SFU worker thread: one Sfu, its port sets and routers,
 * driven by requests from SfuThread on the worker channel. Objects are kept
 * here by id while they are open; a cascade close (a router taking its
 * transports) is reported as a 'closed' notice so the main thread forgets
 * them too.
 */
import { selectPacketIo } from '../media/endpoint/udp-socket.ts';
import { parentPort, workerData } from 'node:worker_threads';
import { parentChannel, type ChannelHandlers } from '../threads/worker-channel.ts';
import type { Consumer } from './consumer.ts';
import type { Producer } from './producer.ts';
import type { Router } from './router.ts';
import { Sfu } from './sfu.ts';
import type { SfuEvent, SfuMainApi, SfuWorkerApi, SfuWorkerData } from './sfu-worker-api.ts';
import type { WebRtcServer } from './web-rtc-server.ts';
import type { WebRtcTransport } from './web-rtc-transport.ts';

if (!parentPort) throw new Error('sfu-worker.ts runs as a worker thread, started by SfuThread');
const port = parentPort;
const { dtlsCertificate, rtcpIntervalMs, packetIo } = workerData as SfuWorkerData;
// The server sockets' packet I/O (MEDIA_NATIVE), before any opens; "on" without the addon fails the start.
selectPacketIo(packetIo ?? 'off');
const sfu = await Sfu.create({ dtlsCertificate, ...(rtcpIntervalMs ? { rtcpIntervalMs } : {}) });

const servers = new Map<string, WebRtcServer>();
const routers = new Map<string, Router>();
const transports = new Map<string, WebRtcTransport>();
const producers = new Map<string, Producer>();
const consumers = new Map<string, Consumer>();

const emit = (event: SfuEvent) => channel.notify('sfu-event', event);

function find<T>(map: Map<string, T>, what: string, id: string): T {
  const object = map.get(id);
  if (!object) throw new Error(`no ${what} ${id} on this worker`);
  return object;
}

function track(transport: WebRtcTransport): void {
  transports.set(transport.id, transport);
  transport.on('icestatechange', (state) => emit({ type: 'icestatechange', transportId: transport.id, state }));
  transport.on('dtlsstatechange', (state) => emit({ type: 'dtlsstatechange', transportId: transport.id, state }));
  transport.on('@close', () => transports.delete(transport.id));
  for (const reason of ['routerclose', 'webrtcserverclose'] as const) {
    transport.on(reason, () => {
      transports.delete(transport.id);
      emit({ type: 'closed', kind: 'transport', id: transport.id, reason });
    });
  }
}

function trackProducer(producer: Producer): void {
  producers.set(producer.id, producer);
  producer.on('@close', () => producers.delete(producer.id));
  producer.on('transportclose', () => {
    producers.delete(producer.id);
    emit({ type: 'closed', kind: 'producer', id: producer.id, reason: 'transportclose' });
  });
}

function trackConsumer(consumer: Consumer): void {
  consumers.set(consumer.id, consumer);
  consumer.on('@close', () => consumers.delete(consumer.id));
  for (const reason of ['transportclose', 'producerclose'] as const) {
    consumer.on(reason, () => {
      consumers.delete(consumer.id);
      emit({ type: 'closed', kind: 'consumer', id: consumer.id, reason });
    });
  }
}

const handlers: ChannelHandlers<SfuWorkerApi> = {
  requests: {
    async 'create-webrtc-server'({ listenInfos }) {
      const server = await sfu.createWebRtcServer({ listenInfos });
      servers.set(server.id, server);
      server.on('@close', () => servers.delete(server.id));
      return { id: server.id, iceCandidates: server.iceCandidates };
    },
    'close-webrtc-server'({ id }) {
      servers.get(id)?.close();
      return null;
    },
    'create-router'() {
      const router = sfu.createRouter();
      routers.set(router.id, router);
      router.on('@close', () => routers.delete(router.id));
      return { id: router.id };
    },
    'close-router'({ id }) {
      routers.get(id)?.close();
      return null;
    },
    'create-webrtc-transport'({ routerId, webRtcServerId }) {
      const transport = find(routers, 'router', routerId).createWebRtcTransport({ webRtcServer: find(servers, 'WebRtcServer', webRtcServerId) });
      track(transport);
      return { id: transport.id, iceParameters: transport.iceParameters, iceCandidates: transport.iceCandidates, dtlsParameters: transport.dtlsParameters };
    },
    async 'connect-transport'({ id, dtlsParameters }) {
      await find(transports, 'transport', id).connect({ dtlsParameters });
      return null;
    },
    'restart-ice'({ id }) {
      return find(transports, 'transport', id).restartIce();
    },
    'close-transport'({ id }) {
      transports.get(id)?.close();
      return null;
    },
    produce({ transportId, kind, rtpParameters, keyFrameRequestDelay }) {
      const producer = find(transports, 'transport', transportId).produce({ kind, rtpParameters, ...(keyFrameRequestDelay !== undefined ? { keyFrameRequestDelay } : {}) });
      trackProducer(producer);
      return { id: producer.id };
    },
    'close-producer'({ id }) {
      producers.get(id)?.close();
      return null;
    },
    consume({ transportId, producerId, paused }) {
      const consumer = find(transports, 'transport', transportId).consume({ producerId, ...(paused !== undefined ? { paused } : {}) });
      trackConsumer(consumer);
      return { id: consumer.id, producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters };
    },
    'close-consumer'({ id }) {
      consumers.get(id)?.close();
      return null;
    },
    'resume-consumer'({ id }) {
      find(consumers, 'consumer', id).resume();
      return null;
    },
    'set-preferred-layer'({ id, spatialLayer }) {
      find(consumers, 'consumer', id).setPreferredLayer(spatialLayer);
      return null;
    },
    'get-stats'({ kind, id }) {
      if (kind === 'transport') return find(transports, 'transport', id).getStats();
      if (kind === 'producer') return find(producers, 'producer', id).getStats();
      return find(consumers, 'consumer', id).getStats();
    },
    'live-counts'() {
      return sfu.liveCounts();
    },
    shutdown() {
      sfu.close();
      // Replying first; the port closing afterwards lets the thread exit.
      setImmediate(() => port.close());
      return null;
    },
  },
  notices: {},
};

const channel = parentChannel<SfuWorkerApi, SfuMainApi>(port, handlers);
channel.announceReady();
