/**
 * A router (mediasoup's Router): one meeting's media on one worker. It owns
 * its transports, and knows every producer of those transports by id, so a
 * consumer can be made on any of its transports for any of its producers,
 * and for no other router's. close() closes its transports, which close their
 * producers and consumers.
 */
import { randomUUID } from 'node:crypto';
import { EnhancedEventEmitter } from './enhanced-event-emitter.ts';
import { InvalidStateError } from './errors.ts';
import type { Producer } from './producer.ts';
import type { WebRtcServer } from './web-rtc-server.ts';
import { WebRtcTransport } from './web-rtc-transport.ts';

export type RouterEvents = {
  sfuclose: [];
  '@close': [];
};

export interface RouterCounts {
  transports: number;
  producers: number;
  consumers: number;
}

export class Router extends EnhancedEventEmitter<RouterEvents> {
  readonly id = randomUUID();
  readonly appData: Record<string, unknown>;
  #closed = false;
  readonly #dtlsCertificate: { certPem: string; keyPem: string; fingerprint: string };
  readonly #transports = new Map<string, WebRtcTransport>();
  readonly #producers = new Map<string, Producer>();

  /** @internal Created by Sfu.createRouter(). */
  constructor(dtlsCertificate: { certPem: string; keyPem: string; fingerprint: string }, appData: Record<string, unknown> = {}) {
    super();
    this.#dtlsCertificate = dtlsCertificate;
    this.appData = appData;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A transport for one client, receiving on `webRtcServer`'s shared ports. */
  createWebRtcTransport({ webRtcServer }: { webRtcServer: WebRtcServer }): WebRtcTransport {
    if (this.#closed) throw new InvalidStateError('Router closed');
    if (!webRtcServer || webRtcServer.closed) throw new TypeError('an open webRtcServer is required');
    const transport = new WebRtcTransport(webRtcServer, {
      getProducer: (id) => this.#producers.get(id),
      dtlsCertificate: this.#dtlsCertificate,
    });
    this.#transports.set(transport.id, transport);
    transport.on('@newproducer', (producer) => this.#producers.set(producer.id, producer));
    transport.on('@producerclose', (producer) => this.#producers.delete(producer.id));
    transport.on('@close', () => this.#transports.delete(transport.id));
    return transport;
  }

  /** Whether `producerId` is a producer of this router (a consumer may be made for it). */
  canConsume(producerId: string): boolean {
    return this.#producers.has(producerId);
  }

  counts(): RouterCounts {
    let producers = 0;
    let consumers = 0;
    for (const t of this.#transports.values()) {
      producers += t.producerCount;
      consumers += t.consumerCount;
    }
    return { transports: this.#transports.size, producers, consumers };
  }

  /** @internal */
  housekeeping(nowMs: number): void {
    for (const transport of this.#transports.values()) transport.housekeeping(nowMs);
  }

  close(): void {
    if (this.#closed) return;
    this.#teardown();
    this.safeEmit('@close');
  }

  /** @internal */
  sfuClosed(): void {
    if (this.#closed) return;
    this.#teardown();
    this.safeEmit('sfuclose');
  }

  #teardown(): void {
    this.#closed = true;
    for (const transport of [...this.#transports.values()]) transport.routerClosed();
    this.#transports.clear();
    this.#producers.clear();
  }
}
