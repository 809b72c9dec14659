import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { DndStatus, FaxCoverChoice, FaxCoverInfo, FaxCoverTemplate, IvrMenu, IvrSettings, QueueSettings, SharedLineSettings } from '@carillon/domain';

/** Row types of the tables created by the migrations, as Kysely sees them. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string | T | undefined, string | T>;

export type Language = 'en' | 'fr';
export type TimeFormat = '12h' | '24h';
export type Plan = 'essentials' | 'standard' | 'premium' | 'ultimate';
export type ExtensionType =
  | 'user'
  | 'call_queue'
  | 'ivr_menu'
  | 'message_only'
  | 'announcement_only'
  | 'limited'
  | 'paging'
  | 'park_location'
  | 'shared_lines';
export type ExtensionStatus = 'not_activated' | 'activated' | 'disabled' | 'unassigned';
export type PhoneNumberType = 'main' | 'additional_company' | 'direct' | 'toll_free' | 'fax' | 'forwarded';
export type DeviceType = 'softphone' | 'desk_phone' | 'byod' | 'common_area' | 'paging';
export type TokenPurpose = 'activation' | 'password_reset';
export type OutboundCalling = 'domestic' | 'international' | 'emergency_only';
export type CallDirection = 'internal' | 'inbound' | 'outbound';
export type CallResult = 'answered' | 'missed' | 'busy' | 'no_answer' | 'rejected' | 'cancelled' | 'unavailable' | 'failed' | 'not_found' | 'forbidden' | 'transferred';
export type TrunkNumberFormat = 'e164' | 'e164_no_plus' | 'national';

export interface AccountsTable {
  id: Generated<string>;
  company_name: string;
  /** At most 15 characters (F000 12.9); null shows the company name. */
  caller_id_name: string | null;
  street: string | null;
  street2: string | null;
  city: string | null;
  state: string | null;
  postal_code: string | null;
  address_country: string | null;
  main_number: string | null;
  country: Generated<string>;
  time_zone: Generated<string>;
  language: Generated<Language>;
  time_format: Generated<TimeFormat>;
  plan: Generated<Plan>;
  session_timeout_minutes: Generated<number>;
  greeting_mode: Generated<'default' | 'custom'>;
  operator_extension_id: string | null;
  default_role_id: string | null;
  setup_completed_at: NullableTimestamp;
  on_demand_recording: Generated<boolean>;
  /** Days a voicemail message is kept (1–3650, default 365): the sweep deletes older ones. */
  voicemail_retention_days: Generated<number>;
  created_at: Timestamp;
}

export interface SitesTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  site_code: string | null;
  is_main: Generated<boolean>;
  /** At most 15 characters; null inherits the company's caller ID name. */
  caller_id_name: string | null;
  created_at: Timestamp;
}

export interface ExtensionsTable {
  id: Generated<string>;
  account_id: string;
  site_id: string;
  number: string;
  type: ExtensionType;
  status: Generated<ExtensionStatus>;
  name: string | null;
  /** Seed 000 "Ne pas déranger"; dndTakesCall says which calls each state takes. */
  dnd_status: Generated<DndStatus>;
  created_at: Timestamp;
}

// The rule lives in domain (answering rules use it); re-exported for the code that reads extensions.
export { DND_STATUSES, dndTakesCall, type DndStatus } from '@carillon/domain';

export interface RolesTable {
  id: Generated<string>;
  account_id: string | null;
  key: string | null;
  name: string;
  description: string | null;
  base_role_id: string | null;
  /** Whose users the holders administer: the whole account, the users of role_sites, or the members of the groups they manage. */
  scope: Generated<RoleScope>;
  created_at: Timestamp;
}

export const ROLE_SCOPES = ['account', 'sites', 'groups'] as const;
export type RoleScope = (typeof ROLE_SCOPES)[number];

export interface RoleSitesTable {
  role_id: string;
  site_id: string;
}

export interface UserGroupsTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  description: string | null;
  /** A member of the group (seed 000 "Groupes d'utilisateurs"), checked by the app. */
  manager_user_id: string | null;
  created_at: Timestamp;
}

export interface UserGroupMembersTable {
  group_id: string;
  user_id: string;
}

export interface RolePermissionsTable {
  role_id: string;
  permission: string;
}

export interface SetupProgress {
  completed?: string[];
  [step: string]: unknown;
}

