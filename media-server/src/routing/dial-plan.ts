import type { OutboundCalling, TrunkNumberFormat } from '@carillon/db';
import { dndTakesCall } from '@carillon/db';
import { callingCodeOf, COUNTRIES, isEmergencyNumber, toE164, toNational, type CountryCode, type MonitorMode } from '@carillon/domain';
import { extensionByTypedNumber, type AccountConfig, type RoutingExtension, type RoutingTrunk, type RoutingUser } from './account-config.ts';
import { reject, type CallDirection, type Destination, type ExtensionDestination, type PstnDestination } from './destination.ts';

/**
 * The account's dial plan: where a dialled string sends a caller's call, as a
 * `Destination`. A pure decision over the account's configuration snapshot
 * (`AccountConfig`, cached by `AccountConfigCache`): no I/O, so a call in
 * steady state reads nothing from the database.
 */
export type Caller =
  /** deviceId null: on behalf of the extension's user, not from one of its devices (a mailbox's call back). */
  | { kind: 'device'; accountId: string; extensionId: string; deviceId: string | null }
  | { kind: 'trunk'; accountId: string; trunkId: string };

/**
 * Star codes dialled as a call's number (inventory 2, star codes): `*84` + the
 * paging group's extension pages it (PG-01); `*58` + a ringing extension picks
 * its call up (PU-01). `*9` is dialled during a call (apps/recording/star-codes.ts).
 */
export const DIALLED_STAR_CODES = { page: '*84', pickup: '*58' } as const;

/**
 * Call monitoring (MON-01; the seeds give no codes): a code + the monitored
 * user's extension, in the ranges phones and PBXs commonly keep for features
 * (`*8x`, beside `*84` paging; `*86` alone is the mailbox, so take over is
 * `*85`). During the call the monitor switches with the keypad: see
 * MONITOR_MODE_DIGITS (calls/call-monitor.ts).
 */
export const MONITOR_STAR_CODES = { listen: '*81', whisper: '*82', barge: '*83', takeover: '*85' } as const satisfies Record<MonitorMode, string>;

/**
 * Call queue agents (issue 15): `*45` logs the caller in to all its queues, `*45` + a queue's number to
 * that one; `*46` logs out the same way. The guides give no codes; these are the ones FreePBX and
 * Asterisk installations commonly use for queue agent log-in, kept apart from `*4x` codes of the
 * conference keypad (read inside a conference only, never dialled).
 */
export const QUEUE_AGENT_CODES = { login: '*45', logout: '*46' } as const;

/** `*86` alone (or the caller's own extension): the caller's own mailbox (issue 13, phone access), where the account config allows it. */
export const MAILBOX_STAR_CODE = '*86';

