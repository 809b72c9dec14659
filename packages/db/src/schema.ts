import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

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
export type CallResult = 'answered' | 'missed' | 'busy' | 'no_answer' | 'rejected' | 'cancelled' | 'unavailable' | 'failed' | 'not_found' | 'forbidden';
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

export const DND_STATUSES = ['take_all_calls', 'no_queue_calls', 'no_calls'] as const;
export type DndStatus = (typeof DND_STATUSES)[number];

/**
 * Whether an extension in this Do Not Disturb state takes a call (seed 000 "Ne pas déranger"):
 * "take no calls" refuses every call, "take no call-queue calls" only those a call queue offers it.
 */
export function dndTakesCall(status: DndStatus, via: 'direct' | 'queue'): boolean {
  if (status === 'no_calls') return false;
  return !(status === 'no_queue_calls' && via === 'queue');
}

export interface RolesTable {
  id: Generated<string>;
  account_id: string | null;
  key: string | null;
  name: string;
  description: string | null;
  base_role_id: string | null;
  created_at: Timestamp;
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
}

export interface CallLegsTable {
  id: Generated<string>;
  call_id: string;
  account_id: string;
  role: 'caller' | 'callee' | 'transfer_target';
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

export interface Database {
  accounts: AccountsTable;
  sites: SitesTable;
  extensions: ExtensionsTable;
  roles: RolesTable;
  role_permissions: RolePermissionsTable;
  users: UsersTable;
  user_credentials: UserCredentialsTable;
  phone_numbers: PhoneNumbersTable;
  devices: DevicesTable;
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
  api_tokens: ApiTokensTable;
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
