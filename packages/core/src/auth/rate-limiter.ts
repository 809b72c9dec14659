import type { Redis } from 'ioredis';

/**
 * Fixed-window counters in Redis, so every app node shares the same limits.
 * `hit` returns whether the caller is still under the limit.
 */
export interface RateLimiter {
  /** Counts one hit; `resetsAt` is when the window (and so the count) ends. */
  hit(key: string, limit: number, windowSeconds: number): Promise<{ allowed: boolean; count: number; resetsAt: Date }>;
}

export function redisRateLimiter(redis: Redis, prefix = 'carillon:rl:'): RateLimiter {
  return {
    async hit(key, limit, windowSeconds) {
      const k = prefix + key;
      const results = await redis.multi().incr(k).expire(k, windowSeconds, 'NX').pttl(k).exec();
      const count = Number(results?.[0]?.[1] ?? 0);
      const ttlMs = Number(results?.[2]?.[1] ?? -1);
      return { allowed: count <= limit, count, resetsAt: new Date(Date.now() + (ttlMs > 0 ? ttlMs : windowSeconds * 1000)) };
    },
  };
}