export function routeCall(config: AccountConfig | null, caller: Caller, dialedRaw: string): Destination {
  const dialed = dialedRaw.trim();
  if (!config || config.account.id !== caller.accountId) return reject(404, 'Not Found', 'not_found');
  const country = config.account.country as CountryCode;

  if (caller.kind === 'trunk') return routeInbound(config, country, dialed);

  if (dialed === MAILBOX_STAR_CODE && config.mailboxByPhone) return { kind: 'mailbox', accountId: config.account.id, extensionId: caller.extensionId };
  if (config.queueAgentCodes) {
    const agent = queueAgentCode(config.account.id, caller.extensionId, dialed);
    if (agent) return agent;
  }
  if (dialed.startsWith('*')) return routeStarCode(config, dialed);

  // Internal dialling: an extension, short or with its site code.
  if (/^[0-9]{1,9}$/.test(dialed) && !isEmergencyNumber(dialed, country)) {
    const ext = extensionByTypedNumber(config, dialed);
    // A user dialling their own extension from their own phone reaches their mailbox (issue 13, phone access), as *86 does.
    if (ext && ext.id === caller.extensionId && caller.deviceId && config.mailboxByPhone) return { kind: 'mailbox', accountId: config.account.id, extensionId: caller.extensionId };
    if (ext) return extensionDestination(config, ext, 'internal');
  }

  const emergency = isEmergencyNumber(dialed, country);
  const e164 = emergency ? null : toE164(dialed, country);
  if (!emergency && !e164) return reject(484, 'Address Incomplete', 'not_found');

  // A number of this account dialled from inside stays inside.
  if (e164) {
    if (config.conferenceNumbers?.has(e164)) return { kind: 'conference', accountId: config.account.id, accessNumber: e164 };
    const own = config.numbers.get(e164);
    if (own) return numberDestination(config, own.extensionId, 'internal');
  }

  const user = config.users.get(caller.extensionId);
  if (!emergency) {
    const refused = refusedByPermission(config, outboundPermission(user), e164!);
    if (refused === 'emergency_only') return reject(403, 'Outbound Calls Not Allowed', 'forbidden');
    if (refused === 'domestic') return reject(403, 'International Calls Not Allowed', 'forbidden');
  }

  const trunk = config.trunk;
  if (!trunk) return reject(503, 'No Outbound Route', 'failed');

  // Caller ID of seed 000 "ID d'appelant sortant": the device's choice, else the user's direct number, else the main number.
  // SL-08: a device of a shared line shown as the group calls with the line's number and name, whatever the device or its user would show.
  const group = caller.deviceId ? config.sharedLineCallerIds?.get(caller.deviceId) : undefined;
  const callerIdNumber = group?.number ?? (caller.deviceId ? config.deviceCallerId.get(caller.deviceId) : undefined) ?? config.directNumberOf.get(caller.extensionId) ?? config.account.mainNumber;
  const hidden = !emergency && user?.blockCallerId && !group;
  return {
    kind: 'pstn',
    accountId: config.account.id,
    e164: e164 ?? dialed,
    emergency,
    trunk: trunkTarget(trunk, emergency ? dialed : formatForTrunk(e164!, trunk.numberFormat, country)),
    callerId: hidden ? { number: null, name: null } : { number: callerIdNumber, name: (group ? group.name : user?.name) || config.account.companyName },
  };
}

/**
 * Where an application hands a call on to an extension of the account by its
 * number (the IVR connecting a caller to a queue, `CallHandle.transfer`),
 * whoever the caller is: as if the extension had been dialled from inside,
 * with the call's own direction. 404 for a number that is not an extension.
 */
export function routeExtension(config: AccountConfig | null, accountId: string, typed: string, direction: CallDirection): Destination {
  if (!config || config.account.id !== accountId) return reject(404, 'Not Found', 'not_found');
  const ext = /^[0-9]{1,9}$/.test(typed.trim()) ? extensionByTypedNumber(config, typed.trim()) : null;
  return ext ? extensionDestination(config, ext, direction) : reject(404, 'Not Found', 'not_found');
}

const trunkTarget = (trunk: RoutingTrunk, dialString: string): PstnDestination['trunk'] => ({
  id: trunk.id,
  host: trunk.host,
  port: trunk.port,
  transport: trunk.transport,
  username: trunk.username,
  passwordSealed: trunk.passwordSealed,
  dialString,
});

/**
 * A queue's callback to an outside number (issue 15): through the account's trunk, shown as the queue's
 * own direct number (else the account's main number); null when the account has no trunk or the number
 * cannot be called back (not a number, an emergency number, one of the account's own).
 */
export function callbackDestination(config: AccountConfig | null, accountId: string, queueExtensionId: string, number: string): PstnDestination | null {
  if (!config || config.account.id !== accountId || !config.trunk) return null;
  const country = config.account.country as CountryCode;
  const e164 = toE164(number, country);
  if (!e164 || !/^\+[1-9][0-9]{6,14}$/.test(e164) || isEmergencyNumber(e164, country) || config.numbers.has(e164)) return null;
  const queueNumber = config.directNumberOf.get(queueExtensionId) ?? config.account.mainNumber;
  return { kind: 'pstn', accountId, e164, emergency: false, trunk: trunkTarget(config.trunk, formatForTrunk(e164, config.trunk.numberFormat, country)), callerId: { number: queueNumber, name: null } };
}

