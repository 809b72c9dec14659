import type { Kysely } from 'kysely';
import type { Database, DndStatus, ExtensionStatus, ExtensionType, OutboundCalling, PhoneNumberType, TrunkNumberFormat } from '@carillon/db';
import { isPredefinedRoleKey, permissionsOfPredefinedRole } from '@carillon/domain';

/**
 * Everything the dial plan reads of one account, loaded at once and kept in
 * memory (`AccountConfigCache`), so that routing a call reads nothing from the
 * database. Built by `loadAccountConfig`; immutable once built: a change of
 * configuration replaces the whole snapshot (the app announces it,
 * contracts/config-changes.ts).
 */
export interface AccountConfig {
  readonly account: {
    id: string;
    country: string;
    mainNumber: string | null;
    companyName: string;
    operatorExtensionId: string | null;
    /** `*9` recording (seed 000 "Enregistrement des appels à la demande") and the language of its prompts. */
    onDemandRecording: boolean;
    language: 'en' | 'fr';
  };
  readonly extensions: ReadonlyMap<string, RoutingExtension>;
  /**
   * Calls to users go to the user-answering application, which applies Do Not Disturb itself (to
   * voicemail, issue 13): set by the call engine where the unreleased area 'answering_rules' is
   * enabled; absent, DND refuses the call here (480) as before.
   */
  readonly usersAnswerByRules?: boolean;
  /**
   * `*86` reaches the caller's mailbox (issue 13, phone access): set by the call engine where the
   * unreleased area 'voicemail' is enabled; absent, `*86` is an unknown feature code (404) as before.
   */
  readonly mailboxByPhone?: boolean;
  /**
   * The queue agents' keypad codes (`*45`, `*46`) log agents in and out: set by the call engine where
   * the unreleased area 'queues' is enabled; absent, they are unknown feature codes (404) as before.
   */
  readonly queueAgentCodes?: boolean;
  /**
   * The account's conference dial-in numbers (E.164, issue 16): set by the call engine where the
   * unreleased area 'conference' is enabled; a call to one of them goes to the conference. Absent,
   * the numbers route as any other number of the account.
   */
  readonly conferenceNumbers?: ReadonlySet<string>;
  /**
   * A company number always reaches the auto-receptionist, menus or not (AR-01: in single-level mode the
   * company greeting answers): set by the call engine where the unreleased area 'ivr' is enabled and the
   * account's IVR is in single-level mode. Absent, a company number reaches the IVR only when the account
   * has an IVR menu, else the operator, as before.
   */
  readonly companyGreeting?: boolean;
  /**
   * Shared lines' group caller ID (SL-08), by device id: set by the call engine where the unreleased area
   * 'shared_lines' is enabled, and then calls to a shared line go to the shared-line application. Absent,
   * a shared line is called like a user's extension (its own registrations) as before.
   */
  readonly sharedLineCallerIds?: ReadonlyMap<string, { number: string; name: string | null }>;
  /** Extensions by the number as typed: short ("101", possibly on several sites) and full with the site code ("22101"). */
  readonly byShortNumber: ReadonlyMap<string, readonly RoutingExtension[]>;
  readonly byFullNumber: ReadonlyMap<string, RoutingExtension>;
  readonly numbers: ReadonlyMap<string, { id: string; type: PhoneNumberType; extensionId: string | null }>;
  /** An extension's first direct number (by creation), its default outbound caller ID. */
  readonly directNumberOf: ReadonlyMap<string, string>;
  /** The user holding an extension, by extension id. */
  readonly users: ReadonlyMap<string, RoutingUser>;
  /** A device's chosen outbound caller ID (E.164), by device id. */
  readonly deviceCallerId: ReadonlyMap<string, string>;
  /** The account's enabled carrier trunk (one per account), if any. */
  readonly trunk: RoutingTrunk | null;
}

export interface RoutingExtension {
  id: string;
  number: string;
  type: ExtensionType;
  status: ExtensionStatus;
  dndStatus: DndStatus;
  isMainSite: boolean;
}

export interface RoutingUser {
  outboundCalling: OutboundCalling | null;
  /** Whether the user's role grants international calls (used when outboundCalling is not set). */
  international: boolean;
  blockCallerId: boolean;
  name: string;
  /** The names apart, as the IVR's dial-by-name directory searches them. */
  firstName: string;
  lastName: string;
}

export interface RoutingTrunk {
  id: string;
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
  username: string | null;
  passwordSealed: string | null;
  numberFormat: TrunkNumberFormat;
  /** Forwarded calls keep the original caller's ID (the carrier allows a From that is not ours). */
  forwardCallerId: boolean;
}

