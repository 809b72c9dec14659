import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FIRST_ADMIN_EXTENSION,
  activateAccount,
  checkUserToken,
  permissionsOfRole,
  readProgress,
  resolveSession,
  type CredentialsInput,
} from '@carillon/core';
import { sql, type Db } from '@carillon/db';
import { freshDb } from '../../../tests/support/env.ts';
import { GOOD_CREDENTIALS, auditEvents, ctx, json, newAccount, uniq } from './support.ts';

let db: Db;
beforeAll(async () => {
  db = await freshDb();
});
afterAll(async () => {
  await db?.destroy();
});

describe('createAccount', () => {
  it('creates the account, its main site, main number and a not-yet-activated Super Admin on ext 101', async () => {
    const email = `Marie.${uniq()}@ACME.example`;
    const created = await newAccount(db, { email, company: 'Acme Labs' });

    expect(created.extension).toBe('101');
    expect(FIRST_ADMIN_EXTENSION).toBe('101');
    // NANP fictional range 555-0100…0199.
    expect(created.mainNumber).toMatch(/^\+1[2-9][0-9]{2}55501[0-9]{2}$/);

    const account = await db
      .selectFrom('accounts')
      .selectAll()
      .where('id', '=', created.accountId)
      .executeTakeFirstOrThrow();
    expect(account).toMatchObject({
      company_name: 'Acme Labs',
      main_number: created.mainNumber,
      country: 'US',
      plan: 'standard',
      setup_completed_at: null,
    });

    const sites = await db
      .selectFrom('sites')
      .selectAll()
      .where('account_id', '=', created.accountId)
      .execute();
    expect(sites).toHaveLength(1);
    expect(sites[0]).toMatchObject({ name: 'Acme Labs', is_main: true });

    const ext = await db
      .selectFrom('extensions')
      .selectAll()
      .where('account_id', '=', created.accountId)
      .executeTakeFirstOrThrow();
    expect(ext).toMatchObject({
      number: '101',
      type: 'user',
      status: 'not_activated',
      site_id: sites[0]!.id,
    });
    expect(account.operator_extension_id).toBe(ext.id);

    const user = await db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', created.userId)
      .executeTakeFirstOrThrow();
    expect(user).toMatchObject({
      account_id: created.accountId,
      extension_id: ext.id,
      first_name: 'Marie',
      email: email.toLowerCase(),
      email_login: true,
    });
    const role = await db
      .selectFrom('roles')
      .select('key')
      .where('id', '=', user.role_id)
      .executeTakeFirstOrThrow();
    expect(role.key).toBe('super_admin');
    expect((await permissionsOfRole(db, user.role_id)).has('account.settings')).toBe(true);

    const cred = await db
      .selectFrom('user_credentials')
      .selectAll()
      .where('user_id', '=', created.userId)
      .executeTakeFirstOrThrow();
    expect(cred).toMatchObject({
      password_hash: null,
      pin_hash: null,
      security_answer_hash: null,
      failed_attempts: 0,
    });

    const numbers = await db
      .selectFrom('phone_numbers')
      .selectAll()
      .where('account_id', '=', created.accountId)
      .execute();
    expect(numbers).toHaveLength(1);
    expect(numbers[0]).toMatchObject({ e164: created.mainNumber, type: 'main', site_id: sites[0]!.id });

    const [event] = await auditEvents(db, created.accountId, 'account.created');
    expect(json(event!.after)).toMatchObject({
      company: 'Acme Labs',
      mainNumber: created.mainNumber,
      plan: 'standard',
    });
  });

  it('issues an activation token valid about 48 hours', async () => {
    const created = await newAccount(db);
    const tokens = await db
      .selectFrom('user_tokens')
      .selectAll()
      .where('user_id', '=', created.userId)
      .execute();
    expect(tokens).toHaveLength(1);
    expect(tokens[0]!.purpose).toBe('activation');
    expect(tokens[0]!.used_at).toBeNull();
    // Only the SHA-256 of the token is stored.
    expect(tokens[0]!.id).not.toContain(created.activationToken);
    const ttl = new Date(tokens[0]!.expires_at).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(48 * 3600_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(48 * 3600_000);

    expect(await checkUserToken(db, created.activationToken, 'activation')).toEqual({
      status: 'valid',
      accountId: created.accountId,
      userId: created.userId,
    });
    // Wrong purpose, garbage and unknown tokens are invalid.
    expect((await checkUserToken(db, created.activationToken, 'password_reset')).status).toBe('invalid');
    expect((await checkUserToken(db, 'not a token', 'activation')).status).toBe('invalid');
    expect((await checkUserToken(db, 'A'.repeat(43), 'activation')).status).toBe('invalid');

    await db
      .updateTable('user_tokens')
      .set({ expires_at: sql<Date>`now() - interval '1 minute'` })
      .where('user_id', '=', created.userId)
      .execute();
    expect((await checkUserToken(db, created.activationToken, 'activation')).status).toBe('expired');
    expect(await activateAccount(db, created.activationToken, GOOD_CREDENTIALS, ctx())).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('normalises a given main number to E.164', async () => {
    const created = await newAccount(db, { mainNumber: '(415) 555-0123' });
    expect(created.mainNumber).toBe('+14155550123');
    await expect(newAccount(db, { mainNumber: '12' })).rejects.toThrow(/Invalid main number/);
  });

  it('refuses a login e-mail already used by another account, whatever its case, leaving nothing behind', async () => {
    const email = `dup.${uniq()}@acme.example`;
    await newAccount(db, { email, company: 'First Co' });
    const accountsBefore = await db
      .selectFrom('accounts')
      .select(db.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();

    await expect(newAccount(db, { email: email.toUpperCase(), company: 'Second Co' })).rejects.toThrow(
      /users_login_email_unique|duplicate key/,
    );

    const accountsAfter = await db
      .selectFrom('accounts')
      .select(db.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(accountsAfter.n)).toBe(Number(accountsBefore.n));
    expect(
      await db.selectFrom('accounts').select('id').where('company_name', '=', 'Second Co').execute(),
    ).toEqual([]);
  });
});

describe('activateAccount', () => {
  const withChanges = (changes: Partial<CredentialsInput>): CredentialsInput => ({
    ...GOOD_CREDENTIALS,
    ...changes,
  });

  it.each([
    [{ password: 'Tulip7abcX', passwordConfirm: 'Tulip7abcX' }, { password: ['noRuns'] }],
    [{ password: 'Tu7!x', passwordConfirm: 'Tu7!x' }, { password: ['length'] }],
    [{ password: 'Marie7Tulip', passwordConfirm: 'Marie7Tulip' }, { password: ['noAccountInfo'] }],
    [{ password: 'Tulip101Harbor', passwordConfirm: 'Tulip101Harbor' }, { password: ['noAccountInfo'] }],
    [{ password: 'Acme7Tulip', passwordConfirm: 'Acme7Tulip' }, { password: ['noAccountInfo'] }],
    [{ passwordConfirm: 'Tulip7Harbour' }, { password: ['mismatch'] }],
    [{ pin: '123456', pinConfirm: '123456' }, { pin: ['noRuns'] }],
    [{ pin: '111111', pinConfirm: '111111' }, { pin: ['noRuns'] }],
    [{ pinConfirm: '482916' }, { pin: ['mismatch'] }],
    [{ pin: '48a915', pinConfirm: '48a915' }, { pin: ['digitsOnly'] }],
    [{ securityAnswer: 'Rex' }, { securityAnswer: ['minLetters'] }],
    [
      { password: 'abc', passwordConfirm: 'abd', pin: '12', pinConfirm: '12', securityAnswer: '1 2' },
      {
        password: ['length', 'digit', 'upperOrSpecial', 'noRuns', 'mismatch'],
        pin: ['length'],
        securityAnswer: ['minLetters'],
      },
    ],
  ])('refuses %j with %j and stores nothing', async (changes, errors) => {
    const created = await newAccount(db);
    const res = await activateAccount(db, created.activationToken, withChanges(changes), ctx());
    expect(res).toEqual({ ok: false, reason: 'rules', errors });

    const cred = await db
      .selectFrom('user_credentials')
      .selectAll()
      .where('user_id', '=', created.userId)
      .executeTakeFirstOrThrow();
    expect(cred).toMatchObject({
      password_hash: null,
      pin_hash: null,
      security_question: null,
      security_answer_hash: null,
    });
    const ext = await db
      .selectFrom('extensions')
      .select('status')
      .where('account_id', '=', created.accountId)
      .executeTakeFirstOrThrow();
    expect(ext.status).toBe('not_activated');
    expect((await checkUserToken(db, created.activationToken, 'activation')).status).toBe('valid');
    expect(
      await db.selectFrom('sessions').select('id').where('user_id', '=', created.userId).execute(),
    ).toEqual([]);
    expect(await auditEvents(db, created.accountId, 'user.activated')).toEqual([]);
    expect((await readProgress(db, created.accountId, created.userId)).completed ?? []).toEqual([]);
  });

  it('activates the extension, spends the token, stores only argon2id hashes and signs the user in', async () => {
    const created = await newAccount(db);
    const res = await activateAccount(db, created.activationToken, GOOD_CREDENTIALS, ctx('198.51.100.23'));
    if (!res.ok) throw new Error(JSON.stringify(res));
    expect(res).toMatchObject({ userId: created.userId, accountId: created.accountId });

    const ext = await db
      .selectFrom('extensions')
      .select('status')
      .where('account_id', '=', created.accountId)
      .executeTakeFirstOrThrow();
    expect(ext.status).toBe('activated');

    expect((await checkUserToken(db, created.activationToken, 'activation')).status).toBe('used');
    expect(await activateAccount(db, created.activationToken, GOOD_CREDENTIALS, ctx())).toEqual({
      ok: false,
      reason: 'used',
    });

    const cred = await db
      .selectFrom('user_credentials')
      .selectAll()
      .where('user_id', '=', created.userId)
      .executeTakeFirstOrThrow();
    expect(cred.password_hash).toMatch(/^\$argon2id\$/);
    expect(cred.pin_hash).toMatch(/^\$argon2id\$/);
    expect(cred.security_answer_hash).toMatch(/^\$argon2id\$/);
    expect(new Set([cred.password_hash, cred.pin_hash, cred.security_answer_hash]).size).toBe(3);
    expect(cred.security_question).toBe('first_car');
    expect(cred.password_changed_at).not.toBeNull();
    const row = JSON.stringify(cred).toLowerCase();
    for (const secret of [
      GOOD_CREDENTIALS.password,
      GOOD_CREDENTIALS.pin,
      GOOD_CREDENTIALS.securityAnswer,
      'rusty bucket',
    ]) {
      expect(row).not.toContain(secret.toLowerCase());
    }

    const session = await resolveSession(db, res.sessionToken);
    expect(session?.user.id).toBe(created.userId);
    expect(session?.extensionNumber).toBe('101');
    const stored = await db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', created.userId)
      .executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ ip: '198.51.100.23', user_agent: 'vitest', revoked_at: null });
    expect(stored.id).not.toBe(res.sessionToken);

    expect((await readProgress(db, created.accountId, created.userId)).completed).toEqual(['credentials']);
    const [event] = await auditEvents(db, created.accountId, 'user.activated');
    expect(event).toMatchObject({
      actor_user_id: created.userId,
      actor_ip: '198.51.100.23',
      target_id: created.userId,
    });
    expect(JSON.stringify(event)).not.toContain(GOOD_CREDENTIALS.password);
  });

  it('accepts a token only once when two submissions race', async () => {
    const created = await newAccount(db);
    const results = await Promise.all([
      activateAccount(db, created.activationToken, GOOD_CREDENTIALS, ctx()),
      activateAccount(db, created.activationToken, GOOD_CREDENTIALS, ctx()),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)).toEqual({ ok: false, reason: 'used' });
    expect(
      await db.selectFrom('sessions').select('id').where('user_id', '=', created.userId).execute(),
    ).toHaveLength(1);
  });
});
