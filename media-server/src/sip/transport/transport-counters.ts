/** Running totals of one `SipTransportLayer`, read by benchmarks and health checks. */
export interface TransportCounters {
  /** Parsed messages handed to listeners. */
  messagesIn: number;
  /** Messages written to a socket (each retransmission counts). */
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Datagrams, frames or WebSocket messages the parser refused. */
  parseErrors: number;
  /** Stream connections closed because their bytes could not be cut into messages. */
  framingErrors: number;
  /** Malformed requests answered with 400 (505 for another SIP version, 416 for an unknown Request-URI scheme). */
  badRequests: number;
  /** Malformed input dropped without an answer. */
  dropped: number;
  /** CRLF keep-alives received (RFC 5626 §3.5.1); pings among them got a pong. */
  keepAlives: number;
  connectionsAccepted: number;
  /** Connections refused by the per-IP limit. */
  connectionsRejected: number;
  connectionsOpened: number;
}

export const emptyCounters = (): TransportCounters => ({
  messagesIn: 0,
  messagesOut: 0,
  bytesIn: 0,
  bytesOut: 0,
  parseErrors: 0,
  framingErrors: 0,
  badRequests: 0,
  dropped: 0,
  keepAlives: 0,
  connectionsAccepted: 0,
  connectionsRejected: 0,
  connectionsOpened: 0,
});
