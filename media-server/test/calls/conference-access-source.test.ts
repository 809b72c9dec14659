import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createAccount, predefinedRoleId } from '@carillon/core';
import { conferenceCodesOf } from '@carillon/core/conference';
import type { Db } from '@carillon/db';
import { freshDb, redisClient } from '../../../tests/support/env.ts';
import { conferenceAccessSource, WRONG_CODES_PER_CALLER } from '../../src/calls/conference-access-source.ts';

/**
 * The conference access codes as media-server checks them, on a real database and the real Redis:
 * a code finds its host and role in its account only; wrong codes are counted per account and
 * caller across calls, and past the limit even the right code is refused, for that caller only.
 */
let db: Db;
let redis: Redis;
let accountId: string;
let extensionId: string;

beforeAll(async () => {
  db = await freshDb();
  redis = redisClient();
  const acct = await createAccount(db, { company: 'Bridge Co', email: `bridge-${randomBytes(3).toString('hex')}@x.test`, mainNumber: '+14155550100' }, { activationTtlHours: 1 });
  accountId = acct.accountId;
  const site = await db.selectFrom('sites').select('id').where('account_id', '=', accountId).executeTakeFirstOrThrow();
  const ext = await db.insertInto('extensions').values({ account_id: accountId, site_id: site.id, number: '201', type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  extensionId = ext.id;
  await db.insertInto('users').values({ account_id: accountId, extension_id: ext.id, role_id: await predefinedRoleId(db, 'standard'), first_name: 'Host', email: `h-${randomBytes(3).toString('hex')}@x.test`, setup_progress: '{}' }).execute();
});

afterAll(async () => {
  redis?.disconnect();
  await db?.destroy();
});

describe('conference access codes on the bridge', () => {
  it('finds the host and role by code, counts wrong codes per caller across calls, and refuses a caller past the limit', async () => {
    const access = conferenceAccessSource(db, redis);
    const codes = (await conferenceCodesOf(db, accountId, extensionId))!;
    const caller = `+1555${randomBytes(3).toString('hex')}`;
    expect(await access.tryCode(accountId, caller, codes.host)).toMatchObject({ kind: 'found', hostExtensionId: extensionId, role: 'host' });
    expect(await access.tryCode(accountId, caller, codes.participant)).toMatchObject({ kind: 'found', role: 'participant' });
    // Another account's bridge: the code is nobody's there.
    expect(await access.tryCode('00000000-0000-4000-8000-000000000000', caller, codes.host)).toEqual({ kind: 'wrong' });
    const wrong = codes.host === '000001' ? '000002' : '000001';
    for (let i = 0; i < WRONG_CODES_PER_CALLER; i++) expect(await access.tryCode(accountId, caller, i % 2 ? wrong : '12')).toEqual({ kind: 'wrong' });
    expect(await access.tryCode(accountId, caller, wrong)).toEqual({ kind: 'limited' });
    // Past the limit, even the right code is not looked at.
    expect(await access.tryCode(accountId, caller, codes.host)).toEqual({ kind: 'limited' });
    // Another caller is not affected.
    expect(await access.tryCode(accountId, `${caller}9`, codes.host)).toMatchObject({ kind: 'found' });
  });
});