export interface UsersTable {
  id: Generated<string>;
  account_id: string;
  extension_id: string;
  role_id: string;
  first_name: string;
  last_name: Generated<string>;
  email: string;
  email_login: Generated<boolean>;
  contact_phone: string | null;
  language: Language | null;
  time_zone: string | null;
  time_format: TimeFormat | null;
  setup_progress: Json<SetupProgress>;
  outbound_calling: OutboundCalling | null;
  block_caller_id: Generated<boolean>;
  /** Seed 000 "Département": free text, shown and filtered in the Users list. */
  department: string | null;
  job_title: string | null;
  /** Seed 000 "Heures de l'utilisateur"; shape validated by core's userHoursSchema. */
  user_hours: Json<Record<string, unknown>>;
  /** Seed 000 "Notifications": the e-mail matrix; missing keys take core's defaults. */
  notification_settings: Json<Record<string, unknown>>;
  /** Where notifications are e-mailed; null: the user's own e-mail. */
  notification_email: string | null;
  /** Seed 000 "ID de l'appelant sortant", by feature: a phone_numbers id, 'blocked' or absent (not specified). */
  caller_id_settings: Json<Record<string, string>>;
  /** Seed 000 "Gestion et renvoi des appels": ring mode, desktop apps first, wait time. */
  call_handling: Json<Record<string, unknown>>;
  /** Custom call-handling rules (a call-handling template adds one, keyed by the template). */
  call_rules: Json<Record<string, unknown>[]>;
  /** Seed 000 "Numéro principal": one of the user's direct numbers. */
  primary_number_id: string | null;
  created_at: Timestamp;
}

export interface UserCredentialsTable {
  user_id: string;
  password_hash: string | null;
  pin_hash: string | null;
  security_question: string | null;
  security_answer_hash: string | null;
  password_changed_at: NullableTimestamp;
  failed_attempts: Generated<number>;
  locked_until: NullableTimestamp;
}

export interface PhoneNumbersTable {
  id: Generated<string>;
  account_id: string;
  e164: string;
  type: PhoneNumberType;
  extension_id: string | null;
  site_id: string | null;
  nickname: string | null;
  fax_capable: Generated<boolean>;
  /** The SMPP carrier its texts go through; null: the account's default carrier. */
  sms_carrier_id: Generated<string | null>;
  created_at: Timestamp;
}

export interface DevicesTable {
  id: Generated<string>;
  account_id: string;
  extension_id: string | null;
  type: DeviceType;
  name: string;
  mac: string | null;
  sip_username: string;
  sip_ha1_md5: string | null;
  sip_ha1_sha256: string | null;
  emergency_address_id: string | null;
  caller_id_number_id: string | null;
  created_at: Timestamp;
}

/** A number of the carrier pool (embedded default: seeded by migration 0015), free until purchased. */
export interface NumberPoolTable {
  id: Generated<string>;
  e164: string;
  country: string;
  area_code: string;
  locality: string | null;
  kind: 'local' | 'toll_free';
  created_at: Timestamp;
}

/** A pool number held for one account for 10 minutes (seed 003); unique per pool number. */
export interface NumberReservationsTable {
  id: Generated<string>;
  account_id: string;
  pool_number_id: string;
  expires_at: Date;
  created_at: Timestamp;
}

export interface EmergencyAddressesTable {
  id: Generated<string>;
  account_id: string;
  user_id: string | null;
  name: string;
  country: string;
  street: string;
  street2: string | null;
  city: string;
  state: string;
  postal_code: string;
  terms_accepted_at: Timestamp;
  created_at: Timestamp;
}

export interface SessionsTable {
  id: string;
  account_id: string;
  user_id: string;
  ip: string | null;
  user_agent: string | null;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  revoked_at: NullableTimestamp;
}

export interface UserTokensTable {
  id: string;
  account_id: string;
  user_id: string;
  purpose: TokenPurpose;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
  created_at: Timestamp;
}

export interface AuditEventsTable {
  id: Generated<string>;
  account_id: string;
  actor_user_id: string | null;
  actor_ip: string | null;
  /** Set when the change came through an API token (actor_user_id is then the token's creator). */
  actor_api_token_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The name of the role the actor held when the change was made (not the one they hold now). */
  actor_role: ColumnType<string | null, string | null | undefined, string | null>;
  action: string;
  target_type: string;
  target_id: string | null;
  before: Json<unknown> | null;
  after: Json<unknown> | null;
  occurred_at: Timestamp;
}

