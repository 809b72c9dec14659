import { randomBytes, randomInt } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database, DeviceType } from '@carillon/db';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { digestHa1 } from './sip-digest-ha1.ts';
import { announceConfigChange } from '../accounts/config-changes.ts';

export interface IssuedSipCredentials {
  deviceId: string;
  username: string;
  /** Shown once, to be typed into the phone; only its HA1 values are stored. */
  password: string;
}

/**
 * Gives a device of an extension its own SIP credentials ("bring your own
 * phone"): a service-wide unique user name and a random password, stored as
 * MD5 and SHA-256 HA1 for the service realm.
 */
export async function issueDeviceCredentials(
  db: Kysely<Database>,
  actor: AuditActor,
  /** No extension: an unassigned phone, which cannot register until it is assigned. */
  d: { accountId: string; extensionId?: string | null | undefined; type: DeviceType; name: string; realm: string; mac?: string | null | undefined; password?: string },
): Promise<IssuedSipCredentials> {
  if (d.mac) {
    const sameMac = await db.selectFrom('devices').select('id').where('mac', '=', d.mac).executeTakeFirst();
    if (sameMac) throw new DuplicateMacError(d.mac);
  }
  // A password given by the caller is one derived elsewhere (the browser softphone's); otherwise a random one.
  const password = d.password ?? randomBytes(18).toString('base64url');
  for (let attempt = 0; attempt < 20; attempt++) {
    const username = String(randomInt(10 ** 9, 10 ** 10));
    const taken = await db.selectFrom('devices').select('id').where('sip_username', '=', username).executeTakeFirst();
    if (taken) continue;
    if (d.extensionId) {
      const ext = await db
        .selectFrom('extensions')
        .select('id')
        .where('id', '=', d.extensionId)
        .where('account_id', '=', d.accountId)
        .executeTakeFirst();
      if (!ext) throw new Error('extension not found in this account');
    }
    const device = await db
      .insertInto('devices')
      .values({
        account_id: d.accountId,
        extension_id: d.extensionId ?? null,
        type: d.type,
        name: d.name,
        mac: d.mac ?? null,
        sip_username: username,
        sip_ha1_md5: digestHa1('MD5', username, d.realm, password),
        sip_ha1_sha256: digestHa1('SHA-256', username, d.realm, password),
      })
      .returning('id')
      .executeTakeFirstOrThrow()
      .catch((e: unknown) => {
        // Two admins adding the same phone at once: the unique index decides.
        if (d.mac && /devices_mac_unique/.test(String(e))) throw new DuplicateMacError(d.mac);
        throw e;
      });
    await recordAudit(db, actor, {
      accountId: d.accountId,
      action: 'device.sip_credentials_issued',
      targetType: 'device',
      targetId: device.id,
      after: { name: d.name, type: d.type, username, extensionId: d.extensionId ?? null, mac: d.mac ?? null },
    });
    // Inside a transaction, whoever commits it announces the change.
    if (!db.isTransaction) await announceConfigChange(d.accountId, 'devices');
    return { deviceId: device.id, username, password };
  }
  throw new Error('could not find a free SIP user name');
}

/** A MAC address names one physical phone: a second device with it is refused. */
export class DuplicateMacError extends Error {
  readonly mac: string;
  constructor(mac: string) {
    super(`a phone with MAC ${mac} already exists`);
    this.mac = mac;
  }
}

export interface SipDeviceCredential {
  deviceId: string;
  accountId: string;
  extensionId: string;
  extensionNumber: string;
  siteCode: string | null;
  ha1Md5: string | null;
  ha1Sha256: string | null;
  /** The extension's user, as callers see it; null for an extension without one. */
  displayName: string | null;
}

/** What the SIP edge needs to check a device's digest response and route its calls. */
export async function findSipDeviceCredential(db: Kysely<Database>, username: string): Promise<SipDeviceCredential | null> {
  const row = await db
    .selectFrom('devices')
    .innerJoin('extensions', 'extensions.id', 'devices.extension_id')
    .innerJoin('sites', 'sites.id', 'extensions.site_id')
    .leftJoin('users', (j) => j.onRef('users.extension_id', '=', 'extensions.id').onRef('users.account_id', '=', 'devices.account_id'))
    .select([
      sql<string | null>`nullif(trim(concat(users.first_name, ' ', users.last_name)), '')`.as('displayName'),
      'devices.id as deviceId',
      'devices.account_id as accountId',
      'extensions.id as extensionId',
      'extensions.number as extensionNumber',
      'extensions.status as status',
      'sites.site_code as siteCode',
      'devices.sip_ha1_md5 as ha1Md5',
      'devices.sip_ha1_sha256 as ha1Sha256',
    ])
    .where('devices.sip_username', '=', username)
    .whereRef('extensions.account_id', '=', 'devices.account_id')
    .executeTakeFirst();
  if (!row || row.status === 'disabled') return null;
  const { status: _status, ...credential } = row;
  return credential;
}
