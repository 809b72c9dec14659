import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@carillon/config';
import { callOwnerKey } from '@carillon/contracts/call-control';
import { conferenceOwnerKey } from '@carillon/contracts/conference-control';
import { RedisCallOwnership } from '../../src/control/call-ownership.ts';
import { RedisConferenceEvents } from '../../src/control/conference-ownership.ts';
import { redisClient } from '../../../tests/support/env.ts';

/**
 * What nodes write in Redis of what they hold, on the real Redis: a node removes a record only while it is
 * still its own, so a conference reopened on another node as it closed on this one stays reachable there.
 */
const redis = redisClient();
const log = createLogger('node-records-test', 'warn');
afterAll(() => redis.disconnect());

const ownerOf = async (key: string) => {
  const value = await redis.get(key);
  return value ? (JSON.parse(value) as { nodeId: string }).nodeId : null;
};

describe('node records in Redis', () => {
  it("leaves a conference record another node wrote since, and removes its own", async () => {
    const conference = { accountId: randomUUID(), hostExtensionId: randomUUID() };
    const key = conferenceOwnerKey(conference.accountId, conference.hostExtensionId);
    const [a, b] = [new RedisConferenceEvents(redis, 'node-a', log), new RedisConferenceEvents(redis, 'node-b', log)];
    a.opened(conference);
    await expect.poll(() => ownerOf(key)).toBe('node-a');
    // The host's conference reopens on node b just as node a closes its own: a's close must not remove b's record.
    b.opened(conference);
    a.closed(conference);
    await expect.poll(() => ownerOf(key)).toBe('node-b');
    // One round trip later a's close has run: the record is still b's.
    await redis.ping();
    expect(await ownerOf(key)).toBe('node-b');
    b.closed(conference);
    await expect.poll(() => ownerOf(key)).toBeNull();
  });

  it("removes a call's record only for the node and account it names", async () => {
    const callId = randomUUID();
    const accountId = randomUUID();
    const [a, b] = [new RedisCallOwnership(redis, 'node-a', log), new RedisCallOwnership(redis, 'node-b', log)];
    a.claim(callId, accountId);
    b.release(callId, accountId);
    a.release(callId, randomUUID());
    await redis.ping();
    expect(await ownerOf(callOwnerKey(callId))).toBe('node-a');
    a.release(callId, accountId);
    await expect.poll(() => ownerOf(callOwnerKey(callId))).toBeNull();
  });
});
