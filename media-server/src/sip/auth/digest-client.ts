import { randomBytes } from 'node:crypto';
import { digestHash, type DigestAlgorithm } from '@carillon/core';
import { splitOutsideQuotes, unquote } from '../message/headers.ts';

/**
 * The client side of digest (RFC 7616 §3.4, RFC 8760), for requests we send
 * to a carrier that challenges us: picks the first challenge we support and
 * builds the Authorization value.
 */
export function answerChallenge(
  challenges: string[],
  creds: { username: string; password: string },
  method: string,
  uri: string,
  nc = 1,
): string | null {
  for (const header of challenges) {
    const m = /^\s*Digest\s+(.*)$/is.exec(header);
    if (!m) continue;
    const p = new Map<string, string>();
    for (const part of splitOutsideQuotes(m[1]!, ',')) {
      const eq = part.indexOf('=');
      if (eq > 0) p.set(part.slice(0, eq).trim().toLowerCase(), unquote(part.slice(eq + 1).trim()));
    }
    const algorithm = (p.get('algorithm') ?? 'MD5').toUpperCase() as DigestAlgorithm;
    if (algorithm !== 'MD5' && algorithm !== 'SHA-256') continue;
    const realm = p.get('realm') ?? '';
    const nonce = p.get('nonce');
    if (!nonce) continue;
    const qops = (p.get('qop') ?? '').split(',').map((q) => q.trim().toLowerCase());
    const ha1 = digestHash(algorithm, `${creds.username}:${realm}:${creds.password}`);
    const ha2 = digestHash(algorithm, `${method}:${uri}`);
    const opaque = p.get('opaque');
    let value = `Digest username="${creds.username}", realm="${realm}", nonce="${nonce}", uri="${uri}", algorithm=${algorithm}`;
    if (qops.includes('auth')) {
      const cnonce = randomBytes(8).toString('hex');
      const ncHex = nc.toString(16).padStart(8, '0');
      value += `, qop=auth, nc=${ncHex}, cnonce="${cnonce}", response="${digestHash(algorithm, `${ha1}:${nonce}:${ncHex}:${cnonce}:auth:${ha2}`)}"`;
    } else {
      value += `, response="${digestHash(algorithm, `${ha1}:${nonce}:${ha2}`)}"`;
    }
    if (opaque) value += `, opaque="${opaque}"`;
    return value;
  }
  return null;
}
