import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activateAccount,
  nextStep,
  readProgress,
  saveSetupStep,
  signIn,
  stepDefaults,
  type AuditActor,
} from '@carillon/core';
import { openPostgres, servePglite, type Db } from '@carillon/db';
import { freshDb, freshPglite } from '../../../tests/support/env.ts';
import {
  GOOD_CREDENTIALS,
  POLICY,
  activatedAccount,
  addUser,
  auditEvents,
  ctx,
  json,
  newAccount,
  testLimiter,
  uniq,
} from './support.ts';

let db: Db;
beforeAll(async () => {
  db = await freshDb();
});
afterAll(async () => {
  await db?.destroy();
});

const ACTOR_IP = '198.51.100.42';

const company = (operatorExtension: string) => ({ greetingMode: 'default', operatorExtension });
const myInfo = (
  o: Partial<{
    firstName: string;
    lastName: string;
    email: string;
    emailLogin: boolean;
    contactPhone: string;
  }> = {},
) => ({
  firstName: 'Marie',
  lastName: 'Curie-Sklodowska',
  email: `marie.new.${uniq()}@acme.example`,
  emailLogin: true,
  contactPhone: '(415) 555-0187',
  ...o,
});
const regional = { country: 'FR', timeZone: 'Europe/Paris', timeFormat: '24h', language: 'fr' };
const emergency = (acceptTerms: boolean) => ({
  name: 'Head office',
  country: 'US',
  street: '1 Market St',
  street2: 'Floor 3',
  city: 'San Francisco',
  state: 'CA',
  postalCode: '94105',
  acceptTerms,
});

