import { sql, type Kysely } from 'kysely';

/**
 * The carrier number pool of the embedded default (seed 003: numbers are reserved
 * for 10 minutes, then go back to the pool), the reservations that hold them, and
 * one MAC address per physical phone.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('number_pool')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('e164', 'text', (c) => c.notNull().unique().check(sql`e164 ~ '^\\+[1-9][0-9]{6,14}$'`))
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('area_code', 'text', (c) => c.notNull())
    .addColumn('locality', 'text')
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('local', 'toll_free')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('number_pool_area_idx').on('number_pool').columns(['country', 'area_code']).execute();

  await db.schema
    .createTable('number_reservations')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    // One reservation per pool number at a time: of two accounts reserving it at once, only one wins.
    .addColumn('pool_number_id', 'uuid', (c) => c.notNull().unique().references('number_pool.id').onDelete('cascade'))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('number_reservations_account_idx').on('number_reservations').column('account_id').execute();

  // Fictional ranges only (NANP 555-01xx, ARCEP 01 99 00 xx xx): no real subscriber's number.
  const areas: { country: string; area: string; locality: string | null; kind: 'local' | 'toll_free'; prefix: string }[] = [
    { country: 'US', area: '415', locality: 'San Francisco, CA', kind: 'local', prefix: '+1415555' },
    { country: 'US', area: '212', locality: 'New York, NY', kind: 'local', prefix: '+1212555' },
    { country: 'US', area: '650', locality: 'Palo Alto, CA', kind: 'local', prefix: '+1650555' },
    { country: 'US', area: '800', locality: null, kind: 'toll_free', prefix: '+1800555' },
    { country: 'CA', area: '604', locality: 'Vancouver, BC', kind: 'local', prefix: '+1604555' },
    { country: 'FR', area: '1', locality: 'Paris', kind: 'local', prefix: '+3319900' },
  ];
  for (const a of areas) {
    const values = Array.from({ length: 40 }, (_, i) => {
      const tail = a.country === 'FR' ? String(i).padStart(4, '0') : `01${String(i).padStart(2, '0')}`;
      return sql`(${a.prefix + tail}, ${a.country}, ${a.area}, ${a.locality}, ${a.kind})`;
    });
    await sql`insert into number_pool (e164, country, area_code, locality, kind) values ${sql.join(values)}`.execute(db);
  }

  // A desk phone is one physical device: its MAC address belongs to one device only.
  await db.schema.createIndex('devices_mac_unique').on('devices').column('mac').unique().where(sql.ref('mac'), 'is not', null).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('devices_mac_unique').ifExists().execute();
  await db.schema.dropTable('number_reservations').ifExists().execute();
  await db.schema.dropTable('number_pool').ifExists().execute();
}
