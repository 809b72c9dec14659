import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Migrator, NO_MIGRATIONS, type Migration } from 'kysely/migration';
import { migrateToLatest, migrationNames, openPglite, openPostgres, sql, type Db } from '@carillon/db';

/**
 * The same migrations serve PGlite (embedded default) and PostgreSQL: both are
 * migrated here, inspected through information_schema, and compared.
 */

const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const postgresUrl: string | null =
  process.env.TEST_POSTGRES_URL ?? ((await answers(DEFAULT_PG_URL)) ? DEFAULT_PG_URL : null);

const EXPECTED_TABLES = [
  'accounts',
  'answering_rules',
  'api_tokens',
  'audit_events',
  'call_legs',
  'call_queue_managers',
  'call_queue_members',
  'call_queues',
  'calls',
  'company_answering_rules',
  'conference_access_codes',
  'conference_dial_ins',
  'conference_settings',
  'contacts',
  'devices',
  'emergency_addresses',
  'extensions',
  'fax_cover_settings',
  'fax_email_senders',
  'fax_messages',
  'fax_recipients',
  'faxes',
  'ivr_menus',
  'ivr_prompts',
  'ivr_settings',
  'meetings',
  'monitoring_group_members',
  'monitoring_groups',
  'number_pool',
  'number_reservations',
  'paging_group_pagers',
  'paging_group_receivers',
  'park_location_members',
  'phone_numbers',
  'pickup_group_members',
  'pickup_groups',
  'recording_exports',
  'recordings',
  'role_permissions',
  'role_sites',
  'roles',
  'sessions',
  'shared_line_devices',
  'shared_lines',
  'sip_trunks',
  'sites',
  'sms_campaign_recipients',
  'sms_campaign_settings',
  'sms_campaigns',
  'sms_carriers',
  'sms_conversations',
  'sms_daily_volume',
  'sms_messages',
  'sms_number_registrations',
  'sms_opt_outs',
  'sms_submissions',
  'template_application_users',
  'template_applications',
  'transcriptions',
  'user_bulk_edits',
  'user_call_settings',
  'user_credentials',
  'user_group_members',
  'user_groups',
  'user_name_recordings',
  'user_templates',
  'user_tokens',
  'users',
  'voicemail_greetings',
  'voicemail_messages',
  'voicemail_settings',
];
const KYSELY_TABLES = ['kysely_migration', 'kysely_migration_lock'];
const PREDEFINED_ROLES = [
  'billing_admin',
  'manager',
  'phone_system_admin',
  'standard',
  'standard_international',
  'super_admin',
  'user_admin',
];

/** Every migration module in src/migrations, keyed by file name, for a Migrator that can go down. */
async function migrationModules(): Promise<Record<string, Migration>> {
  const dir = path.resolve(import.meta.dirname, '../src/migrations');
  const out: Record<string, Migration> = {};
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort()) {
    out[file.replace(/\.ts$/, '')] = (await import(pathToFileURL(path.join(dir, file)).href)) as Migration;
  }
  return out;
}