describe('quick setup wizard', () => {
  it('saves each stage as it goes, validates it, audits it, and completes at the end', async () => {
    const acct = await activatedAccount(db);
    const who = { accountId: acct.accountId, userId: acct.userId };
    const actor: AuditActor = { userId: acct.userId, ip: ACTOR_IP };
    const progress = () => readProgress(db, acct.accountId, acct.userId);
    const lastAudit = async (action: string) => {
      const events = await auditEvents(db, acct.accountId, action);
      expect(events.length).toBeGreaterThan(0);
      const e = events.at(-1)!;
      expect(e.actor_user_id).toBe(acct.userId);
      expect(e.actor_ip).toBe(ACTOR_IP);
      expect(Math.abs(new Date(e.occurred_at).getTime() - Date.now())).toBeLessThan(60_000);
      return { ...e, before: json(e.before), after: json(e.after) };
    };

    // Activation completed the first stage.
    expect(nextStep(await progress())).toBe('company');

    // Review refuses while stages are missing.
    expect(await saveSetupStep(db, who, actor, 'review', { confirm: true })).toEqual({
      ok: false,
      errors: { _form: 'incomplete:company,my_info,regional,emergency' },
    });
    expect(await saveSetupStep(db, who, actor, 'review', { confirm: false })).toEqual({
      ok: false,
      errors: { confirm: 'invalid' },
    });

    // company: the operator extension must exist.
    expect(await saveSetupStep(db, who, actor, 'company', company('999'))).toEqual({
      ok: false,
      errors: { operatorExtension: 'extension_not_found' },
    });
    expect(await saveSetupStep(db, who, actor, 'company', company('12a'))).toEqual({
      ok: false,
      errors: { operatorExtension: 'invalid_extension' },
    });
    expect(nextStep(await progress())).toBe('company');
    const ext101 = (
      await db
        .selectFrom('accounts')
        .select('operator_extension_id')
        .where('id', '=', acct.accountId)
        .executeTakeFirstOrThrow()
    ).operator_extension_id;
    const ext102 = (await addUser(db, acct.accountId, { number: '102' })).extensionId;
    expect(await saveSetupStep(db, who, actor, 'company', company('102'))).toEqual({
      ok: true,
      next: 'my_info',
    });
    expect(
      (
        await db
          .selectFrom('accounts')
          .select('operator_extension_id')
          .where('id', '=', acct.accountId)
          .executeTakeFirstOrThrow()
      ).operator_extension_id,
    ).toBe(ext102);
    expect(await progress()).toMatchObject({
      completed: ['credentials', 'company'],
      company: company('102'),
    });
    expect(nextStep(await progress())).toBe('my_info');
    const companyEvent = await lastAudit('company.updated');
    expect(companyEvent).toMatchObject({
      target_type: 'account',
      target_id: acct.accountId,
      before: { operator_extension_id: ext101 },
      after: { operator_extension_id: ext102 },
    });

    // my_info: a valid e-mail that is nobody else's login.
    expect(await saveSetupStep(db, who, actor, 'my_info', myInfo({ email: 'not-an-email' }))).toEqual({
      ok: false,
      errors: { email: 'invalid_email' },
    });
    const someoneElse = await activatedAccount(db);
    expect(
      await saveSetupStep(db, who, actor, 'my_info', myInfo({ email: someoneElse.email.toUpperCase() })),
    ).toEqual({ ok: false, errors: { email: 'email_taken' } });
    expect(await saveSetupStep(db, who, actor, 'my_info', myInfo({ firstName: '' }))).toEqual({
      ok: false,
      errors: { firstName: 'required' },
    });
    expect(await saveSetupStep(db, who, actor, 'my_info', myInfo({ contactPhone: '12' }))).toEqual({
      ok: false,
      errors: { contactPhone: 'invalid_phone' },
    });
    expect(nextStep(await progress())).toBe('my_info');
    const info = myInfo({ email: `Marie.Curie.${uniq()}@ACME.example` });
    expect(await saveSetupStep(db, who, actor, 'my_info', info)).toEqual({ ok: true, next: 'regional' });
    const user = await db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', acct.userId)
      .executeTakeFirstOrThrow();
    expect(user).toMatchObject({
      last_name: 'Curie-Sklodowska',
      email: info.email.toLowerCase(),
      contact_phone: '+14155550187',
    });
    const userEvent = await lastAudit('user.updated');
    expect(userEvent).toMatchObject({
      target_type: 'user',
      target_id: acct.userId,
      before: { last_name: 'Curie', email: acct.email, contact_phone: null },
      after: {
        last_name: 'Curie-Sklodowska',
        email: info.email.toLowerCase(),
        contact_phone: '+14155550187',
      },
    });
    // Unchanged fields are not in the entry.
    expect(userEvent.before).not.toHaveProperty('first_name');
    expect(userEvent.after).not.toHaveProperty('email_login');
    expect(nextStep(await progress())).toBe('regional');
    // The new login e-mail works, the old one no longer does.
    const rl = testLimiter();
    try {
      const attempt = (email: string) =>
        signIn(db, rl.limiter, POLICY, {
          identity: { kind: 'email', email },
          password: GOOD_CREDENTIALS.password,
          ip: ACTOR_IP,
          userAgent: null,
        });
      expect(await attempt(info.email)).toMatchObject({
        ok: true,
        userId: acct.userId,
        setupComplete: false,
      });
      expect(await attempt(acct.email)).toMatchObject({ ok: false, reason: 'invalid_credentials' });
    } finally {
      await rl.cleanup();
    }

    // regional
    expect(
      await saveSetupStep(db, who, actor, 'regional', { ...regional, timeZone: 'Mars/Olympus' }),
    ).toEqual({ ok: false, errors: { timeZone: 'invalid_time_zone' } });
    expect(await saveSetupStep(db, who, actor, 'regional', regional)).toEqual({
      ok: true,
      next: 'emergency',
    });
    expect(
      await db
        .selectFrom('accounts')
        .select(['country', 'time_zone', 'time_format', 'language'])
        .where('id', '=', acct.accountId)
        .executeTakeFirstOrThrow(),
    ).toEqual({
      country: 'FR',
      time_zone: 'Europe/Paris',
      time_format: '24h',
      language: 'fr',
    });
    expect(await lastAudit('company.regional_settings_updated')).toMatchObject({
      before: { country: 'US', time_zone: 'America/New_York', time_format: '12h', language: 'en' },
      after: { country: 'FR', time_zone: 'Europe/Paris', time_format: '24h', language: 'fr' },
    });
    expect(nextStep(await progress())).toBe('emergency');

    // emergency: the terms must be accepted.
    expect(await saveSetupStep(db, who, actor, 'emergency', emergency(false))).toEqual({
      ok: false,
      errors: { acceptTerms: 'terms_required' },
    });
    expect(await saveSetupStep(db, who, actor, 'emergency', { ...emergency(true), street: '  ' })).toEqual({
      ok: false,
      errors: { street: 'required' },
    });
    expect(
      await db
        .selectFrom('emergency_addresses')
        .select('id')
        .where('account_id', '=', acct.accountId)
        .execute(),
    ).toEqual([]);
    expect(nextStep(await progress())).toBe('emergency');
    expect(await saveSetupStep(db, who, actor, 'emergency', emergency(true))).toEqual({
      ok: true,
      next: 'review',
    });
    const address = await db
      .selectFrom('emergency_addresses')
      .selectAll()
      .where('account_id', '=', acct.accountId)
      .executeTakeFirstOrThrow();
    expect(address).toMatchObject({
      user_id: acct.userId,
      street: '1 Market St',
      street2: 'Floor 3',
      postal_code: '94105',
    });
    expect(address.terms_accepted_at).not.toBeNull();
    const emergencyEvent = await lastAudit('emergency_address.registered');
    expect(emergencyEvent).toMatchObject({
      target_type: 'emergency_address',
      target_id: address.id,
      before: null,
      after: { street: '1 Market St', city: 'San Francisco' },
    });

    // Leaving and coming back: progress and prefilled values survive.
    const defaults = await stepDefaults(db, acct.accountId, acct.userId);
    expect(defaults.company).toEqual(company('102'));
    expect(defaults.regional).toEqual(regional);
    expect(defaults.emergency).toMatchObject({ street: '1 Market St', acceptTerms: true });
    expect(nextStep(await progress())).toBe('review');

    // review completes the setup.
    expect(await saveSetupStep(db, who, actor, 'review', { confirm: true })).toEqual({
      ok: true,
      next: 'done',
    });
    const done = await db
      .selectFrom('accounts')
      .select('setup_completed_at')
      .where('id', '=', acct.accountId)
      .executeTakeFirstOrThrow();
    expect(done.setup_completed_at).toBeInstanceOf(Date);
    expect((await progress()).completed).toEqual([
      'credentials',
      'company',
      'my_info',
      'regional',
      'emergency',
      'review',
    ]);
    expect(nextStep(await progress())).toBe('done');
    expect(await lastAudit('company.setup_completed')).toMatchObject({ after: { setupCompleted: true } });
    const rl2 = testLimiter();
    try {
      expect(
        await signIn(db, rl2.limiter, POLICY, {
          identity: { kind: 'email', email: info.email },
          password: GOOD_CREDENTIALS.password,
          ip: ACTOR_IP,
          userAgent: null,
        }),
      ).toMatchObject({ ok: true, setupComplete: true });
    } finally {
      await rl2.cleanup();
    }

    // No audit entry holds a secret.
    const all = JSON.stringify(await auditEvents(db, acct.accountId));
    expect(all).not.toContain(GOOD_CREDENTIALS.password);
    expect(all).not.toContain(GOOD_CREDENTIALS.pin);
  });

  it('writes no audit entry when a stage changes nothing', async () => {
    const acct = await activatedAccount(db);
    const who = { accountId: acct.accountId, userId: acct.userId };
    const before = (await auditEvents(db, acct.accountId)).length;
    // 101 is already the operator extension and the greeting is already the default.
    expect(
      await saveSetupStep(db, who, { userId: acct.userId, ip: ACTOR_IP }, 'company', company('101')),
    ).toEqual({ ok: true, next: 'my_info' });
    expect(await auditEvents(db, acct.accountId)).toHaveLength(before);
    expect((await readProgress(db, acct.accountId, acct.userId)).completed).toEqual([
      'credentials',
      'company',
    ]);
  });

  it("refuses a taken e-mail only when it would be a login: not for a non-login e-mail, nor for the user's own", async () => {
    const acct = await activatedAccount(db);
    const other = await activatedAccount(db);
    const who = { accountId: acct.accountId, userId: acct.userId };
    // Same address as another user's login, but not used to sign in: allowed.
    expect(
      await saveSetupStep(
        db,
        who,
        { userId: acct.userId, ip: null },
        'my_info',
        myInfo({ email: other.email, emailLogin: false }),
      ),
    ).toEqual({ ok: true, next: 'company' });
    // Saving its own current e-mail again is not "taken".
    const own = myInfo({ email: acct.email });
    const again = await activatedAccount(db);
    expect(
      await saveSetupStep(
        db,
        { accountId: again.accountId, userId: again.userId },
        { userId: again.userId, ip: null },
        'my_info',
        { ...own, email: again.email },
      ),
    ).toEqual({
      ok: true,
      next: 'company',
    });
  });

  it('refuses review before activation has set the credentials', async () => {
    const created = await newAccount(db);
    const res = await saveSetupStep(
      db,
      { accountId: created.accountId, userId: created.userId },
      { userId: created.userId, ip: null },
      'review',
      { confirm: true },
    );
    expect(res).toEqual({
      ok: false,
      errors: { _form: 'incomplete:credentials,company,my_info,regional,emergency' },
    });
  });
});

