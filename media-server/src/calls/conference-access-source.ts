import type { Redis } from 'ioredis';
import { redisRateLimiter } from '@carillon/core';
import { conferenceByAccessCode } from '@carillon/core/conference';
import type { Db } from '@carillon/db';
import { isAccessCode } from '@carillon/domain';
import type { ConferenceAccess } from '../apps/conference/conference-access.ts';

/** Wrong access codes one caller may enter on an account's bridge in the window, over all their calls (3 a call). */
export const WRONG_CODES_PER_CALLER = 10;
export const WRONG_CODES_WINDOW_SECONDS = 15 * 60;
const PREFIX = 'carillon:conference-code-failures:';

/**
 * The conference application's access codes: looked up in the database at each attempt (a code
 * regenerated in the app works at once), and wrong ones counted in Redis per account and caller,
 * on every node alike, so that guessing codes across many calls stops after a few tries. The key
 * expires with its window: Redis holds at most one small key per caller who got a code wrong.
 */
export function conferenceAccessSource(db: Db, redis: Redis): ConferenceAccess {
  const failures = redisRateLimiter(redis, PREFIX);
  return {
    async tryCode(accountId, caller, code) {
      const key = `${accountId}:${caller}`;
      if (Number((await redis.get(PREFIX + key)) ?? 0) >= WRONG_CODES_PER_CALLER) return { kind: 'limited' };
      const found = isAccessCode(code) ? await conferenceByAccessCode(db, accountId, code) : null;
      if (found) return { kind: 'found', ...found };
      const hit = await failures.hit(key, WRONG_CODES_PER_CALLER, WRONG_CODES_WINDOW_SECONDS);
      return hit.allowed ? { kind: 'wrong' } : { kind: 'limited' };
    },
  };
}
