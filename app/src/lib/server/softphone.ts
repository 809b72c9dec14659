import { createHmac } from 'node:crypto';
import { digestHa1, loadSecretKey, recordAudit, type AuditActor } from '@carillon/core';
import { readMediaServerHeartbeats } from '@carillon/media-server';
import type { AuthenticatedSession } from '@carillon/core';
import type { Runtime } from './runtime.ts';

/** What the browser softphone needs to register: issued by the server, never typed by the user. */
export interface SoftphoneRegistration {
  username: string;
  password: string;
  domain: string;
  /** WebSocket URL of a live SIP edge (RFC 7118). */
  server: string;
  extension: string;
  displayName: string;
}

export type SoftphoneUnavailable = { error: 'no_extension' | 'no_sip_edge' };

const DEVICE_NAME = 'Browser softphone';

/**
 * The user's browser softphone device, created on first use. Its SIP
 * password is derived from the server key and the device id, so every tab
 * and every visit gets the same credentials without any being stored in
 * clear, and an admin's credential reset (a new HA1) still locks old ones out
 * until the next visit re-derives and re-applies the key-bound one.
 */
export async function softphoneRegistration(rt: Runtime, auth: AuthenticatedSession, actor: AuditActor, request: URL): Promise<SoftphoneRegistration | SoftphoneUnavailable> {
  const extensionId = auth.user.extension_id;
  if (!extensionId || !auth.extensionNumber) return { error: 'no_extension' };
  const accountId = auth.account.id;
  const realm = rt.config.SIP_DOMAIN;
  let device = await rt.db
    .selectFrom('devices')
    .select(['id', 'sip_username', 'sip_ha1_md5'])
    .where('account_id', '=', accountId)
    .where('extension_id', '=', extensionId)
    .where('type', '=', 'softphone')
    .where('name', '=', DEVICE_NAME)
    .executeTakeFirst();
  if (!device) {
    device = await rt.db
      .insertInto('devices')
      .values({ account_id: accountId, extension_id: extensionId, type: 'softphone', name: DEVICE_NAME, sip_username: `web${extensionId.replace(/-/g, '').slice(0, 12)}`, sip_ha1_md5: '', sip_ha1_sha256: '' })
      .returning(['id', 'sip_username', 'sip_ha1_md5'])
      .executeTakeFirstOrThrow();
    await recordAudit(rt.db, actor, { accountId, action: 'device.created', targetType: 'device', targetId: device.id, after: { name: DEVICE_NAME, type: 'softphone' } });
  }
  const password = createHmac('sha256', loadSecretKey(rt.config)).update(`browser-softphone:${device.id}`).digest('base64url').slice(0, 24);
  const ha1 = digestHa1('MD5', device.sip_username, realm, password);
  if (device.sip_ha1_md5 !== ha1) {
    await rt.db
      .updateTable('devices')
      .set({ sip_ha1_md5: ha1, sip_ha1_sha256: digestHa1('SHA-256', device.sip_username, realm, password) })
      .where('account_id', '=', accountId)
      .where('id', '=', device.id)
      .execute();
  }
  const edge = (await readMediaServerHeartbeats(rt.redis)).find((h) => h.sipPorts?.WS || h.sipPorts?.WSS);
  if (!edge) return { error: 'no_sip_edge' };
  const secure = request.protocol === 'https:' && edge.sipPorts?.WSS;
  const host = rt.config.SIP_PUBLIC_ADDRESS ?? request.hostname;
  return {
    username: device.sip_username,
    password,
    domain: rt.config.SIP_DOMAIN,
    server: secure ? `wss://${host}:${edge.sipPorts!.WSS}` : `ws://${host}:${edge.sipPorts!.WS}`,
    extension: auth.extensionNumber,
    displayName: `${auth.user.first_name} ${auth.user.last_name ?? ''}`.trim(),
  };
}