function migrator(db: Db, migrations: Record<string, Migration>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

async function publicTables(db: Db): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE'
    order by table_name`.execute(db);
  return rows.map((r) => r.table_name);
}

/** Columns with their type, nullability and default, as one comparable list. */
async function publicColumns(db: Db): Promise<string[]> {
  const { rows } = await sql<{
    table_name: string;
    column_name: string;
    data_type: string;
    is_nullable: string;
    column_default: string | null;
  }>`
    select table_name, column_name, data_type, is_nullable, column_default
    from information_schema.columns
    where table_schema = 'public' and table_name not like 'kysely_%'
    order by table_name, column_name`.execute(db);
  return rows.map(
    (r) => `${r.table_name}.${r.column_name}:${r.data_type}:${r.is_nullable}:${r.column_default ?? ''}`,
  );
}

async function constraints(db: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string; table: string; type: string }>`
    select con.conname as name, rel.relname as table, con.contype as type
    from pg_constraint con
    join pg_class rel on rel.oid = con.conrelid
    join pg_namespace ns on ns.oid = rel.relnamespace
    -- Newer engines (PGlite) also list NOT NULL as constraints ('n'); nullability is compared through columns.
    where ns.nspname = 'public' and rel.relname not like 'kysely_%' and con.contype <> 'n'
    order by rel.relname, con.conname`.execute(db);
  return rows.map((r) => `${r.table}.${r.name}:${r.type}`);
}

async function indexes(db: Db): Promise<Map<string, string>> {
  const { rows } = await sql<{ indexname: string; indexdef: string }>`
    select indexname, indexdef from pg_indexes where schemaname = 'public' and tablename not like 'kysely_%'`.execute(
    db,
  );
  return new Map(rows.map((r) => [r.indexname, r.indexdef]));
}

async function roleKeys(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('roles').select(['key', 'account_id']).orderBy('key').execute();
  expect(rows.every((r) => r.account_id === null)).toBe(true);
  return rows.map((r) => r.key ?? '');
}

/** The checks both engines must pass once migrated. */
async function expectMigratedSchema(db: Db): Promise<void> {
  expect(await publicTables(db)).toEqual([...EXPECTED_TABLES, ...KYSELY_TABLES].sort());
  expect(await roleKeys(db)).toEqual(PREDEFINED_ROLES);

  const cons = await constraints(db);
  for (const c of [
    'sites.sites_account_code_unique:u',
    'extensions.extensions_site_number_unique:u',
    'roles.roles_predefined_or_custom:c',
    'role_permissions.role_permissions_pk:p',
    'user_credentials.user_credentials_pkey:p',
    'users.users_extension_id_key:u',
    'phone_numbers.phone_numbers_e164_key:u',
    'devices.devices_sip_username_key:u',
  ]) {
    expect(cons).toContain(c);
  }
  // Every tenant-owned table points at accounts.
  const { rows: fks } = await sql<{ table_name: string }>`
    select tc.table_name from information_schema.table_constraints tc
    join information_schema.constraint_column_usage ccu
      on ccu.constraint_name = tc.constraint_name and ccu.constraint_schema = tc.constraint_schema
    where tc.constraint_type = 'FOREIGN KEY' and tc.table_schema = 'public'
      and ccu.table_name = 'accounts' and ccu.column_name = 'id'
    order by tc.table_name`.execute(db);
  expect([...new Set(fks.map((r) => r.table_name))]).toEqual([
    'answering_rules',
    'api_tokens',
    'audit_events',
    'call_legs',
    'call_queue_managers',
    'call_queue_members',
    'call_queues',
    'calls',
    'company_answering_rules',
    'conference_access_codes',
    'conference_dial_ins',
    'conference_settings',
    'contacts',
    'devices',
    'emergency_addresses',
    'extensions',
    'fax_cover_settings',
    'fax_email_senders',
    'fax_messages',
    'fax_recipients',
    'faxes',
    'ivr_menus',
    'ivr_prompts',
    'ivr_settings',
    'meetings',
    'monitoring_group_members',
    'monitoring_groups',
    'number_reservations',
    'paging_group_pagers',
    'paging_group_receivers',
    'park_location_members',
    'phone_numbers',
    'pickup_group_members',
    'pickup_groups',
    'recording_exports',
    'recordings',
    'roles',
    'sessions',
    'shared_line_devices',
    'shared_lines',
    'sip_trunks',
    'sites',
    'sms_campaign_recipients',
    'sms_campaign_settings',
    'sms_campaigns',
    'sms_carriers',
    'sms_conversations',
    'sms_daily_volume',
    'sms_messages',
    'sms_number_registrations',
    'sms_opt_outs',
    'sms_submissions',
    'template_application_users',
    'template_applications',
    'transcriptions',
    'user_bulk_edits',
    'user_call_settings',
    'user_groups',
    'user_name_recordings',
    'user_templates',
    'user_tokens',
    'users',
    'voicemail_greetings',
    'voicemail_messages',
    'voicemail_settings',
  ]);

  const idx = await indexes(db);
  expect(idx.get('users_login_email_unique')).toMatch(/UNIQUE INDEX .* \(lower\(email\)\) WHERE email_login/);
  for (const name of [
    'extensions_account_idx',
    'users_account_idx',
    'phone_numbers_account_idx',
    'devices_account_idx',
    'sessions_user_idx',
    'audit_events_account_time_idx',
  ]) {
    expect(idx.has(name), name).toBe(true);
  }

  // The constraints are enforced, not only declared.
  const account = await db
    .insertInto('accounts')
    .values({ company_name: 'Probe' })
    .returning(['id', 'session_timeout_minutes', 'language'])
    .executeTakeFirstOrThrow();
  expect(account).toMatchObject({ session_timeout_minutes: 30, language: 'en' });
  await expect(
    db
      .insertInto('accounts')
      .values({ company_name: 'Bad', language: 'de' as never })
      .execute(),
  ).rejects.toThrow(/check constraint/);
  await expect(
    db
      .insertInto('phone_numbers')
      .values({ account_id: account.id, e164: '4155550100', type: 'main' })
      .execute(),
  ).rejects.toThrow(/check constraint/);
  await expect(db.insertInto('roles').values({ name: 'Custom without account' }).execute()).rejects.toThrow(
    /roles_predefined_or_custom/,
  );
  await db.deleteFrom('accounts').where('id', '=', account.id).execute();
}

async function expectOnlyMigratorTablesLeft(db: Db): Promise<void> {
  expect(await publicTables(db)).toEqual(KYSELY_TABLES);
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from kysely_migration`.execute(db);
  expect(rows[0]?.n).toBe(0);
}

