import type { Redis } from 'ioredis';
import type { Logger } from '@carillon/config';
import { CALL_OWNER_TTL_MS, callOwnerKey, type CallOwner } from '@carillon/contracts/call-control';

/**
 * What a node writes in Redis of what it holds (its calls, its conferences), so that the app sends
 * a command to the node that holds its target. Fire and forget: nothing on the call path waits for
 * Redis, and a lost write only makes the target unreachable by commands (the app answers "not live").
 */
export abstract class NodeRecords {
  protected readonly redis: Redis;
  protected readonly nodeId: string;
  private readonly log: Logger;

  constructor(redis: Redis, nodeId: string, log: Logger) {
    this.redis = redis;
    this.nodeId = nodeId;
    this.log = log;
  }

  /** This node as the owner of something of the account (contracts: `callOwner`). */
  protected owner(accountId: string): string {
    return JSON.stringify({ nodeId: this.nodeId, accountId } satisfies CallOwner);
  }

  /**
   * Removes `key` only while it still names this node for the account: a record another node wrote since
   * (a host's conference reopened there as this one closed) is that node's, not ours to remove. One script,
   * so nothing can come between the read and the delete.
   */
  protected releaseOwn(key: string, accountId: string): Promise<unknown> {
    return this.redis.eval(RELEASE_IF_OWNER, 1, key, this.owner(accountId));
  }

  protected quietly(write: Promise<unknown>, failure: string): void {
    write.catch((err: unknown) => this.log.warn(failure, { error: err }));
  }
}

const RELEASE_IF_OWNER = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/** Which node owns each of its calls (contracts: `callOwnerKey`). */
export class RedisCallOwnership extends NodeRecords {
  claim(callId: string, accountId: string): void {
    this.quietly(this.redis.set(callOwnerKey(callId), this.owner(accountId), 'PX', CALL_OWNER_TTL_MS), 'call owner not recorded');
  }

  release(callId: string, accountId: string): void {
    this.quietly(this.releaseOwn(callOwnerKey(callId), accountId), 'call owner not removed; it expires on its own');
  }
}
