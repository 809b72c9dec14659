import { formatParams, parseParams, type Params } from './headers.ts';

/** A SIP or SIPS URI (RFC 3261 §19.1), or a tel URI (RFC 3966) kept as its number. */
export interface SipUri {
  scheme: 'sip' | 'sips' | 'tel';
  user: string | null;
  host: string;
  port: number | null;
  params: Params;
  /** `?header=value` part, kept raw. */
  headers: string | null;
}

/**
 * userinfo = user [ ":" password ] (RFC 3261 §25.1). An unescaped '@' is legal
 * nowhere after it, so the first one ends it; characters the grammar would have
 * escaped (a phone's raw '#') are let through.
 */
const USERINFO = /^[^@\s<>]+$/;
const HOST = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::([0-9]{1,5}))?$/;

/** Returns null for anything that is not a usable URI: callers answer 400 or 416, never throw. */
export function parseUri(text: string): SipUri | null {
  const t = text.trim();
  const colon = t.indexOf(':');
  if (colon < 0) return null;
  const scheme = t.slice(0, colon).toLowerCase();
  const rest = t.slice(colon + 1);
  if (scheme === 'tel') {
    const [number, ...p] = rest.split(';');
    if (!number || !/^\+?[0-9().-]{1,32}$/.test(number)) return null;
    return { scheme, user: number, host: '', port: null, params: parseParams(p.join(';')), headers: null };
  }
  if (scheme !== 'sip' && scheme !== 'sips') return null;
  // The user part may hold ';', '?' and '/' (user-unreserved, RFC 3261 §25.1), so it is cut off first.
  const at = rest.indexOf('@');
  const hasUser = at >= 0 && USERINFO.test(rest.slice(0, at));
  const afterUser = hasUser ? rest.slice(at + 1) : rest;
  const q = afterUser.indexOf('?');
  const main = q < 0 ? afterUser : afterUser.slice(0, q);
  const headers = q < 0 ? null : afterUser.slice(q + 1);
  const semi = main.indexOf(';');
  const hostPort = semi < 0 ? main : main.slice(0, semi);
  const params = parseParams(semi < 0 ? '' : main.slice(semi + 1));
  let user: string | null = null;
  if (hasUser) {
    user = rest.slice(0, at);
    // A password in a SIP URI is deprecated and never used here: drop it.
    const pw = user.indexOf(':');
    if (pw >= 0) user = user.slice(0, pw);
    try {
      user = decodeURIComponent(user);
    } catch {
      return null;
    }
  }
  const m = HOST.exec(hostPort);
  if (!m) return null;
  const port = m[2] ? Number(m[2]) : null;
  if (port !== null && (port < 1 || port > 65535)) return null;
  return { scheme, user: user || null, host: m[1]!.toLowerCase(), port, params, headers };
}

export function formatUri(u: SipUri): string {
  if (u.scheme === 'tel') return `tel:${u.user ?? ''}${formatParams(u.params)}`;
  const user = u.user ? `${encodeUser(u.user)}@` : '';
  const port = u.port ? `:${u.port}` : '';
  return `${u.scheme}:${user}${u.host}${port}${formatParams(u.params)}${u.headers ? `?${u.headers}` : ''}`;
}

// RFC 3261 user part: unreserved, escaped, and user-unreserved characters stay as they are.
const encodeUser = (user: string) => user.replace(/[^A-Za-z0-9\-_.!~*'()&=+$,;?/%]/g, (c) => encodeURIComponent(c));
