import { sql, type Kysely } from 'kysely';

/**
 * SMS (issue 18, inventory 3 §13): the SMPP carriers of an account
 * (`sms_carriers`, the password sealed, never in clear), conversations per
 * business number (`sms_conversations`), messages (`sms_messages`, one row
 * per text sent to or received from one number, with its delivery status),
 * what the carrier answered for each segment (`sms_submissions`: its message
 * id, matched by delivery receipts) and the numbers that opted out
 * (`sms_opt_outs`). A phone number may name the carrier its texts go through.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sms_carriers')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    // P2P and A2P go over separate binds (inventory 3 §13.1).
    .addColumn('traffic_class', 'text', (c) => c.notNull().defaultTo('p2p').check(sql`traffic_class in ('p2p', 'a2p')`))
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('port', 'integer', (c) => c.notNull().check(sql`port between 1 and 65535`))
    .addColumn('system_id', 'text', (c) => c.notNull())
    .addColumn('password_sealed', 'text', (c) => c.notNull())
    .addColumn('system_type', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('bind_mode', 'text', (c) => c.notNull().defaultTo('transceiver').check(sql`bind_mode in ('transceiver', 'transmitter_receiver')`))
    .addColumn('window_size', 'integer', (c) => c.notNull().defaultTo(10).check(sql`window_size between 1 and 100`))
    .addColumn('segments_per_second', 'integer', (c) => c.notNull().defaultTo(50).check(sql`segments_per_second between 1 and 10000`))
    .addColumn('sender_segments_per_second', 'integer', (c) => c.notNull().defaultTo(10).check(sql`sender_segments_per_second between 1 and 10000`))
    .addColumn('is_default', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('sms_carriers_account_idx').on('sms_carriers').column('account_id').execute();
  await db.schema.alterTable('phone_numbers').addColumn('sms_carrier_id', 'uuid', (c) => c.references('sms_carriers.id').onDelete('set null')).execute();

  await db.schema
    .createTable('sms_conversations')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    // The account's number the conversation is held on.
    .addColumn('business_number', 'text', (c) => c.notNull())
    // The other parties, sorted: one for a direct conversation, up to 10 for a group text.
    .addColumn('participants', sql`text[]`, (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('direct').check(sql`kind in ('direct', 'group')`))
    .addColumn('last_message_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('sms_conversations_parties_key', ['account_id', 'business_number', 'participants'])
    .addCheckConstraint('sms_conversations_participants_check', sql`cardinality(participants) between 1 and 10`)
    .execute();

  await db.schema
    .createTable('sms_messages')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('conversation_id', 'uuid', (c) => c.notNull().references('sms_conversations.id').onDelete('cascade'))
    .addColumn('direction', 'text', (c) => c.notNull().check(sql`direction in ('outbound', 'inbound')`))
    .addColumn('traffic_class', 'text', (c) => c.notNull().defaultTo('p2p').check(sql`traffic_class in ('p2p', 'a2p')`))
    .addColumn('from_number', 'text', (c) => c.notNull())
    .addColumn('to_number', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    // 'keyword_reply': the automatic answer to STOP/START/HELP, which reaches a number that opted out.
    .addColumn('purpose', 'text', (c) => c.notNull().defaultTo('message').check(sql`purpose in ('message', 'keyword_reply')`))
    .addColumn('encoding', 'text', (c) => c.notNull().check(sql`encoding in ('gsm7', 'ucs2')`))
    .addColumn('segments', 'integer', (c) => c.notNull().check(sql`segments between 1 and 255`))
    // queued → sending → sent → delivered | failed; 'unknown' when a submit was written but no answer came
    // (resending could deliver it twice); 'received' for inbound texts.
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('queued').check(sql`status in ('queued', 'sending', 'sent', 'delivered', 'failed', 'unknown', 'received')`),
    )
    .addColumn('reason', 'text')
    .addColumn('carrier_error_code', 'integer')
    .addColumn('carrier_id', 'uuid', (c) => c.references('sms_carriers.id').onDelete('set null'))
    // Who asked for it (outbound) or must see it (inbound); null for API and campaign traffic.
    .addColumn('user_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    // The sender's key (API caller, composer, campaign row): the same key is the same message, never a second one.
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('read', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .addColumn('completed_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('sms_messages_idempotency_key', ['account_id', 'idempotency_key'])
    .execute();
  await db.schema.createIndex('sms_messages_conversation_idx').on('sms_messages').columns(['account_id', 'conversation_id', 'created_at']).execute();
  await db.schema.createIndex('sms_messages_status_idx').on('sms_messages').columns(['account_id', 'status']).execute();

  await db.schema
    .createTable('sms_submissions')
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('message_id', 'uuid', (c) => c.notNull().references('sms_messages.id').onDelete('cascade'))
    .addColumn('carrier_id', 'uuid', (c) => c.notNull().references('sms_carriers.id').onDelete('cascade'))
    .addColumn('segment', 'integer', (c) => c.notNull())
    // The id from submit_sm_resp, which the delivery receipt quotes (SMPP 3.4 appendix B).
    .addColumn('carrier_message_id', 'text', (c) => c.notNull())
    .addColumn('receipt_state', 'text')
    .addColumn('receipt_error', 'text')
    .addColumn('receipted_at', 'timestamptz')
    .addPrimaryKeyConstraint('sms_submissions_pk', ['carrier_id', 'carrier_message_id'])
    .addUniqueConstraint('sms_submissions_segment_key', ['message_id', 'segment'])
    .execute();

  await db.schema
    .createTable('sms_opt_outs')
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('business_number', 'text', (c) => c.notNull())
    .addColumn('phone_number', 'text', (c) => c.notNull())
    .addColumn('keyword', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('sms_opt_outs_pk', ['account_id', 'business_number', 'phone_number'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sms_opt_outs').ifExists().execute();
  await db.schema.dropTable('sms_submissions').ifExists().execute();
  await db.schema.dropTable('sms_messages').ifExists().execute();
  await db.schema.dropTable('sms_conversations').ifExists().execute();
  await db.schema.alterTable('phone_numbers').dropColumn('sms_carrier_id').execute();
  await db.schema.dropTable('sms_carriers').ifExists().execute();
}
