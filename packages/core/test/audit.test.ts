import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffFields, recordAudit, updateCompanyInfo } from '@carillon/core';
import { sql, type Db } from '@carillon/db';
import { freshDb } from '../../../tests/support/env.ts';
import { activatedAccount, auditEvents, json } from './support.ts';

let db: Db;
beforeAll(async () => {
  db = await freshDb();
});
afterAll(async () => {
  await db?.destroy();
});

describe('recordAudit', () => {
  it("keeps the role the actor held when the change was made, whatever their role later", async () => {
    const acct = await activatedAccount(db);
    const write = (action: string) => recordAudit(db, { userId: acct.userId, ip: null }, { accountId: acct.accountId, action, targetType: 'account' });
    await write('account.first');
    const manager = await db.selectFrom('roles').select('id').where('key', '=', 'manager').executeTakeFirstOrThrow();
    await db.updateTable('users').set({ role_id: manager.id }).where('id', '=', acct.userId).execute();
    await write('account.second');
    await recordAudit(db, { userId: null, ip: null }, { accountId: acct.accountId, action: 'account.by_system', targetType: 'account' });
    const rows = await db.selectFrom('audit_events').select(['action', 'actor_role']).where('account_id', '=', acct.accountId).where('action', 'in', ['account.first', 'account.second', 'account.by_system']).orderBy('id').execute();
    expect(rows).toEqual([
      { action: 'account.first', actor_role: 'Super Admin' },
      { action: 'account.second', actor_role: 'Manager' },
      { action: 'account.by_system', actor_role: null },
    ]);
  });

  it('records who, what, before/after, when (UTC) and from which IP', async () => {
    const acct = await activatedAccount(db);
    const t0 = Date.now();
    await recordAudit(
      db,
      { userId: acct.userId, ip: '2001:db8::7' },
      {
        accountId: acct.accountId,
        action: 'user.updated',
        targetType: 'user',
        targetId: acct.userId,
        before: { first_name: 'Marie' },
        after: { first_name: 'Maria' },
      },
    );
    const [e] = await auditEvents(db, acct.accountId, 'user.updated');
    expect(e).toMatchObject({
      actor_user_id: acct.userId,
      actor_ip: '2001:db8::7',
      target_type: 'user',
      target_id: acct.userId,
    });
    expect(json(e!.before)).toEqual({ first_name: 'Marie' });
    expect(json(e!.after)).toEqual({ first_name: 'Maria' });
    const at = new Date(e!.occurred_at).getTime();
    expect(at).toBeGreaterThanOrEqual(t0 - 5_000);
    expect(at).toBeLessThanOrEqual(Date.now() + 5_000);
    // Stored as timestamptz: the instant is the same whatever the session time zone.
    const { rows } = await sql<{
      utc: string;
    }>`select to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') as utc from audit_events where id = ${e!.id}`.execute(
      db,
    );
    expect(rows[0]!.utc).toBe(new Date(e!.occurred_at).toISOString().slice(0, 19));
  });

  it('redacts every secret-named key, at any depth, and keeps the rest', async () => {
    const acct = await activatedAccount(db);
    await recordAudit(
      db,
      { userId: null, ip: null },
      {
        accountId: acct.accountId,
        action: 'test.secrets',
        targetType: 'user',
        before: { password: 'Tulip7Harbor', pin: '482915', name: 'Marie' },
        after: {
          newPassword: 'Ocean4Lantern',
          pinHash: '$argon2id$v=19$x',
          confirm_pin: '482915',
          securityAnswer: 'Rusty Bucket',
          sessionToken: 'abc',
          nested: { sip_ha1_md5: 'deadbeef', list: [{ apiSecret: 's3' }], shipping: 'express' },
          smtp: 'smtp://user:hunter2@mail.example',
          email: 'marie@acme.example',
        },
      },
    );
    const [e] = await auditEvents(db, acct.accountId, 'test.secrets');
    expect(e).toMatchObject({ actor_user_id: null, actor_ip: null, target_id: null });
    expect(json(e!.before)).toEqual({ password: '[redacted]', pin: '[redacted]', name: 'Marie' });
    expect(json(e!.after)).toEqual({
      newPassword: '[redacted]',
      pinHash: '[redacted]',
      confirm_pin: '[redacted]',
      securityAnswer: '[redacted]',
      sessionToken: '[redacted]',
      nested: { sip_ha1_md5: '[redacted]', list: [{ apiSecret: '[redacted]' }], shipping: 'express' },
      smtp: 'smtp://user:***@mail.example',
      email: 'marie@acme.example',
    });
    const stored = JSON.stringify(e);
    for (const secret of [
      'Tulip7Harbor',
      '482915',
      'Ocean4Lantern',
      'Rusty Bucket',
      'hunter2',
      'deadbeef',
      '$argon2id$',
    ]) {
      expect(stored).not.toContain(secret);
    }
  });

  it('stores a date as its ISO instant, not as an empty object', async () => {
    const acct = await activatedAccount(db);
    const expiresAt = new Date('2026-12-31T23:00:00.000Z');
    await recordAudit(db, { userId: acct.userId, ip: null }, { accountId: acct.accountId, action: 'test.dated', targetType: 'api_token', after: { name: 'CI', expiresAt, nested: { at: expiresAt } } });
    const [e] = await auditEvents(db, acct.accountId, 'test.dated');
    expect(json(e!.after)).toEqual({ name: 'CI', expiresAt: '2026-12-31T23:00:00.000Z', nested: { at: '2026-12-31T23:00:00.000Z' } });
  });

  it('stores null, not an empty object, when there is no before or after', async () => {
    const acct = await activatedAccount(db);
    await recordAudit(
      db,
      { userId: acct.userId, ip: '203.0.113.9' },
      { accountId: acct.accountId, action: 'test.bare', targetType: 'account' },
    );
    const [e] = await auditEvents(db, acct.accountId, 'test.bare');
    expect(e).toMatchObject({ before: null, after: null, target_id: null });
  });

  it('audits an admin change of company info with only the changed fields, and skips a change that changes nothing', async () => {
    const acct = await activatedAccount(db);
    const actor = { userId: acct.userId, ip: '203.0.113.8' };
    await updateCompanyInfo(db, acct.accountId, actor, {
      companyName: 'Acme Labs',
      city: 'Lyon',
      addressCountry: 'FR',
    });
    const events = await auditEvents(db, acct.accountId, 'company.updated');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor_user_id: acct.userId,
      actor_ip: '203.0.113.8',
      target_id: acct.accountId,
    });
    expect(json(events[0]!.before)).toEqual({ city: null, address_country: null });
    expect(json(events[0]!.after)).toEqual({ city: 'Lyon', address_country: 'FR' });

    await updateCompanyInfo(db, acct.accountId, actor, {
      companyName: 'Acme Labs',
      city: 'Lyon',
      addressCountry: 'FR',
    });
    expect(await auditEvents(db, acct.accountId, 'company.updated')).toHaveLength(1);
  });
});

