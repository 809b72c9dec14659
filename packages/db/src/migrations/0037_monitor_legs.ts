import { sql, type Kysely } from 'kysely';

/**
 * Call monitoring in the call log (issue 15 point 6, MON-01): a supervisor who
 * listens to, whispers to or barges into a call is a leg of that call, so the
 * log says who heard it, from when to when. The leg's role is 'monitor'.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE call_legs DROP CONSTRAINT IF EXISTS call_legs_role_check`.execute(db);
  await sql`ALTER TABLE call_legs ADD CONSTRAINT call_legs_role_check CHECK (role in ('caller', 'callee', 'transfer_target', 'monitor'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM call_legs WHERE role = 'monitor'`.execute(db);
  await sql`ALTER TABLE call_legs DROP CONSTRAINT IF EXISTS call_legs_role_check`.execute(db);
  await sql`ALTER TABLE call_legs ADD CONSTRAINT call_legs_role_check CHECK (role in ('caller', 'callee', 'transfer_target'))`.execute(db);
}