describe('migrations on PGlite (in-memory)', () => {
  let db: Db;
  beforeAll(async () => {
    db = (await openPglite(null)).db;
  });
  afterAll(async () => {
    await db?.destroy();
  });

  it('lists every migration file', async () => {
    expect(Object.keys(await migrationModules())).toEqual(migrationNames);
  });

  it('applies every migration, creating the tables, constraints and the 7 predefined roles', async () => {
    expect(await migrateToLatest(db)).toEqual(migrationNames);
    await expectMigratedSchema(db);
  });

  it('is a no-op when run again', async () => {
    const before = await publicColumns(db);
    expect(await migrateToLatest(db)).toEqual([]);
    expect(await publicColumns(db)).toEqual(before);
    expect(await roleKeys(db)).toEqual(PREDEFINED_ROLES);
  });

  it('goes down to nothing and back up again', async () => {
    const m = migrator(db, await migrationModules());
    const down = await m.migrateTo(NO_MIGRATIONS);
    expect(down.error).toBeUndefined();
    expect(down.results?.map((r) => [r.migrationName, r.direction, r.status])).toEqual(
      [...migrationNames].reverse().map((name) => [name, 'Down', 'Success']),
    );
    await expectOnlyMigratorTablesLeft(db);
    expect(await migrateToLatest(db)).toEqual(migrationNames);
    await expectMigratedSchema(db);
  });
});

describe.runIf(postgresUrl !== null)('migrations on PostgreSQL', () => {
  const dbName = `carillon_mig_${randomBytes(6).toString('hex')}`;
  let admin: pg.Client;
  let db: Db | undefined;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: postgresUrl! });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    const url = new URL(postgresUrl!);
    url.pathname = `/${dbName}`;
    db = openPostgres(url.toString(), 2);
  });

  afterAll(async () => {
    await db?.destroy();
    if (admin) {
      // pool.end() can resolve while its sockets are still closing; a forced drop would then
      // terminate them and surface as an unhandled FATAL 57P01. Wait for them to go first.
      for (let i = 0; i < 50; i++) {
        const { rows } = await admin.query(
          'select count(*)::int as n from pg_stat_activity where datname = $1',
          [dbName],
        );
        if (rows[0].n === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await admin.query(`drop database if exists ${dbName} with (force)`);
      const { rows } = await admin.query('select 1 from pg_database where datname = $1', [dbName]);
      await admin.end();
      expect(rows).toEqual([]);
    }
  });

  it('migrates a throwaway database with the expected tables, constraints and roles', async () => {
    const { rows } = await sql<{ db: string }>`select current_database() as db`.execute(db!);
    expect(rows[0]?.db).toBe(dbName);
    expect(await migrateToLatest(db!)).toEqual(migrationNames);
    await expectMigratedSchema(db!);
  });

  it('is a no-op when run again', async () => {
    const before = await publicColumns(db!);
    expect(await migrateToLatest(db!)).toEqual([]);
    expect(await publicColumns(db!)).toEqual(before);
    expect(await roleKeys(db!)).toEqual(PREDEFINED_ROLES);
  });

  it('has the same tables, columns, constraints and indexes as PGlite', async () => {
    const { db: lite } = await openPglite(null);
    try {
      await migrateToLatest(lite);
      expect(await publicTables(db!)).toEqual(await publicTables(lite));
      expect(await publicColumns(db!)).toEqual(await publicColumns(lite));
      expect(await constraints(db!)).toEqual(await constraints(lite));
      expect([...(await indexes(db!)).keys()].sort()).toEqual([...(await indexes(lite)).keys()].sort());
    } finally {
      await lite.destroy();
    }
  });

  it('drops everything with migrateDown', async () => {
    const down = await migrator(db!, await migrationModules()).migrateTo(NO_MIGRATIONS);
    expect(down.error).toBeUndefined();
    expect(down.results?.map((r) => [r.migrationName, r.direction, r.status])).toEqual(
      [...migrationNames].reverse().map((name) => [name, 'Down', 'Success']),
    );
    await expectOnlyMigratorTablesLeft(db!);
  });
});
