import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '@carillon/db';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { digestHa1 } from './sip-digest-ha1.ts';
import { issueDeviceCredentials } from './device-credentials.ts';
import { randomBytes } from 'node:crypto';
import { announceConfigChange } from '../accounts/config-changes.ts';

/** Six hex pairs, bare or separated by colons, dashes or dots (00:04:F2:AA:BB:CC, 0004.f2aa.bbcc); stored as 12 upper-case digits. */
const macAddress = z
  .string()
  .trim()
  .refine((v) => v === '' || /^[0-9a-f]{12}$/i.test(v.replace(/[:.-]/g, '')) && /^([0-9a-f]{2}([:-]?)){5}[0-9a-f]{2}$|^([0-9a-f]{4}\.){2}[0-9a-f]{4}$/i.test(v), 'invalid_mac')
  .transform((v) => v.toUpperCase().replace(/[^0-9A-F]/g, '') || null);

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

/**
 * A phone added by an admin: a desk phone by MAC, a third-party softphone, or one of ours.
 * Without an extension it is an unassigned phone (seed 000 "Ajout d'un téléphone non attribué").
 */
export const newDeviceInput = z
  .object({
    extensionId: z.preprocess(emptyAsUndefined, z.uuid('required').nullable().optional()),
    type: z.enum(['desk_phone', 'byod', 'softphone']),
    name: z.string().trim().min(1, 'required').max(80, 'too_long'),
    mac: macAddress.optional(),
  });

/** Seed 000 "Téléphones de zone commune": a phone on its own limited extension, in a lobby or a meeting room. */
export const commonAreaPhoneInput = z.object({
  name: z.string().trim().min(1, 'required').max(80, 'too_long'),
  extensionNumber: z.string().trim().regex(/^[0-9]{2,5}$/, 'invalid_extension'),
  siteId: z.preprocess(emptyAsUndefined, z.uuid('invalid').optional()),
  mac: macAddress.optional(),
});

export const DEVICE_VIEWS = ['all', 'user', 'common_area', 'unassigned'] as const;
export const deviceListQuery = z
  .object({
    view: z.enum(DEVICE_VIEWS).default('all'),
    /** Name, MAC address, user name or extension number. */
    q: z.string().trim().max(80).optional(),
  })
  .strict();

export interface DeviceView {
  id: string;
  name: string;
  type: string;
  mac: string | null;
  sipUsername: string;
  extensionId: string | null;
  extensionNumber: string | null;
  userName: string | null;
  createdAt: string;
}

/** Seed 000 "Téléphones et appareils": user phones, common-area phones or unassigned ones, searched. */
export async function listDevices(db: Kysely<Database>, accountId: string, filter: z.input<typeof deviceListQuery> = {}): Promise<DeviceView[]> {
  const f = deviceListQuery.parse(filter);
  let query = deviceQuery(db, accountId).orderBy('devices.created_at');
  if (f.view === 'unassigned') query = query.where('devices.extension_id', 'is', null);
  else if (f.view === 'common_area') query = query.where('devices.type', '=', 'common_area').where('devices.extension_id', 'is not', null);
  else if (f.view === 'user') query = query.where('devices.type', '<>', 'common_area').where('devices.extension_id', 'is not', null);
  if (f.q) {
    const text = `%${f.q.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c)}%`;
    const hex = f.q.toUpperCase().replace(/[:.-]/g, '');
    query = query.where((eb) =>
      eb.or([
        eb(sql<string>`lower(devices.name)`, 'like', text),
        eb(sql<string>`lower(concat(users.first_name, ' ', users.last_name))`, 'like', text),
        eb('extensions.number', 'like', text),
        ...(/^[0-9A-F]+$/.test(hex) ? [eb('devices.mac', 'like', `%${hex}%`)] : []),
      ]),
    );
  }
  return (await query.execute()).map(toView);
}

export async function getDevice(db: Kysely<Database>, accountId: string, deviceId: string): Promise<DeviceView | null> {
  const row = await deviceQuery(db, accountId).where('devices.id', '=', deviceId).executeTakeFirst();
  return row ? toView(row) : null;
}