export interface SipTrunksTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  host: string;
  port: Generated<number>;
  transport: Generated<'udp' | 'tcp' | 'tls'>;
  username: string | null;
  password_sealed: string | null;
  number_format: Generated<TrunkNumberFormat>;
  inbound_addresses: Json<string[]>;
  enabled: Generated<boolean>;
  /** Forwarded calls keep the original caller's ID in From (true), or show the user's number (false). */
  forward_caller_id: Generated<boolean>;
  created_at: Timestamp;
}

export interface CallsTable {
  id: Generated<string>;
  account_id: string;
  sip_call_id: string;
  direction: CallDirection;
  from_number: string;
  from_name: string | null;
  to_number: string;
  caller_extension_id: string | null;
  callee_extension_id: string | null;
  emergency: Generated<boolean>;
  started_at: Timestamp;
  answered_at: NullableTimestamp;
  ended_at: NullableTimestamp;
  result: CallResult | null;
  duration_seconds: number | null;
  hangup_by: string | null;
  /** The conversation this segment is part of: a transfer starts a new segment in the same session. */
  session_id: Generated<string>;
  /** The media-server node carrying the call (MEDIA_SERVER_NODE_ID); null for calls recorded before it was kept. */
  media_node_id: Generated<string | null>;
}

export interface CallLegsTable {
  id: Generated<string>;
  call_id: string;
  account_id: string;
  role: 'caller' | 'callee' | 'transfer_target' | 'monitor';
  endpoint: 'sip' | 'webrtc' | 'trunk';
  device_id: string | null;
  sip_call_id: string;
  remote_uri: string | null;
  codec: string | null;
  started_at: Timestamp;
  answered_at: NullableTimestamp;
  ended_at: NullableTimestamp;
  result: string | null;
  rtp_stats: Json<Record<string, unknown>> | null;
}

export interface RecordingsTable {
  id: Generated<string>;
  account_id: string;
  call_id: string;
  started_by_extension_id: string | null;
  storage_path: string;
  format: Generated<string>;
  started_at: Timestamp;
  duration_seconds: number | null;
}

export type TranscriptionStatus = 'queued' | 'processing' | 'completed' | 'failed';

export interface TranscriptionWord {
  word: string;
  startMs: number;
  endMs: number;
  confidence: number;
}

export interface ContactsTable {
  id: Generated<string>;
  account_id: string;
  owner_user_id: string;
  first_name: Generated<string>;
  last_name: Generated<string>;
  company: Generated<string>;
  /** As the user typed it, digits with an optional leading +. */
  phone: string;
  email: string | null;
  created_at: Generated<Date>;
}

export interface TranscriptionsTable {
  id: Generated<string>;
  account_id: string;
  user_id: string | null;
  extension_id: string | null;
  language: string;
  status: Generated<TranscriptionStatus>;
  file_name: string;
  size_bytes: number;
  /** Relative to DATA_DIR. */
  audio_path: string;
  engine: string | null;
  text: string | null;
  words: Json<TranscriptionWord[] | null>;
  confidence: number | null;
  duration_ms: number | null;
  processing_ms: number | null;
  error: string | null;
  attempts: Generated<number>;
  notify_email: Generated<boolean>;
  created_at: Timestamp;
  started_at: NullableTimestamp;
  completed_at: NullableTimestamp;
}

export type RecordingExportStatus = 'queued' | 'running' | 'completed' | 'failed' | 'expired';

export interface RecordingExportsTable {
  id: Generated<string>;
  account_id: string;
  /** The user who asked; only they see the export. */
  requested_by: string;
  /** The call log filters as validated by the app, including the effective scope. */
  filters: Json<Record<string, unknown>>;
  status: Generated<RecordingExportStatus>;
  progress_done: Generated<number>;
  progress_total: number | null;
  progress_skipped: Generated<number>;
  error: string | null;
  file_path: string | null;
  /** bigint: a string, as pg returns int8. */
  size_bytes: string | null;
  expires_at: NullableTimestamp;
  created_at: Timestamp;
  completed_at: NullableTimestamp;
}

export const FAX_STATUSES = ['queued', 'rendering', 'sending', 'completed', 'failed'] as const;
export type FaxStatus = (typeof FAX_STATUSES)[number];
export const FAX_RECIPIENT_STATUSES = ['queued', 'rendering', 'sending', 'delivered', 'failed'] as const;
export type FaxRecipientStatus = (typeof FAX_RECIPIENT_STATUSES)[number];
export type FaxResolution = 'fine' | 'standard';

