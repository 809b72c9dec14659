import type { Kysely } from 'kysely';

/** The account's "Enable On-demand Call Recording" switch (seed 000 "Enregistrement des appels à la demande"). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('on_demand_recording', 'boolean', (c) => c.notNull().defaultTo(true)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('accounts').dropColumn('on_demand_recording').execute();
}
