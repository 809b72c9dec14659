import type { Redis } from 'ioredis';
import { smsDailyCampaignSendsKey } from '@carillon/contracts';

/**
 * The per-account daily cap of A2P campaign texts (issue 18, deliverable 2;
 * 250,000 by default): how many the account's campaigns released to the
 * carriers on one local day. Every workers process's scheduler takes its
 * batches from the same count, so two of them together stay under the cap.
 */
export interface SmsDailyCampaignCounter {
  /** Reserves up to `wanted` of the day's room under `cap`; the number granted (0: the day is full). */
  reserve(accountId: string, day: string, wanted: number, cap: number): Promise<number>;
  /** Gives back what a round reserved and did not send (opted-out lines, lines already sent). */
  release(accountId: string, day: string, count: number): Promise<void>;
}

/** Check and add in one step: two schedulers asking at once never both get the last room. */
const RESERVE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local room = tonumber(ARGV[2]) - used
if room <= 0 then return 0 end
local granted = math.min(room, tonumber(ARGV[1]))
redis.call('INCRBY', KEYS[1], granted)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return granted
`;

/** A local day is over within 2 days of any instant in it, whatever the time zone. */
const DAY_KEY_TTL_S = 3 * 24 * 3600;

export function redisSmsDailyCampaignCounter(redis: Redis): SmsDailyCampaignCounter {
  return {
    async reserve(accountId, day, wanted, cap) {
      if (wanted <= 0) return 0;
      return Number(await redis.eval(RESERVE, 1, smsDailyCampaignSendsKey(accountId, day), String(wanted), String(cap), String(DAY_KEY_TTL_S)));
    },
    async release(accountId, day, count) {
      if (count > 0) await redis.decrby(smsDailyCampaignSendsKey(accountId, day), count);
    },
  };
}
