import { sql, type Kysely } from 'kysely';

/**
 * The core model every later capability extends: accounts (tenants), sites,
 * extensions, users and credentials, numbers, devices, roles, sessions,
 * one-time tokens and the audit trail. Every tenant-owned row carries
 * account_id so that every query can be scoped to its account.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('accounts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('company_name', 'text', (c) => c.notNull())
    .addColumn('street', 'text')
    .addColumn('street2', 'text')
    .addColumn('city', 'text')
    .addColumn('state', 'text')
    .addColumn('postal_code', 'text')
    .addColumn('address_country', 'text')
    .addColumn('main_number', 'text')
    .addColumn('country', 'text', (c) => c.notNull().defaultTo('US'))
    .addColumn('time_zone', 'text', (c) => c.notNull().defaultTo('America/New_York'))
    .addColumn('language', 'text', (c) => c.notNull().defaultTo('en').check(sql`language in ('en', 'fr')`))
    .addColumn('time_format', 'text', (c) => c.notNull().defaultTo('12h').check(sql`time_format in ('12h', '24h')`))
    .addColumn('plan', 'text', (c) =>
      c.notNull().defaultTo('standard').check(sql`plan in ('essentials', 'standard', 'premium', 'ultimate')`),
    )
    .addColumn('session_timeout_minutes', 'integer', (c) => c.notNull().defaultTo(30).check(sql`session_timeout_minutes between 5 and 1440`))
    .addColumn('greeting_mode', 'text', (c) => c.notNull().defaultTo('default').check(sql`greeting_mode in ('default', 'custom')`))
    .addColumn('operator_extension_id', 'uuid')
    .addColumn('default_role_id', 'uuid')
    .addColumn('setup_completed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('sites')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('site_code', 'text', (c) => c.check(sql`site_code ~ '^[0-9]{1,4}$'`))
    .addColumn('is_main', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('sites_account_code_unique', ['account_id', 'site_code'])
    .execute();

  await db.schema
    .createTable('extensions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('sites.id'))
    .addColumn('number', 'text', (c) => c.notNull().check(sql`number ~ '^[0-9]{1,5}$'`))
    .addColumn('type', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`type in ('user', 'call_queue', 'ivr_menu', 'message_only', 'announcement_only', 'limited', 'paging', 'park_location', 'shared_lines')`,
        ),
    )
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('not_activated').check(sql`status in ('not_activated', 'activated', 'disabled', 'unassigned')`),
    )
    .addColumn('name', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('extensions_site_number_unique', ['site_id', 'number'])
    .execute();
  await db.schema.createIndex('extensions_account_idx').on('extensions').column('account_id').execute();

  await db.schema
    .createTable('roles')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    // Predefined roles are shared by every account (account_id null) and defined in code.
    .addColumn('account_id', 'uuid', (c) => c.references('accounts.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('base_role_id', 'uuid', (c) => c.references('roles.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('roles_predefined_or_custom', sql`(account_id is null) = (key is not null)`)
    .execute();
  await db.schema
    .createTable('role_permissions')
    .addColumn('role_id', 'uuid', (c) => c.notNull().references('roles.id').onDelete('cascade'))
    .addColumn('permission', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('role_permissions_pk', ['role_id', 'permission'])
    .execute();
  const predefined = [
    ['super_admin', 'Super Admin'],
    ['phone_system_admin', 'Phone System Admin'],
    ['billing_admin', 'Billing Admin'],
    ['user_admin', 'User Admin'],
    ['manager', 'Manager'],
    ['standard_international', 'Standard (International)'],
    ['standard', 'Standard'],
  ];
  for (const [key, name] of predefined) {
    await sql`insert into roles (key, name) values (${key}, ${name})`.execute(db);
  }

  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('extension_id', 'uuid', (c) => c.notNull().unique().references('extensions.id'))
    .addColumn('role_id', 'uuid', (c) => c.notNull().references('roles.id'))
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('last_name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('email_login', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('contact_phone', 'text')
    .addColumn('language', 'text', (c) => c.check(sql`language in ('en', 'fr')`))
    .addColumn('time_zone', 'text')
    .addColumn('time_format', 'text', (c) => c.check(sql`time_format in ('12h', '24h')`))
    .addColumn('setup_progress', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('users_account_idx').on('users').column('account_id').execute();
  // An e-mail used to sign in identifies one person across the whole service.
  await sql`create unique index users_login_email_unique on users (lower(email)) where email_login`.execute(db);

  await db.schema
    .createTable('user_credentials')
    .addColumn('user_id', 'uuid', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('password_hash', 'text')
    .addColumn('pin_hash', 'text')
    .addColumn('security_question', 'text')
    .addColumn('security_answer_hash', 'text')
    .addColumn('password_changed_at', 'timestamptz')
    .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', 'timestamptz')
    .execute();

  await db.schema
    .createTable('phone_numbers')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('e164', 'text', (c) => c.notNull().unique().check(sql`e164 ~ '^\\+[1-9][0-9]{6,14}$'`))
    .addColumn('type', 'text', (c) =>
      c.notNull().check(sql`type in ('main', 'additional_company', 'direct', 'toll_free', 'fax', 'forwarded')`),
    )
    .addColumn('extension_id', 'uuid', (c) => c.references('extensions.id').onDelete('set null'))
    .addColumn('site_id', 'uuid', (c) => c.references('sites.id'))
    .addColumn('nickname', 'text')
    .addColumn('fax_capable', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('phone_numbers_account_idx').on('phone_numbers').column('account_id').execute();

  await db.schema
    .createTable('devices')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('extension_id', 'uuid', (c) => c.references('extensions.id').onDelete('set null'))
    .addColumn('type', 'text', (c) =>
      c.notNull().check(sql`type in ('softphone', 'desk_phone', 'byod', 'common_area', 'paging')`),
    )
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('mac', 'text')
    .addColumn('sip_username', 'text', (c) => c.notNull().unique())
    // Digest HA1 values (RFC 2617 / RFC 8760), never the password itself.
    .addColumn('sip_ha1_md5', 'text')
    .addColumn('sip_ha1_sha256', 'text')
    .addColumn('emergency_address_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('devices_account_idx').on('devices').column('account_id').execute();

  await db.schema
    .createTable('emergency_addresses')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('street', 'text', (c) => c.notNull())
    .addColumn('street2', 'text')
    .addColumn('city', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('postal_code', 'text', (c) => c.notNull())
    .addColumn('terms_accepted_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('sessions')
    // The cookie carries a random token; only its SHA-256 is stored.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('user_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('activation', 'password_reset')`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('actor_user_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('actor_ip', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text')
    .addColumn('before', 'jsonb')
    .addColumn('after', 'jsonb')
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('audit_events_account_time_idx')
    .on('audit_events')
    .columns(['account_id', 'occurred_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of [
    'audit_events',
    'user_tokens',
    'sessions',
    'emergency_addresses',
    'devices',
    'phone_numbers',
    'user_credentials',
    'users',
    'role_permissions',
    'roles',
    'extensions',
    'sites',
    'accounts',
  ]) {
    await db.schema.dropTable(t).ifExists().cascade().execute();
  }
}
