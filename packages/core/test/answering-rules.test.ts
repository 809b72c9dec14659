import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installConfigChangeSink, readUserAnswering, saveUserAnswering } from '@carillon/core';
import type { ConfigChange } from '@carillon/contracts/config-changes';
import type { Db } from '@carillon/db';
import { defaultRuleHandling, DEFAULT_CALL_SETTINGS, userAnsweringSchema } from '@carillon/domain';
import { freshDb } from '../../../tests/support/env.ts';
import { activatedAccount, addUser } from './support.ts';

/**
 * Reading and saving a user's answering rules on a real database (PGlite):
 * what is stored is read back through the domain schemas, so a phone added or
 * removed since, or a row that no longer parses, never breaks the document.
 */
let db: Db;
const announced: ConfigChange[] = [];
beforeAll(async () => {
  db = await freshDb();
  installConfigChangeSink(async (change) => announced.push(change));
});
afterAll(async () => {
  installConfigChangeSink(null);
  await db?.destroy();
});

async function userWithPhones(n: number) {
  const acct = await activatedAccount(db);
  const user = await addUser(db, acct.accountId, { number: '205' });
  const phones: string[] = [];
  for (let i = 0; i < n; i++) {
    phones.push((await db.insertInto('devices').values({ account_id: acct.accountId, extension_id: user.extensionId, type: 'softphone', name: `Phone ${i}`, sip_username: `ar-${user.userId}-${i}` }).returning('id').executeTakeFirstOrThrow()).id);
  }
  return { accountId: acct.accountId, adminId: acct.userId, userId: user.userId, phones };
}

describe('a user’s answering document', () => {
  it('follows the user’s phones: a phone removed leaves the plan, a phone added rings with the first group', async () => {
    const u = await userWithPhones(2);
    const doc = userAnsweringSchema.parse({ hours: { mode: '24h' }, inHours: defaultRuleHandling(u.phones), afterHours: defaultRuleHandling([]), custom: [], settings: DEFAULT_CALL_SETTINGS });
    const saved = await saveUserAnswering(db, { userId: u.userId, ip: null }, u.accountId, u.userId, doc);
    expect(saved.ok).toBe(true);
    expect(announced.at(-1)).toEqual({ accountId: u.accountId, subjects: ['answering_rules'] });
    await db.deleteFrom('devices').where('id', '=', u.phones[0]!).execute();
    const added = (await db.insertInto('devices').values({ account_id: u.accountId, extension_id: (await db.selectFrom('users').select('extension_id').where('id', '=', u.userId).executeTakeFirstOrThrow()).extension_id, type: 'desk_phone', name: 'Desk', sip_username: `ar-${u.userId}-desk` }).returning('id').executeTakeFirstOrThrow()).id;
    const view = (await readUserAnswering(db, u.accountId, u.userId))!;
    expect(view.answering.inHours.ringPlan.rows.map((r) => (r.target.kind === 'device' ? r.target.deviceId : r.target.number)).sort()).toEqual([u.phones[1]!, added].sort());
    // The after-hours plan listed no phone; the new one joins it too, rather than never ringing there.
    expect(view.answering.afterHours.ringPlan.rows.map((r) => (r.target.kind === 'device' ? r.target.deviceId : r.target.number))).toEqual([u.phones[1], added]);
  });

  it('reads a stored rule that no longer parses as the default, and keeps a broken custom rule, disabled', async () => {
    const u = await userWithPhones(1);
    await db
      .insertInto('answering_rules')
      .values([
        { account_id: u.accountId, user_id: u.userId, kind: 'in_hours', handling: JSON.stringify({ ringPlan: { mode: 'sideways' } }) },
        { account_id: u.accountId, user_id: u.userId, kind: 'custom', position: 1, name: 'Old rule', conditions: JSON.stringify([{ type: 'moon_phase' }]), handling: JSON.stringify({}) },
      ])
      .execute();
    const view = (await readUserAnswering(db, u.accountId, u.userId))!;
    expect(view.answering.inHours).toEqual(defaultRuleHandling(u.phones));
    expect(view.answering.custom).toHaveLength(1);
    expect(view.answering.custom[0]).toMatchObject({ name: 'Old rule', enabled: false, conditions: [] });
  });

  it('is not found for a user of another account, and saves nothing for them', async () => {
    const a = await userWithPhones(0);
    const b = await userWithPhones(0);
    expect(await readUserAnswering(db, a.accountId, b.userId)).toBeNull();
    const doc = userAnsweringSchema.parse({ hours: { mode: '24h' }, inHours: defaultRuleHandling([]), afterHours: defaultRuleHandling([]), custom: [], settings: DEFAULT_CALL_SETTINGS });
    expect(await saveUserAnswering(db, { userId: a.adminId, ip: null }, a.accountId, b.userId, doc)).toEqual({ ok: false, status: 404, error: 'not_found' });
    expect(await db.selectFrom('answering_rules').select('id').where('user_id', '=', b.userId).execute()).toEqual([]);
  });
});