/** Loads an account's routing configuration: one statement per table, whatever the number of calls that will use it. Null for an unknown account. */
export async function loadAccountConfig(db: Kysely<Database>, accountId: string): Promise<AccountConfig | null> {
  const account = await db.selectFrom('accounts').select(['id', 'country', 'main_number', 'company_name', 'operator_extension_id', 'on_demand_recording', 'language']).where('id', '=', accountId).executeTakeFirst();
  if (!account) return null;
  const [extensions, numbers, users, devices, trunk] = await Promise.all([
    db
      .selectFrom('extensions')
      .innerJoin('sites', 'sites.id', 'extensions.site_id')
      .select(['extensions.id', 'extensions.number', 'extensions.type', 'extensions.status', 'extensions.dnd_status', 'sites.site_code', 'sites.is_main'])
      .where('extensions.account_id', '=', accountId)
      .execute(),
    db.selectFrom('phone_numbers').select(['id', 'e164', 'type', 'extension_id']).where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute(),
    db
      .selectFrom('users')
      .innerJoin('roles', 'roles.id', 'users.role_id')
      .select(['users.extension_id', 'users.role_id', 'roles.key as role_key', 'users.outbound_calling', 'users.block_caller_id', 'users.first_name', 'users.last_name'])
      .where('users.account_id', '=', accountId)
      .execute(),
    db
      .selectFrom('devices')
      .innerJoin('phone_numbers', 'phone_numbers.id', 'devices.caller_id_number_id')
      .select(['devices.id', 'phone_numbers.e164'])
      .where('devices.account_id', '=', accountId)
      .execute(),
    db.selectFrom('sip_trunks').selectAll().where('account_id', '=', accountId).where('enabled', '=', true).executeTakeFirst(),
  ]);
  // Custom roles hold their permissions in role_permissions; predefined ones in the domain.
  const customRoles = [...new Set(users.filter((u) => !isPredefinedRoleKey(u.role_key)).map((u) => u.role_id))];
  const international = new Set(
    customRoles.length
      ? (await db.selectFrom('role_permissions').select('role_id').where('role_id', 'in', customRoles).where('permission', '=', 'calls.international').execute()).map((r) => r.role_id)
      : [],
  );

  const byId = new Map<string, RoutingExtension>();
  const byShort = new Map<string, RoutingExtension[]>();
  const byFull = new Map<string, RoutingExtension>();
  for (const e of extensions) {
    const ext: RoutingExtension = { id: e.id, number: e.number, type: e.type, status: e.status, dndStatus: e.dnd_status, isMainSite: e.is_main };
    byId.set(ext.id, ext);
    byShort.set(ext.number, [...(byShort.get(ext.number) ?? []), ext]);
    if (e.site_code) byFull.set(e.site_code + e.number, ext);
  }
  const numberMap = new Map<string, { id: string; type: PhoneNumberType; extensionId: string | null }>();
  const direct = new Map<string, string>();
  for (const n of numbers) {
    numberMap.set(n.e164, { id: n.id, type: n.type, extensionId: n.extension_id });
    if (n.type === 'direct' && n.extension_id && !direct.has(n.extension_id)) direct.set(n.extension_id, n.e164);
  }
  const userMap = new Map<string, RoutingUser>();
  for (const u of users) {
    userMap.set(u.extension_id, {
      outboundCalling: u.outbound_calling,
      international: isPredefinedRoleKey(u.role_key) ? permissionsOfPredefinedRole(u.role_key).has('calls.international') : international.has(u.role_id),
      blockCallerId: u.block_caller_id,
      name: `${u.first_name} ${u.last_name}`.trim(),
      firstName: u.first_name,
      lastName: u.last_name,
    });
  }
  return {
    account: { id: account.id, country: account.country, mainNumber: account.main_number, companyName: account.company_name, operatorExtensionId: account.operator_extension_id, onDemandRecording: account.on_demand_recording, language: account.language },
    extensions: byId,
    byShortNumber: byShort,
    byFullNumber: byFull,
    numbers: numberMap,
    directNumberOf: direct,
    users: userMap,
    deviceCallerId: new Map(devices.map((d) => [d.id, d.e164])),
    trunk: trunk
      ? { id: trunk.id, host: trunk.host, port: trunk.port, transport: trunk.transport, username: trunk.username, passwordSealed: trunk.password_sealed, numberFormat: trunk.number_format, forwardCallerId: trunk.forward_caller_id }
      : null,
  };
}

/**
 * An extension typed short ("101") or in full with its site code ("22101"),
 * as `findExtension` of core finds it: the full form first, then the short
 * number of the main site, then a short number no other site uses.
 */
export function extensionByTypedNumber(config: AccountConfig, typed: string): RoutingExtension | null {
  const full = config.byFullNumber.get(typed);
  if (full) return full;
  const short = config.byShortNumber.get(typed) ?? [];
  return short.find((e) => e.isMainSite) ?? (short.length === 1 ? short[0]! : null);
}
