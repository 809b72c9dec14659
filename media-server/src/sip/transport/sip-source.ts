/**
 * The transports a SIP message can travel on: those of RFC 3261 §18 and the
 * WebSocket transport of RFC 7118 §5.2 (the Via tokens are spelled the same).
 */
export type SipTransportProtocol = 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';

export const SIP_TRANSPORT_PROTOCOLS: readonly SipTransportProtocol[] = ['UDP', 'TCP', 'TLS', 'WS', 'WSS'];

/** Where a message came from, and so where its replies go. */
export interface SipSource {
  transport: SipTransportProtocol;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  /** Set on connection-oriented transports: replies go back on this connection (RFC 3261 §18.2.2). */
  connectionId?: string;
}

/**
 * Reliable transports get no retransmissions and zero-length Timers D, I, J and K
 * (https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1.2 and Table 4).
 */
export const isReliableTransport = (transport: SipTransportProtocol): boolean => transport !== 'UDP';