/**
 * Calling back whoever left a message in a user's mailbox (issue 13, the mailbox by phone): as if the
 * user had dialled the number from their phone (routeCall: an extension, or out through the trunk
 * within their calling rights and with their caller ID, a device's own choice aside), but only to
 * someone the call can be bridged to: an extension of a user other than themself, or an outside
 * number that is not an emergency number. Null otherwise.
 */
export function mailboxCallBackDestination(config: AccountConfig | null, mailbox: { accountId: string; extensionId: string }, number: string): ExtensionDestination | PstnDestination | null {
  if (!config || config.account.id !== mailbox.accountId || !/^\+?[0-9]{1,15}$/.test(number)) return null;
  const destination = routeCall(config, { kind: 'device', accountId: mailbox.accountId, extensionId: mailbox.extensionId, deviceId: null }, number);
  if (destination.kind === 'extension') return destination.extensionId === mailbox.extensionId ? null : destination;
  return destination.kind === 'pstn' && !destination.emergency ? destination : null;
}

/**
 * A call to a user's extension forwarded to one of the user's forwarding
 * numbers (issue 13, a rule's ring plan): out through the account's trunk,
 * within the user's calling rights (a user allowed domestic calls only does
 * not forward abroad), never to a number of the account itself (the call
 * would come back in). The original caller's ID is kept where the trunk
 * allows it (`forwardCallerId`; an internal caller shows their extension's
 * number, which means something outside), else the user's number is shown;
 * the user's number is the one the call is forwarded from. Null when it cannot go.
 */
export function forwardingDestination(
  config: AccountConfig | null,
  forwardedBy: { accountId: string; extensionId: string },
  e164: string,
  caller: { number: string | null; name: string | null; extensionId: string | null },
): PstnDestination | null {
  if (!config || config.account.id !== forwardedBy.accountId) return null;
  const user = config.users.get(forwardedBy.extensionId);
  return passedOn(config, e164, outboundPermission(user), config.directNumberOf.get(forwardedBy.extensionId) ?? config.account.mainNumber, caller);
}

/**
 * The outbound calling permission of calls the account places itself, not on behalf of one of its users:
 * an IVR key's external transfer (issue 14). The account has no setting of its own yet (inventory 3's
 * PBX-level override of the users' permission), and the caller who pressed the key is anyone who
 * called the company number: numbers of the account's own country only, never abroad (toll fraud
 * through an auto-receptionist's transfers is the classic abuse of a PBX).
 */
export const ACCOUNT_OUTBOUND_CALLING: OutboundCalling = 'domestic';

/**
 * An IVR key's external transfer (issue 14, IVR-13 "External transfer"): the caller, in menu `menuId`
 * (null: the company number's entry menu), is passed on to `number` (E.164 or national digits, as the
 * menu stores it) through the account's trunk, within the account's calling permission
 * (ACCOUNT_OUTBOUND_CALLING), as a forwarded call is (the original caller's ID where the trunk allows
 * it, else the menu's direct number or the account's main number, which is also the number asserted
 * as the one it comes from). Null when it cannot go (no trunk, not a number, an emergency number, a
 * number of the account itself, outside the permission).
 */
export function externalTransferDestination(
  config: AccountConfig | null,
  from: { accountId: string; menuId: string | null },
  number: string,
  caller: { number: string | null; name: string | null; extensionId: string | null },
): PstnDestination | null {
  if (!config || config.account.id !== from.accountId) return null;
  const e164 = toE164(number, config.account.country as CountryCode);
  if (!e164) return null;
  const ownNumber = (from.menuId ? config.directNumberOf.get(from.menuId) : undefined) ?? config.account.mainNumber;
  return passedOn(config, e164, ACCOUNT_OUTBOUND_CALLING, ownNumber, caller);
}

/** A user's outbound calling permission: theirs if set, else what their role grants (calls.international), else domestic. */
const outboundPermission = (user: RoutingUser | undefined): OutboundCalling => user?.outboundCalling ?? (user?.international ? 'international' : 'domestic');

