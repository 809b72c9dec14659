import { formatParams, parseParams, quote, unquote, type Params } from './headers.ts';
import { formatUri, parseUri, type SipUri } from './sip-uri.ts';

/** From, To, Contact, Route, Refer-To…: `"Name" <uri>;params` or a bare `uri;params` (RFC 3261 §20.10). */
export interface NameAddr {
  displayName: string | null;
  uri: SipUri;
  params: Params;
  /** `Contact: *` in a REGISTER. */
  wildcard?: boolean;
}

export function parseNameAddr(text: string): NameAddr | null {
  const t = text.trim();
  if (t === '*') return { displayName: null, uri: { scheme: 'sip', user: null, host: '*', port: null, params: new Map(), headers: null }, params: new Map(), wildcard: true };
  const lt = t.indexOf('<');
  if (lt >= 0) {
    const gt = t.indexOf('>', lt);
    if (gt < 0) return null;
    const uri = parseUri(t.slice(lt + 1, gt));
    if (!uri) return null;
    const name = t.slice(0, lt).trim();
    return { displayName: name ? unquote(name) : null, uri, params: parseParams(t.slice(gt + 1).replace(/^\s*;/, '')) };
  }
  // Without angle brackets, parameters after the URI belong to the header, not the URI.
  const semi = t.indexOf(';');
  const uri = parseUri(semi < 0 ? t : t.slice(0, semi));
  if (!uri) return null;
  return { displayName: null, uri, params: parseParams(semi < 0 ? '' : t.slice(semi + 1)) };
}

export function formatNameAddr(n: NameAddr): string {
  if (n.wildcard) return '*';
  const name = n.displayName ? `${quote(n.displayName)} ` : '';
  return `${name}<${formatUri(n.uri)}>${formatParams(n.params)}`;
}