describe('diffFields', () => {
  it('reports only the fields that changed, with both values', () => {
    const before = { a: 1, b: 'x', c: true, d: null as string | null, e: 'same' };
    expect(diffFields(before, { a: 2, b: 'x', c: false, e: 'same' })).toEqual({
      before: { a: 1, c: true },
      after: { a: 2, c: false },
    });
    expect(diffFields(before, { d: 'now set' })).toEqual({ before: { d: null }, after: { d: 'now set' } });
  });

  it('returns null when nothing changed, treating null and undefined alike', () => {
    expect(diffFields({ a: 1, b: null as string | null }, { a: 1, b: null })).toBeNull();
    expect(diffFields({ a: 1, b: null as string | null | undefined }, { b: undefined })).toBeNull();
    expect(diffFields({ a: 1 }, {})).toBeNull();
  });

  it('compares dates by instant and nested values by content', () => {
    const at = new Date('2026-03-01T10:00:00.000Z');
    const before = { at: at as Date | string, tags: ['a', 'b'] };
    expect(diffFields(before, { at: '2026-03-01T10:00:00.000Z', tags: ['a', 'b'] })).toBeNull();
    expect(diffFields(before, { at: '2026-03-01T10:00:01.000Z' })).toEqual({
      before: { at: '2026-03-01T10:00:00.000Z' },
      after: { at: '2026-03-01T10:00:01.000Z' },
    });
    expect(diffFields(before, { tags: ['a', 'c'] })).toEqual({
      before: { tags: ['a', 'b'] },
      after: { tags: ['a', 'c'] },
    });
  });
});
