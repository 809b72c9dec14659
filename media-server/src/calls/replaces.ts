/**
 * The Replaces value of an attended transfer (RFC 3891), as carried in a
 * Refer-To URI header (RFC 3515 §2.1: `?Replaces=` with the value escaped).
 */
export interface ReplacesTarget {
  callId: string;
  toTag: string;
  fromTag: string;
  earlyOnly: boolean;
}

/** The Replaces of a Refer-To URI's headers part, null when there is none, 'invalid' when it is malformed. */
export function replacesFromUriHeaders(headers: string | null): ReplacesTarget | null | 'invalid' {
  if (!headers) return null;
  const entry = headers.split('&').find((h) => /^replaces=/i.test(h));
  if (!entry) return null;
  let value: string;
  try {
    value = decodeURIComponent(entry.slice('replaces='.length));
  } catch {
    return 'invalid';
  }
  const [callId, ...params] = value.split(';').map((p) => p.trim());
  const param = (name: string) => params.find((p) => p.toLowerCase().startsWith(`${name}=`))?.slice(name.length + 1) ?? null;
  const toTag = param('to-tag');
  const fromTag = param('from-tag');
  if (!callId || !toTag || !fromTag) return 'invalid';
  return { callId, toTag, fromTag, earlyOnly: params.some((p) => p.toLowerCase() === 'early-only') };
}
