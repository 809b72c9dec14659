import { createHash, randomBytes } from 'node:crypto';

/** A random URL-safe token; only its SHA-256 is ever stored. */
export function newToken(): { token: string; id: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, id: tokenId(token) };
}

export const tokenId = (token: string) => createHash('sha256').update(token).digest('hex');