describe('quick setup wizard through a connection pool', () => {
  // The app reaches the embedded PGlite through its PostgreSQL wire server and a pg pool
  // (scripts/lib/database.ts); a query issued outside a step's transaction would queue
  // behind that transaction there, so every stage must run entirely inside it.
  it('saves every stage and its audit entry on PGlite served over the wire', async () => {
    const { pglite } = await freshPglite();
    const served = await servePglite(pglite);
    const pooled = openPostgres(served.url, 2);
    try {
      const created = await newAccount(pooled);
      const act = await activateAccount(pooled, created.activationToken, GOOD_CREDENTIALS, ctx());
      expect(act.ok).toBe(true);
      const who = { accountId: created.accountId, userId: created.userId };
      const actor = { userId: created.userId, ip: ACTOR_IP };
      const withTimeout = <T>(p: Promise<T>) =>
        Promise.race([
          p,
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error('saveSetupStep did not finish within 5 s')), 5000),
          ),
        ]);

      expect(await withTimeout(saveSetupStep(pooled, who, actor, 'regional', regional))).toEqual({
        ok: true,
        next: 'company',
      });
      expect(await withTimeout(saveSetupStep(pooled, who, actor, 'company', company('101')))).toEqual({
        ok: true,
        next: 'my_info',
      });
      expect(await withTimeout(saveSetupStep(pooled, who, actor, 'my_info', myInfo()))).toEqual({
        ok: true,
        next: 'emergency',
      });
      expect(await withTimeout(saveSetupStep(pooled, who, actor, 'emergency', emergency(true)))).toEqual({
        ok: true,
        next: 'review',
      });
      expect(await withTimeout(saveSetupStep(pooled, who, actor, 'review', { confirm: true }))).toEqual({
        ok: true,
        next: 'done',
      });
      const actions = (await auditEvents(pooled, created.accountId)).map((e) => e.action);
      expect(actions).toEqual([
        'account.created',
        'user.activated',
        'company.regional_settings_updated',
        'user.updated',
        'emergency_address.registered',
        'company.setup_completed',
      ]);
    } finally {
      await pooled.destroy();
      await served.stop();
      await pglite.close();
    }
  });
});
