import net from 'node:net';
import { formatVia, type SipRequest } from '../message/index.ts';
import type { SipSource } from './sip-source.ts';

/**
 * Records on the top Via where a request really came from, so that its
 * responses find the way back through NATs.
 * https://www.rfc-editor.org/rfc/rfc3261#section-18.2.1: `received` when the
 * sent-by host is a name or another address than the packet's source.
 * https://www.rfc-editor.org/rfc/rfc3581#section-4: with `rport`, `received` is
 * added always and `rport` gets the source port.
 */
export function stampReceived(request: SipRequest, source: SipSource): void {
  const via = request.topVia();
  if (!via) return;
  const sentBy = unbracket(via.host);
  const wantsRport = via.params.has('rport');
  const differs = net.isIP(sentBy) === 0 || sentBy.toLowerCase() !== source.remoteAddress.toLowerCase();
  if (!differs && !wantsRport) return;
  via.params.set('received', source.remoteAddress);
  if (wantsRport) via.params.set('rport', String(source.remotePort));
  request.removeFirst('via');
  request.prepend('via', formatVia(via));
}

export const unbracket = (host: string): string =>
  host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
