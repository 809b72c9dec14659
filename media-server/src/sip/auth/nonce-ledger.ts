import type { Redis } from 'ioredis';

/**
 * Which (nonce, nonce-count) pairs have been used, in Redis, so that every
 * registrar thread and every media-server node sees the same record: a
 * captured authenticated request replayed to another thread or node is
 * refused too (RFC 7616 §3.3: the server SHOULD check that nc was not seen
 * before for the nonce; RFC 2617 §3.2.1). Without qop there is no count, so
 * such a nonce may be used once. Each pair is one key that expires with its
 * nonce, set with NX, so the check and the record are one atomic step.
 */
export class NonceLedger {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(redis: Redis, prefix = 'carillon:sip:nonce-use:') {
    this.redis = redis;
    this.prefix = prefix;
  }

  /** True the first time a pair is presented; false for a replay. `ttlMs`: how long the nonce stays valid. */
  async claim(nonce: string, nc: number | null, ttlMs: number): Promise<boolean> {
    const key = `${this.prefix}${nonce}:${nc ?? 'once'}`;
    return (await this.redis.set(key, '1', 'PX', Math.max(1000, Math.ceil(ttlMs)), 'NX')) === 'OK';
  }
}
