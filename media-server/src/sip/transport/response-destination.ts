import type { SipResponse } from '../message/index.ts';
import type { SipTransportProtocol } from './sip-source.ts';
import { unbracket } from './stamp-received.ts';

const DEFAULT_PORT: Record<SipTransportProtocol, number> = {
  UDP: 5060,
  TCP: 5060,
  TLS: 5061,
  WS: 80,
  WSS: 443,
};

/**
 * Where a response goes when it cannot simply follow its request's connection
 * (https://www.rfc-editor.org/rfc/rfc3261#section-18.2.2): the `received` address
 * (else the sent-by host), at the `rport` port for UDP
 * (https://www.rfc-editor.org/rfc/rfc3581#section-4), else the sent-by port,
 * else the transport's default. Multicast `maddr` is not supported.
 */
export function responseDestination(
  response: SipResponse,
  transport: SipTransportProtocol,
): { host: string; port: number } | null {
  const via = response.topVia();
  if (!via) return null;
  const host = unbracket(via.params.get('received') || via.host);
  const rport = via.params.get('rport');
  const port =
    transport === 'UDP' && rport && /^[0-9]{1,5}$/.test(rport)
      ? Number(rport)
      : (via.port ?? DEFAULT_PORT[transport]);
  return { host, port };
}
