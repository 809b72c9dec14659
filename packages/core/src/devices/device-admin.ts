import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '@carillon/db';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { digestHa1 } from './sip-digest-ha1.ts';
import { randomBytes } from 'node:crypto';

/** A phone added by an admin: a desk phone by MAC, a third-party softphone, or one of ours. */
export const newDeviceInput = z.object({
  extensionId: z.uuid('required'),
  type: z.enum(['desk_phone', 'byod', 'softphone']),
  name: z.string().trim().min(1, 'required').max(80, 'too_long'),
  mac: z
    .string()
    .trim()
    .transform((v) => v.toUpperCase().replace(/[^0-9A-F]/g, ''))
    .refine((v) => v === '' || v.length === 12, 'invalid_mac')
    .transform((v) => v || null)
    .optional(),
});

export interface DeviceView {
  id: string;
  name: string;
  type: string;
  mac: string | null;
  sipUsername: string;
  extensionId: string | null;
  extensionNumber: string | null;
  createdAt: string;
}

export async function listDevices(db: Kysely<Database>, accountId: string): Promise<DeviceView[]> {
  const rows = await deviceQuery(db, accountId).orderBy('devices.created_at').execute();
  return rows.map(toView);
}

export async function getDevice(db: Kysely<Database>, accountId: string, deviceId: string): Promise<DeviceView | null> {
  const row = await deviceQuery(db, accountId).where('devices.id', '=', deviceId).executeTakeFirst();
  return row ? toView(row) : null;
}

function deviceQuery(db: Kysely<Database>, accountId: string) {
  return db
    .selectFrom('devices')
    .leftJoin('extensions', (j) => j.onRef('extensions.id', '=', 'devices.extension_id').on('extensions.account_id', '=', accountId))
    .select([
      'devices.id',
      'devices.name',
      'devices.type',
      'devices.mac',
      'devices.sip_username',
      'devices.extension_id',
      'extensions.number as extension_number',
      'devices.created_at',
    ])
    .where('devices.account_id', '=', accountId);
}

function toView(r: { id: string; name: string; type: string; mac: string | null; sip_username: string; extension_id: string | null; extension_number: string | null; created_at: Date }): DeviceView {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    mac: r.mac,
    sipUsername: r.sip_username,
    extensionId: r.extension_id,
    extensionNumber: r.extension_number,
    createdAt: new Date(r.created_at).toISOString(),
  };
}

/** A new SIP password for a device (a lost password, a phone that changed hands); the old one stops working. */
export async function resetDeviceCredentials(
  db: Kysely<Database>,
  actor: AuditActor,
  accountId: string,
  deviceId: string,
  realm: string,
  /** A password derived elsewhere (the browser softphone's); otherwise a random one. */
  password = randomBytes(18).toString('base64url'),
): Promise<{ username: string; password: string } | null> {
  const device = await db.selectFrom('devices').select(['id', 'sip_username']).where('account_id', '=', accountId).where('id', '=', deviceId).executeTakeFirst();
  if (!device) return null;
  await db
    .updateTable('devices')
    .set({ sip_ha1_md5: digestHa1('MD5', device.sip_username, realm, password), sip_ha1_sha256: digestHa1('SHA-256', device.sip_username, realm, password) })
    .where('account_id', '=', accountId)
    .where('id', '=', deviceId)
    .execute();
  await recordAudit(db, actor, { accountId, action: 'device.sip_credentials_reset', targetType: 'device', targetId: deviceId });
  return { username: device.sip_username, password };
}

export async function deleteDevice(db: Kysely<Database>, actor: AuditActor, accountId: string, deviceId: string): Promise<boolean> {
  const before = await getDevice(db, accountId, deviceId);
  if (!before) return false;
  await db.deleteFrom('devices').where('account_id', '=', accountId).where('id', '=', deviceId).execute();
  await recordAudit(db, actor, { accountId, action: 'device.deleted', targetType: 'device', targetId: deviceId, before });
  return true;
}