/** One attachment of a fax as uploaded, and what rendering made of it. */
export interface FaxAttachment {
  name: string;
  /** The uploaded file, under the data directory. */
  path: string;
  mediaType: string;
  status: 'pending' | 'rendered' | 'failed';
  pages: number | null;
  error: string | null;
}

export interface FaxesTable {
  id: Generated<string>;
  account_id: string;
  sender_user_id: string;
  from_number: string | null;
  from_name: Generated<string>;
  cover_page: Generated<boolean>;
  cover_to: Generated<string>;
  cover_subject: Generated<string>;
  cover_message: Generated<string>;
  cover_template: Generated<FaxCoverTemplate>;
  /** The sender's Cover Page Info when the fax was sent. */
  cover_info: Json<Partial<FaxCoverInfo>>;
  resolution: Generated<FaxResolution>;
  attachments: Json<FaxAttachment[]>;
  status: Generated<FaxStatus>;
  scheduled_at: NullableTimestamp;
  page_count: number | null;
  rendered_path: string | null;
  error: string | null;
  created_at: Timestamp;
  completed_at: NullableTimestamp;
}

export interface FaxRecipientsTable {
  id: Generated<string>;
  account_id: string;
  fax_id: string;
  position: number;
  number: string;
  status: Generated<FaxRecipientStatus>;
  reason: string | null;
  updated_at: Timestamp;
}

/** A fax received by an extension: its Messages inbox. */
export interface FaxMessagesTable {
  id: Generated<string>;
  account_id: string;
  extension_id: string;
  from_number: string | null;
  from_name: Generated<string>;
  to_number: string;
  page_count: number;
  pdf_path: string;
  fax_recipient_id: string | null;
  received_at: Timestamp;
  read: Generated<boolean>;
}

export interface FaxEmailSendersTable {
  id: Generated<string>;
  account_id: string;
  user_id: string;
  email: string;
  created_at: Timestamp;
}

/** Seed 000 "Paramètres de fax sortant", per user; a user without a row has the defaults. */
export interface FaxCoverSettingsTable {
  user_id: string;
  account_id: string;
  cover_template: Generated<FaxCoverChoice>;
  omit_cover_when_subject_blank: Generated<boolean>;
  cover_info: Json<Partial<FaxCoverInfo>>;
  updated_at: Generated<Date>;
}

export interface BulkEditIssue {
  row: number;
  column: string;
  reason: string;
  params?: Record<string, string>;
}

export interface BulkEditChange {
  row: number;
  userId: string;
  name: string;
  changes: Record<string, { from: string | null; to: string | null }>;
}

export interface BulkEditReport {
  issues: BulkEditIssue[];
  changes: BulkEditChange[];
  rowCount: number;
}

export interface UserBulkEditsTable {
  id: Generated<string>;
  account_id: string;
  uploaded_by: string | null;
  file_name: string;
  format: 'csv' | 'xlsx';
  header: Json<string[]>;
  rows: Json<string[][]>;
  report: Json<BulkEditReport>;
  status: 'invalid' | 'ready' | 'applied';
  created_at: Timestamp;
  expires_at: Timestamp;
  applied_at: NullableTimestamp;
}

export type TemplateKind = 'user_settings' | 'call_handling';

