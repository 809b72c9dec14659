/**
 * The shared port set of the SFU (mediasoup's WebRtcServer): a few UDP
 * sockets that every WebRtcTransport of this worker receives on, so a
 * meeting of 500 needs no 500 ports. Packets are demultiplexed the way an
 * ICE-lite agent can (RFC 8445 §2.5): a STUN Binding request names its
 * transport by our ufrag in its USERNAME ("ours:theirs", RFC 8445 §7.2.2);
 * once that transport has checked its integrity, the source address (the
 * 5-tuple) belongs to it and everything else from there (DTLS, SRTP, SRTCP)
 * goes to it. Anything from an unknown address that is not a check is dropped.
 */
import { randomUUID } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import { openUdpSocket, type PacketSocket } from '../media/endpoint/udp-socket.ts';
import { looksLikeStun } from '../media/webrtc/stun-binding.ts';
import { EnhancedEventEmitter } from './enhanced-event-emitter.ts';
import { InvalidStateError } from './errors.ts';
import { stunUsername } from './stun-username.ts';

export interface WebRtcServerListenInfo {
  /** Address to bind. */
  ip: string;
  /** 0 for any free port. */
  port: number;
  /** Address to announce in ICE candidates (a public address in front of a NAT); defaults to `ip`. */
  announcedAddress?: string;
}

export interface WebRtcServerOptions {
  listenInfos: WebRtcServerListenInfo[];
}

export interface IceCandidate {
  foundation: string;
  priority: number;
  address: string;
  port: number;
  protocol: 'udp';
  type: 'host';
}

/** Where a packet came from and the socket to answer on. */
export interface IceTuple {
  readonly key: string;
  readonly socket: PacketSocket;
  readonly address: string;
  readonly port: number;
}

/** What the server needs from a transport registered on it. */
export interface WebRtcServerUser {
  readonly usernameFragment: string;
  receiveStun(packet: Buffer, tuple: IceTuple): void;
  receivePacket(packet: Buffer, tuple: IceTuple): void;
  webRtcServerClosed(): void;
}

export type WebRtcServerEvents = { '@close': [] };

/** A transport keeps at most this many checked source addresses (candidate pairs being tried). */
const MAX_TUPLES_PER_TRANSPORT = 8;

export class WebRtcServer extends EnhancedEventEmitter<WebRtcServerEvents> {
  readonly id = randomUUID();
  readonly iceCandidates: readonly IceCandidate[];
  /** Packets from an address no transport owns, that were not a check for a known ufrag. */
  unknownPackets = 0;
  #closed = false;
  readonly #sockets: PacketSocket[];
  readonly #byUfrag = new Map<string, WebRtcServerUser>();
  readonly #byTuple = new Map<string, { user: WebRtcServerUser; tuple: IceTuple }>();
  /** The same entries by socket, address and port: the per-packet lookup, which builds no key string. */
  readonly #bySource: Map<string, Map<number, { user: WebRtcServerUser; tuple: IceTuple }>>[];
  readonly #tuplesOf = new Map<WebRtcServerUser, Set<string>>();

  /** @internal Opened by Sfu.createWebRtcServer(). */
  static async open(options: WebRtcServerOptions): Promise<WebRtcServer> {
    if (!Array.isArray(options?.listenInfos) || options.listenInfos.length === 0) throw new TypeError('listenInfos must hold at least one address');
    const sockets: PacketSocket[] = [];
    try {
      for (const info of options.listenInfos) sockets.push(await openUdpSocket(info.ip, info.port));
    } catch (err) {
      for (const s of sockets) s.close();
      throw err;
    }
    return new WebRtcServer(options, sockets);
  }

