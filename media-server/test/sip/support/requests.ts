import { randomBytes } from 'node:crypto';

export interface RequestOptions {
  /** Port of the peer, written into Via sent-by. */
  port: number;
  transport?: string;
  host?: string;
  branch?: string;
  callId?: string;
  cseq?: number;
  fromTag?: string;
  to?: string;
  rport?: boolean;
  headers?: string[];
  body?: string;
  /** Drop one of the standard headers by lower-case name, to build malformed requests; `headers` are added after. */
  without?: string[];
}

export const branch = () => `z9hG4bK${randomBytes(6).toString('hex')}`;

/** A raw request as a phone would write it, CRLF line ends and a correct Content-Length. */
export function rawRequest(method: string, o: RequestOptions): string {
  const body = o.body ?? '';
  const via = `SIP/2.0/${o.transport ?? 'UDP'} ${o.host ?? '127.0.0.1'}:${o.port};branch=${o.branch ?? branch()}${o.rport ? ';rport' : ''}`;
  const base = [
    `${method} sip:service@127.0.0.1 SIP/2.0`,
    `Via: ${via}`,
    'Max-Forwards: 70',
    `From: <sip:alice@127.0.0.1>;tag=${o.fromTag ?? 'a1'}`,
    `To: ${o.to ?? '<sip:service@127.0.0.1>'}`,
    `Call-ID: ${o.callId ?? randomBytes(8).toString('hex')}@test`,
    `CSeq: ${o.cseq ?? 1} ${method}`,
    ...(method === 'INVITE' ? ['Contact: <sip:alice@127.0.0.1>'] : []),
    ...(o.headers ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  const extra = new Set(o.headers);
  const lines = base.filter(
    (line) => extra.has(line) || !o.without?.includes(line.slice(0, line.indexOf(':')).toLowerCase()),
  );
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}
