import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '@carillon/config';
import {
  createResponse,
  DEFAULT_LIMITS,
  parseSipMessage,
  serializeSipMessage,
  type ParseLimits,
  type ParseResult,
  type SipMessage,
  type SipResponse,
} from '../message/index.ts';
import { responseDestination } from './response-destination.ts';
import type { SipConnection, SipConnectionUser } from './sip-connection.ts';
import type { SipSource, SipTransportProtocol } from './sip-source.ts';
import { isSipSource, type SipAddress, type SipTarget } from './sip-target.ts';
import {
  resolveTransportSettings,
  type ResolvedTransportSettings,
  type SipTransportSettings,
} from './sip-transport-settings.ts';
import { stampReceived, unbracket } from './stamp-received.ts';
import { StreamConnection } from './stream-connection.ts';
import { emptyCounters, type TransportCounters } from './transport-counters.ts';
import { TransportError } from './transport-error.ts';
import { WebSocketConnection } from './websocket-connection.ts';

export type SipTransportPorts = Partial<Record<SipTransportProtocol, number>>;

/** Events of `SipTransportLayer`. */
export interface SipTransportEvents {
  /** A well-formed message; a request's top Via already carries `received`/`rport`. */
  message: [message: SipMessage, source: SipSource];
  /** A stream or WebSocket connection opened, inbound or outbound. */
  connection: [source: SipSource];
  /** A connection closed: flows bound to it (RFC 5626) are gone. */
  connectionclose: [source: SipSource];
}

/**
 * Lifecycle of the layer; it is not restartable.
 *
 * ```
 * Idle -> Starting -> Running -> Stopping -> Stopped
 *            \___________________________/^  (a failed start)
 * ```
 */
export type TransportLayerState = 'Idle' | 'Starting' | 'Running' | 'Stopping' | 'Stopped';

// A registration storm after an outage arrives as a burst that the kernel's default queue would partly drop.
const UDP_RECEIVE_BUFFER = 4 << 20;
const HTTP_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * The transport layer of https://www.rfc-editor.org/rfc/rfc3261#section-18 for
 * UDP, TCP and TLS, and RFC 7118 WebSocket (WS, WSS): it turns bytes into parsed
 * messages, answers what is malformed but answerable with a 400, and sends
 * messages back the way RFC 3261 §18.2.2 and RFC 3581 route them.
 */
export class SipTransportLayer extends EventEmitter<SipTransportEvents> {
  readonly #settings: ResolvedTransportSettings;
  readonly #log: Logger;
  readonly #limits: ParseLimits;
  readonly #counters: TransportCounters = emptyCounters();
  readonly #ports: SipTransportPorts = {};
  #state: TransportLayerState = 'Idle';
  #starting: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  #udp: dgram.Socket | null = null;
  #udpAddress = '';
  readonly #servers: net.Server[] = [];
  readonly #webSocketServers: WebSocketServer[] = [];
  /** Every accepted or dialled socket, handshake pending or not, so `stop()` can end them all. */
  readonly #sockets = new Set<net.Socket>();
  readonly #perIp = new Map<string, number>();
  readonly #connections = new Map<string, SipConnection>();
  readonly #byAddress = new Map<string, SipConnection>();
  readonly #dialling = new Map<string, Promise<SipConnection>>();
  #nextConnection = 0;