export interface UserTemplatesTable {
  id: Generated<string>;
  account_id: string;
  kind: TemplateKind;
  name: string;
  /** Validated by core's templateSettingsSchema for the kind. */
  settings: Json<Record<string, unknown>>;
  created_by: string | null;
  updated_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type TemplateApplicationStatus = 'queued' | 'running' | 'completed' | 'failed';

export interface TemplateApplicationsTable {
  id: Generated<string>;
  account_id: string;
  template_id: string | null;
  template_name: string;
  kind: TemplateKind;
  /** The template's settings when it was applied. */
  settings: Json<Record<string, unknown>>;
  requested_by: string | null;
  status: Generated<TemplateApplicationStatus>;
  total: number;
  error: string | null;
  created_at: Timestamp;
  completed_at: NullableTimestamp;
}

export interface TemplateApplicationUsersTable {
  application_id: string;
  account_id: string;
  user_id: string;
  /** Set in the same transaction as the user's change: null means still to do. */
  applied_at: NullableTimestamp;
}

export interface ApiTokensTable {
  id: Generated<string>;
  account_id: string;
  created_by: string;
  role_id: string;
  name: string;
  /** SHA-256 (hex) of the secret; the secret itself is shown once and never stored. */
  token_hash: string;
  prefix: string;
  expires_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  created_at: Timestamp;
}

export const ANSWERING_RULE_KINDS = ['in_hours', 'after_hours', 'custom'] as const;
export type AnsweringRuleKind = (typeof ANSWERING_RULE_KINDS)[number];

/** Issue 13: a user's answering rules; shapes validated by domain's answering-rules schemas. */
export interface AnsweringRulesTable {
  id: Generated<string>;
  account_id: string;
  user_id: string;
  kind: AnsweringRuleKind;
  /** Order of the custom rules, first tried first; 0 for the hours rules. */
  position: Generated<number>;
  name: string | null;
  enabled: Generated<boolean>;
  /** RuleCondition[]; empty for the hours rules. */
  conditions: Json<Record<string, unknown>[]>;
  /** RuleHandling: ring plan, after-ringing action, greeting, audio while connecting. */
  handling: Json<Record<string, unknown>>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Issue 14: the company's custom answering rules (RULE-01…06), in `position` order (1–50, unique per account). */
export interface CompanyAnsweringRulesTable {
  id: Generated<string>;
  account_id: string;
  position: number;
  name: string;
  enabled: Generated<boolean>;
  /** RuleCondition[] (domain's ruleConditionsSchema). */
  conditions: Json<Record<string, unknown>[]>;
  /** CompanyRuleTarget: a menu or an extension, by its number. */
  target: Json<Record<string, unknown>>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Issue 13: a user's custom voicemail greeting, named by a rule's handling (`greeting.audioId`). */
export interface VoicemailGreetingsTable {
  id: Generated<string>;
  account_id: string;
  user_id: string;
  /** 8 kHz mono 16-bit WAV, relative to DATA_DIR. */
  file: string;
  duration_ms: number;
  original_name: string | null;
  source: 'upload' | 'browser' | 'phone';
  created_by: string | null;
  created_at: Timestamp;
}

/** Issues 13 and 14: a user's recorded name (one per user), played by the default voicemail greeting and the directory. */
export interface UserNameRecordingsTable {
  user_id: string;
  account_id: string;
  /** 8 kHz mono 16-bit WAV, relative to DATA_DIR. */
  file: string;
  duration_ms: number;
  source: 'upload' | 'browser' | 'phone';
  created_by: string | null;
  created_at: Timestamp;
}

/** Issue 13: a user's settings of every call (greeting, screening, connecting message, hold music, blocking). */
export interface UserCallSettingsTable {
  user_id: string;
  account_id: string;
  settings: Json<Record<string, unknown>>;
  updated_at: Timestamp;
}

/** A prompt of the IVR prompts library (PR-02): spoken text (TTS) or uploaded audio, converted once to the media format. */
export interface IvrPromptsTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  kind: 'tts' | 'audio';
  text: string | null;
  language: Language | null;
  /** 8 kHz mono 16-bit WAV, relative to DATA_DIR. */
  file: string;
  duration_ms: number;
  original_name: string | null;
  created_by: string | null;
  created_at: Timestamp;
}

/** An IVR menu (IVR-11…IVR-13); its number and name are its extension's. JSON columns hold @carillon/domain's shapes. */
export interface IvrMenusTable {
  extension_id: string;
  account_id: string;
  language: Language;
  prompt: Json<IvrMenu['prompt']>;
  keys: Json<IvrMenu['keys']>;
  generic_keys: Json<IvrMenu['genericKeys']>;
  updated_at: Timestamp;
}

/** A call queue (CQ-01…CQ-06); its number and name are its extension's. `settings` holds @carillon/domain's QueueSettings. */
export interface CallQueuesTable {
  extension_id: string;
  account_id: string;
  settings: Json<QueueSettings>;
  /** The managers' PIN (CQ-02 step 2), hashed; null until managers are set. */
  manager_pin_hash: string | null;
  updated_at: Timestamp;
}

/** A manager of a call queue (CQ-02 step 2): Full Access (settings and members) or Members Only. */
export interface CallQueueManagersTable {
  queue_extension_id: string;
  user_id: string;
  account_id: string;
  permission: 'full' | 'members_only';
}

/** A member of a call queue: a user's extension, in the admin's order, accepting this queue's calls or not. */
export interface CallQueueMembersTable {
  queue_extension_id: string;
  member_extension_id: string;
  account_id: string;
  position: number;
  accepting: Generated<boolean>;
}

export interface IvrSettingsTable {
  account_id: string;
  settings: Json<IvrSettings>;
  updated_at: Timestamp;
}

export type SmsTrafficClass = 'p2p' | 'a2p';
export type SmsDirection = 'outbound' | 'inbound';
export type SmsStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'failed' | 'unknown' | 'received';

/** An SMPP carrier of an account (issue 18). The password is sealed with the server key. */
export interface SmsCarriersTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  traffic_class: Generated<SmsTrafficClass>;
  host: string;
  port: number;
  system_id: string;
  password_sealed: string;
  system_type: Generated<string>;
  bind_mode: Generated<'transceiver' | 'transmitter_receiver'>;
  window_size: Generated<number>;
  segments_per_second: Generated<number>;
  sender_segments_per_second: Generated<number>;
  is_default: Generated<boolean>;
  enabled: Generated<boolean>;
  created_at: Timestamp;
}

export interface SmsConversationsTable {
  id: Generated<string>;
  account_id: string;
  business_number: string;
  participants: string[];
  kind: Generated<'direct' | 'group'>;
  last_message_at: Timestamp;
  created_at: Timestamp;
}

export interface SmsMessagesTable {
  id: Generated<string>;
  account_id: string;
  conversation_id: string;
  direction: SmsDirection;
  traffic_class: Generated<SmsTrafficClass>;
  from_number: string;
  to_number: string;
  body: string;
  purpose: Generated<'message' | 'keyword_reply'>;
  encoding: 'gsm7' | 'ucs2';
  segments: number;
  status: Generated<SmsStatus>;
  reason: string | null;
  carrier_error_code: number | null;
  carrier_id: string | null;
  user_id: string | null;
  idempotency_key: string;
  read: Generated<boolean>;
  created_at: Timestamp;
  sent_at: NullableTimestamp;
  completed_at: NullableTimestamp;
  updated_at: Timestamp;
}

/** What the carrier answered for one segment: the id its delivery receipt quotes. */
export interface SmsSubmissionsTable {
  account_id: string;
  message_id: string;
  carrier_id: string;
  segment: number;
  carrier_message_id: string;
  receipt_state: string | null;
  receipt_error: string | null;
  receipted_at: NullableTimestamp;
}

export interface SmsOptOutsTable {
  account_id: string;
  business_number: string;
  phone_number: string;
  keyword: string;
  created_at: Timestamp;
}

export type SmsRegistrationStatus = 'pending' | 'approved' | 'rejected';
export type SmsCampaignStatus = 'scheduled' | 'running' | 'paused' | 'completed' | 'cancelled';
export type SmsCampaignRecipientStatus = 'pending' | 'queued' | 'opted_out' | 'cancelled';

/** A number's request to send high-volume (A2P) texts, and an admin's answer (issue 18). */
export interface SmsNumberRegistrationsTable {
  id: Generated<string>;
  account_id: string;
  phone_number: string;
  business_name: string;
  use_case: string;
  sample_message: string;
  expected_daily_volume: number;
  status: Generated<SmsRegistrationStatus>;
  submitted_by: string | null;
  submitted_at: Timestamp;
  reviewed_by: string | null;
  reviewed_at: NullableTimestamp;
  review_note: string | null;
}

/** The account's campaign quiet hours ('HH:MM' on its wall clock); both null: none. */
export interface SmsCampaignSettingsTable {
  account_id: string;
  quiet_start: string | null;
  quiet_end: string | null;
  /** Migration 0046: refuse texts the content check warns about, instead of warning. */
  require_clean_content: Generated<boolean>;
  updated_at: Timestamp;
}

export interface SmsCampaignsTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  from_number: string;
  template: string;
  status: Generated<SmsCampaignStatus>;
  status_reason: string | null;
  start_at: Timestamp;
  next_run_at: Timestamp;
  total_rows: number;
  skipped_rows: Generated<number>;
  row_errors: Json<unknown[]>;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  completed_at: NullableTimestamp;
}

