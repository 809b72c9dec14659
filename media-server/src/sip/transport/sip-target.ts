import type { SipSource, SipTransportProtocol } from './sip-source.ts';

/** A next hop named by address, for requests that do not answer a received message. */
export interface SipAddress {
  transport: SipTransportProtocol;
  host: string;
  port: number;
}

/**
 * Where `SipTransportLayer.send` delivers: back to a source (on its connection
 * for streams), or to an address (reusing or opening a TCP/TLS connection).
 */
export type SipTarget = SipSource | SipAddress;

export const isSipSource = (target: SipTarget): target is SipSource => 'remoteAddress' in target;
