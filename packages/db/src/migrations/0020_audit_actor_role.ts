import { sql, type Kysely } from 'kysely';

/**
 * The role the actor held when the change was made, written with the audit
 * event: the trail showed the actor's role of today, so a change made by a
 * User Admin later promoted read as a Super Admin's. Events written before
 * this column get the role their actor holds now, the best that is known.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_events').addColumn('actor_role', 'text').execute();
  await sql`update audit_events ae set actor_role = r.name from users u join roles r on r.id = u.role_id where u.id = ae.actor_user_id and u.account_id = ae.account_id`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_events').dropColumn('actor_role').execute();
}
