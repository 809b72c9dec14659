import type { SipDeviceCredential } from '@carillon/core';
import { createResponse, type SipRequest, type SipResponse } from '../sip/message/index.ts';
import { parseAuthorization, type DigestAuthority } from '../sip/auth/digest-challenge.ts';
import type { FailureThrottle } from './auth-throttle.ts';
import type { CredentialSource } from './credential-cache.ts';

export interface DeviceAuthenticationDeps {
  auth: DigestAuthority;
  credentials: CredentialSource;
  throttle: FailureThrottle;
}

/**
 * A device's digest authentication of a request it sends us outside a dialog
 * (REGISTER, SUBSCRIBE): the device, or the response to send instead (401 with
 * a challenge, 403 for a wrong password or too many failures). Failures count
 * by user and address: one phone guessing wrong does not lock out the others
 * behind the same NAT.
 */
export async function authenticateDevice(req: SipRequest, address: string, deps: DeviceAuthenticationDeps): Promise<{ device: SipDeviceCredential; username: string } | { response: SipResponse }> {
  const header = req.get('authorization');
  const creds = header ? parseAuthorization(header) : null;
  const refused = () => ({ response: createResponse(req, 403, { reason: 'Too Many Failed Attempts' }) });
  if (!creds) return deps.throttle.isThrottled(address, null) ? refused() : { response: challenge(req, deps.auth, false) };
  // The check takes its slot before the lookup, so concurrent guesses cannot all pass it (see AuthThrottle).
  const attempt = deps.throttle.admit(address, creds.username);
  if (!attempt) return refused();
  const device = await deps.credentials.get(creds.username);
  const ha1 = device ? (creds.algorithm === 'MD5' ? device.ha1Md5 : device.ha1Sha256) : null;
  const verdict = await deps.auth.verify(creds, req.method, ha1);
  // 'stale' means a right password with an old or reused nonce: not a failure either.
  if (verdict !== 'failed') attempt.succeeded();
  if (verdict === 'stale') return { response: challenge(req, deps.auth, true) };
  // RFC 3261 §22.3: a wrong password is answered with 403 once a challenge was answered.
  if (verdict !== 'ok' || !device) return { response: createResponse(req, 403, { reason: 'Forbidden' }) };
  return { device, username: creds.username };
}

/** Whether the user part of a URI names the device's extension: by number, with its site code, or by the device's own name. */
export function namesDeviceExtension(user: string, device: SipDeviceCredential, username: string): boolean {
  return user === username || user === device.extensionNumber || user === (device.siteCode ?? '') + device.extensionNumber;
}

function challenge(req: SipRequest, auth: DigestAuthority, stale: boolean): SipResponse {
  const res = createResponse(req, 401);
  for (const c of auth.challenges(stale)) res.add('www-authenticate', c);
  return res;
}
