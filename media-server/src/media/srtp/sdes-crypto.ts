/**
 * SDES key parameters (RFC 4568 §6.1): `inline:` + base64 of the 16-byte
 * master key followed by the 14-byte salt, optionally `|lifetime|MKI:length`.
 * Only what the SIP side needs to turn an a=crypto line into keys and back.
 */
import { randomBytes } from 'node:crypto';
import type { SrtpMasterKey } from './srtp-profile.ts';

const KEY_AND_SALT = 30;

/** Null when the parameter is not a usable single inline key (wrong length, MKI in use). */
export function parseSdesInlineKey(keyParams: string): SrtpMasterKey | null {
  const match = /^inline:([A-Za-z0-9+/=]+)(\|[^|]*)?(\|[^|]*)?$/.exec(keyParams.trim());
  if (!match) return null;
  // An MKI would need a per-packet key identifier this implementation does not carry.
  if (match[3] || match[2]?.includes(':')) return null;
  const bytes = Buffer.from(match[1]!, 'base64');
  if (bytes.length !== KEY_AND_SALT) return null;
  return { key: bytes.subarray(0, 16), salt: bytes.subarray(16) };
}

export function formatSdesInlineKey(master: SrtpMasterKey): string {
  return `inline:${Buffer.concat([master.key, master.salt]).toString('base64')}`;
}

export function generateSrtpMasterKey(): SrtpMasterKey {
  const bytes = randomBytes(KEY_AND_SALT);
  return { key: bytes.subarray(0, 16), salt: bytes.subarray(16) };
}
