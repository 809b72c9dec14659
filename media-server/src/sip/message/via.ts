import { formatParams, parseParams, type Params } from './headers.ts';

/** One Via entry (RFC 3261 §20.42, §18.2.1 received; RFC 3581 rport). */
export interface Via {
  transport: string;
  host: string;
  port: number | null;
  params: Params;
}

// Any protocol version is read, so that a request with an unsupported one can still be answered (505) where its Via says.
const VIA = /^SIP\s*\/\s*[0-9]+\.[0-9]+\s*\/\s*([A-Za-z0-9!%*_+`'~.-]+)\s+(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?:\s*:\s*([0-9]{1,5}))?\s*(;.*)?$/s;

export function parseVia(text: string): Via | null {
  const m = VIA.exec(text.trim());
  if (!m) return null;
  const port = m[3] ? Number(m[3]) : null;
  if (port !== null && (port < 1 || port > 65535)) return null;
  return { transport: m[1]!.toUpperCase(), host: m[2]!, port, params: parseParams((m[4] ?? '').replace(/^;/, '')) };
}

export function formatVia(v: Via): string {
  return `SIP/2.0/${v.transport} ${v.host}${v.port ? `:${v.port}` : ''}${formatParams(v.params)}`;
}

/** The magic cookie that marks an RFC 3261 branch, which makes the branch a transaction id. */
export const BRANCH_COOKIE = 'z9hG4bK';