  private constructor(options: WebRtcServerOptions, sockets: PacketSocket[]) {
    super();
    this.#sockets = sockets;
    this.#bySource = sockets.map(() => new Map());
    // RFC 8445 §5.1.2.1: host candidates, the first address preferred.
    this.iceCandidates = options.listenInfos.map((info, i) => ({
      foundation: `udp${i}`,
      priority: ((126 << 24) | ((65535 - i) << 8) | 255) >>> 0,
      address: info.announcedAddress ?? info.ip,
      port: sockets[i]!.address().port,
      protocol: 'udp',
      type: 'host',
    }));
    sockets.forEach((socket, index) => {
      socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => this.#receive(index, msg, rinfo));
      // ICMP errors surface here on Linux: they concern one peer, never the server.
      socket.on('error', () => undefined);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The bound ports, in listenInfos order. */
  get ports(): number[] {
    return this.iceCandidates.map((c) => c.port);
  }

  /** How many transports receive on this server. */
  get transportCount(): number {
    return this.#byUfrag.size;
  }

  /** The sockets, for tests that inject packets as if the kernel delivered them. */
  get socketsForTesting(): readonly PacketSocket[] {
    return this.#sockets;
  }

  /** @internal */
  register(user: WebRtcServerUser): void {
    if (this.#closed) throw new InvalidStateError('WebRtcServer closed');
    if (this.#byUfrag.has(user.usernameFragment)) throw new Error('duplicate ICE ufrag');
    this.#byUfrag.set(user.usernameFragment, user);
    this.#tuplesOf.set(user, new Set());
  }

  /** @internal A transport stopped receiving here (closed). */
  unregister(user: WebRtcServerUser): void {
    this.#byUfrag.delete(user.usernameFragment);
    for (const key of this.#tuplesOf.get(user) ?? []) this.#forget(key);
    this.#tuplesOf.delete(user);
  }

  /** @internal An ICE restart: the addresses of `from` (media still flows there) belong to `to`, which has the new ufrag. */
  moveTuples(from: WebRtcServerUser, to: WebRtcServerUser): void {
    for (const key of [...(this.#tuplesOf.get(from) ?? [])]) {
      const entry = this.#byTuple.get(key);
      if (entry) this.bindTuple(to, entry.tuple);
    }
  }

  /** @internal A check from `tuple` passed the transport's integrity check: the address is the transport's now. */
  bindTuple(user: WebRtcServerUser, tuple: IceTuple): void {
    const mine = this.#tuplesOf.get(user);
    if (!mine || mine.has(tuple.key)) return;
    const previous = this.#byTuple.get(tuple.key);
    if (previous) {
      this.#tuplesOf.get(previous.user)?.delete(tuple.key);
      this.#forget(tuple.key);
    }
    if (mine.size >= MAX_TUPLES_PER_TRANSPORT) {
      const oldest = mine.values().next().value!;
      mine.delete(oldest);
      this.#forget(oldest);
    }
    mine.add(tuple.key);
    const entry = { user, tuple };
    this.#byTuple.set(tuple.key, entry);
    const bySource = this.#bySource[this.#sockets.indexOf(tuple.socket)]!;
    let ports = bySource.get(tuple.address);
    if (!ports) bySource.set(tuple.address, (ports = new Map()));
    ports.set(tuple.port, entry);
  }

  #forget(key: string): void {
    const entry = this.#byTuple.get(key);
    if (!entry) return;
    this.#byTuple.delete(key);
    const bySource = this.#bySource[this.#sockets.indexOf(entry.tuple.socket)]!;
    const ports = bySource.get(entry.tuple.address);
    ports?.delete(entry.tuple.port);
    if (ports?.size === 0) bySource.delete(entry.tuple.address);
  }

  #receive(index: number, msg: Buffer, rinfo: RemoteInfo): void {
    const bound = this.#bySource[index]!.get(rinfo.address)?.get(rinfo.port);
    if (looksLikeStun(msg)) {
      const ufrag = stunUsername(msg)?.split(':')[0];
      const user = ufrag === undefined ? undefined : this.#byUfrag.get(ufrag);
      const socket = this.#sockets[index]!;
      if (user) user.receiveStun(msg, bound?.user === user ? bound.tuple : { key: `${index} ${rinfo.address} ${rinfo.port}`, socket, address: rinfo.address, port: rinfo.port });
      else this.unknownPackets++;
      return;
    }
    if (bound) bound.user.receivePacket(msg, bound.tuple);
    else this.unknownPackets++;
  }

  /** Closes the sockets; the transports on this server close with it. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const users = [...this.#byUfrag.values()];
    this.#byUfrag.clear();
    this.#byTuple.clear();
    for (const m of this.#bySource) m.clear();
    this.#tuplesOf.clear();
    for (const user of users) user.webRtcServerClosed();
    for (const socket of this.#sockets) socket.close();
    this.safeEmit('@close');
  }
}
