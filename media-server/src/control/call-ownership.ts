import type { Redis } from 'ioredis';
import type { Logger } from '@carillon/config';
import { CALL_OWNER_TTL_MS, callOwnerKey, type CallOwner } from '@carillon/contracts/call-control';

/**
 * Writes in Redis which node owns each of its calls (contracts: `callOwnerKey`),
 * so that the app sends a command for a call to the node that holds it. Fire
 * and forget: a call does not wait for Redis, and a lost write only makes the
 * call unreachable by commands (the app answers "not live").
 */
export class RedisCallOwnership {
  private readonly redis: Redis;
  private readonly nodeId: string;
  private readonly log: Logger;

  constructor(redis: Redis, nodeId: string, log: Logger) {
    this.redis = redis;
    this.nodeId = nodeId;
    this.log = log;
  }

  claim(callId: string, accountId: string): void {
    const owner: CallOwner = { nodeId: this.nodeId, accountId };
    this.redis.set(callOwnerKey(callId), JSON.stringify(owner), 'PX', CALL_OWNER_TTL_MS).catch((err: unknown) => this.log.warn('call owner not recorded', { error: err }));
  }

  release(callId: string): void {
    this.redis.del(callOwnerKey(callId)).catch((err: unknown) => this.log.warn('call owner not removed; it expires on its own', { error: err }));
  }
}
