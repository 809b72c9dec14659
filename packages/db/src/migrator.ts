import type { Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration';
import * as m0001 from './migrations/0001_core.ts';
import * as m0002 from './migrations/0002_calls.ts';
import * as m0003 from './migrations/0003_recording_settings.ts';
import * as m0004 from './migrations/0004_do_not_disturb.ts';
import * as m0005 from './migrations/0005_jobs_transcriptions.ts';
import * as m0006 from './migrations/0006_recording_exports.ts';
import * as m0007 from './migrations/0007_contacts.ts';
import * as m0008 from './migrations/0008_faxes.ts';
import * as m0009 from './migrations/0009_users_list.ts';
import * as m0010 from './migrations/0010_site_caller_id.ts';
import * as m0012 from './migrations/0012_user_bulk_edits.ts';
import * as m0013 from './migrations/0013_roles_groups.ts';
import * as m0014 from './migrations/0014_user_settings_templates.ts';
import * as m0015 from './migrations/0015_number_pool.ts';
import * as m0016 from './migrations/0016_api_tokens.ts';
import * as m0017 from './migrations/0017_fax_cover.ts';
import * as m0018 from './migrations/0018_call_sessions.ts';
import * as m0019 from './migrations/0019_notification_email.ts';
import * as m0020 from './migrations/0020_audit_actor_role.ts';
import * as m0021 from './migrations/0021_calls_media_node.ts';
import * as m0022 from './migrations/0022_answering_rules.ts';
import * as m0023 from './migrations/0023_ivr.ts';
import * as m0024 from './migrations/0024_sms.ts';
import * as m0025 from './migrations/0025_voicemail.ts';
import * as m0026 from './migrations/0026_sms_campaigns.ts';
import * as m0027 from './migrations/0027_conference.ts';
import * as m0028 from './migrations/0028_call_queues.ts';
import * as m0029 from './migrations/0029_trunk_forward_caller_id.ts';
import * as m0030 from './migrations/0030_park_pickup.ts';
import * as m0031 from './migrations/0031_paging_groups.ts';
import * as m0032 from './migrations/0032_call_monitoring.ts';
import * as m0034 from './migrations/0034_call_queue_managers.ts';
import * as m0037 from './migrations/0037_monitor_legs.ts';
import * as m0038 from './migrations/0038_voicemail_greetings.ts';
import * as m0039 from './migrations/0039_company_answering_rules.ts';
import * as m0040 from './migrations/0040_voicemail_retention.ts';
import * as m0042 from './migrations/0042_user_name_recordings.ts';
import * as m0043 from './migrations/0043_shared_lines.ts';
import * as m0046 from './migrations/0046_sms_clean_content.ts';
import * as m0049 from './migrations/0049_meetings.ts';

/**
 * Migrations are listed here rather than read from a folder so that they
 * survive bundling and run the same on PostgreSQL and on PGlite.
 */
const migrations: Record<string, Migration> = {
  '0001_core': m0001,
  '0002_calls': m0002,
  '0003_recording_settings': m0003,
  '0004_do_not_disturb': m0004,
  '0005_jobs_transcriptions': m0005,
  '0006_recording_exports': m0006,
  '0007_contacts': m0007,
  '0008_faxes': m0008,
  '0009_users_list': m0009,
  '0010_site_caller_id': m0010,
  '0012_user_bulk_edits': m0012,
  '0013_roles_groups': m0013,
  '0014_user_settings_templates': m0014,
  '0015_number_pool': m0015,
  '0016_api_tokens': m0016,
  '0017_fax_cover': m0017,
  '0018_call_sessions': m0018,
  '0019_notification_email': m0019,
  '0020_audit_actor_role': m0020,
  '0021_calls_media_node': m0021,
  '0022_answering_rules': m0022,
  '0023_ivr': m0023,
  '0024_sms': m0024,
  '0025_voicemail': m0025,
  '0026_sms_campaigns': m0026,
  '0027_conference': m0027,
  '0028_call_queues': m0028,
  '0029_trunk_forward_caller_id': m0029,
  '0030_park_pickup': m0030,
  '0031_paging_groups': m0031,
  '0032_call_monitoring': m0032,
  '0034_call_queue_managers': m0034,
  '0037_monitor_legs': m0037,
  '0038_voicemail_greetings': m0038,
  '0039_company_answering_rules': m0039,
  '0040_voicemail_retention': m0040,
  '0042_user_name_recordings': m0042,
  '0043_shared_lines': m0043,
  '0046_sms_clean_content': m0046,
  '0049_meetings': m0049,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

// Migrations work on any schema, as Kysely's own Migrator types it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export const migrationNames = Object.keys(migrations);
