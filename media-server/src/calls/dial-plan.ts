import type { Kysely } from 'kysely';
import { findExtension, permissionsOfRole, type FoundExtension } from '@carillon/core';
import { dndTakesCall, type CallResult, type Database, type OutboundCalling, type TrunkNumberFormat } from '@carillon/db';
import { callingCodeOf, COUNTRIES, isEmergencyNumber, toE164, toNational, type CountryCode } from '@carillon/domain';

/**
 * The account's dial plan: what a dialled string means for a caller. Pure
 * decisions over the database; the call engine acts on the result.
 */
export type Caller =
  | { kind: 'device'; accountId: string; extensionId: string; deviceId: string }
  | { kind: 'trunk'; accountId: string; trunkId: string };

export interface TrunkTarget {
  id: string;
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
  username: string | null;
  passwordSealed: string | null;
  /** The number as the carrier wants it in the Request-URI and To. */
  dialString: string;
}

export type Route =
  | { kind: 'extension'; accountId: string; extensionId: string; extensionNumber: string; direction: 'internal' | 'inbound' }
  | {
      kind: 'pstn';
      accountId: string;
      e164: string;
      emergency: boolean;
      trunk: TrunkTarget;
      callerId: { number: string | null; name: string | null };
    }
  | { kind: 'reject'; status: number; reason: string; result: CallResult };

const reject = (status: number, reason: string, result: CallResult): Route => ({ kind: 'reject', status, reason, result });

/** What routing needs of the account. */
export interface RoutingAccount {
  id: string;
  country: string;
  main_number: string | null;
  company_name: string;
}

export const loadRoutingAccount = (db: Kysely<Database>, accountId: string): Promise<RoutingAccount | undefined> =>
  db.selectFrom('accounts').select(['id', 'country', 'main_number', 'company_name']).where('id', '=', accountId).executeTakeFirst();

/** `account` defaults to a database read; the call engine passes a short-lived cache of it. */
export async function routeCall(db: Kysely<Database>, caller: Caller, dialedRaw: string, account_ = loadRoutingAccount): Promise<Route> {
  const dialed = dialedRaw.trim();
  const account = await account_(db, caller.accountId);
  if (!account) return reject(404, 'Not Found', 'not_found');
  const country = account.country as CountryCode;

  if (caller.kind === 'trunk') return routeInbound(db, account.id, country, dialed);

  // Internal dialling: an extension, short or with its site code.
  if (/^[0-9]{1,9}$/.test(dialed) && !isEmergencyNumber(dialed, country)) {
    const ext = await findExtension(db, account.id, dialed);
    if (ext) return extensionRouteOf(account.id, ext, 'internal');
  }

  const emergency = isEmergencyNumber(dialed, country);
  const e164 = emergency ? null : toE164(dialed, country);
  if (!emergency && !e164) return reject(484, 'Address Incomplete', 'not_found');

  // A number of this account dialled from inside stays inside.
  if (e164) {
    const own = await db.selectFrom('phone_numbers').select('extension_id').where('account_id', '=', account.id).where('e164', '=', e164).executeTakeFirst();
    if (own?.extension_id) return extensionRoute(db, account.id, own.extension_id, 'internal');
  }

  const user = await db
    .selectFrom('users')
    .select(['id', 'role_id', 'outbound_calling', 'block_caller_id', 'first_name', 'last_name'])
    .where('account_id', '=', account.id)
    .where('extension_id', '=', caller.extensionId)
    .executeTakeFirst();
  if (!emergency) {
    const permission: OutboundCalling =
      user?.outbound_calling ?? ((user && (await permissionsOfRole(db, user.role_id)).has('calls.international')) ? 'international' : 'domestic');
    if (permission === 'emergency_only') return reject(403, 'Outbound Calls Not Allowed', 'forbidden');
    const home = COUNTRIES.find((c) => c.code === country)?.callingCode;
    if (permission === 'domestic' && callingCodeOf(e164!) !== home) return reject(403, 'International Calls Not Allowed', 'forbidden');
  }

  const trunk = await db.selectFrom('sip_trunks').selectAll().where('account_id', '=', account.id).where('enabled', '=', true).executeTakeFirst();
  if (!trunk) return reject(503, 'No Outbound Route', 'failed');

  const callerIdNumber = await outboundCallerId(db, account.id, caller, account.main_number);
  const hidden = !emergency && user?.block_caller_id;
  return {
    kind: 'pstn',
    accountId: account.id,
    e164: e164 ?? dialed,
    emergency,
    trunk: {
      id: trunk.id,
      host: trunk.host,
      port: trunk.port,
      transport: trunk.transport,
      username: trunk.username,
      passwordSealed: trunk.password_sealed,
      dialString: emergency ? dialed : formatForTrunk(e164!, trunk.number_format, country),
    },
    callerId: hidden
      ? { number: null, name: null }
      : { number: callerIdNumber, name: user ? `${user.first_name} ${user.last_name}`.trim() || account.company_name : account.company_name },
  };
}

