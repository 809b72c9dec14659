import type { Redis } from 'ioredis';
import { smsBindRateKey, smsSenderRateKey } from '@carillon/contracts';

/**
 * The rate limits of SMS sending, counted in segments: a carrier's bind and
 * each sender number on it. Every workers process bound to the same carrier
 * takes from the same buckets in Redis, so two processes sending for one
 * sender together stay within its rate (a per-process bucket would let N
 * processes send N times the rate).
 *
 * One Lua script checks both buckets and takes from both, or from neither:
 * a segment that the sender's bucket refuses does not spend the bind's
 * token. A call asks for several segments and is granted what both buckets
 * hold (at least one, or none and the wait), so a client with a wide window
 * pays one round trip per batch, not per segment. The clock is Redis's (TIME), the one every process agrees on.
 * Tokens are kept in thousandths, so a refill (ms × rate) adds integers.
 * A bucket left alone until it is full again expires: an idle sender costs
 * nothing, and an absent key is a full bucket.
 */
const TAKE = `
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local wanted = tonumber(ARGV[2])
local levels = {}
local wait, blocked = 0, 0
for i = 1, #KEYS do
  local rate = tonumber(ARGV[1 + 2 * i])
  local full = tonumber(ARGV[2 + 2 * i]) * 1000
  local v = redis.call('HMGET', KEYS[i], 'milli', 'at')
  local milli = tonumber(v[1]) or full
  local at = tonumber(v[2]) or now
  if now > at then
    milli = math.min(full, milli + (now - at) * rate)
    at = now
  end
  levels[i] = { milli, at, math.ceil(full / rate) }
  wanted = math.min(wanted, math.floor(milli / 1000))
  if milli < 1000 then
    local w = math.ceil((1000 - milli) / rate)
    if w > wait then wait, blocked = w, i end
  end
end
if wait > 0 then return { blocked, wait, 0 } end
for i = 1, #KEYS do
  redis.call('HSET', KEYS[i], 'milli', levels[i][1] - wanted * 1000, 'at', levels[i][2])
  redis.call('PEXPIRE', KEYS[i], levels[i][3] + 1000)
end
return { 0, 0, wanted }
`;

export interface RateLimits {
  /** Segments per second of the whole bind, and of each sender number. */
  segmentsPerSecond: number;
  senderSegmentsPerSecond: number;
}

/** Segments granted (send that many now), or none: which bucket refused, and in how many ms it will have one. */
export type RateDecision = { granted: number } | { granted: 0; blockedBy: 'bind' | 'sender'; waitMs: number };

export interface SegmentRateLimiter {
  /** Takes up to `wanted` segments from the bind's and the sender's buckets together: as many as both hold. */
  take(carrierKey: string, sender: string, wanted: number, limits: RateLimits): Promise<RateDecision>;
}

/** The burst a rate allows: a tenth of a second's worth, at least one segment. */
export const burstFor = (ratePerSecond: number): number => Math.max(1, Math.ceil(ratePerSecond / 10));

export class RedisSegmentRateLimiter implements SegmentRateLimiter {
  private readonly redis: Redis;
  /** Tests pass a clock in ms to check the arithmetic; in service the clock is Redis's. */
  private readonly clock: (() => number) | null;

  constructor(redis: Redis, clock: (() => number) | null = null) {
    this.redis = redis;
    this.clock = clock;
  }

  async take(carrierKey: string, sender: string, wanted: number, limits: RateLimits): Promise<RateDecision> {
    const { segmentsPerSecond: bind, senderSegmentsPerSecond: perSender } = limits;
    if (!(bind > 0) || !(perSender > 0)) throw new RangeError('SMS rate limits must be positive');
    if (!(wanted >= 1)) throw new RangeError('ask for at least one segment');
    const result = (await this.redis.eval(
      TAKE,
      2,
      smsBindRateKey(carrierKey),
      smsSenderRateKey(carrierKey, sender),
      String(this.clock ? Math.floor(this.clock()) : -1),
      String(Math.floor(wanted)),
      String(bind),
      String(burstFor(bind)),
      String(perSender),
      String(burstFor(perSender)),
    )) as [number, number, number];
    const [blocked, waitMs, granted] = result;
    return blocked === 0 ? { granted } : { granted: 0, blockedBy: blocked === 1 ? 'bind' : 'sender', waitMs };
  }
}
