import type { SipMessage } from '../message/index.ts';

/**
 * Session timers, https://www.rfc-editor.org/rfc/rfc4028: a session is
 * refreshed (re-INVITE or UPDATE) by the side named `refresher` every half
 * interval, and the other side ends it when no refresh came in time.
 */
export type Refresher = 'uac' | 'uas';

export interface SessionInterval {
  /** Session-Expires delta, in seconds. */
  seconds: number;
  refresher: Refresher | null;
}

/** RFC 4028 §4: Min-SE "MUST NOT be less than 90 seconds". */
export const MIN_SE_FLOOR = 90;

/** Session-Expires of a message (RFC 4028 §4: `delta-seconds *(;se-params)`), null when absent or malformed. */
export function readSessionExpires(message: SipMessage): SessionInterval | null {
  // The compact form `x` is expanded by the parser (headers.ts).
  const value = message.get('session-expires');
  if (value === undefined) return null;
  const [delta, ...params] = value.split(';').map((s) => s.trim());
  if (!delta || !/^\d{1,9}$/.test(delta)) return null;
  let refresher: Refresher | null = null;
  for (const p of params) {
    const [name, v] = p.split('=').map((s) => s.trim().toLowerCase());
    if (name === 'refresher' && (v === 'uac' || v === 'uas')) refresher = v;
  }
  return { seconds: Number(delta), refresher };
}

/** Min-SE of a message in seconds (RFC 4028 §5), null when absent or malformed. */
export function readMinSe(message: SipMessage): number | null {
  const value = message.get('min-se')?.split(';')[0]?.trim();
  return value && /^\d{1,9}$/.test(value) ? Number(value) : null;
}

/** Whether a message lists `option` in Supported or Require (RFC 3261 §20.37, §20.32). */
export function supportsOption(message: SipMessage, option: string): boolean {
  return [...message.getAll('supported'), ...message.getAll('require')].some((h) =>
    h.split(',').some((t) => t.trim().toLowerCase() === option),
  );
}

export const formatSessionExpires = (interval: { seconds: number; refresher: Refresher }): string =>
  `${interval.seconds};refresher=${interval.refresher}`;

/**
 * When the side that does not refresh gives up: RFC 4028 §10, "the minimum
 * of 32 seconds and one third of the session interval" before it expires.
 */
export const expiryGuardSeconds = (seconds: number): number => seconds - Math.min(32, seconds / 3);
