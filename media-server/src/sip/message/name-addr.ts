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
  const lt = angleBracketStart(t);
  if (lt === null) return null;
  if (lt >= 0) {
    const gt = t.indexOf('>', lt);
    if (gt < 0) return null;
    const inner = t.slice(lt + 1, gt);
    // LAQUOT addr-spec RAQUOT: no space inside the brackets (RFC 3261 §25.1, RFC 4475 §3.1.2.14).
    if (inner !== inner.trim()) return null;
    const uri = parseUri(inner);
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

/**
 * Where `<` opens the URI, -1 for a bare addr-spec, or null when what comes
 * before it is no display name: display-name = *(token LWS) / quoted-string
 * (RFC 3261 §25.1), so an unclosed quote (RFC 4475 §3.1.2.6) or a comma
 * outside quotes (§3.1.2.15) is refused. Bytes above 0x7f are let through
 * unquoted, as phones send UTF-8 names that way.
 */
function angleBracketStart(t: string): number | null {
  const quoted = /^"(?:[^"\\]|\\[\s\S])*"\s*</.exec(t);
  if (quoted) return quoted[0].length - 1;
  if (t.startsWith('"')) return null;
  const lt = t.indexOf('<');
  if (lt < 0) return -1;
  return /^[A-Za-z0-9\-.!%*_+`'~\s\u0080-\uffff]*$/.test(t.slice(0, lt)) ? lt : null;
}

export function formatNameAddr(n: NameAddr): string {
  if (n.wildcard) return '*';
  const name = n.displayName ? `${quote(n.displayName)} ` : '';
  return `${name}<${formatUri(n.uri)}>${formatParams(n.params)}`;
}
