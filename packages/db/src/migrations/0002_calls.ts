import { sql, type Kysely } from 'kysely';

/**
 * What the call engine needs: outbound calling permission per user (seed 002
 * "Outbound calling permission"), caller ID per device, one SIP trunk per
 * account, and the call records (calls, their legs, recordings).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('outbound_calling', 'text', (c) => c.check(sql`outbound_calling in ('domestic', 'international', 'emergency_only')`))
    .execute();
  await db.schema.alterTable('users').addColumn('block_caller_id', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
  await db.schema
    .alterTable('devices')
    .addColumn('caller_id_number_id', 'uuid', (c) => c.references('phone_numbers.id').onDelete('set null'))
    .execute();

  await db.schema
    .createTable('sip_trunks')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().unique().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('port', 'integer', (c) => c.notNull().defaultTo(5060).check(sql`port between 1 and 65535`))
    .addColumn('transport', 'text', (c) => c.notNull().defaultTo('udp').check(sql`transport in ('udp', 'tcp', 'tls')`))
    .addColumn('username', 'text')
    // Sealed with the server's secret key: the carrier's digest challenge needs the password itself.
    .addColumn('password_sealed', 'text')
    .addColumn('number_format', 'text', (c) =>
      c.notNull().defaultTo('e164').check(sql`number_format in ('e164', 'e164_no_plus', 'national')`),
    )
    // Addresses the carrier sends inbound calls from; other sources are not trusted as this trunk.
    .addColumn('inbound_addresses', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('calls')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('sip_call_id', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull().check(sql`direction in ('internal', 'inbound', 'outbound')`))
    .addColumn('from_number', 'text', (c) => c.notNull())
    .addColumn('from_name', 'text')
    .addColumn('to_number', 'text', (c) => c.notNull())
    .addColumn('caller_extension_id', 'uuid', (c) => c.references('extensions.id').onDelete('set null'))
    .addColumn('callee_extension_id', 'uuid', (c) => c.references('extensions.id').onDelete('set null'))
    .addColumn('emergency', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('answered_at', 'timestamptz')
    .addColumn('ended_at', 'timestamptz')
    .addColumn('result', 'text', (c) =>
      c.check(sql`result in ('answered', 'missed', 'busy', 'no_answer', 'rejected', 'cancelled', 'unavailable', 'failed', 'not_found', 'forbidden')`),
    )
    .addColumn('duration_seconds', 'integer')
    .addColumn('hangup_by', 'text')
    .execute();
  await db.schema.createIndex('calls_account_started_idx').on('calls').columns(['account_id', 'started_at']).execute();

  await db.schema
    .createTable('call_legs')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('call_id', 'uuid', (c) => c.notNull().references('calls.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('caller', 'callee', 'transfer_target')`))
    .addColumn('endpoint', 'text', (c) => c.notNull().check(sql`endpoint in ('sip', 'webrtc', 'trunk')`))
    .addColumn('device_id', 'uuid', (c) => c.references('devices.id').onDelete('set null'))
    .addColumn('sip_call_id', 'text', (c) => c.notNull())
    .addColumn('remote_uri', 'text')
    .addColumn('codec', 'text')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('answered_at', 'timestamptz')
    .addColumn('ended_at', 'timestamptz')
    .addColumn('result', 'text')
    .addColumn('rtp_stats', 'jsonb')
    .execute();
  await db.schema.createIndex('call_legs_call_idx').on('call_legs').column('call_id').execute();

  await db.schema
    .createTable('recordings')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('call_id', 'uuid', (c) => c.notNull().references('calls.id').onDelete('cascade'))
    .addColumn('started_by_extension_id', 'uuid', (c) => c.references('extensions.id').onDelete('set null'))
    .addColumn('storage_path', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull().defaultTo('wav'))
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('duration_seconds', 'integer')
    .execute();
  await db.schema.createIndex('recordings_call_idx').on('recordings').column('call_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['recordings', 'call_legs', 'calls', 'sip_trunks']) await db.schema.dropTable(t).ifExists().execute();
  await db.schema.alterTable('devices').dropColumn('caller_id_number_id').execute();
  await db.schema.alterTable('users').dropColumn('block_caller_id').execute();
  await db.schema.alterTable('users').dropColumn('outbound_calling').execute();
}
