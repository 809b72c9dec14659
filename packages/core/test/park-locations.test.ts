import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createParkLocation, createPickupGroup, deleteParkLocation, listParkLocations, listPickupGroups, ParkError, parkLocationMembers, pickupAllowed, setParkLocationMembers, setPickupGroupMembers } from '@carillon/core';
import type { Db } from '@carillon/db';
import { freshDb } from '../../../tests/support/env.ts';
import { activatedAccount, addUser } from './support.ts';

/** Park locations and pickup groups on a real database (PGlite): scoped to the account, bounded, audited. */
let db: Db;
beforeAll(async () => {
  db = await freshDb();
});
afterAll(async () => {
  await db?.destroy();
});
const actor = { userId: null, ip: '203.0.113.9' };

describe('park locations', () => {
  it('creates a location with its members; a member of another account is refused', async () => {
    const acct = await activatedAccount(db);
    const other = await activatedAccount(db);
    const a = await addUser(db, acct.accountId, { number: '201' });
    const b = await addUser(db, acct.accountId, { number: '202' });
    const stranger = await addUser(db, other.accountId, { number: '201' });
    await expect(createParkLocation(db, actor, acct.accountId, { name: 'Front desk', number: '801', memberExtensionIds: [a.extensionId, stranger.extensionId] })).rejects.toMatchObject({ code: 'bad_member' });
    expect(await listParkLocations(db, acct.accountId)).toEqual([]);
    const id = await createParkLocation(db, actor, acct.accountId, { name: 'Front desk', number: '801', memberExtensionIds: [a.extensionId, b.extensionId] });
    expect((await parkLocationMembers(db, acct.accountId, id)).sort()).toEqual([a.extensionId, b.extensionId].sort());
    // Another account sees nothing of it.
    expect(await parkLocationMembers(db, other.accountId, id)).toEqual([]);
    expect(await setParkLocationMembers(db, actor, other.accountId, id, [stranger.extensionId])).toBe(false);
    expect(await setParkLocationMembers(db, actor, acct.accountId, id, [b.extensionId])).toBe(true);
    const [view] = await listParkLocations(db, acct.accountId);
    expect(view).toMatchObject({ id, number: '801', name: 'Front desk', memberExtensionIds: [b.extensionId] });
    const audit = await db.selectFrom('audit_events').select('action').where('account_id', '=', acct.accountId).where('action', 'like', 'park_location.%').execute();
    expect(audit.map((r) => r.action).sort()).toEqual(['park_location.create', 'park_location.update']);
    expect(await deleteParkLocation(db, actor, other.accountId, id)).toBe(false);
    expect(await deleteParkLocation(db, actor, acct.accountId, id)).toBe(true);
    expect(await listParkLocations(db, acct.accountId)).toEqual([]);
  });

  it('refuses a number already used, and a 101st location', async () => {
    const acct = await activatedAccount(db);
    await createParkLocation(db, actor, acct.accountId, { name: 'P0', number: '7000' });
    await expect(createParkLocation(db, actor, acct.accountId, { name: 'again', number: '7000' })).rejects.toMatchObject({ code: 'number_taken' });
    for (let i = 1; i < 100; i++) await createParkLocation(db, actor, acct.accountId, { name: `P${i}`, number: String(7000 + i) });
    await expect(createParkLocation(db, actor, acct.accountId, { name: 'P100', number: '7100' })).rejects.toBeInstanceOf(ParkError);
    await expect(createParkLocation(db, actor, acct.accountId, { name: 'P100', number: '7100' })).rejects.toMatchObject({ code: 'too_many_locations' });
    expect(await listParkLocations(db, acct.accountId)).toHaveLength(100);
  }, 60_000);
});

describe('pickup groups', () => {
  it('lets members of one group pick up each other, not a non-member nor another account', async () => {
    const acct = await activatedAccount(db);
    const a = await addUser(db, acct.accountId, { number: '301' });
    const b = await addUser(db, acct.accountId, { number: '302' });
    const c = await addUser(db, acct.accountId, { number: '303' });
    const group = await createPickupGroup(db, actor, acct.accountId, { name: 'Emerald', memberExtensionIds: [a.extensionId, b.extensionId] });
    expect(await pickupAllowed(db, acct.accountId, a.extensionId, b.extensionId)).toBe(true);
    expect(await pickupAllowed(db, acct.accountId, c.extensionId, b.extensionId)).toBe(false);
    expect(await pickupAllowed(db, acct.accountId, a.extensionId, a.extensionId)).toBe(false);
    const other = await activatedAccount(db);
    expect(await pickupAllowed(db, other.accountId, a.extensionId, b.extensionId)).toBe(false);
    expect(await setPickupGroupMembers(db, actor, acct.accountId, group, [a.extensionId, c.extensionId])).toBe(true);
    expect(await pickupAllowed(db, acct.accountId, c.extensionId, a.extensionId)).toBe(true);
    expect(await pickupAllowed(db, acct.accountId, b.extensionId, a.extensionId)).toBe(false);
    expect((await listPickupGroups(db, acct.accountId))[0]).toMatchObject({ name: 'Emerald', memberExtensionIds: expect.arrayContaining([a.extensionId, c.extensionId]) });
  });
});
