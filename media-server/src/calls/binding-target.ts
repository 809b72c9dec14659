import type { Binding } from '../registrar/binding-store.ts';
import { parseUri } from '../sip/message/index.ts';
import type { SipTarget, SipTransportProtocol } from '../sip/transport/index.ts';

/**
 * Where to send a request for a registered device. Over a stream it must go
 * back on the device's own connection (a browser or a phone behind NAT
 * cannot accept new ones). Over UDP the Contact is used when it is the
 * address the REGISTER came from; otherwise the device is behind NAT and the
 * source address is the one that reaches it (the usual "fix nated contact").
 */
export function bindingTarget(b: Binding): SipTarget | null {
  return reachTarget(b.contact, b.source);
}

/** The same rule for any peer: its Contact, and the address and connection its requests came from. */
export function reachTarget(
  contact: string,
  source: { transport: string; address: string; port: number; connectionId?: string | undefined },
): SipTarget | null {
  const transport = source.transport as SipTransportProtocol;
  if (transport !== 'UDP') {
    if (!source.connectionId) return null;
    return { transport, remoteAddress: source.address, remotePort: source.port, localAddress: '', localPort: 0, connectionId: source.connectionId };
  }
  const uri = parseUri(contact);
  if (uri && uri.host === source.address) return { transport: 'UDP', host: uri.host, port: uri.port ?? 5060 };
  return { transport: 'UDP', host: source.address, port: source.port };
}
