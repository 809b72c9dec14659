import { createLogger, type Logger } from '@carillon/config';
import { DEFAULT_LIMITS } from '../message/index.ts';

export interface SipTlsSettings {
  cert: Buffer;
  key: Buffer;
  /** Trust anchors for connections we open; the system store when absent. */
  ca?: Buffer;
}

/**
 * What a `SipTransportLayer` listens on. A transport whose port is absent is not
 * opened; port 0 asks the system for a free one (read it from `ports` after `start()`).
 */
export interface SipTransportSettings {
  host: string;
  udpPort?: number;
  tcpPort?: number;
  wsPort?: number;
  tlsPort?: number;
  wssPort?: number;
  /** Required by `tlsPort` and `wssPort`. */
  tls?: SipTlsSettings;
  /** Largest datagram, stream frame or WebSocket message accepted. */
  maxMessageBytes?: number;
  /** A stream connection with no traffic either way for this long is closed. */
  idleTimeoutMs?: number;
  /** Open connections (TCP, TLS, WS, WSS together) accepted from one address. */
  maxConnectionsPerIp?: number;
  /** Limit on opening an outbound TCP/TLS connection, handshake included. */
  connectTimeoutMs?: number;
  /**
   * Bind UDP with SO_REUSEPORT, so that registrar threads can share the port; the kernel then sends
   * each peer address to one of the sockets, always the same. "lead" first makes sure that no other
   * socket holds the port (SO_REUSEPORT alone would silently share it with another process, and port
   * 0 may even be given one already in use); "join" binds the port a lead holds.
   */
  udpReusePort?: 'lead' | 'join';
  /**
   * Looks at each datagram before it is parsed; returning true means it was handed elsewhere (a
   * registrar thread passes what is not a REGISTER to the main thread) and is not processed here.
   */
  divertDatagram?: (data: Buffer, from: { address: string; port: number }) => boolean;
  logger?: Logger;
}

export interface ResolvedTransportSettings extends Required<
  Omit<SipTransportSettings, 'tls' | 'udpPort' | 'tcpPort' | 'wsPort' | 'tlsPort' | 'wssPort' | 'udpReusePort' | 'divertDatagram'>
> {
  udpReusePort: 'lead' | 'join' | undefined;
  divertDatagram: SipTransportSettings['divertDatagram'];
  udpPort: number | undefined;
  tcpPort: number | undefined;
  wsPort: number | undefined;
  tlsPort: number | undefined;
  wssPort: number | undefined;
  tls: SipTlsSettings | undefined;
}

export const DEFAULT_TRANSPORT_SETTINGS = {
  maxMessageBytes: DEFAULT_LIMITS.maxBytes,
  // RFC 5626 §4.4.1 has clients ping a connection about every 120 s: leave them room.
  idleTimeoutMs: 180_000,
  // Whole offices sit behind one NAT address, so this is about abuse, not fairness.
  maxConnectionsPerIp: 128,
  connectTimeoutMs: 10_000,
} as const;

/** Fills defaults and throws a TypeError naming the first bad setting. */
export function resolveTransportSettings(settings: SipTransportSettings): ResolvedTransportSettings {
  if (typeof settings.host !== 'string' || settings.host === '')
    throw new TypeError('host must be a non-empty string');
  for (const name of ['udpPort', 'tcpPort', 'wsPort', 'tlsPort', 'wssPort'] as const) {
    const port = settings[name];
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65_535))
      throw new TypeError(`${name} must be an integer from 0 to 65535`);
  }
  if ((settings.tlsPort !== undefined || settings.wssPort !== undefined) && !settings.tls)
    throw new TypeError('tlsPort and wssPort need tls.cert and tls.key');
  const positive = (
    name: 'maxMessageBytes' | 'idleTimeoutMs' | 'maxConnectionsPerIp' | 'connectTimeoutMs',
  ) => {
    const value = settings[name] ?? DEFAULT_TRANSPORT_SETTINGS[name];
    if (!(Number.isInteger(value) && value > 0)) throw new TypeError(`${name} must be a positive integer`);
    return value;
  };
  return {
    host: settings.host,
    udpPort: settings.udpPort,
    tcpPort: settings.tcpPort,
    wsPort: settings.wsPort,
    tlsPort: settings.tlsPort,
    wssPort: settings.wssPort,
    tls: settings.tls,
    udpReusePort: settings.udpReusePort,
    divertDatagram: settings.divertDatagram,
    maxMessageBytes: positive('maxMessageBytes'),
    idleTimeoutMs: positive('idleTimeoutMs'),
    maxConnectionsPerIp: positive('maxConnectionsPerIp'),
    connectTimeoutMs: positive('connectTimeoutMs'),
    logger: settings.logger ?? createLogger('sip-transport'),
  };
}
