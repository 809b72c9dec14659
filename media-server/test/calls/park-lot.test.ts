import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createLogger } from '@carillon/config';
import { createAccount, createParkLocation } from '@carillon/core';
import type { Db } from '@carillon/db';
import { parkSlotKey } from '@carillon/contracts/park';
import { freshDb, redisClient } from '../../../tests/support/env.ts';
import { ParkLot, type ParkableCall } from '../../src/calls/park-lot.ts';

/**
 * The park lot on a real database (PGlite) and the real Redis: members only,
 * one call per location across nodes (two lots share one Redis, as two
 * media-server nodes do), the recall after its time, and a release that
 * frees only its own call's location.
 */
let db: Db;
let redis: Redis;
let accountId: string;
let location: string;
const ext: Record<string, string> = {};
const log = createLogger('park-lot-test', 'warn');

beforeAll(async () => {
  db = await freshDb();
  redis = redisClient();
  const acct = await createAccount(db, { company: 'Park Co', email: `park-${randomBytes(3).toString('hex')}@x.test` }, { activationTtlHours: 1 });
  accountId = acct.accountId;
  const site = await db.selectFrom('sites').select('id').where('account_id', '=', accountId).executeTakeFirstOrThrow();
  for (const n of ['201', '202']) ext[n] = (await db.insertInto('extensions').values({ account_id: accountId, site_id: site.id, number: n, type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow()).id;
  location = await createParkLocation(db, { userId: null, ip: null }, accountId, { name: 'Dock', number: '851', memberExtensionIds: [ext['201']!] });
});
afterAll(async () => {
  await redis.del(parkSlotKey(accountId, '851'));
  redis.disconnect();
  await db?.destroy();
});

function fakeCall(): ParkableCall & { recalls: (string | null)[] } {
  const recalls: (string | null)[] = [];
  return { aCallId: `${randomBytes(6).toString('hex')}@test`, recalls, recallParked: async (n) => void recalls.push(n) };
}

const request = (parker: string) => ({ accountId, location: '851', parkExtensionId: location, parkerExtensionId: ext[parker]! });

describe('ParkLot', () => {
  it('parks for a member only, one call per location across nodes, and frees the location on release', async () => {
    const nodeA = new ParkLot({ db, redis, nodeId: 'a', log, recallSeconds: 600 });
    const nodeB = new ParkLot({ db, redis, nodeId: 'b', log, recallSeconds: 600 });
    const first = fakeCall();
    expect(await nodeA.park(first, request('202'))).toBe('not-a-member');
    expect(await nodeA.park(first, request('201'))).toBeNull();
    // Another node sees the location taken, and cannot retrieve a call it does not hold.
    expect(await nodeB.park(fakeCall(), request('201'))).toBe('occupied');
    expect(await nodeA.park(fakeCall(), request('201'))).toBe('occupied');
    expect(await nodeB.retrieve(accountId, '851', location, ext['201']!)).toEqual({ refusal: 'elsewhere' });
    expect(await nodeA.retrieve(accountId, '851', location, ext['202']!)).toEqual({ refusal: 'not-a-member' });
    expect(await nodeA.retrieve(accountId, '851', location, ext['201']!)).toEqual({ call: first });
    nodeA.release(first);
    nodeA.release(first);
    expect(nodeA.size).toBe(0);
    await expect.poll(() => redis.exists(parkSlotKey(accountId, '851'))).toBe(0);
    expect(await nodeB.retrieve(accountId, '851', location, ext['201']!)).toEqual({ refusal: 'empty' });
  });

  it('does not free a location another call holds now', async () => {
    const lot = new ParkLot({ db, redis, nodeId: 'a', log, recallSeconds: 600 });
    const old = fakeCall();
    expect(await lot.park(old, request('201'))).toBeNull();
    // The key expired (a node died) and another node parked a call there since.
    await redis.set(parkSlotKey(accountId, '851'), JSON.stringify({ nodeId: 'b', callId: 'other@test', parkedBy: null }));
    lot.release(old);
    await new Promise((r) => setTimeout(r, 100));
    expect(await redis.get(parkSlotKey(accountId, '851'))).toContain('other@test');
    await redis.del(parkSlotKey(accountId, '851'));
  });

  it('calls the parked call back to its parker after the recall time, once', async () => {
    const lot = new ParkLot({ db, redis, nodeId: 'a', log, recallSeconds: 0.2 });
    const call = fakeCall();
    expect(await lot.park(call, request('201'))).toBeNull();
    await expect.poll(() => call.recalls, { timeout: 5000 }).toEqual(['201']);
    lot.release(call);
    await expect.poll(() => redis.exists(parkSlotKey(accountId, '851'))).toBe(0);
  });
});