async function routeInbound(db: Kysely<Database>, accountId: string, country: CountryCode, dialed: string): Promise<Route> {
  const e164 = toE164(dialed, country);
  if (!e164) return reject(404, 'Not Found', 'not_found');
  const num = await db
    .selectFrom('phone_numbers')
    .select(['extension_id', 'type'])
    .where('account_id', '=', accountId)
    .where('e164', '=', e164)
    .executeTakeFirst();
  if (!num) return reject(404, 'Not Found', 'not_found');
  if (num.extension_id) return extensionRoute(db, accountId, num.extension_id, 'inbound');
  // Company numbers go to the operator until the auto-receptionist takes them.
  const acct = await db.selectFrom('accounts').select('operator_extension_id').where('id', '=', accountId).executeTakeFirst();
  if (!acct?.operator_extension_id) return reject(480, 'Temporarily Unavailable', 'unavailable');
  return extensionRoute(db, accountId, acct.operator_extension_id, 'inbound');
}

async function extensionRoute(db: Kysely<Database>, accountId: string, extensionId: string, direction: 'internal' | 'inbound'): Promise<Route> {
  const ext = await db.selectFrom('extensions').select(['id', 'number', 'status', 'dnd_status as dndStatus']).where('account_id', '=', accountId).where('id', '=', extensionId).executeTakeFirst();
  if (!ext) return reject(404, 'Not Found', 'not_found');
  return extensionRouteOf(accountId, ext, direction);
}

function extensionRouteOf(accountId: string, ext: FoundExtension, direction: 'internal' | 'inbound'): Route {
  if (ext.status === 'disabled') return reject(480, 'Temporarily Unavailable', 'unavailable');
  // Voicemail comes later: 480 until then. Call queues will offer calls with via 'queue'.
  if (!dndTakesCall(ext.dndStatus, 'direct')) return reject(480, 'Do Not Disturb', 'unavailable');
  return { kind: 'extension', accountId, extensionId: ext.id, extensionNumber: ext.number, direction };
}

/** Caller ID of seed 000 "ID d'appelant sortant": the device's choice, else the user's direct number, else the main number. */
async function outboundCallerId(db: Kysely<Database>, accountId: string, caller: Extract<Caller, { kind: 'device' }>, mainNumber: string | null): Promise<string | null> {
  const device = await db
    .selectFrom('devices')
    .leftJoin('phone_numbers', 'phone_numbers.id', 'devices.caller_id_number_id')
    .select(['phone_numbers.e164'])
    .where('devices.id', '=', caller.deviceId)
    .where('devices.account_id', '=', accountId)
    .executeTakeFirst();
  if (device?.e164) return device.e164;
  const direct = await db
    .selectFrom('phone_numbers')
    .select('e164')
    .where('account_id', '=', accountId)
    .where('extension_id', '=', caller.extensionId)
    .where('type', '=', 'direct')
    .orderBy('created_at')
    .executeTakeFirst();
  return direct?.e164 ?? mainNumber;
}

export function formatForTrunk(e164: string, format: TrunkNumberFormat, country: CountryCode): string {
  if (format === 'e164') return e164;
  if (format === 'e164_no_plus') return e164.slice(1);
  return toNational(e164, country);
}