export interface SmsCampaignRecipientsTable {
  account_id: string;
  campaign_id: string;
  line: number;
  phone_number: string;
  body: string;
  status: Generated<SmsCampaignRecipientStatus>;
  message_id: string | null;
  queued_at: NullableTimestamp;
}

/** Texts queued per number and local day (the daily cap). */
export interface SmsDailyVolumeTable {
  account_id: string;
  phone_number: string;
  day: ColumnType<string, string, string>;
  texts: Generated<number>;
}

/** A message left in a mailbox (an extension); the audio under DATA_DIR. */
export interface VoicemailMessagesTable {
  id: Generated<string>;
  account_id: string;
  mailbox_extension_id: string;
  call_id: string | null;
  from_number: string | null;
  from_name: string | null;
  to_number: string;
  reason: 'message_only' | 'no_answer' | 'busy' | 'dnd' | 'rule';
  audio_path: string;
  duration_ms: number;
  size_bytes: number;
  status: Generated<'new' | 'heard'>;
  urgent: Generated<boolean>;
  transcription_id: string | null;
  created_at: Timestamp;
  heard_at: NullableTimestamp;
  deleted_at: NullableTimestamp;
}

/** A mailbox's settings; a mailbox without a row takes the column defaults. */
export interface VoicemailSettingsTable {
  extension_id: string;
  account_id: string;
  recipient_extension_id: string | null;
  max_message_seconds: Generated<number>;
  max_messages: Generated<number>;
  language: Generated<'en' | 'fr'>;
  transcribe: Generated<boolean>;
  greeting_path: string | null;
  updated_at: Timestamp;
}

