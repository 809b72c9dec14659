import type { Redis } from 'ioredis';

/**
 * Fixed-window counters in Redis, so every app node shares the same limits.
 * `hit` returns whether the caller is still under the limit.
 */
export interface RateLimiter {
  hit(key: string, limit: number, windowSeconds: number): Promise<{ allowed: boolean; count: number }>;
}

export function redisRateLimiter(redis: Redis, prefix = 'carillon:rl:'): RateLimiter {
  return {
    async hit(key, limit, windowSeconds) {
      const k = prefix + key;
      const results = await redis.multi().incr(k).expire(k, windowSeconds, 'NX').exec();
      const count = Number(results?.[0]?.[1] ?? 0);
      return { allowed: count <= limit, count };
    },
  };
}