/** The permission that refuses a call to `e164` (not an emergency number), or null when it may go. */
function refusedByPermission(config: AccountConfig, permission: OutboundCalling, e164: string): OutboundCalling | null {
  if (permission === 'emergency_only') return permission;
  const home = COUNTRIES.find((c) => c.code === config.account.country)?.callingCode;
  return permission === 'domestic' && callingCodeOf(e164) !== home ? permission : null;
}

/**
 * A call passed on from the account to an outside number (a user's forwarding, an IVR's external
 * transfer): out through the account's trunk within `permission`, never to a number of the account
 * itself (the call would come back in). The original caller's ID is kept where the trunk allows it
 * (`forwardCallerId`; an internal caller shows their extension's number, which means something
 * outside), else `ownNumber` is shown; `ownNumber` is the one the call is passed on from.
 */
function passedOn(config: AccountConfig, e164: string, permission: OutboundCalling, ownNumber: string | null, caller: { number: string | null; name: string | null; extensionId: string | null }): PstnDestination | null {
  if (!config.trunk) return null;
  const country = config.account.country as CountryCode;
  if (!/^\+[1-9][0-9]{6,14}$/.test(e164) || isEmergencyNumber(e164, country) || config.numbers.has(e164)) return null;
  if (refusedByPermission(config, permission, e164)) return null;
  let callerNumber: string | null;
  if (caller.extensionId) callerNumber = config.users.get(caller.extensionId)?.blockCallerId ? null : (config.directNumberOf.get(caller.extensionId) ?? config.account.mainNumber);
  else callerNumber = caller.number ? toE164(caller.number, country) : null;
  // A carrier that does not allow a From that is not ours (the trunk's setting) is shown our number.
  const callerId = config.trunk.forwardCallerId || !callerNumber ? { number: callerNumber, name: callerNumber ? caller.name : null } : { number: ownNumber, name: null };
  return {
    kind: 'pstn',
    accountId: config.account.id,
    e164,
    emergency: false,
    trunk: trunkTarget(config.trunk, formatForTrunk(e164, config.trunk.numberFormat, country)),
    callerId,
    forwardedFrom: ownNumber,
  };
}

function routeInbound(config: AccountConfig, country: CountryCode, dialed: string): Destination {
  const e164 = toE164(dialed, country);
  // The conference bridge's dial-in numbers (inventory 1 §5.1), before whatever else the number is assigned to.
  if (e164 && config.conferenceNumbers?.has(e164)) return { kind: 'conference', accountId: config.account.id, accessNumber: e164 };
  const num = e164 ? config.numbers.get(e164) : undefined;
  if (!num) return reject(404, 'Not Found', 'not_found');
  return numberDestination(config, num.extensionId, 'inbound');
}

/**
 * A number of the account: its extension, or for a company number (no
 * extension) the auto-receptionist when the account has one (an IVR menu
 * extension, or single-level mode's company greeting where the IVR runs:
 * AR-01, the company number answers with the company greeting), else the
 * operator.
 */
function numberDestination(config: AccountConfig, extensionId: string | null, direction: CallDirection): Destination {
  if (extensionId) {
    const ext = config.extensions.get(extensionId);
    return ext ? extensionDestination(config, ext, direction) : reject(404, 'Not Found', 'not_found');
  }
  const receptionist = [...config.extensions.values()].some((e) => e.type === 'ivr_menu' && e.status !== 'disabled');
  if (receptionist || config.companyGreeting) return { kind: 'ivr', accountId: config.account.id, menuId: null, direction };
  const operator = config.account.operatorExtensionId ? config.extensions.get(config.account.operatorExtensionId) : undefined;
  if (!operator) return reject(480, 'Temporarily Unavailable', 'unavailable');
  return extensionDestination(config, operator, direction);
}