/** A phone number of the account that reaches its conference bridge (issue 16). */
export interface ConferenceDialInsTable {
  phone_number_id: string;
  account_id: string;
  created_at: Generated<Timestamp>;
}

/** A user's host or participant access code, by the user's extension; unique within the account. */
export interface ConferenceAccessCodesTable {
  account_id: string;
  extension_id: string;
  role: 'host' | 'participant';
  code: string;
  created_at: Generated<Timestamp>;
}

/** A host's conference settings (inventory 1 §5.2); a host without a row takes the column defaults. */
export interface ConferenceSettingsTable {
  extension_id: string;
  account_id: string;
  join_before_host: Generated<boolean>;
  enter_tone: Generated<boolean>;
  exit_tone: Generated<boolean>;
  announce_names: Generated<boolean>;
  updated_at: Generated<Timestamp>;
}

/** A video meeting (issue 17): a host's personal meeting or one they created; migration 0049. */
export interface MeetingsTable {
  id: Generated<string>;
  account_id: string;
  host_user_id: string;
  kind: 'personal' | 'scheduled';
  number: string;
  topic: string;
  scheduled_start: NullableTimestamp;
  passcode: string;
  created_at: Timestamp;
  ended_at: NullableTimestamp;
}

/** Who may park to and retrieve from a park location (an extension of type 'park_location'; PK-03). */
export interface ParkLocationMembersTable {
  account_id: string;
  park_extension_id: string;
  member_extension_id: string;
}

/** A directed call pickup group (PU-02): its members pick up each other's ringing calls with `*58` + extension. */
export interface PickupGroupsTable {
  id: Generated<string>;
  account_id: string;
  site_id: string | null;
  name: string;
  created_at: Timestamp;
}

export interface PickupGroupMembersTable {
  group_id: string;
  account_id: string;
  extension_id: string;
}

/** A call monitoring group (MON-02): its monitors may listen to, whisper to, barge into and take over its monitored users' calls. */
export interface MonitoringGroupsTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  created_at: Timestamp;
}

export type MonitoringRole = 'monitor' | 'monitored';

export interface MonitoringGroupMembersTable {
  group_id: string;
  account_id: string;
  extension_id: string;
  role: MonitoringRole;
}

/** The devices that receive a paging group's pages (an extension of type 'paging'; PG-03). */
export interface PagingGroupReceiversTable {
  account_id: string;
  paging_extension_id: string;
  device_id: string;
}

/** The users (by extension) allowed to page a paging group (PG-03). */
export interface PagingGroupPagersTable {
  account_id: string;
  paging_extension_id: string;
  pager_extension_id: string;
}

/** A shared line (SL-01…SL-09); its number, name and site are its extension's. `settings` holds @carillon/domain's SharedLineSettings. */
export interface SharedLinesTable {
  extension_id: string;
  account_id: string;
  settings: Json<SharedLineSettings>;
  updated_at: Timestamp;
}

