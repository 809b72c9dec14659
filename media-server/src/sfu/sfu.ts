/**
 * The SFU of one thread (the root of mediasoup's tree, its Worker): it holds
 * the DTLS certificate, creates routers and the shared port sets
 * (WebRtcServer), and counts what is open. Everything under it runs in the
 * thread that created it; packets never leave that thread.
 */
import { createDtlsCertificate, type DtlsCertificate } from '../media/webrtc/dtls-certificate.ts';
import { InvalidStateError } from './errors.ts';
import { Router } from './router.ts';
import { WebRtcServer, type WebRtcServerOptions } from './web-rtc-server.ts';

/** What the SFU holds open, for the node's live counts (all 0 on an idle node). */
export interface SfuLiveCounts {
  routers: number;
  transports: number;
  producers: number;
  consumers: number;
  webRtcServers: number;
}

/** RFC 3550 §6.2 suggests 5 s for a session's share of bandwidth; WebRTC senders expect reports about every second. */
const DEFAULT_RTCP_INTERVAL_MS = 1000;

export class Sfu {
  readonly dtlsFingerprint: string;
  #closed = false;
  readonly #certificate: DtlsCertificate;
  readonly #routers = new Map<string, Router>();
  readonly #servers = new Set<WebRtcServer>();

  readonly #housekeeping: NodeJS.Timeout;

  /**
   * `dtlsCertificate`: the process's (shared by workers); a new one otherwise.
   * `rtcpIntervalMs`: how often receiver reports go to publishers.
   */
  static async create({ dtlsCertificate, rtcpIntervalMs = DEFAULT_RTCP_INTERVAL_MS }: { dtlsCertificate?: DtlsCertificate; rtcpIntervalMs?: number } = {}): Promise<Sfu> {
    if (!Number.isFinite(rtcpIntervalMs) || rtcpIntervalMs < 100) throw new TypeError('rtcpIntervalMs must be at least 100');
    return new Sfu(dtlsCertificate ?? (await createDtlsCertificate()), rtcpIntervalMs);
  }

  private constructor(certificate: DtlsCertificate, rtcpIntervalMs: number) {
    this.#certificate = certificate;
    this.dtlsFingerprint = certificate.fingerprint;
    this.#housekeeping = setInterval(() => {
      const now = performance.now();
      for (const router of this.#routers.values()) router.housekeeping(now);
    }, rtcpIntervalMs);
    this.#housekeeping.unref();
  }

  get closed(): boolean {
    return this.#closed;
  }

  createRouter({ appData }: { appData?: Record<string, unknown> } = {}): Router {
    if (this.#closed) throw new InvalidStateError('Sfu closed');
    const router = new Router(this.#certificate, appData);
    this.#routers.set(router.id, router);
    router.on('@close', () => this.#routers.delete(router.id));
    return router;
  }

  async createWebRtcServer(options: WebRtcServerOptions): Promise<WebRtcServer> {
    if (this.#closed) throw new InvalidStateError('Sfu closed');
    const server = await WebRtcServer.open(options);
    if (this.#closed) {
      server.close();
      throw new InvalidStateError('Sfu closed');
    }
    this.#servers.add(server);
    server.on('@close', () => this.#servers.delete(server));
    return server;
  }

  liveCounts(): SfuLiveCounts {
    const counts: SfuLiveCounts = { routers: this.#routers.size, transports: 0, producers: 0, consumers: 0, webRtcServers: this.#servers.size };
    for (const router of this.#routers.values()) {
      const c = router.counts();
      counts.transports += c.transports;
      counts.producers += c.producers;
      counts.consumers += c.consumers;
    }
    return counts;
  }

  /** Closes every router (and so every transport, producer and consumer) and every port set. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#housekeeping);
    for (const router of [...this.#routers.values()]) router.sfuClosed();
    this.#routers.clear();
    for (const server of [...this.#servers]) server.close();
    this.#servers.clear();
  }
}
