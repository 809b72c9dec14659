import type { Kysely } from 'kysely';

/**
 * Where a user's notifications are e-mailed (seed 000 "Notifications", "Adresse e-mail de
 * notification"): null means the user's own e-mail, the usual case.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('notification_email', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('notification_email').execute();
}