  readonly #connectionUser: SipConnectionUser = {
    onFrame: (connection, frame) => this.#receive(frame, connection.source),
    onKeepAlive: () => {
      this.#counters.keepAlives++;
    },
    onFramingError: (connection, reason) => {
      this.#counters.framingErrors++;
      this.#log.debug('framing error, closing connection', {
        connectionId: connection.id,
        reason,
        remote: connection.source.remoteAddress,
      });
    },
    onClose: (connection) => this.#forget(connection),
  };

  constructor(settings: SipTransportSettings) {
    super();
    this.#settings = resolveTransportSettings(settings);
    this.#log = this.#settings.logger;
    this.#limits = { ...DEFAULT_LIMITS, maxBytes: this.#settings.maxMessageBytes };
  }

  /** Bound ports, known once `start()` has resolved. */
  get ports(): Readonly<SipTransportPorts> {
    return { ...this.#ports };
  }

  get counters(): Readonly<TransportCounters> {
    return { ...this.#counters };
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Keeps a connection open for `ms` without traffic, then as long after each
   * message: the registrar stretches a flow to its registration's lifetime, since
   * a phone behind NAT can only be reached over the connection it opened
   * (RFC 5626 §5.2). Returns false when the connection is already gone.
   */
  setConnectionIdleTimeout(connectionId: string, ms: number): boolean {
    const connection = this.#connections.get(connectionId);
    if (!connection || connection.closed) return false;
    connection.setIdleTimeout(ms);
    return true;
  }

  /** Open sockets, including those still in a TLS or WebSocket handshake; each holds a per-address slot. */
  get socketCount(): number {
    return this.#sockets.size;
  }

  get state(): TransportLayerState {
    return this.#state;
  }

  start(): Promise<void> {
    if (this.#starting) return this.#starting;
    this.#stateTransition('Starting');
    this.#starting = this.#listenAll().then(
      () => this.#stateTransition('Running'),
      async (err: unknown) => {
        await this.#closeEverything();
        this.#stateTransition('Stopped');
        throw err;
      },
    );
    return this.#starting;
  }

  /** Closes every listener and connection; safe to call more than once. */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    if (this.#state === 'Idle') {
      this.#stateTransition('Stopped');
      this.#stopping = Promise.resolve();
      return this.#stopping;
    }
    this.#stopping = (this.#starting ?? Promise.resolve())
      .catch(() => {})
      .then(async () => {
        if (this.#state === 'Stopped') return;
        this.#stateTransition('Stopping');
        await this.#closeEverything();
        this.#stateTransition('Stopped');
      });
    return this.#stopping;
  }

  /**
   * Sends a message. To a `SipSource`: over its connection for streams (if that
   * connection has closed, a TCP/TLS response gets a new one to its Via's
   * `received` and sent-by port, a request fails); over UDP a response goes where
   * its top Via says (RFC 3261 §18.2.2, RFC 3581) and a request to the source
   * address. To a `SipAddress`: UDP directly, TCP/TLS over a connection to that
   * address, opened if none is open; WS/WSS only over an open connection.
   * Rejects with a `TransportError`.
   */
  prepareResend(response: SipResponse, target: SipSource): (() => Promise<void>) | null {
    if (target.transport !== 'UDP') return null;
    const destination = responseDestination(response, 'UDP');
    if (!destination) return null;
    const data = serializeSipMessage(response);
    return () => (this.#state === 'Running' ? this.#sendUdp(data, destination.host, destination.port) : Promise.resolve());
  }

  send(message: SipMessage, target: SipTarget): Promise<void> {
    if (this.#state !== 'Running')
      return Promise.reject(new TransportError(`transport layer is ${this.#state.toLowerCase()}`));
    const data = serializeSipMessage(message);
    if (!isSipSource(target)) return this.#sendTo(data, target);
    if (target.transport === 'UDP') {
      const destination =
        message.kind === 'response'
          ? responseDestination(message, 'UDP')
          : { host: target.remoteAddress, port: target.remotePort };
      if (!destination) return Promise.reject(new TransportError('response has no Via to route it'));
      return this.#sendUdp(data, destination.host, destination.port);
    }
    const connection =
      target.connectionId === undefined ? undefined : this.#connections.get(target.connectionId);
    if (connection && !connection.closed) return this.#write(connection, data);
    if (message.kind === 'response' && (target.transport === 'TCP' || target.transport === 'TLS')) {
      // §18.2.2: the connection is gone, so open one to `received` at the sent-by port.
      const destination = responseDestination(message, target.transport);
      if (destination) return this.#sendTo(data, { transport: target.transport, ...destination });
    }
    // A request for a closed flow fails: the peer's source port of a dead connection listens for nothing (RFC 5626 §5.3).
    if (target.connectionId !== undefined) {
      return Promise.reject(new TransportError(`connection ${target.connectionId} is closed`));
    }
    return this.#sendTo(data, {
      transport: target.transport,
      host: target.remoteAddress,
      port: target.remotePort,
    });
  }

  async #listenAll(): Promise<void> {
    const { udpPort, tcpPort, tlsPort, wsPort, wssPort, tls: tlsSettings } = this.#settings;
    if (udpPort !== undefined) await this.#listenUdp(udpPort);
    if (tcpPort !== undefined) {
      const server = net.createServer();
      server.on('connection', (socket) => {
        if (this.#admit(socket)) this.#accept('TCP', socket);
      });
      await this.#listen('TCP', server, tcpPort);
    }
    if (tlsPort !== undefined && tlsSettings) {
      const server = tls.createServer({
        cert: tlsSettings.cert,
        key: tlsSettings.key,
        handshakeTimeout: HTTP_HANDSHAKE_TIMEOUT_MS,
      });
      server.on('connection', (socket: net.Socket) => this.#admit(socket));
      server.on('secureConnection', (socket) => this.#accept('TLS', socket));
      server.on('tlsClientError', (err) => this.#log.debug('TLS handshake failed', { error: err }));
      await this.#listen('TLS', server, tlsPort);
    }
    if (wsPort !== undefined) await this.#listenWebSocket('WS', http.createServer(), wsPort);
    if (wssPort !== undefined && tlsSettings) {
      await this.#listenWebSocket(
        'WSS',
        https.createServer({
          cert: tlsSettings.cert,
          key: tlsSettings.key,
          handshakeTimeout: HTTP_HANDSHAKE_TIMEOUT_MS,
        }),
        wssPort,
      );
    }
  }

  async #listenUdp(requested: number): Promise<void> {
    const type = net.isIPv6(this.#settings.host) ? 'udp6' : 'udp4';
    const reuse = this.#settings.udpReusePort;
    // A plain bind fails when anything holds the port and picks a truly free one for port 0.
    const port = reuse === 'lead' ? await this.#exclusiveUdpPort(type, requested) : requested;
    const socket = dgram.createSocket({ type, reusePort: reuse !== undefined });
    this.#udp = socket;
    socket.on('message', (data, rinfo) => this.#onDatagram(data, rinfo));
    socket.on('error', (err) => this.#log.warn('UDP socket error', { error: err }));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, this.#settings.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    try {
      socket.setRecvBufferSize(UDP_RECEIVE_BUFFER);
    } catch {
      // The kernel caps it at net.core.rmem_max; the default still works.
    }
    const address = socket.address();
    this.#udpAddress = address.address;
    this.#ports.UDP = address.port;
  }

  async #exclusiveUdpPort(type: 'udp4' | 'udp6', port: number): Promise<number> {
    const probe = dgram.createSocket({ type });
    try {
      await new Promise<void>((resolve, reject) => {
        probe.once('error', reject);
        probe.bind(port, this.#settings.host, () => resolve());
      });
      return probe.address().port;
    } finally {
      await new Promise<void>((resolve) => probe.close(() => resolve())).catch(() => undefined);
    }
  }

  async #listen(transport: SipTransportProtocol, server: net.Server, port: number): Promise<void> {
    this.#servers.push(server);
    server.on('error', (err) => this.#log.warn('listener error', { transport, error: err }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: this.#settings.host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#ports[transport] = (server.address() as net.AddressInfo).port;
  }

  async #listenWebSocket(transport: 'WS' | 'WSS', server: http.Server, port: number): Promise<void> {
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.#settings.maxMessageBytes,
      // RFC 7118 §4.1: the handshake must settle on the "sip" subprotocol.
      handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false),
    });
    this.#webSocketServers.push(wss);
    server.headersTimeout = HTTP_HANDSHAKE_TIMEOUT_MS;
    server.requestTimeout = HTTP_HANDSHAKE_TIMEOUT_MS;
    server.on('connection', (socket: net.Socket) => this.#admit(socket));
    server.on('request', (_req, res) => {
      res.writeHead(426, { Upgrade: 'websocket', Connection: 'close' }).end();
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const offered = String(req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((p) => p.trim().toLowerCase());
      if (!offered.includes('sip')) {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => this.#acceptWebSocket(transport, ws, req.socket));
    });
    await this.#listen(transport, server, port);
  }

  /** Counts a new inbound socket against its address's quota; destroys it when over. */
  #admit(socket: net.Socket): boolean {
    const ip = normaliseAddress(socket.remoteAddress ?? '');
    if (!ip || (this.#state !== 'Running' && this.#state !== 'Starting')) {
      socket.destroy();
      return false;
    }
    const open = this.#perIp.get(ip) ?? 0;
    if (open >= this.#settings.maxConnectionsPerIp) {
      this.#counters.connectionsRejected++;
      socket.destroy();
      return false;
    }
    this.#perIp.set(ip, open + 1);
    this.#track(socket);
    socket.once('close', () => {
      const left = (this.#perIp.get(ip) ?? 1) - 1;
      if (left > 0) this.#perIp.set(ip, left);
      else this.#perIp.delete(ip);
    });
    return true;
  }

  #track(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #accept(transport: 'TCP' | 'TLS', socket: net.Socket): void {
    const source = this.#socketSource(transport, socket);
    if (!source || socket.destroyed) {
      socket.destroy();
      return;
    }
    this.#counters.connectionsAccepted++;
    this.#register(
      new StreamConnection(
        this.#newConnectionId(transport),
        source,
        socket,
        this.#settings,
        this.#connectionUser,
      ),
    );
  }

  #acceptWebSocket(transport: 'WS' | 'WSS', ws: WebSocket, socket: net.Socket): void {
    const source = this.#socketSource(transport, socket);
    if (!source) {
      ws.terminate();
      return;
    }
    this.#counters.connectionsAccepted++;
    this.#register(
      new WebSocketConnection(
        this.#newConnectionId(transport),
        source,
        ws,
        this.#settings,
        this.#connectionUser,
      ),
    );
  }

  #register(connection: SipConnection): void {
    const { transport, remoteAddress, remotePort } = connection.source;
    this.#connections.set(connection.id, connection);
    this.#alias(connection, addressKey(transport, remoteAddress, remotePort));
    this.#emitSafely('connection', connection.source);
  }

  #alias(connection: SipConnection, key: string): void {
    connection.aliases.add(key);
    this.#byAddress.set(key, connection);
  }

  #forget(connection: SipConnection): void {
    this.#connections.delete(connection.id);
    for (const key of connection.aliases)
      if (this.#byAddress.get(key) === connection) this.#byAddress.delete(key);
    this.#emitSafely('connectionclose', connection.source);
  }

  #socketSource(transport: SipTransportProtocol, socket: net.Socket): SipSource | null {
    const { remoteAddress, remotePort, localAddress, localPort } = socket;
    if (!remoteAddress || !remotePort || !localAddress || !localPort) return null;
    return {
      transport,
      remoteAddress: normaliseAddress(remoteAddress),
      remotePort,
      localAddress: normaliseAddress(localAddress),
      localPort,
    };
  }

  #newConnectionId(transport: SipTransportProtocol): string {
    return `${transport.toLowerCase()}-${++this.#nextConnection}`;
  }

  /**
   * A datagram that reached this port through another socket of its SO_REUSEPORT group (a registrar
   * thread's), processed as if this socket had received it: answers go out from the same port.
   */
  receiveDatagram(data: Buffer, from: { address: string; port: number }): void {
    this.#acceptDatagram(data, from);
  }

  #onDatagram(data: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.#settings.divertDatagram?.(data, rinfo)) return;
    this.#acceptDatagram(data, rinfo);
  }

  #acceptDatagram(data: Buffer, rinfo: { address: string; port: number }): void {
    // Some phones keep their NAT binding open with bare CRLFs over UDP; they expect no answer.
    if (data.length <= 4 && /^(\r\n)+$/.test(data.toString('latin1'))) {
      this.#counters.keepAlives++;
      return;
    }
    const source: SipSource = {
      transport: 'UDP',
      remoteAddress: normaliseAddress(rinfo.address),
      remotePort: rinfo.port,
      localAddress: normaliseAddress(this.#udpAddress),
      localPort: this.#ports.UDP ?? 0,
    };
    this.#receive(data, source);
  }

  #receive(data: Buffer, source: SipSource): void {
    this.#counters.bytesIn += data.length;
    const result = parseSipMessage(data, this.#limits);
    if (!result.ok) {
      this.#counters.parseErrors++;
      this.#rejectMalformed(result, source);
      return;
    }
    const message = result.message;
    if (message.kind === 'request') stampReceived(message, source);
    this.#counters.messagesIn++;
    this.#emitSafely('message', message, source);
  }

  /**
   * A request that can be answered gets a 400 whose reason names the syntax
   * problem (https://www.rfc-editor.org/rfc/rfc3261#section-21.4.1), or the 505 or
   * 416 the parser asks for. An ACK never
   * gets a response (§17.1.1.3), and without a readable top Via the sender could
   * not match the answer, so those, and every malformed response, are dropped.
   */
  #rejectMalformed(result: Extract<ParseResult, { ok: false }>, source: SipSource): void {
    const request = result.request;
    if (!request || request.method === 'ACK' || !request.topVia()) {
      this.#counters.dropped++;
      this.#log.debug('malformed message dropped', {
        reason: result.reason,
        remote: source.remoteAddress,
        transport: source.transport,
      });
      return;
    }
    stampReceived(request, source);
    this.#counters.badRequests++;
    // A 505 or 416 keeps its standard reason phrase; a 400's names the problem.
    const response = result.status ? createResponse(request, result.status) : createResponse(request, 400, { reason: result.reason });
    this.send(response, source).catch((err: unknown) => this.#log.debug('400 not sent', { error: err }));
  }

  #sendTo(data: Buffer, address: SipAddress): Promise<void> {
    const host = unbracket(address.host);
    if (address.transport === 'UDP') return this.#sendUdp(data, host, address.port);
    const key = addressKey(address.transport, host, address.port);
    const open = this.#byAddress.get(key);
    if (open && !open.closed) return this.#write(open, data);
    if (address.transport === 'WS' || address.transport === 'WSS') {
      return Promise.reject(
        new TransportError(`no open ${address.transport} connection to ${host}:${address.port}`),
      );
    }
    return this.#dial(address.transport, host, address.port, key).then((connection) =>
      this.#write(connection, data),
    );
  }

  #sendUdp(data: Buffer, host: string, port: number): Promise<void> {
    const udp = this.#udp;
    if (!udp) return Promise.reject(new TransportError('UDP is not enabled'));
    return new Promise((resolve, reject) => {
      const done = (err: Error | null) => {
        if (err) {
          reject(new TransportError(`UDP send to ${host}:${port} failed: ${err.message}`, { cause: err }));
          return;
        }
        this.#counters.messagesOut++;
        this.#counters.bytesOut += data.length;
        resolve();
      };
      try {
        udp.send(data, port, host, done);
      } catch (err) {
        done(err as Error);
      }
    });
  }

  #write(connection: SipConnection, data: Buffer): Promise<void> {
    return connection.write(data).then(() => {
      this.#counters.messagesOut++;
      this.#counters.bytesOut += data.length;
    });
  }

  /** Opens an outbound TCP/TLS connection; concurrent sends to one address share it. */
  #dial(transport: 'TCP' | 'TLS', host: string, port: number, key: string): Promise<SipConnection> {
    const pending = this.#dialling.get(key);
    if (pending) return pending;
    const dialling = new Promise<SipConnection>((resolve, reject) => {
      const ca = this.#settings.tls?.ca;
      const socket =
        transport === 'TLS'
          ? tls.connect({
              host,
              port,
              ...(ca ? { ca } : {}),
              ...(net.isIP(host) ? {} : { servername: host }),
            })
          : net.connect({ host, port });
      this.#track(socket);
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(
          err instanceof TransportError
            ? err
            : new TransportError(`cannot connect to ${transport} ${host}:${port}: ${err.message}`, {
                cause: err,
              }),
        );
      };
      const timer = setTimeout(
        () => fail(new TransportError(`connecting to ${transport} ${host}:${port} timed out`)),
        this.#settings.connectTimeoutMs,
      );
      socket.once('error', fail);
      socket.once(transport === 'TLS' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        const source = this.#socketSource(transport, socket);
        if (this.#state !== 'Running' || !source) {
          fail(new TransportError('transport layer stopped while connecting'));
          return;
        }
        this.#counters.connectionsOpened++;
        const connection = new StreamConnection(
          this.#newConnectionId(transport),
          source,
          socket,
          this.#settings,
          this.#connectionUser,
        );
        this.#alias(connection, key);
        this.#register(connection);
        resolve(connection);
      });
    }).finally(() => this.#dialling.delete(key));
    this.#dialling.set(key, dialling);
    return dialling;
  }

  #emitSafely<K extends keyof SipTransportEvents>(event: K, ...args: SipTransportEvents[K]): void {
    try {
      (this.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args);
    } catch (err) {
      // A throwing listener must not take the socket's event loop turn (and the process) with it.
      this.#log.error('transport listener threw', { event, error: err });
    }
  }

  async #closeEverything(): Promise<void> {
    for (const connection of [...this.#connections.values()]) connection.close();
    for (const socket of this.#sockets) socket.destroy();
    for (const wss of this.#webSocketServers) wss.close();
    const closing = this.#servers.map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    const udp = this.#udp;
    if (udp) closing.push(new Promise<void>((resolve) => udp.close(() => resolve())));
    this.#udp = null;
    await Promise.all(closing);
  }

  #stateTransition(to: TransportLayerState): void {
    const from = this.#state;
    const allowed: Record<TransportLayerState, TransportLayerState[]> = {
      Idle: [],
      Starting: ['Idle'],
      Running: ['Starting'],
      Stopping: ['Running'],
      Stopped: ['Idle', 'Starting', 'Stopping'],
    };
    if (!allowed[to].includes(from)) throw new Error(`Invalid state transition from ${from} to ${to}`);
    this.#state = to;
  }
}

const addressKey = (transport: SipTransportProtocol, host: string, port: number) =>
  `${transport}|${host.toLowerCase()}|${port}`;

/** IPv4 peers of a dual-stack socket show up as `::ffff:a.b.c.d`; Via and `received` want `a.b.c.d`. */
function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}