function deviceQuery(db: Kysely<Database>, accountId: string) {
  return db
    .selectFrom('devices')
    .leftJoin('extensions', (j) => j.onRef('extensions.id', '=', 'devices.extension_id').on('extensions.account_id', '=', accountId))
    .leftJoin('users', (j) => j.onRef('users.extension_id', '=', 'extensions.id').on('users.account_id', '=', accountId))
    .select([
      sql<string | null>`coalesce(nullif(trim(concat(users.first_name, ' ', users.last_name)), ''), extensions.name)`.as('user_name'),
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

function toView(r: {
  id: string;
  name: string;
  type: string;
  mac: string | null;
  sip_username: string;
  extension_id: string | null;
  extension_number: string | null;
  user_name: string | null;
  created_at: Date;
}): DeviceView {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    mac: r.mac,
    sipUsername: r.sip_username,
    extensionId: r.extension_id,
    extensionNumber: r.extension_number,
    userName: r.user_name,
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
  await announceConfigChange(accountId, 'devices');
  return { username: device.sip_username, password };
}

export async function deleteDevice(db: Kysely<Database>, actor: AuditActor, accountId: string, deviceId: string): Promise<boolean> {
  const before = await getDevice(db, accountId, deviceId);
  if (!before) return false;
  await db.deleteFrom('devices').where('account_id', '=', accountId).where('id', '=', deviceId).execute();
  await recordAudit(db, actor, { accountId, action: 'device.deleted', targetType: 'device', targetId: deviceId, before });
  await announceConfigChange(accountId, 'devices');
  return true;
}

/** Gives an unassigned phone (or one changing hands) to a user's extension; it registers from then on. */
export async function assignDevice(
  db: Kysely<Database>,
  actor: AuditActor,
  accountId: string,
  deviceId: string,
  extensionId: string,
): Promise<'ok' | 'not_found' | 'extension_not_found'> {
  const before = await getDevice(db, accountId, deviceId);
  if (!before) return 'not_found';
  const ext = await db.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('id', '=', extensionId).executeTakeFirst();
  if (!ext) return 'extension_not_found';
  await db.updateTable('devices').set({ extension_id: extensionId }).where('account_id', '=', accountId).where('id', '=', deviceId).execute();
  const after = (await getDevice(db, accountId, deviceId))!;
  await recordAudit(db, actor, {
    accountId,
    action: 'device.assigned',
    targetType: 'device',
    targetId: deviceId,
    before: { extensionNumber: before.extensionNumber, userName: before.userName },
    after: { name: after.name, extensionNumber: after.extensionNumber, userName: after.userName },
  });
  await announceConfigChange(accountId, 'devices');
  return 'ok';
}

export class ExtensionTakenError extends Error {
  constructor() {
    super('extension number already used on this site');
  }
}

/**
 * A common-area phone: a limited extension of its own (seed 000 "extension limitée") and the
 * device on it, in one transaction so a refused MAC or a taken extension number leaves nothing behind.
 */
export async function addCommonAreaPhone(
  db: Kysely<Database>,
  actor: AuditActor,
  accountId: string,
  input: z.output<typeof commonAreaPhoneInput>,
  realm: string,
): Promise<{ deviceId: string; extensionId: string; username: string; password: string } | 'site_not_found'> {
  const added = await db.transaction().execute(async (trx) => {
    const site = await trx
      .selectFrom('sites')
      .select('id')
      .where('account_id', '=', accountId)
      .$if(Boolean(input.siteId), (q) => q.where('id', '=', input.siteId!))
      .$if(!input.siteId, (q) => q.where('is_main', '=', true))
      .executeTakeFirst();
    if (!site) return 'site_not_found' as const;
    const taken = await trx.selectFrom('extensions').select('id').where('site_id', '=', site.id).where('number', '=', input.extensionNumber).executeTakeFirst();
    if (taken) throw new ExtensionTakenError();
    const ext = await trx
      .insertInto('extensions')
      .values({ account_id: accountId, site_id: site.id, number: input.extensionNumber, type: 'limited', status: 'activated', name: input.name })
      .returning('id')
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, { accountId, action: 'extension.limited_created', targetType: 'extension', targetId: ext.id, after: { number: input.extensionNumber, name: input.name } });
    const issued = await issueDeviceCredentials(trx, actor, { accountId, extensionId: ext.id, type: 'common_area', name: input.name, mac: input.mac, realm });
    return { ...issued, extensionId: ext.id };
  });
  if (added !== 'site_not_found') await announceConfigChange(accountId, 'devices', 'extensions');
  return added;
}