/** The devices a shared line rings, in the line's order (SL-02); a device belongs to one line at most. */
export interface SharedLineDevicesTable {
  line_extension_id: string;
  device_id: string;
  account_id: string;
  position: number;
}

export interface Database {
  accounts: AccountsTable;
  sites: SitesTable;
  extensions: ExtensionsTable;
  roles: RolesTable;
  role_permissions: RolePermissionsTable;
  role_sites: RoleSitesTable;
  user_groups: UserGroupsTable;
  user_group_members: UserGroupMembersTable;
  users: UsersTable;
  user_credentials: UserCredentialsTable;
  phone_numbers: PhoneNumbersTable;
  devices: DevicesTable;
  number_pool: NumberPoolTable;
  number_reservations: NumberReservationsTable;
  emergency_addresses: EmergencyAddressesTable;
  sessions: SessionsTable;
  user_tokens: UserTokensTable;
  audit_events: AuditEventsTable;
  sip_trunks: SipTrunksTable;
  calls: CallsTable;
  call_legs: CallLegsTable;
  recordings: RecordingsTable;
  transcriptions: TranscriptionsTable;
  recording_exports: RecordingExportsTable;
  contacts: ContactsTable;
  faxes: FaxesTable;
  fax_recipients: FaxRecipientsTable;
  fax_messages: FaxMessagesTable;
  fax_email_senders: FaxEmailSendersTable;
  fax_cover_settings: FaxCoverSettingsTable;
  user_bulk_edits: UserBulkEditsTable;
  user_templates: UserTemplatesTable;
  template_applications: TemplateApplicationsTable;
  template_application_users: TemplateApplicationUsersTable;
  api_tokens: ApiTokensTable;
  answering_rules: AnsweringRulesTable;
  company_answering_rules: CompanyAnsweringRulesTable;
  user_call_settings: UserCallSettingsTable;
  ivr_prompts: IvrPromptsTable;
  ivr_menus: IvrMenusTable;
  call_queues: CallQueuesTable;
  call_queue_members: CallQueueMembersTable;
  call_queue_managers: CallQueueManagersTable;
  ivr_settings: IvrSettingsTable;
  sms_carriers: SmsCarriersTable;
  sms_conversations: SmsConversationsTable;
  sms_messages: SmsMessagesTable;
  sms_submissions: SmsSubmissionsTable;
  sms_opt_outs: SmsOptOutsTable;
  sms_number_registrations: SmsNumberRegistrationsTable;
  sms_campaign_settings: SmsCampaignSettingsTable;
  sms_campaigns: SmsCampaignsTable;
  sms_campaign_recipients: SmsCampaignRecipientsTable;
  sms_daily_volume: SmsDailyVolumeTable;
  voicemail_messages: VoicemailMessagesTable;
  voicemail_settings: VoicemailSettingsTable;
  voicemail_greetings: VoicemailGreetingsTable;
  user_name_recordings: UserNameRecordingsTable;
  conference_dial_ins: ConferenceDialInsTable;
  conference_access_codes: ConferenceAccessCodesTable;
  conference_settings: ConferenceSettingsTable;
  meetings: MeetingsTable;
  park_location_members: ParkLocationMembersTable;
  pickup_groups: PickupGroupsTable;
  pickup_group_members: PickupGroupMembersTable;
  monitoring_groups: MonitoringGroupsTable;
  monitoring_group_members: MonitoringGroupMembersTable;
  paging_group_receivers: PagingGroupReceiversTable;
  paging_group_pagers: PagingGroupPagersTable;
  shared_lines: SharedLinesTable;
  shared_line_devices: SharedLineDevicesTable;
}

export type Account = Selectable<AccountsTable>;
export type User = Selectable<UsersTable>;
export type Extension = Selectable<ExtensionsTable>;
export type Site = Selectable<SitesTable>;
export type Role = Selectable<RolesTable>;
export type NewUser = Insertable<UsersTable>;
export type Transcription = Selectable<TranscriptionsTable>;
export type RecordingExport = Selectable<RecordingExportsTable>;
export type Fax = Selectable<FaxesTable>;
export type FaxRecipient = Selectable<FaxRecipientsTable>;
export type FaxMessage = Selectable<FaxMessagesTable>;
export type AccountUpdate = Updateable<AccountsTable>;
export type ApiToken = Selectable<ApiTokensTable>;
