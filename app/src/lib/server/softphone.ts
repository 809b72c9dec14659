import { createHmac } from 'node:crypto';
import { digestHa1, issueDeviceCredentials, resetDeviceCredentials, type AuditActor, type AuthenticatedSession } from '@carillon/core';
import { readMediaServerHeartbeats } from '@carillon/contracts/media-server-heartbeat';
import type { SoftphoneRegistration } from '#lib/softphone/softphone.ts';
import type { Runtime } from './runtime.ts';

export type SoftphoneUnavailable = { error: 'no_extension' | 'no_sip_edge' };

const DEVICE_NAME = 'Browser softphone';

/**
 * The user's browser softphone device, created on first use. Its SIP
 * password is derived from the server key and the extension, so every tab
 * and every visit gets the same credentials without any being stored in
 * clear; if an admin reset them, the next visit puts the derived one back.
 */
export async function softphoneRegistration(rt: Runtime, auth: AuthenticatedSession, actor: AuditActor, request: URL): Promise<SoftphoneRegistration | SoftphoneUnavailable> {
  const extensionId = auth.user.extension_id;
  if (!extensionId || !auth.extensionNumber) return { error: 'no_extension' };
  const accountId = auth.account.id;
  const realm = rt.config.SIP_DOMAIN;
  const password = createHmac('sha256', rt.secretKey).update(`browser-softphone:${extensionId}`).digest('base64url').slice(0, 24);
  const device = await rt.db
    .selectFrom('devices')
    .select(['id', 'sip_username', 'sip_ha1_md5'])
    .where('account_id', '=', accountId)
    .where('extension_id', '=', extensionId)
    .where('type', '=', 'softphone')
    .where('name', '=', DEVICE_NAME)
    .executeTakeFirst();
  let username: string;
  if (!device) {
    username = (await issueDeviceCredentials(rt.db, actor, { accountId, extensionId, type: 'softphone', name: DEVICE_NAME, realm, password })).username;
  } else {
    username = device.sip_username;
    if (device.sip_ha1_md5 !== digestHa1('MD5', username, realm, password)) await resetDeviceCredentials(rt.db, actor, accountId, device.id, realm, password);
  }
  const edge = (await readMediaServerHeartbeats(rt.redis)).find((h) => h.sipPorts?.WS || h.sipPorts?.WSS);
  if (!edge) return { error: 'no_sip_edge' };
  const secure = request.protocol === 'https:' && edge.sipPorts?.WSS;
  const host = rt.config.SIP_PUBLIC_ADDRESS ?? request.hostname;
  return {
    username,
    password,
    domain: realm,
    server: secure ? `wss://${host}:${edge.sipPorts!.WSS}` : `ws://${host}:${edge.sipPorts!.WS}`,
    extension: auth.extensionNumber,
    displayName: `${auth.user.first_name} ${auth.user.last_name ?? ''}`.trim(),
  };
}
