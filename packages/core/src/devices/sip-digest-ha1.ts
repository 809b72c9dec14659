import { createHash } from 'node:crypto';

/** Digest algorithms of SIP (RFC 3261 MD5, RFC 8760 SHA-256). */
export type DigestAlgorithm = 'MD5' | 'SHA-256';

export const digestHash = (algorithm: DigestAlgorithm, text: string) =>
  createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(text).digest('hex');

/** HA1 = H(username:realm:password): what a device credential stores instead of the password. */
export const digestHa1 = (algorithm: DigestAlgorithm, username: string, realm: string, password: string) =>
  digestHash(algorithm, `${username}:${realm}:${password}`);