/** What calling an extension means, by its type (inventory 2: special extensions, queues, IVR menus, park locations, paging groups). */
function extensionDestination(config: AccountConfig, ext: RoutingExtension, direction: CallDirection): Destination {
  if (ext.status === 'disabled') return reject(480, 'Temporarily Unavailable', 'unavailable');
  const accountId = config.account.id;
  const named = { accountId, extensionId: ext.id, extensionNumber: ext.number };
  switch (ext.type) {
    case 'message_only':
      return { kind: 'voicemail', ...named, why: 'message_only' };
    case 'announcement_only':
      return { kind: 'announcement', ...named, direction };
    case 'call_queue':
      return { kind: 'queue', ...named, direction };
    case 'ivr_menu':
      return { kind: 'ivr', accountId, menuId: ext.id, direction };
    case 'park_location':
      return { kind: 'park', accountId, slot: ext.number, extensionId: ext.id };
    case 'paging':
      return { kind: 'page', ...named };
    case 'user':
    case 'limited':
    case 'shared_lines':
      // The shared-line application where it runs (the area 'shared_lines'); without it, a line is called like a user's extension, as before.
      if (ext.type === 'shared_lines' && config.sharedLineCallerIds) return { kind: 'shared_line', ...named, direction };
      // Without the user-answering application, DND refuses the call (480). Call queues will offer calls with via 'queue'.
      if (!config.usersAnswerByRules && !dndTakesCall(ext.dndStatus, 'direct')) return reject(480, 'Do Not Disturb', 'unavailable');
      return { kind: 'extension', ...named, direction };
  }
}

/** `*45`/`*46`, alone or with a queue's number: the agent's log-in or log-out; null for another string. */
function queueAgentCode(accountId: string, extensionId: string, dialed: string): Destination | null {
  for (const [action, code] of Object.entries(QUEUE_AGENT_CODES) as ['login' | 'logout', string][]) {
    if (!dialed.startsWith(code)) continue;
    const rest = dialed.slice(code.length);
    if (rest && !/^[0-9]{1,9}$/.test(rest)) return reject(404, 'Unknown Feature Code', 'not_found');
    return { kind: 'queue_login', accountId, extensionId, queueNumber: rest || null, accepting: action === 'login' };
  }
  return null;
}

function routeStarCode(config: AccountConfig, dialed: string): Destination {
  const accountId = config.account.id;
  for (const [mode, code] of Object.entries(MONITOR_STAR_CODES) as [MonitorMode, string][]) {
    if (!dialed.startsWith(code)) continue;
    const rest = dialed.slice(code.length);
    if (!rest) return reject(484, 'Address Incomplete', 'not_found');
    const ext = /^[0-9]{1,9}$/.test(rest) ? extensionByTypedNumber(config, rest) : null;
    if (!ext || ext.status === 'disabled' || (ext.type !== 'user' && ext.type !== 'limited')) return reject(404, 'Not A User To Monitor', 'not_found');
    return { kind: 'monitor', accountId, mode, target: ext.number, targetExtensionId: ext.id };
  }
  for (const [kind, code] of Object.entries(DIALLED_STAR_CODES) as [keyof typeof DIALLED_STAR_CODES, string][]) {
    if (!dialed.startsWith(code)) continue;
    const rest = dialed.slice(code.length);
    if (!rest) return reject(484, 'Address Incomplete', 'not_found');
    const ext = /^[0-9]{1,9}$/.test(rest) ? extensionByTypedNumber(config, rest) : null;
    if (kind === 'page') {
      if (!ext || ext.type !== 'paging' || ext.status === 'disabled') return reject(404, 'Not A Paging Group', 'not_found');
      return { kind: 'page', accountId, extensionId: ext.id, extensionNumber: ext.number };
    }
    if (!ext || ext.status === 'disabled') return reject(404, 'Not Found', 'not_found');
    return { kind: 'pickup', accountId, target: ext.number, targetExtensionId: ext.id };
  }
  return reject(404, 'Unknown Feature Code', 'not_found');
}

export function formatForTrunk(e164: string, format: TrunkNumberFormat, country: CountryCode): string {
  if (format === 'e164') return e164;
  if (format === 'e164_no_plus') return e164.slice(1);
  return toNational(e164, country);
}
